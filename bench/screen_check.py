#!/usr/bin/env python3
"""The parse screen changes no finding: the corpus check.

Two checks per corpus project (`<corpus>/src/<name>-<version>/`), each run of the linter a
fresh `fastapi-lint check PROJECT --select CODES --preview --output-format json --no-cache
--exit-zero` from an empty scratch directory (as `ecosystem.py` runs it):

1. **end to end**: the run with the screen and the run with `--no-screen` give the same
   findings, finding for finding (every JSON field, fix edits included). Twice: with every
   rule (`--select ALL`; a rule without a screen has every file parsed), and with the rules
   that have a screen (`--rules screened`: there the screen answers most files);
2. **rule by rule**: with every rule on, a file one rule wants is checked by all of them, so
   a rule whose screen wrongly says no can still report through another rule's yes. So each
   finding of the `--no-screen` run is checked against its own rule's screen, in this
   process: the screen of the rule that reported it must let its file through
   (`Rule.screen` true on the file's facts, with the project index built as the linter
   builds it).

Prints, per project: files, files the screen answered, findings each way, and every
difference; exits 1 when any. A script to run by hand (with `nice`):

    python bench/screen_check.py --corpus /work/corpus [--projects lnbits-1.6.2 ...]
        [--rules all|screened|both]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = Path(os.environ.get("FASTAPI_LINT_BENCH_CORPUS") or REPO / ".corpus")
_SCREENED = re.compile(r"(\d+) by the parse screen")


def lint(
    project: Path, scratch: Path, codes: str, *, screen: bool
) -> tuple[list[dict], int, float]:
    """The findings (JSON objects), the files the screen answered, and the wall time."""
    command = [
        sys.executable,
        "-m",
        "fastapi_lint",
        "check",
        str(project),
        "--select",
        codes,
        "--preview",
        "--output-format",
        "json",
        "--no-cache",
        "--exit-zero",
        "--timings",
    ]
    if not screen:
        command.append("--no-screen")
    environment = {k: v for k, v in os.environ.items() if k != "FASTAPI_LINT_NO_SCREEN"}
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=scratch, capture_output=True, text=True, env=environment, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"error: {' '.join(command)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    match = _SCREENED.search(done.stderr)
    return json.loads(done.stdout), int(match.group(1)) if match else 0, seconds


def key(finding: dict) -> str:
    return json.dumps(finding, sort_keys=True)


def rule_by_rule(project: Path, findings: list[dict]) -> list[str]:
    """Findings whose own rule's screen would not let their file through."""
    from fastapi_lint.api import _discover, build_project
    from fastapi_lint.config import Selection, load_settings
    from fastapi_lint.screen import Screen, wanted

    settings = load_settings(None, Selection(select=["ALL"]), preview=True, paths=[str(project)])
    by_file: dict[str, set[str]] = {}
    for finding in findings:
        by_file.setdefault(finding["filename"], set()).add(finding["code"])
    built = build_project(_discover([project], settings).files, settings, None)
    screen = Screen(built, settings.max_file_size)
    problems = []
    for name, codes in sorted(by_file.items()):
        path = Path(name)
        data = path.read_bytes()
        facts = screen.facts(path, data)
        for rule in settings.rules_for(path):
            if rule.code in codes and not wanted([rule], facts):
                problems.append(f"{rule.code} reports in {name}, which its screen skips")
    return problems


def screened_codes() -> str:
    from fastapi_lint.rule import Rule
    from fastapi_lint.rules import ALL_RULES

    return ",".join(rule.code for rule in ALL_RULES if rule.screen is not Rule.screen)


def check(project: Path, scratch: Path, rules: str) -> bool:
    codes = "ALL" if rules == "all" else screened_codes()
    screened, skipped, with_seconds = lint(project, scratch, codes, screen=True)
    plain, _, without_seconds = lint(project, scratch, codes, screen=False)
    files = sum(1 for _ in project.rglob("*.py"))
    print(
        f"{project.name} ({rules} rules): {files} files, {skipped} answered by the screen; "
        f"findings {len(screened)} with the screen ({with_seconds:.1f} s), {len(plain)} "
        f"without ({without_seconds:.1f} s)",
        flush=True,
    )
    ok = True
    with_keys, without_keys = {key(f) for f in screened}, {key(f) for f in plain}
    if sorted(map(key, screened)) != sorted(map(key, plain)):
        ok = False
        for item in sorted(without_keys - with_keys):
            print(f"  - missing with the screen: {item}")
        for item in sorted(with_keys - without_keys):
            print(f"  + only with the screen: {item}")
    for problem in rule_by_rule(project, plain) if rules == "all" else ():
        ok = False
        print(f"  ! {problem}")
    print(f"  {'same findings' if ok else 'DIFFERENT'}", flush=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--projects", nargs="*", help="names under CORPUS/src (default: all)")
    parser.add_argument(
        "--rules",
        choices=("all", "screened", "both"),
        default="both",
        help="the rules of the end-to-end runs (default: both sets, one after the other)",
    )
    args = parser.parse_args()
    source = args.corpus / "src"
    if not source.is_dir():
        print(f"no corpus at {args.corpus}: run ../shared/corpus/fetch.sh {args.corpus}")
        return 2
    projects = sorted(p for p in source.iterdir() if p.is_dir())
    if args.projects:
        projects = [p for p in projects if p.name in args.projects]
    sets = ("all", "screened") if args.rules == "both" else (args.rules,)
    with tempfile.TemporaryDirectory() as scratch:
        results = [check(project, Path(scratch), rules) for rules in sets for project in projects]
    print(f"{sum(results)} of {len(results)} checks: same findings with and without the screen")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Crash sweep: run every rule, every fix and the route table over the pinned corpus.

For each project of the corpus (``../shared/corpus/fetch.sh DIR`` lays it out), on a scratch
copy of its files with an empty ``pyproject.toml`` at its top (so that the copy is the
project root, as in a user's repository, and the project index covers it):

1. ``fastapi-lint check --select ALL --preview --no-cache --output-format json .``: every
   rule, off-by-default and preview ones included, and each fix's edits (the JSON output
   computes them);
2. ``fastapi-lint routes --no-cache --output-format json .``;
3. ``fastapi-lint check --fix --unsafe-fixes --select ALL --preview --no-cache .``, then
   every file the fixes changed must still compile (when it compiled before), no file may
   appear or disappear, and
4. the same fix command again, on the changed files, must change nothing.

Any traceback, internal error, ``fastapi-lint: error:`` line, exit code other than 0 or 1,
output that is not JSON, a file changed by steps 1 and 2, or a failed check of steps 3 and 4
is a problem; the script exits 1 when it found any. It uses only the standard library and
runs the linter as a subprocess. Progress goes to stderr, the figures to stdout.

    python bench/crash_sweep.py                          # the whole corpus
    python bench/crash_sweep.py --fetch --project fastapi-users --project lnbits
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_CORPUS = Path(os.environ.get("FASTAPI_LINT_BENCH_CORPUS") or REPO_ROOT / ".corpus")
FETCH_SCRIPT = REPO_ROOT.parent / "shared" / "corpus" / "fetch.sh"
HASHES = FETCH_SCRIPT.parent / "sha256.txt"
# Environment variables that change what the linter prints; the children run without them.
TOOL_ENVIRONMENT = (
    "FASTAPI_LINT_OUTPUT_FORMAT",
    "FASTAPI_LINT_OUTPUT_FILE",
    "FASTAPI_LINT_CACHE_DIR",
)
EVERY_RULE = ["--select", "ALL", "--preview", "--no-cache"]
CHECK = ["check", *EVERY_RULE, "--output-format", "json"]
ROUTES = ["routes", "--no-cache", "--output-format", "json"]
FIX = ["check", "--fix", "--unsafe-fixes", *EVERY_RULE, "--output-format", "json"]
# fetch.sh's package table: `"name==version   sdist|wheel"`.
PIN_RE = re.compile(r'^\s*"(?P<name>[A-Za-z0-9_.-]+)==(?P<version>\S+)\s+(?P<kind>sdist|wheel)"')
# fetch.sh downloads these wheels for a Linux platform and Python 3.12 (they are not pure).
PLATFORM_WHEELS = {"vllm", "litellm"}
PLATFORM_ARGS = [
    *("--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_31_x86_64"),
    *("--platform", "manylinux_2_35_x86_64", "--python-version", "3.12"),
]
DEFAULT_TIMEOUT = 3600.0  # seconds per linter run: a hang is a problem too


class SweepError(Exception):
    """A fatal problem (no corpus, a failed fetch): printed as ``error: ...``, exit 2."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the corpus ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    kind: str  # sdist or wheel

    @property
    def dirname(self) -> str:
        return f"{self.name}-{self.version}"


# The slice `.ci/run` sweeps, pinned as in fetch.sh and its sha256.txt, for a checkout
# without ../shared beside it (a CI clone): archive name and sha256.
CI_SLICE = {
    Pin("fastapi-users", "15.0.5", "sdist"): (
        "fastapi_users-15.0.5.tar.gz",
        "097f69701894e650c346df89b1cdb0a09cf139234f4cb9a8ece275af4e98e202",
    ),
    Pin("lnbits", "1.6.2", "sdist"): (
        "lnbits-1.6.2.tar.gz",
        "628c66c81a91cdca8831d1c3bd279216b8396288dc290094cfd106c656e21c81",
    ),
}


def read_pins(fetch_script: Path = FETCH_SCRIPT) -> list[Pin]:
    """The corpus packages, as pinned in fetch.sh (the one list of what the corpus is); the
    CI slice when there is no fetch.sh."""
    if not fetch_script.exists():
        log(f"no {fetch_script}: the corpus is the CI slice pinned in this script")
        return list(CI_SLICE)
    try:
        text = fetch_script.read_text(encoding="utf-8")
    except OSError as error:
        raise SweepError(f"cannot read the corpus pins in {fetch_script}: {error}") from None
    pins = [Pin(**m.groupdict()) for line in text.splitlines() if (m := PIN_RE.match(line))]
    if not pins:
        raise SweepError(f"no `name==version kind` lines in {fetch_script}")
    return pins


def select_pins(pins: list[Pin], only: list[str] | None) -> list[Pin]:
    """The pins named by `--project` (a name or name-version), else all."""
    if not only:
        return pins
    known = {pin.name: pin for pin in pins} | {pin.dirname: pin for pin in pins}
    unknown = [name for name in only if name not in known]
    if unknown:
        names = ", ".join(pin.name for pin in pins)
        raise SweepError(f"unknown project {', '.join(unknown)}; the corpus has {names}")
    wanted = {known[name] for name in only}
    return [pin for pin in pins if pin in wanted]


def ensure_fetched(corpus: Path, pins: list[Pin], fetch: bool) -> None:
    """Every pinned project is unpacked under CORPUS/src (with fetch.sh's `.done` stamp);
    with `fetch`, the missing ones are downloaded from PyPI and checked against the pinned
    hashes, one by one, so that a slice does not download the whole corpus."""
    missing = [pin for pin in pins if not (corpus / "src" / pin.dirname / ".done").is_file()]
    if not missing:
        return
    if not fetch:
        names = " ".join(f"--project {pin.name}" for pin in missing)
        raise SweepError(
            f"corpus {corpus} lacks {', '.join(p.dirname for p in missing)}; fetch it with "
            f"`bash {FETCH_SCRIPT} {corpus}` (everything) or add `--fetch` ({names})"
        )
    hashes = read_hashes()
    for pin in missing:
        fetch_one(corpus, pin, hashes)


def read_hashes(path: Path = HASHES) -> dict[str, str]:
    """Archive file name -> sha256, from the list beside fetch.sh (or the CI slice's)."""
    if not path.exists():
        return dict(CI_SLICE.values())
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise SweepError(f"cannot read the pinned hashes in {path}: {error}") from None
    return {
        PurePosixPath(name.lstrip("*")).name: digest
        for digest, name in (line.split(maxsplit=1) for line in lines if line.strip())
    }


def fetch_one(corpus: Path, pin: Pin, hashes: dict[str, str]) -> None:
    """Download the pinned archive as fetch.sh does (into CORPUS/dl), check its hash, and
    unpack its .py files into CORPUS/src/<name>-<version>/, stamped `.done`."""
    downloads = corpus / "dl"
    downloads.mkdir(parents=True, exist_ok=True)
    archive = find_archive(downloads, pin)
    if archive is None:
        log(f"fetch {pin.name}=={pin.version} ({pin.kind}) from PyPI")
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"]
        if pin.kind == "sdist":
            command += ["--no-binary", ":all:"]
        else:
            command += ["--only-binary", ":all:"]
            if pin.name in PLATFORM_WHEELS:
                command += PLATFORM_ARGS
        command += ["-d", str(downloads), f"{pin.name}=={pin.version}"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        archive = find_archive(downloads, pin)
        if done.returncode != 0 or archive is None:
            raise SweepError(
                f"cannot download {pin.name}=={pin.version}: {shlex.join(command)} "
                f"(exit {done.returncode}): {done.stderr.strip()[-800:]}"
            )
    expected = hashes.get(archive.name)
    actual = hashlib.sha256(archive.read_bytes()).hexdigest()
    if expected is None or actual != expected:
        raise SweepError(f"{archive}: sha256 {actual} is not the pinned {expected}")
    destination = corpus / "src" / pin.dirname
    shutil.rmtree(destination, ignore_errors=True)
    count = unpack_python_files(archive, destination)
    (destination / ".done").touch()
    log(f"  {destination}: {count} .py files")


def find_archive(downloads: Path, pin: Pin) -> Path | None:
    names = {pin.name.lower(), pin.name.lower().replace("-", "_")}
    for path in sorted(downloads.iterdir()):
        lowered = path.name.lower()
        for name in names:
            stem = f"{name}-{pin.version}".lower()
            sdist = lowered in (f"{stem}.tar.gz", f"{stem}.zip")
            wheel = lowered.startswith(f"{stem}-") and lowered.endswith(".whl")
            if (sdist and pin.kind == "sdist") or (wheel and pin.kind == "wheel"):
                return path
    return None


def unpack_python_files(archive: Path, destination: Path) -> int:
    """The archive's .py files, as fetch.sh unpacks them (an sdist loses its top directory)."""
    strip = archive.name.endswith((".tar.gz", ".zip"))
    count = 0
    for name, read in archive_members(archive):
        parts = PurePosixPath(name).parts[1 if strip else 0 :]
        if not name.endswith(".py") or not parts or ".." in parts or parts[0] == "/":
            continue
        target = destination.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(read())
        count += 1
    return count


def archive_members(archive: Path) -> Iterable[tuple[str, Callable[[], bytes]]]:
    if archive.name.endswith(".tar.gz"):
        with tarfile.open(archive) as tar:
            for member in tar:
                if member.isfile():
                    yield member.name, lambda member=member: tar.extractfile(member).read()
    else:
        with zipfile.ZipFile(archive) as wheel:
            for info in wheel.infolist():
                if not info.is_dir():
                    yield info.filename, lambda info=info: wheel.read(info)


# --- running the linter --------------------------------------------------------------------


def default_linter() -> list[str]:
    """The ``fastapi-lint`` script next to this interpreter, else ``python -m fastapi_lint``."""
    for directory in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        script = directory / ("fastapi-lint.exe" if os.name == "nt" else "fastapi-lint")
        if script.is_file():
            return [str(script)]
    return [sys.executable, "-m", "fastapi_lint"]


@dataclass
class Ran:
    command: list[str]
    code: int | None  # None: killed at the timeout
    stdout: str
    stderr: str
    seconds: float


class Linter:
    def __init__(self, argv: list[str], jobs: int | None, timeout: float) -> None:
        self.argv = argv
        self.jobs = jobs
        self.timeout = timeout
        self.env = {k: v for k, v in os.environ.items() if k not in TOOL_ENVIRONMENT}

    def run(self, args: list[str], cwd: Path) -> Ran:
        if self.jobs is not None and args[0] == "check":
            args = [*args, "--jobs", str(self.jobs)]
        command = [*self.argv, *args]
        started = time.perf_counter()
        try:
            done = subprocess.run(
                command,
                cwd=cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=self.timeout,
                check=False,
            )
            code, stdout, stderr = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as expired:
            code, stdout, stderr = None, "", _text(expired.stderr)
        except OSError as error:
            raise SweepError(f"cannot run {shlex.join(command)}: {error}") from None
        return Ran(command, code, stdout, stderr, time.perf_counter() - started)


def _text(data: bytes | str | None) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""


def run_problems(ran: Ran, timeout: float) -> list[str]:
    """What is wrong with one run: its exit code, a traceback, an error line."""
    problems = []
    if ran.code is None:
        problems.append(f"killed after {timeout:.0f} s")
    elif ran.code not in (0, 1):
        problems.append(f"exit code {ran.code}")
    lines = ran.stderr.splitlines()
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        problems.append("traceback:\n" + "\n".join(f"    {line}" for line in lines[-15:]))
    problems += [
        line.strip()
        for line in lines
        if "internal error" in line or line.startswith("fastapi-lint: error:")
    ]
    return problems


# --- one project ---------------------------------------------------------------------------


@dataclass
class ProjectReport:
    name: str
    files: int = 0
    findings: int = 0
    routes: int = 0
    fixed_files: int = 0
    remaining: int = 0  # findings left after fixing
    seconds: dict[str, float] = field(default_factory=dict)  # step -> seconds
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # odd, but not a crash


def sweep_project(linter: Linter, source: Path, name: str, scratch: Path) -> ProjectReport:
    report = ProjectReport(name)
    copy = scratch / name
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns(".done"))
    # A project root of its own: the index covers the project, as in a user's repository.
    (copy / "pyproject.toml").write_text("", encoding="utf-8")
    before = tree_digests(copy)
    report.files = sum(1 for path in before if path.endswith(".py"))

    def step(label: str, args: list[str]) -> Ran:
        log(f"  {name}: {label} ...")
        ran = linter.run(args, copy)
        report.seconds[label] = ran.seconds
        where = f"{label} (`{shlex.join(ran.command)}` in a copy of {source})"
        for problem in run_problems(ran, linter.timeout):
            report.problems.append(f"{where}: {problem.replace(str(copy), str(source))}")
        for line in ran.stderr.splitlines():
            if line.startswith("fastapi-lint: warning:"):
                report.notes.append(f"{label}: {line.replace(str(copy), str(source))}")
        return ran

    checked = step("check", [*CHECK, "."])
    diagnostics = parsed_json(checked, "check", report)
    report.findings = len(diagnostics)
    report.notes += parse_disagreements(diagnostics, copy, source)
    listed = parsed_json(step("routes", [*ROUTES, "."]), "routes", report)
    report.routes = len(listed)
    if tree_digests(copy) != before:
        report.problems.append("check or routes changed files: " + changes(before, copy))
    fixed = step("fix", [*FIX, "."])
    report.remaining = len(parsed_json(fixed, "fix", report))
    after_fix = tree_digests(copy)
    changed = sorted(p for p in after_fix if p in before and after_fix[p] != before[p])
    report.fixed_files = len(changed)
    if set(after_fix) != set(before):
        added, removed = sorted(set(after_fix) - set(before)), sorted(set(before) - set(after_fix))
        report.problems.append(f"fix added files {added} and removed files {removed}")
    for relative in changed:
        if compiles(source / relative) and not compiles(copy / relative):
            report.problems.append(f"fix: {source / relative}: the fixed file does not compile")
    if changed:
        step("refix", [*FIX, *changed])
        if tree_digests(copy) != after_fix:
            report.problems.append("a second fix run changed files: " + changes(after_fix, copy))
    shutil.rmtree(copy, ignore_errors=True)
    return report


def parsed_json(ran: Ran, label: str, report: ProjectReport) -> list:
    if ran.code is None:
        return []
    try:
        value = json.loads(ran.stdout)
    except json.JSONDecodeError as error:
        report.problems.append(f"{label}: the output is not JSON: {error}")
        return []
    return value if isinstance(value, list) else []


def parse_disagreements(diagnostics: list[dict], copy: Path, source: Path) -> list[str]:
    """FAPI001 (invalid syntax) on a file CPython compiles: LibCST disagrees with CPython."""
    notes = []
    for diagnostic in diagnostics:
        if diagnostic.get("code") != "FAPI001":
            continue
        path = Path(diagnostic["filename"])
        path = path if path.is_absolute() else copy / path
        if compiles(path):
            relative = path.relative_to(copy)
            notes.append(f"check: FAPI001 on {source / relative}, which CPython compiles")
    return notes


def compiles(path: Path) -> bool:
    """CPython's compiler (this interpreter's) accepts the file, coding cookie honoured."""
    try:
        data = path.read_bytes()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            compile(data, str(path), "exec", dont_inherit=True)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def tree_digests(root: Path) -> dict[str, str]:
    """Every file under `root` (relative POSIX path) -> sha256 of its bytes."""
    digests = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory, name)
            digests[path.relative_to(root).as_posix()] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
    return digests


def changes(before: dict[str, str], root: Path, limit: int = 10) -> str:
    after = tree_digests(root)
    names = sorted(
        {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
    )
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# --- the figures ---------------------------------------------------------------------------

STEPS = ("check", "routes", "fix", "refix")


def render(reports: list[ProjectReport], seconds: float) -> str:
    header = ("project", "files", "findings", "routes", "fixed files", "left", *STEPS, "problems")
    rows = [header]
    for r in reports:
        times = [f"{r.seconds[s]:.1f}" if s in r.seconds else "-" for s in STEPS]
        figures = (r.files, r.findings, r.routes, r.fixed_files, r.remaining)
        rows.append((r.name, *map(str, figures), *times, str(len(r.problems))))
    totals = [
        sum(getattr(r, attribute) for r in reports)
        for attribute in ("files", "findings", "routes", "fixed_files", "remaining")
    ]
    step_totals = [f"{sum(r.seconds.get(s, 0.0) for r in reports):.1f}" for s in STEPS]
    problems = sum(len(r.problems) for r in reports)
    rows.append(("total", *map(str, totals), *step_totals, str(problems)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(
        f"{totals[0]} files, {seconds:.1f} s, {problems} "
        f"{'problem' if problems == 1 else 'problems'} (step columns: seconds)"
    )
    for r in reports:
        lines += [f"problem: {r.name}: {problem}" for problem in r.problems]
        lines += [f"note: {r.name}: {note}" for note in r.notes]
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Run every rule, every fix and the route table over the pinned corpus; "
        "exit 1 on any traceback, internal error, exit code other than 0/1, or fix that "
        "breaks a file or is not idempotent.",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="the corpus directory, as fetch.sh DIR lays it out (default: "
        "$FASTAPI_LINT_BENCH_CORPUS or <repo>/.corpus)",
    )
    parser.add_argument(
        "--project",
        action="append",
        metavar="NAME",
        help="sweep only this project (a name or name-version; repeatable)",
    )
    parser.add_argument(
        "--fetch",
        action="store_true",
        help="download the missing projects from PyPI (pinned versions and hashes of "
        "fetch.sh), only those selected",
    )
    parser.add_argument("--jobs", type=int, metavar="N", help="passed to `check`")
    parser.add_argument(
        "--linter",
        help="the linter command, split like a shell would (default: the fastapi-lint "
        "script next to this interpreter)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help=f"seconds per linter run before it counts as a hang (default {DEFAULT_TIMEOUT:.0f})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        pins = select_pins(read_pins(), args.project)
        corpus = args.corpus.resolve()
        ensure_fetched(corpus, pins, args.fetch)
        linter = Linter(
            shlex.split(args.linter) if args.linter else default_linter(), args.jobs, args.timeout
        )
        log(f"linter: {shlex.join(linter.argv)}; corpus: {corpus}")
        reports = []
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="fastapi-lint-crash-sweep-") as scratch:
            for pin in pins:
                report = sweep_project(
                    linter, corpus / "src" / pin.dirname, pin.name, Path(scratch)
                )
                log(f"  {pin.name}: {report.files} files, {len(report.problems)} problems")
                for problem in report.problems:  # now: a long sweep may be stopped later
                    log(f"  problem: {problem}")
                reports.append(report)
        seconds = time.perf_counter() - started
    except SweepError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(render(reports, seconds), end="")
    return 1 if any(report.problems for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())

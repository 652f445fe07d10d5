#!/usr/bin/env python3
"""Time a cold `fastapi-lint check` in each output format: `json` and `sarif` against
`concise` (issue "Performance II": at most 1.25x).

A script to run by hand, not a test. Each run is a fresh subprocess with a fresh empty
`--cache-dir`, from an empty scratch directory; the formats take turns within each repeat, so
that a change in the machine's load falls on all of them. Per format it keeps the best wall
time and the best CPU time (user + system, the workers included), and prints each format's
ratio to `concise`. CPU time is the steadier figure on a shared machine.

    python bench/formats_bench.py                         # lnbits, default rules, best of 3
    python bench/formats_bench.py --repeat 5 -- --preview --select ALL
    python bench/formats_bench.py --target path/to/project --formats concise,json,json-lines
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("FASTAPI_LINT_BENCH_CORPUS") or REPO_ROOT / ".corpus")
TARGET_RATIO = 1.25  # json and sarif wall (and CPU) / concise: at most


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", type=Path, default=CORPUS / "typical_app")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default="concise,json,sarif")
    parser.add_argument(
        "--fastapi-lint", help="the command to time, split like a shell would (default: ours)"
    )
    parser.add_argument("extra", nargs="*", help="more `check` flags, after `--`")
    args = parser.parse_args()
    target = args.target.resolve()
    if not target.exists():
        parser.error(f"{target} does not exist (set FASTAPI_LINT_BENCH_CORPUS or --target)")
    formats = args.formats.split(",")
    command = shlex.split(args.fastapi_lint) if args.fastapi_lint else _command()
    best: dict[str, tuple[float, float]] = {}
    fixes = None
    with tempfile.TemporaryDirectory(prefix="formats-bench-") as scratch:
        for round_ in range(args.repeat):
            for output_format in formats:
                cache = Path(scratch) / f"cache-{output_format}-{round_}"
                cmd = [
                    *command,
                    "check",
                    "--exit-zero",
                    "--output-format",
                    output_format,
                    "--cache-dir",
                    str(cache),
                    *args.extra,
                    str(target),
                ]
                wall, cpu, stdout = _run(cmd, cwd=scratch)
                shutil.rmtree(cache, ignore_errors=True)
                print(
                    f"{output_format:<11} run {round_ + 1}: {wall:7.2f} s wall {cpu:7.2f} s cpu",
                    file=sys.stderr,
                )
                old = best.get(output_format, (float("inf"), float("inf")))
                best[output_format] = (min(old[0], wall), min(old[1], cpu))
                if output_format == "json" and fixes is None:
                    fixes = sum(d["fix"] is not None for d in json.loads(stdout))
    _report(best, formats, fixes, target, args)
    return 0


def _command() -> list[str]:
    script = shutil.which("fastapi-lint", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "fastapi_lint"]


def _run(cmd: list[str], cwd: str) -> tuple[float, float, str]:
    """Wall and CPU seconds (this child and its workers), and the output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def _report(best, formats, fixes, target, args) -> None:
    base_wall, base_cpu = best.get("concise", (None, None))
    print(f"target: {target}  flags: {' '.join(args.extra) or '(none)'}  best of {args.repeat}")
    if fixes is not None:
        print(f"findings with a fix (each with its text edits in json): {fixes}")
    print(f"{'format':<11} {'wall s':>8} {'cpu s':>8} {'wall x':>7} {'cpu x':>7}  target")
    for output_format in formats:
        wall, cpu = best[output_format]
        if base_wall is None or output_format == "concise":
            print(f"{output_format:<11} {wall:8.2f} {cpu:8.2f}")
            continue
        wall_ratio, cpu_ratio = wall / base_wall, cpu / base_cpu
        verdict = "PASS" if wall_ratio <= TARGET_RATIO else "FAIL"
        print(
            f"{output_format:<11} {wall:8.2f} {cpu:8.2f} {wall_ratio:7.2f} {cpu_ratio:7.2f}"
            f"  <= {TARGET_RATIO}x concise: {verdict}"
        )


if __name__ == "__main__":
    sys.exit(main())

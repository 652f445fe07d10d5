#!/usr/bin/env python3
"""Benchmark fastapi-lint against a LibCST parse-only baseline and peer linters.

Every tool runs in a fresh subprocess on the same target, and each timing is the best wall
time of ``--repeat`` runs. This is a script to run by hand, not a test. It uses only the
standard library; the parse-only child also needs libcst. It never imports fastapi_lint
(it times the installed CLI) and never writes inside the corpus.

Steps:

1. ``libcst parse-only``: a child interpreter reads, decodes and ``libcst.parse_module``s
   every ``*.py`` file under the target. This is the floor that any LibCST-based linter
   pays; files that fail to parse are counted and skipped.
2. ``fastapi-lint check``: ``python -m fastapi_lint check --exit-zero --quiet TARGET``.
3. ``ruff FAST,ASYNC`` (if ruff is found next to the interpreter, on PATH, or importable):
   ``ruff check --isolated --no-cache --select FAST,ASYNC --exit-zero --quiet TARGET``.
4. ``flake8 ASYNC`` (only with ``--peers``): flake8 plus flake8-async from PyPI, installed
   into ``bench/.peers-venv``; runs are capped by ``--timeout``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata, util
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_CORPUS = REPO_ROOT / ".corpus"
FETCH_SCRIPT = REPO_ROOT.parent / "shared" / "corpus" / "fetch.sh"
PEERS_VENV = BENCH_DIR / ".peers-venv"
PEER_PACKAGES = ("flake8", "flake8-async")
GNU_TIME = Path("/usr/bin/time")
MAXRSS_RE = re.compile(r"Maximum resident set size \(kbytes\):\s*(\d+)")

# Runs in a fresh interpreter: NUL-separated paths on stdin, one JSON line on stdout.
# inner_seconds covers the read/decode/parse loop only (no interpreter start, no import).
PARSE_ONLY_CHILD = r"""
import json, sys, time, tokenize, io
import libcst
paths = [p for p in sys.stdin.buffer.read().decode("utf-8", "surrogateescape").split("\0") if p]
t0 = time.perf_counter()
parsed, failed = 0, []
for path in paths:
    with open(path, "rb") as f:
        data = f.read()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        libcst.parse_module(data.decode(encoding))
    except Exception as exc:
        failed.append(f"{path}: {type(exc).__name__}")
        continue
    parsed += 1
print(json.dumps({"parsed": parsed, "failed": failed, "inner_seconds": time.perf_counter() - t0}))
"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Corpus and target


def corpus_ready(corpus: Path) -> bool:
    return any((corpus / "src").glob("*/.done"))


def ensure_corpus(corpus: Path) -> None:
    if corpus_ready(corpus):
        return
    if not FETCH_SCRIPT.is_file():
        sys.exit(f"error: corpus {corpus} is missing and {FETCH_SCRIPT} does not exist")
    cmd = ["bash", str(FETCH_SCRIPT), str(corpus)]
    log(f"corpus {corpus} has no .done markers; fetching it:")
    log(f"$ {' '.join(cmd)}")
    # The fetch script's chatter goes to stderr so that --json output stays clean.
    rc = subprocess.run(cmd, stdout=sys.stderr, check=False).returncode
    if rc != 0 or not corpus_ready(corpus):
        sys.exit(f"error: fetching the corpus failed (exit {rc}); see {corpus / 'logs'}")


def resolve_target(target: str, corpus: Path) -> Path:
    if target == "typical":
        path = corpus / "typical_app"
    elif target == "all":
        path = corpus / "src"
    else:
        path = Path(target)
    if not path.exists():
        sys.exit(f"error: target {path} does not exist")
    # Resolve symlinks (typical_app is one) so every tool sees the same real path.
    return path.resolve()


def collect_files(target: Path) -> list[Path]:
    if target.is_file():
        return [target]
    files = []
    for dirpath, dirnames, filenames in os.walk(target):
        dirnames.sort()
        files.extend(Path(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
    return files


def count_lines(files: list[Path]) -> int:
    # Also warms the page cache, so that the first timed run is not the only cold one.
    return sum(p.read_bytes().count(b"\n") for p in files)


# --------------------------------------------------------------------------------------------
# Running and timing


@dataclass
class Run:
    seconds: float
    returncode: int | None  # None: killed after the timeout
    stdout: str
    stderr: str
    maxrss_kib: int | None


@dataclass
class Result:
    tool: str
    cmd: list[str]
    status: str = "skipped"  # ok | failed | timeout | skipped
    seconds: float | None = None  # best of the runs
    runs: list[float] = field(default_factory=list)
    peak_rss_mib: float | None = None
    version: str | None = None
    note: str | None = None


def have_gnu_time() -> bool:
    if not GNU_TIME.is_file():
        return False
    probe = subprocess.run(
        [str(GNU_TIME), "-v", "true"], capture_output=True, text=True, check=False
    )
    return probe.returncode == 0 and MAXRSS_RE.search(probe.stderr) is not None


def run_once(
    cmd: list[str],
    cwd: Path,
    *,
    stdin: bytes | None = None,
    timeout: float | None = None,
    measure_rss: bool = False,
    keep_stdout: bool = False,
) -> Run:
    full = list(cmd)
    rss_file = None
    if measure_rss:
        rss_file = cwd / "time-v.txt"
        full = [str(GNU_TIME), "-v", "-o", str(rss_file), *cmd]
    t0 = time.perf_counter()
    # Own session, so that a timeout can kill the whole group (flake8 forks workers).
    proc = subprocess.Popen(
        full,
        cwd=cwd,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE if keep_stdout else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
        returncode: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        returncode = None
    seconds = time.perf_counter() - t0
    maxrss = None
    if rss_file is not None and returncode is not None and rss_file.exists():
        match = MAXRSS_RE.search(rss_file.read_text(errors="replace"))
        maxrss = int(match.group(1)) if match else None
    return Run(
        seconds=seconds,
        returncode=returncode,
        stdout=(out or b"").decode(errors="replace"),
        stderr=(err or b"").decode(errors="replace"),
        maxrss_kib=maxrss,
    )


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output on stderr)"


def bench(
    result: Result,
    repeat: int,
    cwd: Path,
    *,
    ok_codes: tuple[int, ...] = (0,),
    stdin: bytes | None = None,
    timeout: float | None = None,
    measure_rss: bool = False,
    keep_stdout: bool = False,
) -> Run | None:
    """Run ``result.cmd`` up to ``repeat`` times and fill in ``result``; return the last run."""
    run = None
    for i in range(repeat):
        log(f"  {result.tool}: run {i + 1}/{repeat}")
        run = run_once(
            result.cmd,
            cwd,
            stdin=stdin,
            timeout=timeout,
            measure_rss=measure_rss,
            keep_stdout=keep_stdout,
        )
        if run.returncode is None:
            result.status = "timeout"
            result.note = f"killed after {timeout:g} s"
            result.seconds = None
            return run
        if run.returncode not in ok_codes:
            result.status = "failed"
            result.note = f"exit {run.returncode}: {last_line(run.stderr)}"
            result.seconds = None
            return run
        result.runs.append(round(run.seconds, 4))
        if run.maxrss_kib is not None:
            rss = round(run.maxrss_kib / 1024, 1)
            result.peak_rss_mib = max(result.peak_rss_mib or 0.0, rss)
    result.status = "ok"
    result.seconds = min(result.runs)
    return run


def tool_version(cmd: list[str]) -> str | None:
    try:
        proc = subprocess.run(
            [*cmd, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (proc.stdout or proc.stderr).strip()
    return text.splitlines()[0] if proc.returncode == 0 and text else None


# --------------------------------------------------------------------------------------------
# Tools


def find_ruff() -> list[str] | None:
    """ruff next to the interpreter (its venv's scripts dir), then on PATH, then importable."""
    names = ("ruff.exe", "ruff") if os.name == "nt" else ("ruff",)
    dirs = [Path(sysconfig.get_path("scripts")), Path(sys.executable).parent]
    for d in dirs:
        for name in names:
            exe = d / name
            if exe.is_file() and os.access(exe, os.X_OK):
                return [str(exe)]
    on_path = shutil.which("ruff")
    if on_path:
        return [on_path]
    if util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    return None


def peers_bin(name: str) -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    return PEERS_VENV / scripts / name


def ensure_peers() -> list[str]:
    """Create bench/.peers-venv with flake8 + flake8-async if needed; return the flake8 cmd."""
    flake8 = peers_bin("flake8")
    python = peers_bin("python")
    if not python.exists():
        cmd = [sys.executable, "-m", "venv", str(PEERS_VENV)]
        log(f"creating the peers venv:\n$ {' '.join(cmd)}")
        subprocess.run(cmd, check=True, stdout=sys.stderr)
    has_plugin = (
        subprocess.run(
            [str(python), "-c", "import flake8_async"], capture_output=True, check=False
        ).returncode
        == 0
    )
    if not flake8.exists() or not has_plugin:
        cmd = [str(python), "-m", "pip", "install", "--quiet", *PEER_PACKAGES]
        log(f"installing peers from PyPI:\n$ {' '.join(cmd)}")
        subprocess.run(cmd, check=True, stdout=sys.stderr)
    return [str(flake8)]


def flake8_version(flake8: list[str]) -> str | None:
    # `flake8 --version` prints "7.5.0 (flake8-async: 26.8.1, mccabe: ...) CPython ...".
    text = tool_version(flake8)
    if text is None:
        return None
    plugin = re.search(r"flake8-async: ([^,)\s]+)", text)
    return f"flake8 {text.split()[0]}" + (f", flake8-async {plugin.group(1)}" if plugin else "")


def parse_only_step(
    files: list[Path], repeat: int, cwd: Path, measure_rss: bool
) -> tuple[Result, dict]:
    result = Result(tool="libcst parse-only", cmd=[sys.executable, "-c", PARSE_ONLY_CHILD])
    try:
        result.version = f"libcst {metadata.version('libcst')}"
    except metadata.PackageNotFoundError:
        result.version = None
    payload = "\0".join(str(p) for p in files).encode("utf-8", "surrogateescape")
    run = bench(result, repeat, cwd, stdin=payload, measure_rss=measure_rss, keep_stdout=True)
    result.cmd = [sys.executable, "-c", "<PARSE_ONLY_CHILD in bench.py; paths on stdin>"]
    info: dict = {}
    if result.status == "ok" and run is not None:
        try:
            info = json.loads(run.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            result.status = "failed"
            result.seconds = None
            result.note = f"unreadable child output: {last_line(run.stdout or run.stderr)}"
    return result, info


# --------------------------------------------------------------------------------------------
# Output


def fmt_seconds(r: Result, timeout: float) -> str:
    if r.status == "ok" and r.seconds is not None:
        return f"{r.seconds:.3f}"
    if r.status == "timeout":
        return f">{timeout:g}"
    return "-"


def print_table(report: dict, results: list[Result], timeout: float) -> None:
    base = results[0].seconds if results and results[0].status == "ok" else None
    print("fastapi-lint benchmark")
    print(f"target     {report['target']}")
    print(
        f"files      {report['files']} .py files, {report['lines']:,} lines"
        f" ({report['parse_failures']} fail to parse)"
    )
    print(
        f"machine    os.cpu_count()={report['cpu_count']}, Python {report['python']}"
        f" on {report['platform']}"
    )
    print(f"timing     best of {report['repeat']} run(s), wall time of a fresh subprocess")
    print()
    rows = [("tool", "wall s", "x parse", "peak RSS", "version / note")]
    for r in results:
        ratio = "-"
        if base and r.status == "ok" and r.seconds is not None:
            ratio = f"{r.seconds / base:.2f}"
        rss = f"{r.peak_rss_mib:.0f} MiB" if r.peak_rss_mib is not None else "-"
        extra = r.version or ""
        if r.status != "ok":
            extra = f"{r.status}: {r.note or ''}".strip()
        rows.append((r.tool, fmt_seconds(r, timeout), ratio, rss, extra))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in (1, 2, 3)]
        print("  ".join([*cells, row[4]]).rstrip())
    for note in report["notes"]:
        print(f"note: {note}")


# --------------------------------------------------------------------------------------------
# Main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python bench/bench.py",
        description=(
            "Time fastapi-lint against a LibCST parse-only baseline, ruff (FAST,ASYNC) and,\n"
            "optionally, flake8-async, on the same .py files of a pinned corpus of real\n"
            "FastAPI code. Each tool runs in a fresh subprocess; the best of --repeat runs\n"
            "is reported, with its ratio to the parse-only time."
        ),
        epilog=(
            "examples:\n"
            "  python bench/bench.py                       # typical app, best of 3\n"
            "  python bench/bench.py --target all --repeat 1\n"
            "  python bench/bench.py --target path/to/project --peers --json\n"
            "\n"
            "Progress goes to stderr; the table (or JSON) goes to stdout.\n"
            "Run it with the interpreter where fastapi-lint is installed (pip install -e .)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--corpus",
        metavar="DIR",
        type=Path,
        default=DEFAULT_CORPUS,
        help=(
            "corpus directory (default: <repo>/.corpus). If it has no src/*/.done markers, "
            "<repo>/../shared/corpus/fetch.sh DIR is run to fetch it."
        ),
    )
    parser.add_argument(
        "--target",
        metavar="typical|all|PATH",
        default="typical",
        help=(
            "what to lint: 'typical' = DIR/typical_app (lnbits, one mid-sized app), "
            "'all' = DIR/src (every corpus package), or any file or directory "
            "(default: typical)"
        ),
    )
    parser.add_argument(
        "--repeat",
        metavar="N",
        type=int,
        default=3,
        help="runs per tool; the best wall time is reported (default: 3)",
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help=(
            "also time 'flake8 --select ASYNC' with flake8-async, installed from PyPI into "
            "bench/.peers-venv on first use"
        ),
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=300.0,
        help="cap for each peer (flake8) run; reported as >SECONDS if exceeded (default: 300)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the results as JSON instead of a table"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.repeat < 1:
        sys.exit("error: --repeat must be at least 1")

    corpus = args.corpus.resolve()
    # A custom PATH target needs no corpus; the named targets do.
    if args.target in ("typical", "all"):
        ensure_corpus(corpus)
    target = resolve_target(args.target, corpus)
    files = collect_files(target)
    if not files:
        sys.exit(f"error: no .py files under {target}")
    log(f"target {target}: {len(files)} .py files")
    lines = count_lines(files)

    measure_rss = have_gnu_time()
    notes: list[str] = []
    if not measure_rss:
        notes.append(f"{GNU_TIME} -v is not available: peak RSS not measured")

    results: list[Result] = []
    # Run every tool from an empty scratch directory: nothing the tools write relative to
    # their working directory lands in the repo or the corpus, and no config is found there.
    with tempfile.TemporaryDirectory(prefix="fastapi-lint-bench-") as scratch:
        cwd = Path(scratch)

        parse, info = parse_only_step(files, args.repeat, cwd, measure_rss)
        results.append(parse)
        failed_files = info.get("failed", [])
        if failed_files:
            shown = "; ".join(failed_files[:3]) + ("; ..." if len(failed_files) > 3 else "")
            notes.append(f"{len(failed_files)} file(s) failed to parse: {shown}")

        ours = Result(
            tool="fastapi-lint check",
            cmd=[
                sys.executable,
                "-m",
                "fastapi_lint",
                "check",
                "--exit-zero",
                "--quiet",
                str(target),
            ],
        )
        try:
            ours.version = f"fastapi-lint {metadata.version('fastapi-lint')}"
        except metadata.PackageNotFoundError:
            ours.version = None
        bench(ours, args.repeat, cwd, measure_rss=measure_rss)
        results.append(ours)

        ruff = find_ruff()
        if ruff is None:
            notes.append("ruff not found next to the interpreter, on PATH, or importable")
        else:
            # --isolated: ignore any pyproject.toml/ruff.toml above the target (e.g. this
            # repo's, when the corpus is <repo>/.corpus) so the settings are ruff's defaults.
            rr = Result(
                tool="ruff FAST,ASYNC",
                cmd=[
                    *ruff,
                    "check",
                    "--isolated",
                    "--no-cache",
                    "--select",
                    "FAST,ASYNC",
                    "--exit-zero",
                    "--quiet",
                    str(target),
                ],
                version=tool_version(ruff),
            )
            bench(rr, args.repeat, cwd, measure_rss=measure_rss)
            results.append(rr)
            shown = run_once(
                [*ruff, "check", "--isolated", "--no-cache", "--show-files", str(target)],
                cwd,
                keep_stdout=True,
            )
            n_ruff = sum(1 for line in shown.stdout.splitlines() if line.strip())
            if shown.returncode == 0 and n_ruff != len(files):
                notes.append(f"ruff checks {n_ruff} files, not {len(files)} (its default excludes)")

        if args.peers:
            try:
                flake8 = ensure_peers()
            except (OSError, subprocess.CalledProcessError) as exc:
                fr = Result(tool="flake8 ASYNC", cmd=["flake8"], status="failed", note=str(exc))
            else:
                fr = Result(
                    tool="flake8 ASYNC",
                    cmd=[*flake8, "--select", "ASYNC", str(target)],
                    version=flake8_version(flake8),
                )
                # flake8 exits 1 when it reports violations; that is a normal run.
                bench(
                    fr,
                    args.repeat,
                    cwd,
                    ok_codes=(0, 1),
                    timeout=args.timeout,
                    measure_rss=measure_rss,
                )
            results.append(fr)

    if measure_rss:
        notes.append(
            "peak RSS is the largest single process (GNU time -v); worker processes are not summed"
        )

    report = {
        "target": str(target),
        "files": len(files),
        "lines": lines,
        "parse_failures": len(failed_files),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "repeat": args.repeat,
        "timeout": args.timeout,
        "parse_only_in_process_seconds": info.get("inner_seconds"),
        "results": [
            {
                **asdict(r),
                "ratio_to_parse": (
                    round(r.seconds / parse.seconds, 3)
                    if r.seconds is not None and parse.seconds
                    else None
                ),
            }
            for r in results
        ],
        "notes": notes,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report, results, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())

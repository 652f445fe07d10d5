#!/usr/bin/env python3
"""Benchmark fastapi-lint against a LibCST parse-only baseline and peer linters.

A script to run by hand, not a test. Every step runs in a fresh subprocess on the same
``*.py`` files, and each timing is the best wall time of ``--repeat`` runs. It uses only the
standard library (the parse-only child also needs libcst). It never imports fastapi_lint:
it times the installed CLI. It never writes inside the corpus, and it checks that afterwards.

Steps, in the order they run:

1. ``libcst parse-only``: a child interpreter reads, decodes and ``libcst.parse_module``s
   every file, in one process; then the same on all cores with a multiprocessing pool, so
   that a parallel linter is compared with a parallel floor ("same cores").
2. ``fastapi-lint check``: cold (a fresh empty ``--cache-dir``, or ``--no-cache``), warm
   (again with the same cache dir, nothing changed) and serial cold (``--jobs 1``). Cache and
   job flags are used only when ``fastapi-lint check --help`` lists them.
3. ``ruff check --no-cache --isolated --select FAST,ASYNC,S,D --exit-zero --quiet``.
4. Peers (unless ``--quick``): ``flake8 --select ASYNC`` with flake8-async, and
   ``fixit lint`` (Fixit 2.x), installed from PyPI into ``bench/.peers-venv``; each run is
   capped by ``--timeout`` and shown as ``>CAP`` when killed.
5. The pre-commit case: ``fastapi-lint check FILE`` on one file, cold and warm.

Then the ratios the performance targets are stated in are printed, each with PASS/FAIL.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata, util
from pathlib import Path

try:
    import resource
except ImportError:  # not on Windows: no CPU times
    resource = None  # type: ignore[assignment]

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_CORPUS = Path(os.environ.get("FASTAPI_LINT_BENCH_CORPUS") or REPO_ROOT / ".corpus")
FETCH_SCRIPT = REPO_ROOT.parent / "shared" / "corpus" / "fetch.sh"
PEERS_VENV = BENCH_DIR / ".peers-venv"
PEER_PACKAGES = ("flake8", "flake8-async", "fixit")
GNU_TIME = Path("/usr/bin/time")
MAXRSS_RE = re.compile(r"Maximum resident set size \(kbytes\):\s*(\d+)")
# The pre-commit case: a file of the typical app that imports fastapi.
SINGLE_FILE_IN_TYPICAL = "lnbits/core/views/api.py"
SINGLE_FILE_MIN_RUNS = 5
CLI_FLAGS = ("--jobs", "--no-cache", "--cache-dir", "--timings", "--output-file", "--no-screen")
# The pre-commit case inside a project: lnbits copied with a pyproject.toml, so that the
# project index covers the whole project (issue "Project model").
PROJECT_IN_CORPUS = "src/lnbits-1.6.2"

# The performance targets (issue "Performance"). Edit here if they change.
TARGET_PEER_SPEEDUP = 15.0  # flake8-async and fixit wall / our cold wall: at least
TARGET_WARM_VS_RUFF = 3.0  # our warm wall / ruff cold wall: at most
TARGET_SINGLE_FILE_S = 0.35  # one file, interpreter start included: below
TARGET_PROJECT_FILE_COLD_S = 2.0  # one file of a project, every cache cold: at most
TARGET_PROJECT_FILE_WARM_S = 1.0  # the same, caches warm and that file changed: at most
TARGET_COLD_VS_PARSE = 0.6  # the typical app, our cold / parse-only on the same cores
TARGET_CORPUS_COLD_VS_PARSE = 0.5  # whole corpus, our cold / parse-only on the same cores
TARGET_PEAK_MIB = 300.0  # peak memory of any of our runs: below

# Runs in a fresh interpreter, written to a scratch file so that a multiprocessing pool can
# also use the spawn/forkserver start methods. NUL-separated paths on stdin; one JSON line
# on stdout. inner_seconds covers the read/decode/parse work (no interpreter start, no
# libcst import), including the pool start-up when --jobs > 1.
PARSE_ONLY_CHILD = r"""
import io, json, os, sys, time, tokenize

import libcst


def parse_one(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        libcst.parse_module(data.decode(encoding))
    except Exception as exc:
        return f"{path}: {type(exc).__name__}"
    return None


def main():
    jobs = int(sys.argv[1])
    raw = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
    paths = [p for p in raw.split("\0") if p]
    t0 = time.perf_counter()
    if jobs <= 1:
        errors = [parse_one(p) for p in paths]
    else:
        import multiprocessing

        # Largest files first, one file per task: the fairest split a parallel linter could
        # hope for.
        paths.sort(key=os.path.getsize, reverse=True)
        with multiprocessing.Pool(jobs) as pool:
            errors = list(pool.imap_unordered(parse_one, paths, chunksize=1))
    failed = sorted(e for e in errors if e)
    print(json.dumps({
        "parsed": len(paths) - len(failed),
        "failed": failed,
        "jobs": jobs,
        "inner_seconds": time.perf_counter() - t0,
    }))


if __name__ == "__main__":
    main()
"""


# The environment of every timed child. main() points PYTHONPYCACHEPREFIX at the scratch dir
# and drops PYTHONDONTWRITEBYTECODE: bytecode is then compiled once, by untimed warm-up runs,
# and reused, as on a machine where .pyc files exist, without writing into the repo, the
# venvs or the corpus.
CHILD_ENV: dict[str, str] | None = None


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Corpus and target


def corpus_ready(corpus: Path) -> bool:
    """Every package dir under src/ has its .done stamp (fetch.sh writes it last)."""
    src = corpus / "src"
    if not src.is_dir():
        return False
    dirs = [d for d in src.iterdir() if d.is_dir()]
    return bool(dirs) and all((d / ".done").is_file() for d in dirs)


def ensure_corpus(corpus: Path) -> None:
    if corpus_ready(corpus):
        return
    if not FETCH_SCRIPT.is_file():
        sys.exit(f"error: corpus {corpus} is missing and {FETCH_SCRIPT} does not exist")
    cmd = ["bash", str(FETCH_SCRIPT), str(corpus)]
    log(f"corpus {corpus} is missing or incomplete; fetching it:")
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


def snapshot(target: Path) -> dict[str, tuple[int, int]]:
    """Every path under the target with its size and mtime, to prove nothing was written."""
    if target.is_file():
        st = target.stat()
        return {str(target): (st.st_size, st.st_mtime_ns)}
    snap = {}
    for dirpath, dirnames, filenames in os.walk(target):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            snap[path] = (st.st_size if name in filenames else 0, st.st_mtime_ns)
    return snap


def imports_fastapi(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return re.search(r"^\s*(from|import)\s+fastapi\b", text, re.MULTILINE) is not None


def pick_single_file(explicit: Path | None, corpus: Path, files: list[Path]) -> Path | None:
    if explicit is not None:
        return explicit.resolve()
    typical = corpus / "typical_app" / SINGLE_FILE_IN_TYPICAL
    if typical.is_file():
        return typical.resolve()
    return next((p for p in files if imports_fastapi(p)), None)


# --------------------------------------------------------------------------------------------
# Running and timing


class TreeRssSampler(threading.Thread):
    """Sums the RSS, and the PSS, of every process in a session, every ``interval`` seconds,
    via /proc.

    GNU time reports the largest single process only; this catches worker pools. RSS counts
    the pages a forked worker shares with its parent once per process; PSS (proportional set
    size, from ``/proc/<pid>/smaps_rollup``) divides each page among the processes that map
    it, so the PSS sum is the memory the run really holds. A sample costs a few ms of this
    process's time at the default 0.1 s interval. None where /proc is not readable.
    """

    PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def __init__(self, session: int, exclude: set[int], interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.session = session
        self.exclude = exclude
        self.interval = interval
        self.peak_bytes: int | None = None
        self.peak_pss_bytes: int | None = None
        self._stop_event = threading.Event()

    @staticmethod
    def available() -> bool:
        return Path("/proc/self/stat").is_file()

    def sample(self) -> None:
        total = pss = 0
        try:
            entries = list(os.scandir("/proc"))
        except OSError:
            return
        for entry in entries:
            if not entry.name.isdigit() or int(entry.name) in self.exclude:
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    data = f.read()
            except OSError:
                continue
            # Fields after "(comm)": state ppid pgrp session ... ; rss is field 24.
            rest = data[data.rfind(b")") + 2 :].split()
            try:
                if int(rest[3]) != self.session:
                    continue
                total += int(rest[21]) * self.PAGE
            except (IndexError, ValueError):
                continue
            pss += self._pss(entry.name)
        if total and (self.peak_bytes is None or total > self.peak_bytes):
            self.peak_bytes = total
        if pss and (self.peak_pss_bytes is None or pss > self.peak_pss_bytes):
            self.peak_pss_bytes = pss

    @staticmethod
    def _pss(pid: str) -> int:
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
        return 0

    def run(self) -> None:
        self.sample()
        while not self._stop_event.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class Run:
    seconds: float
    returncode: int | None  # None: killed after the timeout
    stdout: str
    stderr: str
    maxrss_kib: int | None
    tree_rss_bytes: int | None
    tree_pss_bytes: int | None = None
    cpu_seconds: float | None = None  # user + system of the run and the children it waited for


@dataclass
class Result:
    key: str
    tool: str
    cmd: list[str]
    cores: str = ""
    status: str = "skipped"  # ok | failed | timeout | skipped
    seconds: float | None = None  # best of the runs
    runs: list[float] = field(default_factory=list)
    peak_rss_mib: float | None = None  # largest single process (GNU time -v)
    tree_rss_mib: float | None = None  # sampled sum over the process tree
    tree_pss_mib: float | None = None  # the same, proportional set size (shared pages split)
    cpu_seconds: float | None = None  # the least CPU time (user + system) of the runs
    version: str | None = None
    note: str | None = None
    load_after: float | None = None  # 1-minute load average when the step ended

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.seconds is not None


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
    sample_tree: bool = False,
    keep_stdout: bool = False,
) -> Run:
    full = list(cmd)
    rss_file = None
    if measure_rss:
        rss_file = cwd / "time-v.txt"
        rss_file.unlink(missing_ok=True)
        full = [str(GNU_TIME), "-v", "-o", str(rss_file), *cmd]
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN) if resource else None
    t0 = time.perf_counter()
    # Own session, so that a timeout can kill the whole group (flake8 and fixit fork
    # workers) and so that the RSS sampler can find every process of the run.
    proc = subprocess.Popen(
        full,
        cwd=cwd,
        env=CHILD_ENV,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE if keep_stdout else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    sampler = None
    if sample_tree:
        # Leave GNU time itself out of the sum.
        sampler = TreeRssSampler(proc.pid, exclude={proc.pid} if measure_rss else set())
        sampler.start()
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
        returncode: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        returncode = None
    except BaseException:
        # Ctrl-C or SIGTERM: take the tool's whole session down with us.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        raise
    finally:
        if sampler is not None:
            sampler.stop()
    seconds = time.perf_counter() - t0
    cpu = None
    if usage_before is not None:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
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
        tree_rss_bytes=sampler.peak_bytes if sampler is not None else None,
        tree_pss_bytes=sampler.peak_pss_bytes if sampler is not None else None,
        cpu_seconds=cpu,
    )


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output on stderr)"


@dataclass
class Bencher:
    cwd: Path
    measure_rss: bool
    sample_tree: bool

    def _bench(
        self,
        result: Result,
        repeat: int,
        *,
        make_cmd: Callable[[int], list[str]] | None = None,
        ok_codes: tuple[int, ...] = (0,),
        stdin: bytes | None = None,
        timeout: float | None = None,
        keep_stdout: bool = False,
        cwd: Path | None = None,
    ) -> Run | None:
        """Run the step up to ``repeat`` times and fill in ``result``; return the last run.

        ``make_cmd(i)`` gives the command of run ``i`` (for a fresh cache dir per run, or to
        prepare the run: untimed); by default every run uses ``result.cmd``. ``cwd``: the
        working directory (default: the scratch dir). A failed or timed-out run ends the
        step.
        """
        run = None
        for i in range(repeat):
            cmd = make_cmd(i) if make_cmd else result.cmd
            log(f"  {result.tool}: run {i + 1}/{repeat}")
            run = run_once(
                cmd,
                cwd or self.cwd,
                stdin=stdin,
                timeout=timeout,
                measure_rss=self.measure_rss,
                sample_tree=self.sample_tree,
                keep_stdout=keep_stdout,
            )
            if run.returncode is None:
                result.status = "timeout"
                result.note = f"exceeded the {timeout:g} s cap: killed, not timed"
                result.seconds = None
                log(f"  {result.tool}: {result.note}")
                return run
            if run.returncode not in ok_codes:
                result.status = "failed"
                result.note = f"exit {run.returncode}: {last_line(run.stderr)}"
                result.seconds = None
                log(f"  {result.tool}: {result.note}")
                return run
            result.runs.append(round(run.seconds, 4))
            if run.cpu_seconds is not None:
                cpu = round(run.cpu_seconds, 3)
                result.cpu_seconds = min(result.cpu_seconds or cpu, cpu)
            if run.maxrss_kib is not None:
                rss = round(run.maxrss_kib / 1024, 1)
                result.peak_rss_mib = max(result.peak_rss_mib or 0.0, rss)
            if run.tree_rss_bytes is not None:
                tree = round(run.tree_rss_bytes / 2**20, 1)
                result.tree_rss_mib = max(result.tree_rss_mib or 0.0, tree)
            if run.tree_pss_bytes is not None:
                pss = round(run.tree_pss_bytes / 2**20, 1)
                result.tree_pss_mib = max(result.tree_pss_mib or 0.0, pss)
        result.status = "ok"
        result.seconds = min(result.runs)
        return run

    def bench(self, result: Result, repeat: int, **kwargs) -> Run | None:
        try:
            return self._bench(result, repeat, **kwargs)
        finally:
            if hasattr(os, "getloadavg"):
                result.load_after = round(os.getloadavg()[0], 2)


def tool_version(cmd: list[str]) -> str | None:
    try:
        proc = subprocess.run(
            [*cmd, "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=CHILD_ENV,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (proc.stdout or proc.stderr).strip()
    return text.splitlines()[0] if proc.returncode == 0 and text else None


def git_state() -> dict:
    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", "-C", str(REPO_ROOT), *args],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout if proc.returncode == 0 else None

    head = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=normal")
    changed = [line[3:] for line in (status or "").splitlines() if line.strip()]
    return {
        "head": head.strip() if head else None,
        "uncommitted_paths": len(changed),
        "uncommitted": changed[:50],
    }


def describe_tree(state: dict) -> str:
    if not state.get("head"):
        return "unknown (not a git checkout)"
    n = state["uncommitted_paths"]
    extra = f" with uncommitted work ({n} paths changed)" if n else " (clean)"
    return f"{state['head']}{extra}"


# --------------------------------------------------------------------------------------------
# Tools


def find_script(name: str) -> list[str] | None:
    """A console script next to the interpreter (its venv's scripts dir), then on PATH."""
    names = (f"{name}.exe", name) if os.name == "nt" else (name,)
    for d in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        for candidate in names:
            exe = d / candidate
            if exe.is_file() and os.access(exe, os.X_OK):
                return [str(exe)]
    on_path = shutil.which(name)
    return [on_path] if on_path else None


def find_ruff() -> list[str] | None:
    found = find_script("ruff")
    if found:
        return found
    if util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    return None


def find_ours() -> list[str]:
    """The console script that pre-commit runs; ``python -m fastapi_lint`` as a fallback."""
    script = None
    for d in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        exe = d / ("fastapi-lint.exe" if os.name == "nt" else "fastapi-lint")
        if exe.is_file():
            script = [str(exe)]
            break
    return script or [sys.executable, "-m", "fastapi_lint"]


def detect_cli_flags(ours: list[str]) -> tuple[dict[str, bool], str | None]:
    """Which of CLI_FLAGS ``fastapi-lint check --help`` lists; and an error, if it failed."""
    try:
        proc = subprocess.run(
            [*ours, "check", "--help"], capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return dict.fromkeys(CLI_FLAGS, False), str(exc)
    if proc.returncode != 0:
        return dict.fromkeys(CLI_FLAGS, False), last_line(proc.stderr)
    flags = {
        flag: re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", proc.stdout) is not None
        for flag in CLI_FLAGS
    }
    return flags, None


def peers_bin(name: str) -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return PEERS_VENV / scripts / f"{name}{suffix}"


def ensure_peers() -> dict[str, str]:
    """Create bench/.peers-venv with flake8, flake8-async and fixit if needed.

    Returns the installed versions, by distribution name.
    """
    python = peers_bin("python")
    if not python.exists():
        cmd = [sys.executable, "-m", "venv", str(PEERS_VENV)]
        log(f"creating the peers venv:\n$ {' '.join(cmd)}")
        subprocess.run(cmd, check=True, stdout=sys.stderr)

    def versions() -> dict[str, str]:
        code = (
            "import json, importlib.metadata as m\n"
            "out = {}\n"
            f"for name in {list(PEER_PACKAGES)!r}:\n"
            "    try: out[name] = m.version(name)\n"
            "    except m.PackageNotFoundError: pass\n"
            "print(json.dumps(out))\n"
        )
        proc = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, check=False
        )
        try:
            return json.loads(proc.stdout)
        except ValueError:
            return {}

    found = versions()
    missing = [p for p in PEER_PACKAGES if p not in found]
    if missing:
        cmd = [str(python), "-m", "pip", "install", "--quiet", *PEER_PACKAGES]
        log(f"installing peers from PyPI ({', '.join(missing)} missing):\n$ {' '.join(cmd)}")
        subprocess.run(cmd, check=True, stdout=sys.stderr)
        found = versions()
    return found


def paths_payload(files: list[Path]) -> bytes:
    return "\0".join(str(p) for p in files).encode("utf-8", "surrogateescape")


def parse_only_step(
    bencher: Bencher, files: list[Path], repeat: int, jobs: int, warmup: list[Path]
) -> tuple[Result, dict]:
    child = bencher.cwd / "parse_only.py"
    child.write_text(PARSE_ONLY_CHILD, encoding="utf-8")
    run_once([sys.executable, str(child), str(jobs)], bencher.cwd, stdin=paths_payload(warmup))
    label = "1 process" if jobs == 1 else f"pool of {jobs}"
    result = Result(
        key="parse_serial" if jobs == 1 else "parse_parallel",
        tool=f"libcst parse-only, {label}",
        cmd=[sys.executable, str(child), str(jobs)],
        cores=str(jobs),
    )
    try:
        result.version = f"libcst {metadata.version('libcst')}"
    except metadata.PackageNotFoundError:
        result.version = None
    run = bencher.bench(result, repeat, stdin=paths_payload(files), keep_stdout=True)
    result.cmd = [sys.executable, "parse_only.py", str(jobs), "< paths (PARSE_ONLY_CHILD)"]
    info: dict = {}
    if result.status == "ok" and run is not None:
        try:
            info = json.loads(run.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            result.status = "failed"
            result.seconds = None
            result.note = f"unreadable child output: {last_line(run.stdout or run.stderr)}"
    return result, info


@dataclass
class Ours:
    """Builds fastapi-lint command lines from what its CLI supports."""

    base: list[str]
    flags: dict[str, bool]
    scratch: Path

    @property
    def has_cache_dir(self) -> bool:
        return self.flags["--cache-dir"]

    def cmd(
        self,
        paths: list[str],
        *,
        cache_dir: Path | None,
        jobs: int | None = None,
        extra: tuple[str, ...] = (),
    ) -> list:
        """``cache_dir`` None means cold without a dir: ``--no-cache`` if the CLI has it.
        ``extra``: more options (``--no-screen``)."""
        cmd = [*self.base, "check", "--exit-zero", "--quiet", *extra]
        if jobs is not None and self.flags["--jobs"]:
            cmd += ["--jobs", str(jobs)]
        if cache_dir is not None and self.has_cache_dir:
            cmd += ["--cache-dir", str(cache_dir)]
        elif self.flags["--no-cache"]:
            cmd += ["--no-cache"]
        return [*cmd, *paths]

    def fresh_cache_dir(self, name: str) -> Path | None:
        """A new empty cache dir in the scratch dir, or None if the CLI takes no --cache-dir."""
        if not self.has_cache_dir:
            return None
        path = Path(tempfile.mkdtemp(prefix=f"cache-{name}-", dir=self.scratch))
        return path

    def cold_how(self) -> str:
        if self.has_cache_dir:
            return "fresh empty --cache-dir"
        if self.flags["--no-cache"]:
            return "--no-cache"
        return "no cache flags in the CLI"


def bench_ours(
    bencher: Bencher,
    ours: Ours,
    paths: list[str],
    repeat: int,
    *,
    prefix: str,
    label: str,
    version: str | None,
    with_serial: bool,
) -> list[Result]:
    """Cold (default jobs), warm (same cache dir), and optionally serial cold (--jobs 1)."""
    results = []
    last_cold_dir: list[Path | None] = [None]

    def cold_cmd(i: int) -> list[str]:
        last_cold_dir[0] = ours.fresh_cache_dir(f"{prefix}-cold{i}")
        return ours.cmd(paths, cache_dir=last_cold_dir[0])

    cold = Result(
        key=f"{prefix}_cold",
        tool=f"{label} cold",
        cmd=ours.cmd(paths, cache_dir=Path("<fresh-dir>") if ours.has_cache_dir else None),
        cores="default",
        version=version,
    )
    bencher.bench(cold, repeat, make_cmd=cold_cmd)
    cold.note = cold.note or ours.cold_how()
    results.append(cold)

    warm = Result(key=f"{prefix}_warm", tool=f"{label} warm", cmd=[], cores="default")
    if not ours.has_cache_dir:
        warm.note = "not measured: the CLI has no --cache-dir (no persistent cache yet)"
    elif not cold.ok or last_cold_dir[0] is None:
        warm.note = "not measured: the cold run failed"
    else:
        warm.cmd = ours.cmd(paths, cache_dir=last_cold_dir[0])
        bencher.bench(warm, repeat)
        warm.note = warm.note or "same --cache-dir as the last cold run, nothing changed"
        warm.cmd = ours.cmd(paths, cache_dir=Path("<cold-run-dir>"))
    results.append(warm)

    if with_serial:
        serial = Result(key=f"{prefix}_serial", tool=f"{label} cold --jobs 1", cmd=[], cores="1")
        if not ours.flags["--jobs"]:
            serial.note = "not measured: the CLI has no --jobs (so its default run is serial)"
        else:

            def serial_cmd(i: int) -> list[str]:
                return ours.cmd(paths, cache_dir=ours.fresh_cache_dir(f"{prefix}-ser{i}"), jobs=1)

            serial.cmd = ours.cmd(
                paths, cache_dir=Path("<fresh-dir>") if ours.has_cache_dir else None, jobs=1
            )
            bencher.bench(serial, repeat, make_cmd=serial_cmd)
            serial.note = serial.note or ours.cold_how()
        results.append(serial)
    return results


def bench_cold_variant(
    bencher: Bencher,
    ours: Ours,
    paths: list[str],
    repeat: int,
    *,
    key: str,
    tool: str,
    extra: tuple[str, ...] = (),
    version: str | None = None,
) -> Result:
    """One more cold step (a fresh cache dir per run), with `extra` options or another
    fastapi-lint command (`ours`)."""
    result = Result(
        key=key,
        tool=tool,
        cmd=ours.cmd(paths, cache_dir=Path("<fresh-dir>"), extra=extra),
        cores="default",
        version=version,
    )

    def cold_cmd(i: int) -> list[str]:
        return ours.cmd(paths, cache_dir=ours.fresh_cache_dir(f"{key}{i}"), extra=extra)

    bencher.bench(result, repeat, make_cmd=cold_cmd)
    result.note = result.note or ours.cold_how()
    return result


def bench_project_file(
    bencher: Bencher, ours: Ours, source: Path, relative: str, repeat: int
) -> list[Result]:
    """The pre-commit case in a project: `source` copied into the scratch dir with a
    pyproject.toml (so the project index covers the whole project), then `check FILE` run
    from there: cold (every cache empty), and warm with that file changed (after a run of
    the whole project filled the caches, each run first appends a comment to the file)."""
    project = bencher.cwd / "project"
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(source, project)
    (project / "pyproject.toml").write_text(f'[project]\nname = "{source.name}"\n')
    changed = project / relative
    cold_result = Result(
        key="project_cold",
        tool="one file of a project, cold",
        cmd=ours.cmd([relative], cache_dir=Path("<fresh-dir>")),
        cores="default",
    )

    def cold_cmd(i: int) -> list[str]:
        return ours.cmd([relative], cache_dir=ours.fresh_cache_dir(f"project-cold{i}"))

    bencher.bench(cold_result, repeat, make_cmd=cold_cmd, cwd=project)
    cold_result.note = f"{source.name} + pyproject.toml, FILE = {relative}; every cache empty"

    warm_dir = ours.fresh_cache_dir("project-warm")
    run_once(ours.cmd(["."], cache_dir=warm_dir), project)  # fills the caches (untimed)
    warm_result = Result(
        key="project_warm",
        tool="one file of a project, warm, file changed",
        cmd=ours.cmd([relative], cache_dir=Path("<warm-dir>")),
        cores="default",
    )

    def warm_cmd(i: int) -> list[str]:
        with changed.open("a", encoding="utf-8") as out:  # untimed: the edit before the run
            out.write(f"\n# bench edit {i}\n")
        return ours.cmd([relative], cache_dir=warm_dir)

    bencher.bench(warm_result, repeat, make_cmd=warm_cmd, cwd=project)
    warm_result.note = "caches filled by `check .`; the file changed before each run"
    return [cold_result, warm_result]


# --------------------------------------------------------------------------------------------
# Ratios against the targets


@dataclass
class Ratio:
    name: str
    value: float | None
    shown: str
    target: str
    verdict: str  # PASS | FAIL | n/a | info
    note: str = ""


def seconds_ratio(num: Result | None, den: Result | None) -> float | None:
    if num is None or den is None or not num.ok or not den.ok or not den.seconds:
        return None
    return num.seconds / den.seconds  # type: ignore[operator]


def compute_ratios(by_key: dict[str, Result], target_kind: str, timeout: float) -> list[Ratio]:
    ratios: list[Ratio] = []
    cold = by_key.get("ours_cold")
    par = by_key.get("parse_parallel")
    ser = by_key.get("parse_serial")
    cores = par.cores if par else "?"

    # Our cold run against the parse-only floor.
    whole = target_kind == "all"
    for den, label in ((par, f"same cores ({cores})"), (ser, "1 core")):
        value = seconds_ratio(cold, den)
        name = f"cold / parse-only, {label}"
        limit = None
        if den is par and whole:
            name, limit = f"whole-corpus {name}", TARGET_CORPUS_COLD_VS_PARSE
        elif den is par and target_kind == "typical":
            limit = TARGET_COLD_VS_PARSE
        if limit is not None:
            target = f"<= {limit:g}x"
            verdict = "n/a" if value is None else ("PASS" if value <= limit else "FAIL")
        else:
            target, verdict = "-", "info" if value is not None else "n/a"
        ratios.append(Ratio(name, value, f"{value:.2f}x" if value else "-", target, verdict))
    # The same in CPU time (user + system, all processes): what a loaded machine blurs less.
    if cold is not None and par is not None and cold.cpu_seconds and par.cpu_seconds:
        value = cold.cpu_seconds / par.cpu_seconds
        name = "cold / parse-only, CPU time (all processes)"
        ratios.append(Ratio(name, value, f"{value:.2f}x", "-", "info"))
    # The parse screen, and another fastapi-lint (`--baseline-cmd`), on the same cores.
    for key, label in (("noscreen_cold", "--no-screen"), ("baseline_cold", "baseline")):
        value = seconds_ratio(by_key.get(key), par)
        if by_key.get(key) is not None:
            name = f"cold {label} / parse-only, same cores ({cores})"
            shown = f"{value:.2f}x" if value else "-"
            ratios.append(Ratio(name, value, shown, "-", "info" if value else "n/a"))
    if not whole:
        ratios.append(
            Ratio(
                "whole-corpus cold / parse-only, same cores",
                None,
                "-",
                f"<= {TARGET_CORPUS_COLD_VS_PARSE:g}x",
                "n/a",
                "measured with --target all",
            )
        )

    # Peers against our cold run.
    for key, peer_name in (("flake8_async", "flake8-async"), ("fixit", "fixit")):
        peer = by_key.get(key)
        target = f">= {TARGET_PEER_SPEEDUP:g}x"
        name = f"{peer_name} / ours cold"
        if peer is None or peer.status == "skipped":
            ratios.append(Ratio(name, None, "-", target, "n/a", "peer not run (--quick?)"))
        elif peer.status == "timeout" and cold is not None and cold.ok:
            bound = timeout / cold.seconds  # type: ignore[operator]
            verdict = "PASS" if bound >= TARGET_PEER_SPEEDUP else "n/a"
            note = f"{peer_name} exceeded the {timeout:g} s cap, so this is a lower bound"
            if verdict == "n/a":
                note += "; raise --timeout to decide"
            ratios.append(Ratio(name, bound, f">{bound:.1f}x", target, verdict, note))
        else:
            value = seconds_ratio(peer, cold)
            verdict = (
                "n/a" if value is None else ("PASS" if value >= TARGET_PEER_SPEEDUP else "FAIL")
            )
            note = ""
            if value is None:
                note = (peer.note or "") if not peer.ok else "our cold run failed"
            ratios.append(
                Ratio(name, value, f"{value:.1f}x" if value else "-", target, verdict, note)
            )

    # Warm against ruff cold.
    warm, ruff = by_key.get("ours_warm"), by_key.get("ruff")
    value = seconds_ratio(warm, ruff)
    ratios.append(
        Ratio(
            "ours warm / ruff cold",
            value,
            f"{value:.2f}x" if value else "-",
            f"<= {TARGET_WARM_VS_RUFF:g}x",
            "n/a" if value is None else ("PASS" if value <= TARGET_WARM_VS_RUFF else "FAIL"),
            "" if value is not None else (warm.note if warm and not warm.ok else "ruff missing"),
        )
    )

    # The single-file pre-commit case.
    for key, label in (("single_cold", "cold"), ("single_warm", "warm")):
        r = by_key.get(key)
        value = r.seconds if r is not None and r.ok else None
        ratios.append(
            Ratio(
                f"single-file wall, {label}",
                value,
                f"{value:.3f} s" if value is not None else "-",
                f"< {TARGET_SINGLE_FILE_S:g} s",
                "n/a" if value is None else ("PASS" if value < TARGET_SINGLE_FILE_S else "FAIL"),
                "" if value is not None else (r.note or "" if r else "not run"),
            )
        )

    # One file of a project (lnbits with a pyproject.toml): the issue "Project model".
    for key, label, limit in (
        ("project_cold", "cold", TARGET_PROJECT_FILE_COLD_S),
        ("project_warm", "warm, that file changed", TARGET_PROJECT_FILE_WARM_S),
    ):
        r = by_key.get(key)
        value = r.seconds if r is not None and r.ok else None
        ratios.append(
            Ratio(
                f"one file of a project, {label}",
                value,
                f"{value:.3f} s" if value is not None else "-",
                f"<= {limit:g} s",
                "n/a" if value is None else ("PASS" if value <= limit else "FAIL"),
                "" if value is not None else (r.note or "" if r else "not run"),
            )
        )

    # Peak memory over all our runs (not the --no-screen and baseline ones, there to compare
    # with): the largest single process (max RSS, GNU time), and the sum over all processes
    # of a run (worker pools included; sampled), as RSS and as PSS.
    ours_runs = [
        r for k, r in by_key.items() if k.startswith(("ours_", "single_", "project_")) and r.ok
    ]
    for attr, label, how in (
        ("peak_rss_mib", "largest process (max RSS)", "GNU time -v"),
        ("tree_rss_mib", "all processes of a run", "sum of RSS over the process tree, sampled"),
        ("tree_pss_mib", "all processes of a run (PSS)", "sum of PSS over the process tree"),
    ):
        peaks = [(getattr(r, attr), r.tool) for r in ours_runs if getattr(r, attr) is not None]
        name = f"peak memory, {label}"
        target = f"< {TARGET_PEAK_MIB:g} MiB"
        if not peaks:
            ratios.append(Ratio(name, None, "-", target, "n/a", f"not measured ({how})"))
            continue
        peak, which = max(peaks)
        verdict = "PASS" if peak < TARGET_PEAK_MIB else "FAIL"
        note = f"max over our runs, in '{which}'; {how}"
        ratios.append(Ratio(name, peak, f"{peak:.0f} MiB", target, verdict, note))
    return ratios


# --------------------------------------------------------------------------------------------
# Output


def fmt_seconds(r: Result, timeout: float) -> str:
    if r.ok:
        return f"{r.seconds:.3f}"
    if r.status == "timeout":
        return f">{timeout:g}"
    return "-"


def fmt_mib(value: float | None) -> str:
    return f"{value:.0f} MiB" if value is not None else "-"


def render_table(rows: list[tuple[str, ...]], right: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    out = []
    for row in rows:
        cells = [
            row[i].rjust(widths[i]) if i in right else row[i].ljust(widths[i])
            for i in range(len(widths))
        ]
        out.append("  ".join([*cells, row[-1]]).rstrip())
    return out


def print_report(report: dict, results: list[Result], ratios: list[Ratio]) -> None:
    timeout = report["timeout"]
    by_key = {r.key: r for r in results}
    ser, par = by_key.get("parse_serial"), by_key.get("parse_parallel")
    print("fastapi-lint benchmark")
    print(f"date       {report['date']}")
    print(f"tree       {report['tree_described']}")
    print(f"target     {report['target']}")
    print(
        f"files      {report['files']} .py files, {report['lines']:,} lines"
        f" ({report['parse_failures']} fail to parse with libcst)"
    )
    print(f"single     {report['single_file'] or '-'}")
    m = report["machine"]
    print(
        f"machine    {m['cpu_count']} cores (os.cpu_count()), Python {m['python']} on"
        f" {m['platform']}; load average before {m['loadavg_before']}"
    )
    flags = report["cli_flags"]
    print(
        "our CLI    "
        + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in flags.items())
        + f"; cold = {report['cold_how']}"
    )
    print(
        f"timing     best of {report['repeat']} run(s) (single file: best of"
        f" {report['single_file_repeat']}), wall time of a fresh subprocess; peers capped at"
        f" {timeout:g} s"
    )
    print()
    header = ("step", "cores", "wall s", "x parse1", f"x parse{par.cores if par else ''}")
    rows = [(*header, "CPU s", "max RSS", "tree RSS", "tree PSS", "version / note")]
    for r in results:

        def ratio(den: Result | None, r: Result = r) -> str:
            value = seconds_ratio(r, den)
            return f"{value:.2f}" if value is not None else "-"

        extra = r.version or ""
        if r.status != "ok":
            extra = f"{r.status}: {r.note or ''}".strip()
        elif r.note:
            extra = f"{extra}; {r.note}" if extra else r.note
        rows.append(
            (
                r.tool,
                r.cores,
                fmt_seconds(r, timeout),
                ratio(ser),
                ratio(par),
                f"{r.cpu_seconds:.2f}" if r.cpu_seconds is not None else "-",
                fmt_mib(r.peak_rss_mib),
                fmt_mib(r.tree_rss_mib),
                fmt_mib(r.tree_pss_mib),
                extra,
            )
        )
    for line in render_table(rows, right={1, 2, 3, 4, 5, 6, 7, 8}):
        print(line)
    print()
    print("targets")
    rows = [("ratio", "value", "target", "verdict", "note")]
    rows += [(x.name, x.shown, x.target, x.verdict, x.note) for x in ratios]
    for line in render_table(rows, right={1}):
        print(line)
    if report["timings_output"]:
        print()
        print("fastapi-lint --timings (one extra cold run, not timed here):")
        for line in report["timings_output"].splitlines()[:60]:
            print(f"  {line}")
    if report["notes"]:
        print()
    for note in report["notes"]:
        print(f"note: {note}")


# --------------------------------------------------------------------------------------------
# Main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python bench/bench.py",
        description=(
            "Time fastapi-lint (cold, warm, serial, one file) against a LibCST parse-only\n"
            "floor (one process and all cores), ruff, flake8-async and Fixit on the same .py\n"
            "files of a pinned corpus of real FastAPI code, and check the performance\n"
            "targets. Each step runs in a fresh subprocess; the best of --repeat runs counts."
        ),
        epilog=(
            "examples:\n"
            "  python bench/bench.py                              # lnbits, best of 3, peers\n"
            "  python bench/bench.py --quick --repeat 1           # no peers: ~1 minute\n"
            "  python bench/bench.py --target all --repeat 1      # whole corpus, peers capped\n"
            "  python bench/bench.py --target path/to/project --json\n"
            "\n"
            "Progress goes to stderr; the table (or JSON) goes to stdout.\n"
            "Run it with the interpreter where fastapi-lint is installed (pip install -e .).\n"
            "The corpus default can also be set with FASTAPI_LINT_BENCH_CORPUS=DIR."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--corpus",
        metavar="DIR",
        type=Path,
        default=DEFAULT_CORPUS,
        help=(
            "corpus directory (default: $FASTAPI_LINT_BENCH_CORPUS or <repo>/.corpus). If "
            "its src/*/.done stamps are missing, <repo>/../shared/corpus/fetch.sh DIR "
            "fetches it."
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
        help=(
            "runs per step; the best wall time is reported (default: 3; the single-file "
            f"steps run at least {SINGLE_FILE_MIN_RUNS} times)"
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip the peers (flake8-async, fixit) and their install",
    )
    parser.add_argument(
        "--timeout",
        "--cap",
        dest="timeout",
        metavar="SECONDS",
        type=float,
        default=300.0,
        help=(
            "cap for each peer run (flake8-async, fixit): a run over it is killed, shown as "
            ">SECONDS, and the peer is not run again (default: 300)"
        ),
    )
    parser.add_argument(
        "--single-file",
        metavar="FILE",
        type=Path,
        help=(
            f"the file for the pre-commit case (default: typical_app/{SINGLE_FILE_IN_TYPICAL}"
            " in the corpus, else the first file of the target that imports fastapi)"
        ),
    )
    parser.add_argument(
        "--jobs",
        metavar="N",
        type=int,
        default=os.cpu_count() or 1,
        help="processes of the parallel parse-only pass (default: os.cpu_count())",
    )
    parser.add_argument(
        "--fastapi-lint",
        dest="ours",
        metavar="CMD",
        help=(
            "the command to time as fastapi-lint, split like a shell would (default: the "
            "fastapi-lint script next to this interpreter, else 'python -m fastapi_lint')"
        ),
    )
    parser.add_argument(
        "--baseline-cmd",
        metavar="CMD",
        help=(
            "another fastapi-lint command, timed cold beside ours in the same run (before and "
            "after figures), e.g. 'env PYTHONPATH=/old/src python -m fastapi_lint'"
        ),
    )
    parser.add_argument(
        "--no-git",
        action="store_true",
        help="do not run git to describe the tree (leaves the repository alone)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the results as JSON instead of a table"
    )
    parser.add_argument(
        "--save-json",
        metavar="FILE",
        type=Path,
        help="also write the JSON report to FILE (with the table on stdout)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.repeat < 1:
        sys.exit("error: --repeat must be at least 1")
    started = datetime.now(timezone.utc).astimezone()
    # SIGTERM ends the run like Ctrl-C: the tool running now is killed, the scratch removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    corpus = args.corpus.resolve()
    # A custom PATH target needs no corpus; the named targets do.
    if args.target in ("typical", "all"):
        ensure_corpus(corpus)
    target = resolve_target(args.target, corpus)
    target_kind = args.target if args.target in ("typical", "all") else "path"
    files = collect_files(target)
    if not files:
        sys.exit(f"error: no .py files under {target}")
    log(f"target {target}: {len(files)} .py files")
    lines = count_lines(files)
    single = pick_single_file(args.single_file, corpus, files)
    if single is not None and not single.is_file():
        sys.exit(f"error: --single-file {single} is not a file")
    before = snapshot(target)
    tree = {} if args.no_git else git_state()
    loadavg_before = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None

    measure_rss = have_gnu_time()
    sample_tree = TreeRssSampler.available()
    notes: list[str] = []
    if not measure_rss:
        notes.append(f"{GNU_TIME} -v is not available: max RSS not measured")
    if not sample_tree:
        notes.append("/proc is not readable: the process-tree RSS is not measured")
    if loadavg_before and loadavg_before[0] > 0.5:
        notes.append(
            f"the 1-minute load average was {loadavg_before[0]} before the run: other work on"
            " the machine may have slowed some steps"
        )

    # Run every tool from an empty scratch directory: nothing the tools write relative to
    # their working directory lands in the repo or the corpus, and no config is found there.
    scratch = Path(tempfile.mkdtemp(prefix="fastapi-lint-bench-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    global CHILD_ENV
    CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")

    ours_base = shlex.split(args.ours) if args.ours else find_ours()
    flags, help_error = detect_cli_flags(ours_base)
    if help_error:
        notes.append(f"`fastapi-lint check --help` failed: {help_error}")
    missing_flags = [
        f for f in ("--jobs", "--no-cache", "--cache-dir", "--timings") if not flags[f]
    ]
    if missing_flags:
        notes.append(
            "the CLI does not have "
            + ", ".join(missing_flags)
            + " yet: the steps that need them are not measured or use a fallback"
        )
    try:
        ours_version = f"fastapi-lint {metadata.version('fastapi-lint')}"
    except metadata.PackageNotFoundError:
        ours_version = None

    results: list[Result] = []
    versions: dict[str, str | None] = {
        "fastapi-lint": (ours_version or "").removeprefix("fastapi-lint ") or None
    }
    failed_files: list[str] = []
    inner: dict[str, float | None] = {}
    timings_output = ""
    single_repeat = max(args.repeat, SINGLE_FILE_MIN_RUNS)

    bencher = Bencher(scratch, measure_rss, sample_tree)
    ours = Ours(ours_base, flags, scratch)

    # Untimed warm-ups, here and before the parse-only and peer steps: they compile each
    # tool's bytecode into the scratch PYTHONPYCACHEPREFIX, so that no timed run pays for it.
    warmup = [single] if single is not None else files[:1]
    run_once(ours.cmd([str(p) for p in warmup], cache_dir=ours.fresh_cache_dir("warmup")), scratch)

    for jobs in (1, max(1, args.jobs)):
        parse, info = parse_only_step(bencher, files, args.repeat, jobs, warmup)
        results.append(parse)
        inner[parse.key] = info.get("inner_seconds")
        if jobs == 1:
            failed_files = info.get("failed", [])
        if args.jobs <= 1:
            break
    versions["libcst"] = (results[0].version or "").removeprefix("libcst ") or None
    if failed_files:
        shown = "; ".join(failed_files[:3]) + ("; ..." if len(failed_files) > 3 else "")
        notes.append(f"{len(failed_files)} file(s) failed to parse with libcst: {shown}")

    results += bench_ours(
        bencher,
        ours,
        [str(target)],
        args.repeat,
        prefix="ours",
        label="fastapi-lint check",
        version=ours_version,
        with_serial=True,
    )
    if flags["--no-screen"]:
        results.append(
            bench_cold_variant(
                bencher,
                ours,
                [str(target)],
                args.repeat,
                key="noscreen_cold",
                tool="fastapi-lint check cold --no-screen",
                extra=("--no-screen",),
            )
        )
    if args.baseline_cmd:
        base = shlex.split(args.baseline_cmd)
        base_flags, _ = detect_cli_flags(base)
        results.append(
            bench_cold_variant(
                bencher,
                Ours(base, base_flags, scratch),
                [str(target)],
                args.repeat,
                key="baseline_cold",
                tool="baseline cold",
                version=args.baseline_cmd,
            )
        )

    if flags["--timings"]:
        log("  fastapi-lint --timings: one extra cold run")
        cmd = ours.cmd([str(target)], cache_dir=ours.fresh_cache_dir("timings"))
        cmd.insert(cmd.index("check") + 1, "--timings")
        if flags["--output-file"]:
            cmd[cmd.index("check") + 1 : cmd.index("check") + 1] = [
                "--output-file",
                str(scratch / "violations.txt"),
            ]
        run = run_once(cmd, scratch, keep_stdout=True)
        timings_output = "\n".join(s for s in (run.stdout.strip(), run.stderr.strip()) if s)

    ruff = find_ruff()
    if ruff is None:
        notes.append("ruff not found next to the interpreter, on PATH, or importable")
    else:
        versions["ruff"] = (tool_version(ruff) or "").removeprefix("ruff ") or None
        # --isolated: ignore any pyproject.toml/ruff.toml above the target (e.g. this
        # repo's, when the corpus is <repo>/.corpus) so the settings are ruff's defaults.
        rr = Result(
            key="ruff",
            tool="ruff FAST,ASYNC,S,D",
            cmd=[
                *ruff,
                "check",
                "--no-cache",
                "--isolated",
                "--select",
                "FAST,ASYNC,S,D",
                "--exit-zero",
                "--quiet",
                str(target),
            ],
            cores=f"{os.cpu_count()} (threads)",
            version=f"ruff {versions['ruff']}",
        )
        bencher.bench(rr, args.repeat)
        results.append(rr)
        shown = run_once(
            [*ruff, "check", "--isolated", "--no-cache", "--show-files", str(target)],
            scratch,
            keep_stdout=True,
        )
        n_ruff = sum(1 for line in shown.stdout.splitlines() if line.strip())
        if shown.returncode == 0 and n_ruff != len(files):
            notes.append(f"ruff checks {n_ruff} files, not {len(files)} (its default excludes)")

    if not args.quick:
        peer_results = bench_peers(bencher, target, args, versions, warmup)
        results += peer_results
        capped = [r.tool for r in peer_results if r.status == "timeout"]
        if capped:
            where = "on the whole corpus" if target_kind == "all" else "on this target"
            notes.append(
                f"{' and '.join(capped)} exceeded the {args.timeout:g} s cap {where}: each"
                " was killed on its first run and skipped after that; its ratio is a lower"
                " bound"
            )
    else:
        notes.append("--quick: the peers (flake8-async, fixit) were not run")

    # The pre-commit case: one file, interpreter start included.
    if single is None:
        notes.append("no file that imports fastapi was found: single-file case skipped")
    else:
        for r in bench_ours(
            bencher,
            ours,
            [str(single)],
            single_repeat,
            prefix="single",
            label="single file",
            version=None,
            with_serial=False,
        ):
            results.append(r)
    project_source = corpus / PROJECT_IN_CORPUS
    if target_kind == "typical" and (project_source / SINGLE_FILE_IN_TYPICAL).is_file():
        results += bench_project_file(
            bencher, ours, project_source, SINGLE_FILE_IN_TYPICAL, single_repeat
        )
    elif target_kind == "typical":
        notes.append(f"{project_source} not found: the one-file-of-a-project case is skipped")

    after = snapshot(target)
    if after != before:
        changed = sorted(set(after) ^ set(before)) + sorted(
            p for p in set(after) & set(before) if after[p] != before[p]
        )
        notes.append(
            f"WARNING: the target changed during the run ({len(changed)} paths, e.g."
            f" {', '.join(changed[:3])}): some tool wrote into it"
        )
    tree_after = {} if args.no_git else git_state()
    if tree_after.get("head") != tree.get("head") or (
        tree_after.get("uncommitted") != tree.get("uncommitted")
    ):
        notes.append(
            "the git tree changed during the run (someone is working on it): the numbers mix"
            f" states; at the end it was {describe_tree(tree_after)}"
        )
    if measure_rss or sample_tree:
        notes.append(
            "max RSS = the largest single process (GNU time -v); tree RSS = the sum over all"
            " processes of the run, sampled every 0.1 s (shared pages count once per process)"
        )

    loads = [r.load_after for r in results if r.load_after is not None]
    if loads:
        notes.append(
            f"1-minute load average at the end of each step: {min(loads)} to {max(loads)}"
            f" (the machine has {os.cpu_count()} cores; the peers and pools load all of them)"
        )
    by_key = {r.key: r for r in results}
    ratios = compute_ratios(by_key, target_kind, args.timeout)
    report = {
        "date": started.isoformat(timespec="seconds"),
        "tree": tree,
        "tree_described": describe_tree(tree),
        "target": str(target),
        "target_kind": target_kind,
        "files": len(files),
        "lines": lines,
        "parse_failures": len(failed_files),
        "single_file": str(single) if single else None,
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_before": loadavg_before,
            "loadavg_after": (
                [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
            ),
        },
        "versions": versions,
        "cli_flags": flags,
        "cold_how": ours.cold_how(),
        "repeat": args.repeat,
        "single_file_repeat": single_repeat,
        "timeout": args.timeout,
        "in_process_seconds": inner,
        "results": [
            {
                **asdict(r),
                "ratio_to_parse_serial": _round(seconds_ratio(r, by_key.get("parse_serial"))),
                "ratio_to_parse_parallel": _round(seconds_ratio(r, by_key.get("parse_parallel"))),
            }
            for r in results
        ],
        "ratios": [asdict(x) for x in ratios],
        "timings_output": timings_output,
        "notes": notes,
    }
    if args.save_json:
        args.save_json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report, results, ratios)
    return 0


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


def bench_peers(
    bencher: Bencher, target: Path, args: argparse.Namespace, versions: dict, warmup: list[Path]
) -> list[Result]:
    """flake8-async and fixit from bench/.peers-venv, each capped by --timeout."""
    try:
        installed = ensure_peers()
    except (OSError, subprocess.CalledProcessError) as exc:
        note = f"installing the peers failed: {exc}"
        return [
            Result(key="flake8_async", tool="flake8 ASYNC", cmd=[], status="failed", note=note),
            Result(key="fixit", tool="fixit lint", cmd=[], status="failed", note=note),
        ]
    for name in PEER_PACKAGES:
        versions[name] = installed.get(name)
    cores = f"{os.cpu_count()} (procs)"
    flake8 = Result(
        key="flake8_async",
        tool="flake8 --select ASYNC",
        cmd=[str(peers_bin("flake8")), "--select", "ASYNC", str(target)],
        cores=cores,
        version=f"flake8 {installed.get('flake8')}, flake8-async {installed.get('flake8-async')}",
    )
    run_once([*flake8.cmd[:-1], *map(str, warmup)], bencher.cwd)
    # flake8 exits 1 when it reports violations; that is a normal run.
    bencher.bench(flake8, args.repeat, ok_codes=(0, 1), timeout=args.timeout)
    fixit = Result(
        key="fixit",
        tool="fixit lint",
        cmd=[str(peers_bin("fixit")), "lint", str(target)],
        cores=cores,
        version=f"fixit {installed.get('fixit')}",
    )
    run_once([*fixit.cmd[:-1], *map(str, warmup)], bencher.cwd)
    # fixit ORs 1 (violations) and 2 (files it could not lint) into its exit code.
    bencher.bench(fixit, args.repeat, ok_codes=(0, 1, 2, 3), timeout=args.timeout)
    return [flake8, fixit]


if __name__ == "__main__":
    sys.exit(main())

"""Checking (or fixing) the files a run must parse: here for small runs, else in a pool of
worker processes.

The per-run work, the engine (enabled rules with their options, the project's module index),
is built once in each worker by the pool's initializer, never per file. Files go out in
chunks as the screen lets them through (`Checking`), the biggest first, and the reports
come back chunk by chunk. A file is fixed (`--fix`, `--diff`) by the worker that checked it.
A report holds plain data only (diagnostics whose fix is a `FixSummary`): it pickles small.
The caller puts the reports back in the order of the files, so a parallel run gives the
serial run's result.

On Linux the workers are forked after LibCST and its parser are loaded here, and the project
index is complete (every summary made, the analyses the rules share), so they start with
nothing to import or compute, and share the index's memory with this process; elsewhere they
use the platform's default start method.
"""

from __future__ import annotations

import gc
import multiprocessing
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi_lint.api import FileReport
from fastapi_lint.cache import content_hash
from fastapi_lint.config import Settings
from fastapi_lint.diagnostics import Diagnostic, FixSummary
from fastapi_lint.fixes import FileChangedError, unified_diff, write_atomically
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.memory import (
    LARGE_FILE,
    biggest_first_chunks,
    check_collected,
    release_freed_memory,
)
from fastapi_lint.project.build import SUMMARIES_KEPT_BYTES, WORKER_SUMMARIES_KEPT_BYTES
from fastapi_lint.report import display_path
from fastapi_lint.semantic import ProjectModules
from fastapi_lint.timings import FIXES, READ, Timings

if TYPE_CHECKING:
    from fastapi_lint.api import FixMode
    from fastapi_lint.engine import Engine, FileResult

# Fewer files than this per worker: not worth a worker (a pre-commit run checks a handful).
FILES_PER_WORKER = 4
# Chunks per worker: enough that the workers finish together, few enough to cost little IPC.
CHUNKS_PER_WORKER = 8
# Candidates left to screen at most when the workers fork: each one the screen reads after
# the fork copies the pages it touches (copy on write), about 16 kB (on the whole corpus,
# forking before its last 2,400 candidates cost 38 MiB more), so a large project forks
# late in its screen.
SCREENED_AFTER_FORK = 500
# Worker crashes in a row after which the files left are given up (see _isolate).
MAX_CRASHES = 3

# A file to check: its index in the run, its path and its size (to share out the work). The
# worker reads the file itself: the main process keeps no file in memory, and the hash a
# result is cached under is the hash of the bytes that were checked.
Item = tuple[int, Path, int]


@dataclass(frozen=True)
class Job:
    """What every file of the run is checked with; a worker receives it once."""

    settings: Settings
    project: ProjectModules
    fix: FixMode | None = None
    with_edits: bool = False  # the fixes' text edits, for the JSON outputs
    digests: bool = False  # hash what is checked, for the cache


@dataclass
class Checked:
    reports: list[FileReport]  # in the order the items were added
    timings: Timings
    workers: int  # 1: checked in this process


def build_engine(job: Job) -> Engine:
    from fastapi_lint.engine import Engine  # imports LibCST

    settings = job.settings
    return Engine(settings.rules, job.project, settings.ignored_codes, settings.max_file_size)


def check_one(engine: Engine, job: Job, path: Path, size: int = 0) -> FileReport:
    """Check (or fix) one file; a bug of ours becomes an internal error, never a crash.
    `size`: its size as listed (a large file's parse leaves memory to hand back)."""
    report = check_collected(lambda: _report(engine, job, path))
    if size >= LARGE_FILE:
        release_freed_memory()  # what LibCST's native parser used for it
    return report


def _report(engine: Engine, job: Job, path: Path) -> FileReport:
    report = FileReport(path)
    try:
        if job.fix is not None:
            result = _fix(engine, path, job.fix, report)
        else:
            result = _check(engine, path, job.digests, report)
        report.diagnostics = _plain(result, job.with_edits, engine.timings)
    except Exception as error:  # a bug of ours must not stop the run
        report.errors.append(f"{path}: internal error: {type(error).__name__}: {error}")
        report.digest = None
    return report


def _check(engine: Engine, path: Path, digest: bool, report: FileReport) -> FileResult:
    try:
        with engine.timings.phase(READ):
            data = path.read_bytes()
    except OSError:
        return engine.check_file(path)  # reports why it cannot be read
    if digest:
        report.digest = content_hash(data)
    return engine.check_bytes(data, path)


def _fix(engine: Engine, path: Path, mode: FixMode, report: FileReport) -> FileResult:
    outcome = engine.fix_file(path, unsafe=mode.unsafe)
    report.warnings.extend(outcome.warnings(path))
    if not outcome.changed:
        return outcome.result
    assert outcome.original is not None and outcome.result.text is not None
    if mode.write:
        try:
            write_atomically(
                path, outcome.result.text, outcome.result.encoding, outcome.original_bytes
            )
        except (OSError, FileChangedError) as error:
            report.errors.append(f"{path}: not fixed: {error}")
            return engine.check_file(path)
    else:
        with engine.timings.phase(FIXES):
            report.diff = unified_diff(display_path(path), outcome.original, outcome.result.text)
    report.fixed = outcome.fixed
    return outcome.result


def _plain(result: FileResult, with_edits: bool, timings: Timings) -> list[Diagnostic]:
    """The diagnostics without LibCST nodes: each fix as its summary, plus its text edits
    when the output shows them."""
    diagnostics = []
    for diagnostic in result.diagnostics:
        fix = diagnostic.fix
        if fix is not None and not isinstance(fix, FixSummary):
            edits = None
            if with_edits:
                with timings.phase(FIXES):
                    edits = tuple(result.fix_edits(fix))
            diagnostic = replace(diagnostic, fix=fix.summary(), edits=edits)
        diagnostics.append(diagnostic)
    return diagnostics


# --- the pool ------------------------------------------------------------------------------

_worker: tuple[Job, Engine] | None = None  # in a worker: its job and engine


def _start_worker(job: Job) -> None:
    """The pool's initializer: the per-run work, once per worker. A worker may be forked
    while the run's screen has the collector paused: checking makes cycles, so it is on."""
    global _worker
    gc.enable()
    _worker = (job, build_engine(job))


def _check_chunk(chunk: list[Item]) -> tuple[list[tuple[int, FileReport]], Timings]:
    assert _worker is not None, "not a worker started by _start_worker"
    job, engine = _worker
    reports = [(index, check_one(engine, job, path, size)) for index, path, size in chunk]
    return reports, engine.timings.take()


class Checking:
    """The files of a run to check, handed over as the screen lets them through and checked
    meanwhile in a pool of workers (a handful: here, at the end).

    The screen offers each candidate (a file the prefilter and the cache left), the biggest
    first, and says whether it must be checked. Those go out in chunks as they come, so the
    workers parse while this process screens the rest. A chunk holds about
    1/CHUNKS_PER_WORKER of a worker's share of the bytes to check, as the pass rate so far
    predicts it: while most candidates may still pass, the biggest files, offered first,
    share the first chunks and are parsed one after the other in one worker, not at the same
    time in all of them (a LibCST tree takes about 500 times its file's size); the last
    chunks, small, let the workers finish together. The pool starts with the first chunk
    once enough files are expected for two workers (FILES_PER_WORKER each), and no more than
    SCREENED_AFTER_FORK candidates are left to screen (the memory it costs)."""

    def __init__(self, job: Job, jobs: int, candidates: Sequence[Item]) -> None:
        self.job = job
        self.jobs = jobs
        self.items: list[Item] = []  # to check, in the order offered
        self._left = _Tally(len(candidates), sum(size for _, _, size in candidates))
        self._offered = _Tally()
        self._passed = _Tally()
        self._chunk: list[Item] = []
        self._filled = 0
        self._ready: list[list[Item]] = []  # chunks not submitted yet
        self._pool: ProcessPoolExecutor | None = None
        self._workers = 1
        self._futures: dict[Future, list[Item]] = {}

    def offer(self, item: Item, check: bool) -> None:
        """A candidate, screened: to `check`, or not."""
        self._left.add(item, -1)
        self._offered.add(item)
        if check:
            self._add(item)
        if self._pool is None and self._ready and self._left.files <= SCREENED_AFTER_FORK:
            self._start(min(self.jobs, self._expected().files // FILES_PER_WORKER))
        self._submit_ready()

    def _add(self, item: Item) -> None:
        self._passed.add(item)
        self.items.append(item)
        self._chunk.append(item)
        self._filled += item[2]
        if self._filled >= self._expected().size // (self.jobs * CHUNKS_PER_WORKER):
            self._ready.append(self._chunk)
            self._chunk, self._filled = [], 0

    def finish(self) -> Checked:
        """Every file added, checked: their reports, in the order added."""
        if not self.items:
            return Checked([], Timings(), 0)
        if self._pool is None:
            workers = min(self.jobs, len(self.items) // FILES_PER_WORKER)
            if workers < 2:
                engine = build_engine(self.job)
                reports = [check_one(engine, self.job, path, size) for _, path, size in self.items]
                return Checked(reports, engine.timings, 1)
            # All known: the best split.
            self._ready = biggest_first_chunks(self.items, workers * CHUNKS_PER_WORKER, _size)
            self._start(workers)
        elif self._chunk:
            self._ready.append(self._chunk)
        self._submit_ready()
        return self._collect()

    def __enter__(self) -> Checking:
        return self

    def __exit__(self, *_: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        # Frozen since the workers forked (see `_before_forking`), or since the index was
        # built and the files were screened (`lint_paths`): until here, this process's
        # collector had no reason to scan them.
        gc.unfreeze()

    @property
    def workers(self) -> int:
        """The worker processes started so far (1: none, the files are checked here)."""
        return self._workers

    def _expected(self) -> _Tally:
        """The files and bytes expected to be checked in all: those that passed, and the
        candidates left at the pass rate so far."""
        passed, offered, left = self._passed, self._offered, self._left
        files = left.files * passed.files // offered.files if offered.files else left.files
        size = left.size * passed.size // offered.size if offered.size else left.size
        return _Tally(passed.files + files, passed.size + size)

    def _start(self, workers: int) -> None:
        if workers < 2:
            return
        _before_forking(self.job)
        self._pool = _pool(self.job, workers)
        self._workers = workers

    def _submit_ready(self) -> None:
        if self._pool is None or not self._ready:
            return
        first = not self._futures
        for chunk in self._ready:
            self._futures[self._pool.submit(_check_chunk, chunk)] = chunk
        self._ready.clear()
        if first:  # the workers forked with it
            _after_forking(self.job)

    def _collect(self) -> Checked:
        position = {index: n for n, (index, _, _) in enumerate(self.items)}
        reports: list[FileReport | None] = [None] * len(self.items)
        timings = Timings()
        unfinished: list[Item] = []
        for future in as_completed(self._futures):
            try:
                done, chunk_timings = future.result()
            except BrokenProcessPool:  # a worker died: every chunk not done yet is lost
                unfinished.extend(self._futures[future])
                continue
            except Exception as error:  # e.g. a report that does not pickle: a bug of ours
                reason = f"{type(error).__name__}: {error}"
                for index, path, _ in self._futures[future]:
                    message = f"{path}: internal error: {reason}"
                    reports[position[index]] = FileReport(path, errors=[message])
                continue
            timings.add(chunk_timings)
            for index, report in done:
                reports[position[index]] = report
        if unfinished:
            unfinished.sort(key=lambda item: item[0])
            for index, report, chunk_timings in _isolate(unfinished, self.job):
                reports[position[index]] = report
                timings.add(chunk_timings)
        assert all(report is not None for report in reports)
        return Checked(reports, timings, self._workers)  # type: ignore[arg-type]


def _size(item: Item) -> int:
    return item[2]


@dataclass
class _Tally:
    files: int = 0
    size: int = 0  # bytes

    def add(self, item: Item, sign: int = 1) -> None:
        self.files += sign
        self.size += sign * item[2]


def _before_forking(job: Job) -> None:
    """What every worker would otherwise do on its own, done once here: load LibCST and its
    native parser, and make the project-wide analyses the enabled rules share
    (`Rule.prepare`). Then leave the workers as little as possible to copy: the summaries
    kept as objects are dropped (a worker reads back the few it needs), freed memory goes
    back to the system, and `gc.freeze()` makes the collector of a worker leave the objects
    it inherits alone, so their memory stays shared with this process (copy on write)."""
    cst.parse_module("")
    index = job.project.index
    if index is not None:
        for rule in job.settings.rules:
            rule.prepare(index)
        index.release_summaries(WORKER_SUMMARIES_KEPT_BYTES)
    release_freed_memory()
    gc.freeze()


def _after_forking(job: Job) -> None:
    """Once the workers are forked (with the first chunk), this process, which screens the
    other files, keeps as many summaries as objects as before."""
    index = job.project.index
    if index is not None:
        index.release_summaries(SUMMARIES_KEPT_BYTES)


def _isolate(items: Sequence[Item], job: Job) -> list[tuple[int, FileReport, Timings]]:
    """After a worker died (a crash in native code, say): check the files it left unfinished
    one at a time, each alone in a worker, so that a crash costs only the file that causes
    it. When workers keep dying whatever the file (MAX_CRASHES in a row), the rest are not
    checked."""
    results = []
    pool = None
    crashes = 0
    try:
        for index, path, size in items:
            if crashes >= MAX_CRASHES:
                message = f"{path}: internal error: not checked: worker processes keep crashing"
                results.append((index, FileReport(path, errors=[message]), Timings()))
                continue
            pool = pool or _pool(job, 1)
            try:
                done, timings = pool.submit(_check_chunk, [(index, path, size)]).result()
            except BrokenProcessPool:
                pool.shutdown()
                pool = None
                crashes += 1
                message = f"{path}: internal error: the process checking this file crashed"
                results.append((index, FileReport(path, errors=[message]), Timings()))
                continue
            crashes = 0
            results.append((index, done[0][1], timings))
    finally:
        if pool is not None:
            pool.shutdown()
    return results


def _pool(job: Job, workers: int) -> ProcessPoolExecutor:
    method = "fork" if sys.platform == "linux" else None
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context(method),
        initializer=_start_worker,
        initargs=(job,),
    )

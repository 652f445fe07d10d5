"""Orchestration of one run: discover files, build per-run state once, lint or fix each file.

Each file goes through up to three steps; the first two run in this process:

1. read, and the byte-level prefilter (`Rule.triggers`): most files of a project stop here;
2. for plain checks, the result cache (`fastapi_lint.cache`);
3. the engine, here or in worker processes (`fastapi_lint.runner`): the only step that
   imports LibCST, so a run that the prefilter and the cache answer never pays for it.

The run's result is put together in the order of the files, whichever step answered them.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi_lint.baseline import Baseline
from fastapi_lint.cache import Cache
from fastapi_lint.config import Settings
from fastapi_lint.diagnostics import UNREADABLE_FILE, Diagnostic, engine_diagnostic
from fastapi_lint.discovery import Discovery, discover_files
from fastapi_lint.fixes import FileChangedError
from fastapi_lint.names import FASTAPI_MODULES
from fastapi_lint.noqa import NoqaOutcome, add_noqa_to_file
from fastapi_lint.rule import triggered
from fastapi_lint.semantic import ProjectModules
from fastapi_lint.timings import CACHE, READ, Timings

if TYPE_CHECKING:
    from fastapi_lint.runner import Item


@dataclass(frozen=True)
class FixMode:
    unsafe: bool = False  # also apply unsafe fixes
    write: bool = True  # False: compute the diff only (--diff)


@dataclass
class RunResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)  # what remains
    files_checked: int = 0
    internal_errors: list[str] = field(default_factory=list)
    fixed: dict[Path, Counter[str]] = field(default_factory=dict)  # applied, or would be (--diff)
    diffs: list[str] = field(default_factory=list)
    baselined: int = 0  # findings left out because the baseline has them
    stale_baseline_entries: int = 0  # baseline entries that matched nothing
    warnings: list[str] = field(default_factory=list)  # e.g. the cache could not be written
    # Where the work went (`--timings`): files the prefilter answered, files the cache
    # answered, processes that checked the others (1: this one), and the seconds spent.
    prefiltered: int = 0
    cache_hits: int = 0
    workers: int = 0
    timings: Timings = field(default_factory=Timings)
    seconds: float = 0.0

    @property
    def fixed_count(self) -> int:
        return sum(sum(counts.values()) for counts in self.fixed.values())


@dataclass
class FileReport:
    """The outcome of one file, as plain data (it may come from a worker or the cache)."""

    path: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # internal errors, in the order they arose
    fixed: Counter[str] | None = None  # codes fixed (or that would be, with --diff)
    diff: str | None = None  # --diff
    # The hash of the bytes checked, when the result may be cached (a plain check, no error).
    digest: str | None = None


def default_jobs() -> int:
    """The cores this process may run on (`--jobs` default)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def lint_paths(
    paths: Sequence[str | Path],
    settings: Settings,
    *,
    fix: FixMode | None = None,
    with_edits: bool = False,
    baseline: Baseline | None = None,
    jobs: int | None = None,
    cache_dir: Path | None = None,
) -> RunResult:
    """Lint (or fix, with `fix`) every file under `paths`; one broken file never stops the run.
    With `baseline`, the findings it records are left out (and counted). `jobs`: processes
    to check files in (default: one per core; small runs use one). `cache_dir`: the result
    cache to use for a plain check (None: no cache)."""
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    started = time.perf_counter()
    discovery = _discover(paths, settings)
    project = project_modules(discovery.files, settings.root)
    run = RunResult(files_checked=len(discovery.files))
    for missing in discovery.missing:
        message = "Cannot read file: No such file or directory"
        run.diagnostics.append(engine_diagnostic(missing, UNREADABLE_FILE, message))
    cache = None
    if cache_dir is not None and fix is None:
        with run.timings.phase(CACHE):
            cache = Cache(cache_dir, settings.root, settings.rules, project.names)
    reports: list[FileReport | None] = [None] * len(discovery.files)
    pending: list[Item] = []  # what the engine must check
    for index, path in enumerate(discovery.files):
        with run.timings.phase(READ):
            try:
                data: bytes | None = path.read_bytes()
            except OSError:
                data = None  # the engine reports why
            rules = settings.rules_for(path)
            if data is not None and not triggered(rules, data):
                reports[index] = FileReport(path)
                run.prefiltered += 1
                continue
        if cache is not None and data is not None:
            with run.timings.phase(CACHE):
                cached = cache.get(path, data, rules, edits=with_edits)
            if cached is not None:
                reports[index] = FileReport(path, cached)
                continue
        pending.append((index, path, len(data) if data is not None else 0))
    if pending:
        # Imports the engine, and LibCST with it.
        from fastapi_lint.runner import Job, check_files

        job = Job(settings, project, fix, with_edits, digests=cache is not None)
        checked = check_files(pending, job, jobs or default_jobs())
        run.workers = checked.workers
        run.timings.add(checked.timings)
        for (index, path, _), report in zip(pending, checked.reports, strict=True):
            reports[index] = report
            if cache is not None and report.digest is not None:
                with run.timings.phase(CACHE):
                    rules = settings.rules_for(path)
                    cache.put(path, report.digest, rules, report.diagnostics, edits=with_edits)
    if cache is not None:
        with run.timings.phase(CACHE):
            problem = cache.save()
        if problem is not None:
            run.warnings.append(problem)
        run.cache_hits = cache.hits
    for report in reports:
        assert report is not None
        run.diagnostics.extend(report.diagnostics)
        run.internal_errors.extend(report.errors)
        if report.fixed is not None:
            run.fixed[report.path] = report.fixed
        if report.diff is not None:
            run.diffs.append(report.diff)
    run.diagnostics.sort(key=Diagnostic.sort_key)
    if baseline is not None:
        match = baseline.apply(
            run.diagnostics, files=discovery.files, paths=paths, settings=settings
        )
        run.diagnostics = match.reported
        run.baselined, run.stale_baseline_entries = match.baselined, len(match.stale)
    run.seconds = time.perf_counter() - started
    return run


def _discover(paths: Sequence[str | Path], settings: Settings) -> Discovery:
    """The files to lint."""
    return discover_files(
        paths,
        root=settings.root,
        exclude=settings.exclude,
        extend_exclude=settings.extend_exclude,
        force_exclude=settings.force_exclude,
    )


@dataclass
class NoqaRun:
    outcome: NoqaOutcome = field(default_factory=NoqaOutcome)
    errors: list[str] = field(default_factory=list)


def add_noqa_paths(paths: Sequence[str | Path], settings: Settings) -> NoqaRun:
    """`--add-noqa`: a `# noqa` directive for every current finding of every file under
    `paths` (the baseline is not consulted: every finding gets one). Serial: it is a rare,
    one-off run."""
    from fastapi_lint.engine import Engine  # imports LibCST

    discovery = _discover(paths, settings)
    project = project_modules(discovery.files, settings.root)
    engine = Engine(settings.rules, project, settings.ignored_codes)
    run = NoqaRun()
    for path in discovery.files:
        try:
            run.outcome += add_noqa_to_file(engine, path)
        except (OSError, FileChangedError) as error:
            run.errors.append(f"{path}: no noqa added: {error}")
        except Exception as error:  # a bug of ours must not stop the run
            run.errors.append(f"{path}: internal error: {type(error).__name__}: {error}")
    return run


def project_modules(files: Iterable[Path], root: Path) -> ProjectModules:
    """Top-level names importable from the linted project: the packages and modules among
    the linted files, and those at the root or in `root/src` (for single-file runs)."""
    found: set[str] = set()
    for path in files:
        absolute = Path(os.path.abspath(path))
        if absolute.is_relative_to(root):
            found.update(part.split(".", 1)[0] for part in absolute.relative_to(root).parts)
        else:
            found.add(_top_level_package(absolute))
    for base in (root, root / "src"):
        try:
            entries = os.listdir(base)
        except OSError:
            continue
        found.update(name.removesuffix(".py") for name in entries if not name.startswith("."))
    # Only names an import can spell: `notes.txt` at the root is none (and must not change
    # the cache's key of every file).
    return ProjectModules(sorted(name for name in found - FASTAPI_MODULES if name.isidentifier()))


def _top_level_package(path: Path) -> str:
    """The outermost package holding a file outside the project root (or the module itself)."""
    top = path.with_suffix("").name
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory != directory.parent:
        top, directory = directory.name, directory.parent
    return top

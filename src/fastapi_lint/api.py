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
from collections.abc import Sequence
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
from fastapi_lint.project.build import build_index
from fastapi_lint.project.index import Row
from fastapi_lint.rule import triggered
from fastapi_lint.semantic import ProjectModules
from fastapi_lint.timings import CACHE, INDEX, READ, Timings

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
    routes_checked: int = 0  # routes the project index found in the linted files
    apps_checked: int = 0  # apps that serve them
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
    run_timings = Timings()
    started = time.perf_counter()
    discovery = _discover(paths, settings)
    with run_timings.phase(INDEX):
        project = build_project(discovery.files, settings, cache_dir)
    run = RunResult(files_checked=len(discovery.files), timings=run_timings)
    run.routes_checked, run.apps_checked = _routes_and_apps(project, discovery.files)
    for missing in discovery.missing:
        message = "Cannot read file: No such file or directory"
        run.diagnostics.append(engine_diagnostic(missing, UNREADABLE_FILE, message))
    cache = None
    if cache_dir is not None and fix is None:
        with run.timings.phase(CACHE):
            cache = Cache(
                cache_dir,
                settings.root,
                settings.rules,
                project.names,
                project.file_digest,
                run_settings={"pydantic-version": settings.pydantic_version},
            )
    reports: list[FileReport | None] = [None] * len(discovery.files)
    pending: list[Item] = []  # what the engine must check
    for index, path in enumerate(discovery.files):
        with run.timings.phase(READ):
            try:
                data: bytes | None = path.read_bytes()
            except OSError:
                data = None  # the engine reports why
            rules = settings.rules_for(path)
            if data is not None and not project.must_parse(path) and not triggered(rules, data):
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
            if project.index is not None:
                project.index.save()
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
    project = build_project(discovery.files, settings, None)
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


def build_project(
    files: Sequence[Path], settings: Settings, cache_dir: Path | None
) -> ProjectModules:
    """The project's module names and index: every Python module under the project root
    (with the configured excludes) and the linted files, summaries cached in `cache_dir`.
    Without a project (no pyproject.toml nor .git: the root is only the current directory),
    the index covers the linted files alone: a run from a home directory never walks it."""
    covers_project = _is_project(settings)
    project_files = _discover([settings.root], settings).files if covers_project else []
    index = build_index(
        sorted({*project_files, *files}, key=lambda path: path.parts),
        settings.root,
        source_roots=settings.src,
        router_classes=settings.router_classes,
        cache_dir=cache_dir,
    )
    index.covers_project = covers_project
    names = index.top_level_names() - FASTAPI_MODULES
    return ProjectModules(
        sorted(name for name in names if name.isidentifier()),
        index,
        pydantic_version=settings.pydantic_version,
    )


def _is_project(settings: Settings) -> bool:
    root = settings.root
    marked = (root / "pyproject.toml").is_file() or (root / ".git").exists()
    return root.is_dir() and (marked or settings.config_file is not None)


def _routes_and_apps(project: ProjectModules, files: Sequence[Path]) -> tuple[int, int]:
    """How many routes of the linted files the index found, and in how many apps."""
    if project.index is None:
        return 0, 0
    linted = {Path(os.path.abspath(path)) for path in files}
    rows = [row for row in project.index.rows if row.file in linted and row.kind != "mount"]
    routes = {(row.file, row.line, row.endpoint) for row in rows}
    return len(routes), len({row.app for row in rows if row.app is not None})


def route_table(
    paths: Sequence[str | Path], settings: Settings, *, cache_dir: Path | None = None
) -> list[Row]:
    """The route table of the apps and routers found under `paths`: every row whose route,
    or whose app, is defined in a file under them (the index covers the whole project)."""
    discovery = _discover(paths, settings)
    project = build_project(discovery.files, settings, cache_dir)
    index = project.index
    assert index is not None
    index.save()
    linted = {Path(os.path.abspath(path)) for path in discovery.files}
    return [
        row
        for row in index.rows
        if row.file in linted or (row.app is not None and index.app_file(row.app) in linted)
    ]

"""Orchestration of one run: discover files, build per-run state once, lint or fix each file.

Each file goes through up to four steps:

1. read, and the byte-level prefilter (`Rule.triggers`): most files of a project stop here;
2. for plain checks, the result cache (`fastapi_lint.cache`);
3. the parse screen (`fastapi_lint.screen`): no enabled rule can report in most of the
   files left, which `ast` facts show (`--no-screen` turns it off);
4. the engine (`fastapi_lint.runner`), the only step that imports LibCST, so a run that
   the first three steps answer never pays for it. Files the screen lets through go to
   worker processes as they pass, the biggest first, and are checked while this process
   screens the others; a handful are checked here at the end.

The run's result is put together in the order of the files, whichever step answered them.
"""

from __future__ import annotations

import io
import os
import time
import tokenize
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi_lint.baseline import Baseline
from fastapi_lint.cache import Cache, content_hash
from fastapi_lint.config import Settings
from fastapi_lint.diagnostics import UNREADABLE_FILE, Diagnostic, engine_diagnostic
from fastapi_lint.discovery import Discovery, discover_files, is_excluded
from fastapi_lint.fixes import FileChangedError, unified_diff
from fastapi_lint.memory import collector_paused
from fastapi_lint.names import FASTAPI_MODULES
from fastapi_lint.noqa import NoqaOutcome, add_noqa_to_file
from fastapi_lint.project.build import build_index
from fastapi_lint.project.index import ProjectIndex, Row
from fastapi_lint.project.layout import Layout
from fastapi_lint.project.sources import source_module, with_modules
from fastapi_lint.report import display_path
from fastapi_lint.rule import triggered
from fastapi_lint.screen import Screen, screen_disabled
from fastapi_lint.semantic import ProjectModules
from fastapi_lint.timings import CACHE, INDEX, READ, SCREEN, Timings

if TYPE_CHECKING:
    from fastapi_lint.engine import Engine, FileResult
    from fastapi_lint.runner import Item


# Linting at least this many files, LibCST is loaded while worker processes summarise the
# project's modules (this process would wait for them, idle).
LOAD_LIBCST_EARLY = 16


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
    screened: int = 0  # files the parse screen answered (`fastapi_lint.screen`)
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
    warnings: list[str] = field(default_factory=list)  # e.g. a fix dropped: it broke the code
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
    screen: bool = True,
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
    # The index and the screen make no cycles: the collector would only slow them down. What
    # they leave lives until the end of the run: frozen, until `Checking` ends.
    with collector_paused(freeze=True):
        with run_timings.phase(INDEX):
            project = build_project(
                discovery.files,
                settings,
                cache_dir,
                jobs=jobs or default_jobs(),
                # Every module summarised now, in parallel, once: the screen's questions and the
                # engine's workers find them made.
                every_module=True,
                # A run of many files most likely parses some: LibCST loads meanwhile.
                meanwhile=_load_libcst if len(discovery.files) >= LOAD_LIBCST_EARLY else None,
            )
        run = RunResult(files_checked=len(discovery.files), timings=run_timings)
        run.routes_checked, run.apps_checked = _routes_and_apps(project, discovery.files)
        for missing in discovery.missing:
            message = "Cannot read file: No such file or directory"
            run.diagnostics.append(engine_diagnostic(missing, UNREADABLE_FILE, message))
        run.warnings.extend(discovery.skipped)
        cache = None
        if cache_dir is not None and fix is None:
            with run.timings.phase(CACHE):
                cache = Cache(
                    cache_dir,
                    settings.root,
                    settings.rules,
                    project.names,
                    project.file_digest,
                    run_settings={
                        "pydantic-version": settings.pydantic_version,
                        "max-file-size": settings.max_file_size,
                    },
                )
        reports: list[FileReport | None] = [None] * len(discovery.files)
        candidates: list[Item] = []  # for the screen, then the engine
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
            candidates.append((index, path, len(data) if data is not None else 0))
    # The files the screen lets through are checked meanwhile, by workers forked once the
    # first ones pass (see `Checking`).
    from fastapi_lint.runner import Checking, Job

    job = Job(settings, project, fix, with_edits, digests=cache is not None)
    screening = None
    if screen and not screen_disabled():
        screening = _Screening(project, settings, cache, with_edits, run)
    with Checking(job, jobs or default_jobs(), candidates) as checking:
        with collector_paused(freeze=True):
            for index, path, size in sorted(candidates, key=lambda item: -item[2]):
                skipped = screening is not None and screening.skips(path)
                if skipped:
                    reports[index] = FileReport(path)
                checking.offer((index, path, size), check=not skipped)
        checked = checking.finish()
    run.workers = checked.workers
    run.timings.add(checked.timings)
    for (index, path, _), report in zip(checking.items, checked.reports, strict=True):
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
        run.warnings.extend(report.warnings)
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


class _Screening:
    """The parse screen of a run (`fastapi_lint.screen`), with what a file it answers
    leaves: counted in the run, and cached as clean."""

    def __init__(
        self,
        project: ProjectModules,
        settings: Settings,
        cache: Cache | None,
        with_edits: bool,
        run: RunResult,
    ) -> None:
        self.screen = Screen(project, settings.max_file_size)
        self.settings = settings
        self.cache = cache
        self.with_edits = with_edits
        self.run = run

    def skips(self, path: Path) -> bool:
        """Whether no enabled rule can report in the file: no parse."""
        timings = self.run.timings
        with timings.phase(READ):
            try:
                data = path.read_bytes()
            except OSError:
                return False  # the engine reports why
            rules = self.settings.rules_for(path)
        with timings.phase(SCREEN):
            if not self.screen.skips(path, data, rules):
                return False
        self.run.screened += 1
        if self.cache is not None:
            with timings.phase(CACHE):
                self.cache.put(path, content_hash(data), rules, [], edits=self.with_edits)
        return True


def _load_libcst() -> None:
    from fastapi_lint.lazy import libcst

    libcst.parse_module("")  # its native parser too


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
class SourceRun:
    run: RunResult
    # What goes back out: the fixed source when fixing changed it, else the source as it came
    # (excluded, unparsable or clean: never an empty buffer).
    output: bytes


def lint_source(
    source: bytes,
    path: Path,
    settings: Settings,
    *,
    fix: FixMode | None = None,
    with_edits: bool = False,
    baseline: Baseline | None = None,
    cache_dir: Path | None = None,
) -> SourceRun:
    """`check --stdin-filename PATH -`: lint (or fix, never writing) `source` as the file
    `path`, with its per-file-ignores and excludes, and `source` in the project index in
    place of what the disk has (the file need not exist)."""
    started = time.perf_counter()
    run = RunResult()
    if is_excluded(
        path, root=settings.root, exclude=settings.exclude, extend_exclude=settings.extend_exclude
    ):
        return SourceRun(run, source)
    from fastapi_lint.engine import Engine  # imports LibCST
    from fastapi_lint.runner import _plain

    text = _decoded(source)
    absolute = Path(os.path.abspath(path))
    sources = {absolute: text} if text is not None else None
    with run.timings.phase(INDEX):
        project = build_project([path], settings, cache_dir, sources)
    run.files_checked = 1
    run.routes_checked, run.apps_checked = _routes_and_apps(project, [path])
    engine = Engine(settings.rules, project, settings.ignored_codes, settings.max_file_size)
    output = source
    try:
        result = engine.check_bytes(source, path)
        if fix is not None:
            result, output = _fix_source(engine, result, source, fix, run)
        run.diagnostics = _plain(result, with_edits, engine.timings)
    except Exception as error:  # a bug of ours: reported, and the source goes back unchanged
        run.internal_errors.append(f"{path}: internal error: {type(error).__name__}: {error}")
        output = source
    run.timings.add(engine.timings)
    if baseline is not None:
        match = baseline.apply(run.diagnostics, files=[path], paths=[path], settings=settings)
        run.diagnostics = match.reported
        run.baselined, run.stale_baseline_entries = match.baselined, len(match.stale)
    run.seconds = time.perf_counter() - started
    return SourceRun(run, output)


def _fix_source(
    engine: Engine, result: FileResult, source: bytes, mode: FixMode, run: RunResult
) -> tuple[FileResult, bytes]:
    """The check of the fixed source and the fixed source (the source when nothing changed);
    the fixes go into `run` as applied (or, with `--diff`, as a diff)."""
    outcome = engine.fix_result(result, unsafe=mode.unsafe, original_bytes=source)
    run.warnings.extend(outcome.warnings(result.path))
    if not outcome.changed:
        return outcome.result, source
    fixed = outcome.result.text
    assert outcome.original is not None and fixed is not None
    run.fixed[result.path] = outcome.fixed
    if not mode.write:
        run.diffs.append(unified_diff(display_path(result.path), outcome.original, fixed))
        return outcome.result, source
    return outcome.result, fixed.encode(outcome.result.encoding)


def _decoded(data: bytes) -> str | None:
    """The source's text per PEP 263, None when it does not decode."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (UnicodeError, SyntaxError, LookupError):
        return None


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
    engine = Engine(settings.rules, project, settings.ignored_codes, settings.max_file_size)
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
    files: Sequence[Path],
    settings: Settings,
    cache_dir: Path | None,
    sources: Mapping[Path, str] | None = None,
    jobs: int | None = None,
    every_module: bool = False,
    meanwhile: Callable[[], object] | None = None,
) -> ProjectModules:
    """The project's module names and index: every Python module under the project root
    (with the configured excludes) and the linted files, summaries cached in `cache_dir`.
    Without a project (no pyproject.toml nor .git: the root is only the current directory),
    the index covers the linted files alone: a run from a home directory never walks it.
    `sources` (absolute path -> text) replaces what the disk has of those files. The
    modules that may register routes are summarised up front, in up to `jobs` processes;
    with `every_module`, all of them (see `SummaryStore.summarise`, which runs `meanwhile`
    while its workers summarise)."""
    covers_project = _is_project(settings)
    project_files = _discover([settings.root], settings).files if covers_project else []
    index = build_index(
        sorted({*project_files, *files}, key=lambda path: path.parts),
        settings.root,
        source_roots=settings.src,
        router_classes=settings.router_classes,
        cache_dir=cache_dir,
        max_file_size=settings.max_file_size,
        jobs=jobs,
        every_module=every_module,
        meanwhile=meanwhile,
    )
    index.covers_project = covers_project
    if sources:
        layout = Layout(settings.root, settings.src)
        index = with_modules(index, [source_module(p, t, layout) for p, t in sources.items()])
    return project_modules(index, settings)


def project_modules(index: ProjectIndex, settings: Settings) -> ProjectModules:
    """What the engine knows of the project, from its index."""
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

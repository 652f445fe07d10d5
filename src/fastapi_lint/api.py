"""Orchestration of one run: discover files, build per-run state once, lint or fix each file."""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fastapi_lint.baseline import Baseline
from fastapi_lint.config import Settings
from fastapi_lint.diagnostics import Diagnostic
from fastapi_lint.discovery import Discovery, discover_files
from fastapi_lint.engine import UNREADABLE_FILE, Engine, FileResult, FixOutcome, engine_diagnostic
from fastapi_lint.fixes import FileChangedError, unified_diff, write_atomically
from fastapi_lint.names import FASTAPI_MODULES
from fastapi_lint.noqa import NoqaOutcome, add_noqa_to_file
from fastapi_lint.report import display_path
from fastapi_lint.semantic import ProjectModules


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

    @property
    def fixed_count(self) -> int:
        return sum(sum(counts.values()) for counts in self.fixed.values())


def lint_paths(
    paths: Sequence[str | Path],
    settings: Settings,
    *,
    fix: FixMode | None = None,
    with_edits: bool = False,
    baseline: Baseline | None = None,
) -> RunResult:
    """Lint (or fix, with `fix`) every file under `paths`; one broken file never stops the run.
    With `baseline`, the findings it records are left out (and counted)."""
    discovery, engine = _discover(paths, settings)
    run = RunResult(files_checked=len(discovery.files))
    for missing in discovery.missing:
        message = "Cannot read file: No such file or directory"
        run.diagnostics.append(engine_diagnostic(missing, UNREADABLE_FILE, message))
    for path in discovery.files:
        try:
            result = engine.check_file(path) if fix is None else _fix_file(engine, path, fix, run)
            run.diagnostics.extend(_with_edits(result) if with_edits else result.diagnostics)
        except Exception as error:  # a bug of ours must not stop the run
            reason = f"{type(error).__name__}: {error}"
            run.internal_errors.append(f"{path}: internal error: {reason}")
    run.diagnostics.sort(key=Diagnostic.sort_key)
    if baseline is not None:
        match = baseline.apply(
            run.diagnostics, files=discovery.files, paths=paths, settings=settings
        )
        run.diagnostics = match.reported
        run.baselined, run.stale_baseline_entries = match.baselined, len(match.stale)
    return run


def _discover(paths: Sequence[str | Path], settings: Settings) -> tuple[Discovery, Engine]:
    """The files to lint, and the engine to lint them with."""
    discovery = discover_files(
        paths,
        root=settings.root,
        exclude=settings.exclude,
        extend_exclude=settings.extend_exclude,
        force_exclude=settings.force_exclude,
    )
    engine = Engine(
        settings.rules, project_modules(discovery.files, settings.root), settings.ignored_codes
    )
    return discovery, engine


@dataclass
class NoqaRun:
    outcome: NoqaOutcome = field(default_factory=NoqaOutcome)
    errors: list[str] = field(default_factory=list)


def add_noqa_paths(paths: Sequence[str | Path], settings: Settings) -> NoqaRun:
    """`--add-noqa`: a `# noqa` directive for every current finding of every file under
    `paths` (the baseline is not consulted: every finding gets one)."""
    discovery, engine = _discover(paths, settings)
    run = NoqaRun()
    for path in discovery.files:
        try:
            run.outcome += add_noqa_to_file(engine, path)
        except (OSError, FileChangedError) as error:
            run.errors.append(f"{path}: no noqa added: {error}")
        except Exception as error:  # a bug of ours must not stop the run
            run.errors.append(f"{path}: internal error: {type(error).__name__}: {error}")
    return run


def _fix_file(engine: Engine, path: Path, mode: FixMode, run: RunResult) -> FileResult:
    outcome: FixOutcome = engine.fix_file(path, unsafe=mode.unsafe)
    if outcome.error is not None:
        run.internal_errors.append(f"{path}: {outcome.error}")
    if not outcome.changed:
        return outcome.result
    assert outcome.original is not None and outcome.result.text is not None
    if mode.write:
        try:
            write_atomically(
                path, outcome.result.text, outcome.result.encoding, outcome.original_bytes
            )
        except (OSError, FileChangedError) as error:
            run.internal_errors.append(f"{path}: not fixed: {error}")
            return engine.check_file(path)
    else:
        shown = display_path(path)
        run.diffs.append(unified_diff(shown, outcome.original, outcome.result.text))
    run.fixed[path] = outcome.fixed
    return outcome.result


def _with_edits(result: FileResult) -> list[Diagnostic]:
    return [
        dataclasses.replace(d, edits=tuple(result.fix_edits(d.fix))) if d.fix else d
        for d in result.diagnostics
    ]


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
    return ProjectModules(sorted(found - FASTAPI_MODULES))


def _top_level_package(path: Path) -> str:
    """The outermost package holding a file outside the project root (or the module itself)."""
    top = path.with_suffix("").name
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory != directory.parent:
        top, directory = directory.name, directory.parent
    return top

"""Orchestration of one run: discover files, build per-run state once, lint every file."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fastapi_lint.config import Settings
from fastapi_lint.diagnostics import Diagnostic
from fastapi_lint.discovery import discover_files
from fastapi_lint.engine import UNREADABLE_FILE, Engine, engine_diagnostic
from fastapi_lint.names import FASTAPI_MODULES
from fastapi_lint.semantic import ProjectModules


@dataclass
class RunResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files_checked: int = 0
    internal_errors: list[str] = field(default_factory=list)


def lint_paths(paths: Sequence[str | Path], settings: Settings) -> RunResult:
    discovery = discover_files(
        paths,
        root=settings.root,
        exclude=settings.exclude,
        extend_exclude=settings.extend_exclude,
    )
    engine = Engine(
        settings.rules, project_modules(discovery.files, settings.root), settings.ignored_codes
    )
    result = RunResult(files_checked=len(discovery.files))
    for missing in discovery.missing:
        message = "Cannot read file: No such file or directory"
        result.diagnostics.append(engine_diagnostic(missing, UNREADABLE_FILE, message))
    for path in discovery.files:
        try:
            result.diagnostics.extend(engine.lint_file(path))
        except Exception as error:  # a bug of ours must not stop the run
            reason = f"{type(error).__name__}: {error}"
            result.internal_errors.append(f"{path}: internal error: {reason}")
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def project_modules(files: Iterable[Path], root: Path) -> ProjectModules:
    """Top-level names importable from the linted project: the packages and modules among
    the linted files, and those at the root or in `root/src` (for single-file runs)."""
    found: set[str] = set()
    for path in files:
        absolute = Path(os.path.abspath(path))
        parts = absolute.relative_to(root).parts if absolute.is_relative_to(root) else path.parts
        found.update(part.split(".", 1)[0] for part in parts)
    for base in (root, root / "src"):
        try:
            entries = os.listdir(base)
        except OSError:
            continue
        found.update(name.removesuffix(".py") for name in entries if not name.startswith("."))
    return ProjectModules(sorted(found - FASTAPI_MODULES))

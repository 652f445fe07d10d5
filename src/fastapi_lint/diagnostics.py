"""What the engine reports: diagnostics with positions, severity and a slot for a fix.

Nothing here imports LibCST: cached results and results sent back by worker processes are
built from these classes alone.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # fixes.py imports Position from here
    from fastapi_lint.fixes import Fix

# Where Python (and so our line numbers) breaks lines; `str.splitlines` breaks at more.
LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Applicability(enum.Enum):
    SAFE = "safe"  # keeps the program's meaning; applied by --fix
    UNSAFE = "unsafe"  # may change behaviour; applied only with --unsafe-fixes


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and a 1-based column (in characters), as ruff prints them."""

    line: int
    column: int


@dataclass(frozen=True)
class TextEdit:
    """Replace the text from `start` to `end` (exclusive; 1-based) with `content`."""

    content: str
    start: Position
    end: Position


@dataclass(frozen=True)
class FixSummary:
    """What the reports show of a fix, without its LibCST nodes: small and picklable, for
    results that come back from worker processes or from the cache."""

    title: str
    applicability: Applicability

    @property
    def is_safe(self) -> bool:
        return self.applicability is Applicability.SAFE


@dataclass(frozen=True)
class Related:
    """Another place a finding involves, e.g. the route that shadows the reported one."""

    path: Path
    start: Position
    message: str


@dataclass(frozen=True)
class Diagnostic:
    path: Path
    start: Position
    end: Position
    code: str
    name: str
    message: str
    severity: Severity
    # None: no fix offered. A `Fix` (LibCST nodes) as the engine reports it; a `FixSummary`
    # in the results of a run (`fastapi_lint.api.lint_paths`).
    fix: Fix | FixSummary | None = field(default=None, compare=False)
    # The fix as text edits, computed only for outputs that show them (JSON).
    edits: tuple[TextEdit, ...] | None = field(default=None, compare=False)
    # The source lines of the reported range (first ones only), for code excerpts and
    # fingerprints; empty for engine diagnostics.
    source: tuple[str, ...] = field(default=(), compare=False)
    # Other places the finding involves (JSON `related`, SARIF `relatedLocations`).
    related: tuple[Related, ...] = field(default=(), compare=False)

    @property
    def fixable(self) -> bool:
        return self.fix is not None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path.as_posix(), self.start.line, self.start.column, self.code)


# Diagnostics of the engine itself: always on, never suppressed (like ruff's invalid-syntax).
INVALID_SYNTAX = ("FAPI001", "invalid-syntax")
UNREADABLE_FILE = ("FAPI002", "unreadable-file")
_FILE_START = Position(1, 1)


def engine_diagnostic(
    path: Path, kind: tuple[str, str], message: str, start: Position = _FILE_START
) -> Diagnostic:
    code, name = kind
    return Diagnostic(path, start, start, code, name, message, Severity.ERROR)

"""What the engine reports: diagnostics with positions, severity and a slot for a fix."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # fixes.py imports Position from here
    from fastapi_lint.fixes import Fix, TextEdit


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and a 1-based column (in characters), as ruff prints them."""

    line: int
    column: int


@dataclass(frozen=True)
class Diagnostic:
    path: Path
    start: Position
    end: Position
    code: str
    name: str
    message: str
    severity: Severity
    fix: Fix | None = field(default=None, compare=False)  # None: no fix offered
    # The fix as text edits, computed only for outputs that show them (JSON).
    edits: tuple[TextEdit, ...] | None = field(default=None, compare=False)
    # The source lines of the reported range (first ones only), for code excerpts and
    # fingerprints; empty for engine diagnostics.
    source: tuple[str, ...] = field(default=(), compare=False)

    @property
    def fixable(self) -> bool:
        return self.fix is not None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path.as_posix(), self.start.line, self.start.column, self.code)

"""What the engine reports: diagnostics with positions, severity and a slot for a fix."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
    # Filled by the fix engine (a later layer); None means "no fix offered".
    fix: Any = field(default=None, compare=False)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path.as_posix(), self.start.line, self.start.column, self.code)

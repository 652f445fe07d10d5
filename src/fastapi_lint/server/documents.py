"""What the server remembers of each open document between checks (event loop side)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from pathlib import Path

from lsprotocol import types

from fastapi_lint.engine import FileResult
from fastapi_lint.fixes import Fix


@dataclass
class Outcome:
    """The check of one version of a document, as the check thread hands it back."""

    version: int | None
    text: str
    result: FileResult | None  # None: excluded, or the check failed
    diagnostics: list[types.Diagnostic] = field(default_factory=list)
    index_changed: bool = False  # the open files that depend on it must be checked again
    error: str | None = None  # an internal error, for the client's log


def kept(result: FileResult) -> FileResult:
    """The result as code actions may need it: its LibCST module only when a finding has a
    fix (fix edits are made from it), so open documents do not each hold a syntax tree."""
    if any(isinstance(d.fix, Fix) for d in result.diagnostics):
        return result
    return replace(result, module=None, ranges={})


@dataclass
class Document:
    uri: str
    path: Path
    pending: asyncio.Task | None = None  # the debounced check waiting or running
    started: bool = False  # the pending check took its snapshot of the text
    checked: Outcome | None = None  # the last check published

    def result_for(self, version: int | None, text: str) -> FileResult | None:
        """The last check's result when it is of this very text."""
        checked = self.checked
        if checked is None or checked.version != version or checked.text != text:
            return None
        return checked.result

    def waiting(self) -> bool:
        """A check is on its way that has not read the text yet (it will see the project as
        it is when it does)."""
        return self.pending is not None and not self.pending.done() and not self.started

    def cancel(self) -> None:
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None
        self.started = False

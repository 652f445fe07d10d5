"""Output formats: text (ruff's concise lines plus a summary) and json (ruff's keys)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from fastapi_lint.diagnostics import Diagnostic
from fastapi_lint.rules import RULES_BY_CODE

OUTPUT_FORMATS = ("text", "json")


def display_path(path: Path) -> str:
    """The path relative to the working directory when it is inside it, as ruff prints."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def render_text(diagnostics: Sequence[Diagnostic], *, quiet: bool = False) -> str:
    lines = [
        f"{display_path(d.path)}:{d.start.line}:{d.start.column}: {d.code} {d.message}"
        for d in diagnostics
    ]
    if not quiet:
        lines.append(_summary(len(diagnostics)))
    return "\n".join(lines) + ("\n" if lines else "")


def render_statistics(diagnostics: Sequence[Diagnostic]) -> str:
    """One line per code, most frequent first: count, code, name (as `ruff --statistics`)."""
    counts = Counter(d.code for d in diagnostics)
    names = {d.code: d.name for d in diagnostics}
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    width = max((len(str(count)) for count in counts.values()), default=1)
    lines = [f"{count:>{width}}\t{code}\t{names[code]}" for code, count in rows]
    lines.append(_summary(len(diagnostics)))
    return "\n".join(lines) + "\n"


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([_json_object(d) for d in diagnostics], indent=2) + "\n"


def _json_object(diagnostic: Diagnostic) -> dict:
    rule = RULES_BY_CODE.get(diagnostic.code)
    return {
        "cell": None,
        "code": diagnostic.code,
        "end_location": {"column": diagnostic.end.column, "row": diagnostic.end.line},
        "filename": os.path.abspath(diagnostic.path),
        "fix": None,
        "location": {"column": diagnostic.start.column, "row": diagnostic.start.line},
        "message": diagnostic.message,
        "noqa_row": diagnostic.start.line,
        "url": rule.url() if rule is not None else None,
    }


def _summary(count: int) -> str:
    if count == 0:
        return "All checks passed!"
    return f"Found {count} error{'s' if count != 1 else ''}."

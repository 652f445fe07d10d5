"""Output formats: text (ruff's concise lines plus a summary) and json (ruff's keys)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from fastapi_lint.diagnostics import Diagnostic, Position
from fastapi_lint.rules import RULES_BY_CODE

OUTPUT_FORMATS = ("text", "json")


def display_path(path: Path) -> str:
    """The path relative to the working directory when it is inside it, as ruff prints."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def applicable(diagnostic: Diagnostic, unsafe_fixes: bool) -> bool:
    """Whether `--fix` (with `--unsafe-fixes` if given) would fix this finding."""
    return diagnostic.fix is not None and (diagnostic.fix.is_safe or unsafe_fixes)


def render_text(
    diagnostics: Sequence[Diagnostic],
    *,
    quiet: bool = False,
    unsafe_fixes: bool = False,
    fixed: int | None = None,
) -> str:
    """`path:line:col: CODE [*] message` lines ([*]: --fix can fix it), then a summary.
    `fixed` is the number of fixes applied, when fixing."""
    lines = [
        f"{display_path(d.path)}:{d.start.line}:{d.start.column}: {d.code} "
        f"{'[*] ' if applicable(d, unsafe_fixes) else ''}{d.message}"
        for d in diagnostics
    ]
    if not quiet:
        lines.append(_summary(len(diagnostics), fixed))
        hint = fix_hint(diagnostics, unsafe_fixes)
        if hint:
            lines.append(hint)
    return "\n".join(lines) + ("\n" if lines else "")


def fix_hint(diagnostics: Sequence[Diagnostic], unsafe_fixes: bool) -> str:
    """ruff's line on what `--fix` and `--unsafe-fixes` would do, or "" when nothing."""
    fixable = sum(applicable(d, unsafe_fixes) for d in diagnostics)
    note = hidden_fixes_note(diagnostics, unsafe_fixes)
    if fixable:
        return f"[*] {fixable} fixable with the `--fix` option{note}."
    return f"No fixes available{note}." if note else ""


def hidden_fixes_note(diagnostics: Sequence[Diagnostic], unsafe_fixes: bool) -> str:
    """` (N hidden fixes can be enabled with the `--unsafe-fixes` option)`, or ""."""
    if unsafe_fixes:
        return ""
    hidden = sum(d.fix is not None and not d.fix.is_safe for d in diagnostics)
    if not hidden:
        return ""
    fixes = _plural(hidden, "fix", "fixes")
    return f" ({hidden} hidden {fixes} can be enabled with the `--unsafe-fixes` option)"


def render_fixed(fixed: Mapping[Path, Counter[str]], *, would: bool = False) -> str:
    """`Fixed 2 errors:`, then per file a line per code with its count, as ruff prints."""
    total = sum(sum(counts.values()) for counts in fixed.values())
    lines = [f"{'Would fix' if would else 'Fixed'} {total} {_plural(total, 'error', 'errors')}:"]
    for path in sorted(fixed, key=lambda p: p.as_posix()):
        lines.append(f"- {display_path(path)}:")
        for code, count in sorted(fixed[path].items()):
            rule = RULES_BY_CODE.get(code)
            lines.append(
                f"    {count} \N{MULTIPLICATION SIGN} {code} ({rule.name if rule else code})"
            )
    return "\n".join(lines) + "\n"


def render_statistics(diagnostics: Sequence[Diagnostic], *, unsafe_fixes: bool = False) -> str:
    """One line per code, most frequent first: count, code, [*] when fixable, name (ruff's
    `--statistics`)."""
    counts = Counter(d.code for d in diagnostics)
    names = {d.code: d.name for d in diagnostics}
    fixable = {d.code for d in diagnostics if applicable(d, unsafe_fixes)}
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    width = max((len(str(count)) for count in counts.values()), default=1)
    lines = [
        f"{count:>{width}}\t{code}\t{'[*]' if code in fixable else '[ ]'} {names[code]}"
        for code, count in rows
    ]
    lines.append(_summary(len(diagnostics)))
    return "\n".join(lines) + "\n"


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([_json_object(d) for d in diagnostics], indent=2) + "\n"


def _json_object(diagnostic: Diagnostic) -> dict:
    rule = RULES_BY_CODE.get(diagnostic.code)
    return {
        "cell": None,
        "code": diagnostic.code,
        "end_location": _location(diagnostic.end),
        "filename": os.path.abspath(diagnostic.path),
        "fix": _json_fix(diagnostic),
        "location": _location(diagnostic.start),
        "message": diagnostic.message,
        "noqa_row": diagnostic.start.line,
        "url": rule.url() if rule is not None else None,
    }


def _json_fix(diagnostic: Diagnostic) -> dict | None:
    """ruff's shape: applicability, message, and text edits with 1-based locations."""
    if diagnostic.fix is None:
        return None
    return {
        "applicability": diagnostic.fix.applicability.value,
        "edits": [
            {
                "content": edit.content,
                "end_location": _location(edit.end),
                "location": _location(edit.start),
            }
            for edit in diagnostic.edits or ()
        ],
        "message": diagnostic.fix.title,
    }


def _location(position: Position) -> dict[str, int]:
    return {"column": position.column, "row": position.line}


def _summary(count: int, fixed: int | None = None) -> str:
    if fixed:
        total = count + fixed
        errors = _plural(total, "error", "errors")
        return f"Found {total} {errors} ({fixed} fixed, {count} remaining)."
    if count == 0:
        return "All checks passed!"
    return f"Found {count} {_plural(count, 'error', 'errors')}."


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many

"""Output formats, with ruff's names.

Human formats (`full`, `concise`, `grouped`) print paths relative to the working directory
and end with a summary and the fix hints. `json` and `json-lines` use ruff's JSON objects.
The CI formats (`sarif`, `github`, `gitlab`, `junit`) live in `fastapi_lint.reporters` and
print paths relative to the repository root (the project root's, in a monorepo). `render`
picks the format.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi_lint.diagnostics import Diagnostic, Position
from fastapi_lint.rules import RULES_BY_CODE

if TYPE_CHECKING:
    from fastapi_lint.reporters.sarif import RuleLike

# `text` is the former name of `concise`, still accepted.
OUTPUT_FORMATS = (
    "full",
    "concise",
    "text",
    "grouped",
    "json",
    "json-lines",
    "sarif",
    "github",
    "gitlab",
    "junit",
)
# The formats that end with the summary and hints, and may be followed by `--show-fixes`.
HUMAN_FORMATS = frozenset({"full", "concise", "text", "grouped"})
# The formats whose JSON objects carry the fixes' text edits.
EDIT_FORMATS = frozenset({"json", "json-lines"})
TAB_WIDTH = 4


def display_path(path: Path) -> str:
    """The path relative to the working directory when it is inside it, as ruff prints."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def applicable(diagnostic: Diagnostic, unsafe_fixes: bool) -> bool:
    """Whether `--fix` (with `--unsafe-fixes` if given) would fix this finding."""
    return diagnostic.fix is not None and (diagnostic.fix.is_safe or unsafe_fixes)


def render(
    output_format: str,
    diagnostics: Sequence[Diagnostic],
    *,
    root: Path | None = None,
    rules: Sequence[RuleLike] = (),
    quiet: bool = False,
    unsafe_fixes: bool = False,
    fixed: int | None = None,
) -> str:
    """The report in `output_format` (one of OUTPUT_FORMATS). `root` is the project root, for
    the CI formats' paths and fingerprints (default: the working directory); `rules` are the enabled
    rules, listed by SARIF; `fixed` is the number of fixes applied, when fixing."""
    root = Path(os.path.abspath(root if root is not None else os.getcwd()))
    human = {"quiet": quiet, "unsafe_fixes": unsafe_fixes, "fixed": fixed}
    if output_format in ("concise", "text"):
        return render_text(diagnostics, **human)
    if output_format == "full":
        return render_full(diagnostics, **human)
    if output_format == "grouped":
        return render_grouped(diagnostics, **human)
    if output_format == "json":
        return render_json(diagnostics)
    if output_format == "json-lines":
        return render_json_lines(diagnostics)
    # The CI formats (and xml.etree) are imported when chosen: start-up time counts.
    if output_format == "sarif":
        from fastapi_lint.reporters.sarif import render_sarif

        return render_sarif(diagnostics, root=root, rules=rules)
    from fastapi_lint.reporters import ci

    if output_format == "github":
        return ci.render_github(diagnostics, root=root)
    if output_format == "gitlab":
        return ci.render_gitlab(diagnostics, root=root)
    if output_format == "junit":
        return ci.render_junit(diagnostics, root=root)
    raise ValueError(f"unknown output format `{output_format}`")


# --- concise, full, grouped --------------------------------------------------------------


def render_text(
    diagnostics: Sequence[Diagnostic],
    *,
    quiet: bool = False,
    unsafe_fixes: bool = False,
    fixed: int | None = None,
) -> str:
    """`concise`: `path:line:col: CODE [*] message` lines ([*]: --fix can fix it), then a
    summary. `fixed` is the number of fixes applied, when fixing."""
    lines = [_header(d, unsafe_fixes) for d in diagnostics]
    return "".join(line + "\n" for line in lines) + _footer(diagnostics, quiet, unsafe_fixes, fixed)


def render_full(
    diagnostics: Sequence[Diagnostic],
    *,
    quiet: bool = False,
    unsafe_fixes: bool = False,
    fixed: int | None = None,
) -> str:
    """`full`: each finding's concise line, its source lines with the reported range marked,
    and `help: <fix title>` when it has a fix; a blank line after each; then the summary."""
    blocks = []
    for diagnostic in diagnostics:
        lines = [_header(diagnostic, unsafe_fixes), *_snippet(diagnostic)]
        if diagnostic.fix is not None:
            lines.append(f"help: {diagnostic.fix.title}")
        blocks.append("\n".join(lines) + "\n\n")
    return "".join(blocks) + _footer(diagnostics, quiet, unsafe_fixes, fixed)


def render_grouped(
    diagnostics: Sequence[Diagnostic],
    *,
    quiet: bool = False,
    unsafe_fixes: bool = False,
    fixed: int | None = None,
) -> str:
    """`grouped`: a `path:` header per file, then its findings as `  line:col CODE message`
    (aligned), a blank line after each file; then the summary."""
    blocks = []
    files: dict[str, list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        files.setdefault(display_path(diagnostic.path), []).append(diagnostic)
    for path, items in files.items():
        row_width = max(len(str(d.start.line)) for d in items)
        column_width = max(len(str(d.start.column)) for d in items)
        lines = [f"{path}:"]
        for d in items:
            fix = "[*] " if applicable(d, unsafe_fixes) else ""
            position = f"{d.start.line:>{row_width}}:{d.start.column:<{column_width}}"
            lines.append(f"  {position} {d.code} {fix}{d.message}")
        blocks.append("\n".join(lines) + "\n\n")
    return "".join(blocks) + _footer(diagnostics, quiet, unsafe_fixes, fixed)


def _header(diagnostic: Diagnostic, unsafe_fixes: bool) -> str:
    d = diagnostic
    fix = "[*] " if applicable(d, unsafe_fixes) else ""
    return f"{display_path(d.path)}:{d.start.line}:{d.start.column}: {d.code} {fix}{d.message}"


def _footer(
    diagnostics: Sequence[Diagnostic], quiet: bool, unsafe_fixes: bool, fixed: int | None
) -> str:
    if quiet:
        return ""
    lines = [_summary(len(diagnostics), fixed)]
    hint = fix_hint(diagnostics, unsafe_fixes)
    if hint:
        lines.append(hint)
    return "".join(line + "\n" for line in lines)


def _snippet(diagnostic: Diagnostic) -> list[str]:
    """The source lines with a gutter of line numbers and the reported range marked, as
    ruff's full output: carets under a one-line range; a `/`, `|` and `|___^` margin down a
    range over several lines (`...` when the excerpt stops before its end)."""
    source = diagnostic.source
    if not source:
        return []
    first = diagnostic.start.line
    last = first + len(source) - 1
    start, end = diagnostic.start, diagnostic.end
    if end.line > start.line and end.column == 1 and end.line - 1 <= last:
        # A range ending at the start of a line ends with the previous line.
        end = Position(end.line - 1, len(source[end.line - 1 - first]) + 1)
    if end.line <= last:  # the excerpt holds the whole range: show no line after it
        source = source[: max(end.line, first) - first + 1]
        last = first + len(source) - 1
    width = len(str(last))
    gutter = " " * width
    lines = [f"{gutter} |"]
    start_at = _width(source[0][: start.column - 1])
    if end.line <= start.line:
        end_at = _width(source[0][: max(end.column, start.column) - 1])
        lines.append(f"{first:>{width}} | {_expand(source[0])}")
        lines.append(f"{gutter} | {' ' * start_at}{'^' * max(1, end_at - start_at)}")
        lines.append(f"{gutter} |")
        return lines
    # Several lines: the margin starts with `/` when the range starts the line's code.
    starts_line = not source[0][: start.column - 1].strip()
    lines.append(f"{first:>{width}} | {'/' if starts_line else ' '} {_expand(source[0])}")
    if not starts_line:
        lines.append(f"{gutter} |  {'_' * (start_at + 1)}^")
    for number, text in enumerate(source[1:], start=first + 1):
        lines.append(f"{number:>{width}} | | {_expand(text)}")
    if end.line > last:
        lines.append(f"{gutter} | | ...")
    else:
        end_at = _width(source[end.line - first][: end.column - 1])
        lines.append(f"{gutter} | |{'_' * max(0, end_at)}^")
    lines.append(f"{gutter} |")
    return lines


def _expand(text: str) -> str:
    return text.replace("\t", " " * TAB_WIDTH)


def _width(text: str) -> int:
    """Terminal columns taken by `text`: wide East Asian characters take two, combining
    marks none, tabs TAB_WIDTH."""
    width = 0
    for char in text:
        if char == "\t":
            width += TAB_WIDTH
        elif unicodedata.combining(char):
            continue
        else:
            width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


# --- hints, summaries, statistics ----------------------------------------------------------


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


# --- json, json-lines ----------------------------------------------------------------------


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([_json_object(d) for d in diagnostics], indent=2) + "\n"


def render_json_lines(diagnostics: Sequence[Diagnostic]) -> str:
    """One JSON object per line, the same objects as `json`; nothing when nothing is found."""
    return "".join(json.dumps(_json_object(d)) + "\n" for d in diagnostics)


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
        "related": [
            {
                "filename": os.path.abspath(related.path),
                "location": _location(related.start),
                "message": related.message,
            }
            for related in diagnostic.related
        ],
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

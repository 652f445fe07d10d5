"""`--add-noqa`: silence every current finding with a `# noqa: CODE` on its first line.

As ruff does, the directive goes at the end of the line after two spaces (after an existing
comment, if any), and codes are merged into an existing `# noqa: X` list. A line that ends
inside a multi-line string or with a backslash continuation cannot take a comment there: its
findings are skipped and counted.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi_lint.diagnostics import Diagnostic
from fastapi_lint.fixes import write_atomically
from fastapi_lint.suppression import LINE_NOQA, split_codes

if TYPE_CHECKING:
    from fastapi_lint.engine import Engine

# Not added: the engine's own codes cannot be suppressed, and silencing an unused `noqa`
# (FAPI003) with another `noqa` makes no sense: `--fix` removes it.
NOT_ADDED = frozenset({"FAPI001", "FAPI002", "FAPI003"})
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_END = re.compile(r"(?:\r\n|\r|\n)\Z")


@dataclass
class NoqaOutcome:
    added: int = 0  # lines that got a directive or more codes in one
    skipped: int = 0  # findings whose line cannot take a comment

    def __iadd__(self, other: NoqaOutcome) -> NoqaOutcome:
        self.added += other.added
        self.skipped += other.skipped
        return self


def add_noqa_to_file(engine: Engine, path: Path) -> NoqaOutcome:
    """Check `path` and write it back with a directive for each finding (atomically, and only
    if nobody changed it meanwhile). OSError and FileChangedError reach the caller."""
    data = path.read_bytes()
    result = engine.check_bytes(data, path)
    if result.text is None or result.module is None:
        return NoqaOutcome()
    text, outcome = add_noqa(result.text, codes_by_line(result.diagnostics))
    if outcome.added:
        write_atomically(path, text, result.encoding, data)
    return outcome


def codes_by_line(diagnostics: Iterable[Diagnostic]) -> dict[int, list[str]]:
    """The codes to add, by the first line of their findings."""
    by_line: dict[int, list[str]] = {}
    for diagnostic in diagnostics:
        if diagnostic.code not in NOT_ADDED:
            codes = by_line.setdefault(diagnostic.start.line, [])
            if diagnostic.code not in codes:
                codes.append(diagnostic.code)
    return by_line


def add_noqa(text: str, by_line: Mapping[int, list[str]]) -> tuple[str, NoqaOutcome]:
    """`text` with the codes added as `# noqa` directives on their lines (1-based)."""
    outcome = NoqaOutcome()
    if not by_line:
        return text, outcome
    ends = _line_ends(text)
    lines = _LINE.findall(text)
    for number in sorted(by_line):
        codes = sorted(by_line[number])
        comment_column = ends.get(number) if ends is not None else None
        if comment_column is None or number > len(lines):
            outcome.skipped += len(codes)
            continue
        line = lines[number - 1]
        newline = _END.search(line)
        end = newline.start() if newline else len(line)
        body, eol = line[:end], line[end:]
        lines[number - 1] = _with_codes(body, comment_column, codes) + eol
        outcome.added += 1
    return "".join(lines), outcome


def _with_codes(body: str, comment_column: int, codes: list[str]) -> str:
    """The line (without its end) with `codes` in its `# noqa` directive, or in a new one.
    `comment_column`: where the line's comment starts (-1: it has none)."""
    if comment_column >= 0:
        for match in LINE_NOQA.finditer(body, comment_column):
            if match.group("codes") is None:
                continue  # a blanket directive: the findings would have been suppressed
            existing = split_codes(match.group("codes"))
            known = {code.upper() for code in existing}
            merged = [*existing, *(code for code in codes if code not in known)]
            return body[: match.start("codes")] + ", ".join(merged) + body[match.end("codes") :]
    return body.rstrip(" \t\x0c") + "  # noqa: " + ", ".join(codes)


def _line_ends(text: str) -> dict[int, int] | None:
    """The lines that end outside any string and without a continuation, mapped to the
    column of their comment (-1: none). None when the text cannot be tokenized."""
    ends: dict[int, int] = {}
    comments: dict[int, int] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text, newline="").readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.start[1]
            elif token.type in (tokenize.NEWLINE, tokenize.NL):
                ends[token.start[0]] = comments.get(token.start[0], -1)
    except (tokenize.TokenError, SyntaxError):
        return None
    return ends

"""`# noqa` comments: line-level on the reported node's first line, and file-level.

Directives are read from the comments Python's tokenizer finds, so `# noqa` inside a string
(a URL fragment, a docstring that documents the directive) is not one. Each line-level
directive remembers the codes it suppressed during the check of its file, so FAPI003
(unused-noqa) can tell the directives that suppress nothing.
"""

from __future__ import annotations

import bisect
import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

_CODES = r"[A-Z]+[0-9]+(?:[,\t ]+[A-Z]+[0-9]+)*"
# After a `#`: `noqa`, `noqa: FAPI101`, `NOQA:FAPI101, FAPI102` (codes comma- or space-separated).
# Blanks are `[ \t]`, never `\s`: a directive must not reach into the next line.
LINE_NOQA = re.compile(rf"#[ \t]*noqa(?::[ \t]*(?P<codes>{_CODES}))?", re.IGNORECASE)
# `# fastapi-lint: noqa` or `# fastapi-lint: noqa: FAPI101`, anywhere in the file.
_FILE_NOQA = re.compile(
    rf"#[ \t]*fastapi-lint:[ \t]*noqa(?::[ \t]*(?P<codes>{_CODES}))?", re.IGNORECASE
)
_SPLIT = re.compile(r"[,\s]+")
# Any directive holds this: a file without it is not tokenized.
_CANDIDATE = re.compile("noqa", re.IGNORECASE)
# Line breaks as LibCST counts them (positions of findings come from LibCST).
_NEWLINE = re.compile(r"\r\n?|\n")

ALL = None  # a blanket directive suppresses every code


def split_codes(codes: str) -> tuple[str, ...]:
    """The codes of a directive's code list, as written and in order."""
    return tuple(code for code in _SPLIT.split(codes.strip()) if code)


def _codes(match: re.Match[str]) -> frozenset[str] | None:
    codes = match.group("codes")
    return frozenset(code.upper() for code in split_codes(codes)) if codes else ALL


@dataclass(eq=False)
class Directive:
    """One line-level `# noqa` directive, where it is, and what it suppressed so far."""

    line: int
    column: int  # 1-based column of its `#`
    end_column: int  # 1-based, exclusive: the end of the code list (or of `noqa`)
    codes: tuple[str, ...] | None  # as written, in order; None: blanket
    codes_column: int = 0  # 1-based column where the code list starts (0: blanket)
    used: set[str] = field(default_factory=set)  # upper-case codes it suppressed

    @cached_property
    def upper_codes(self) -> frozenset[str] | None:
        return None if self.codes is None else frozenset(c.upper() for c in self.codes)


@dataclass
class Suppressions:
    by_line: dict[int, list[Directive]]
    file_wide: frozenset[str] | bool | None  # False: no file-level directive

    @classmethod
    def scan(cls, text: str) -> Suppressions:
        by_line: dict[int, list[Directive]] = {}
        file_wide: frozenset[str] | bool | None = False
        if _CANDIDATE.search(text) is None:  # most files: no tokenizing
            return cls(by_line, file_wide)
        for line, column, comment in _comments(text):
            for match in LINE_NOQA.finditer(comment):
                codes = match.group("codes")
                directive = Directive(
                    line,
                    column + match.start(),
                    column + match.end(),
                    split_codes(codes) if codes else None,
                    column + match.start("codes") if codes else 0,
                )
                by_line.setdefault(line, []).append(directive)
            for match in _FILE_NOQA.finditer(comment):
                current = frozenset() if file_wide is False else file_wide
                file_wide = _merge(current, _codes(match))  # type: ignore[arg-type]
        return cls(by_line, file_wide)

    @property
    def directives(self) -> list[Directive]:
        return [directive for line in sorted(self.by_line) for directive in self.by_line[line]]

    def suppresses(self, line: int, code: str) -> bool:
        """Whether `code` is suppressed on `line`; the line directive that suppresses it (the
        first one that names it or is blanket) records the use. A file-level directive wins
        over a line one, as in ruff: a line directive it makes redundant is unused."""
        if self.file_wide is not False and (self.file_wide is ALL or code in self.file_wide):
            return True
        for directive in self.by_line.get(line, ()):
            codes = directive.upper_codes
            if codes is ALL or code in codes:
                directive.used.add(code)
                return True
        return False


def _comments(text: str) -> Iterator[tuple[int, int, str]]:
    """Each comment of `text` as (line, 1-based column of its `#`, text). Should the tokenizer
    fail (it lags behind LibCST on the newest syntax), every `#` counts as a comment start,
    as it did before directives were tokenized: a directive is never lost."""
    comments = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text, newline="").readline):
            if token.type == tokenize.COMMENT:
                comments.append((token.start[0], token.start[1] + 1, token.string))
    except (tokenize.TokenError, SyntaxError):
        return _hashes(text)
    return iter(comments)


def _hashes(text: str) -> Iterator[tuple[int, int, str]]:
    """From each `#` to the end of its line, as if it started a comment."""
    line_starts = [0, *(match.end() for match in _NEWLINE.finditer(text))]
    for match in re.finditer(r"#[^\r\n]*", text):
        line = bisect.bisect_right(line_starts, match.start())
        yield line, match.start() - line_starts[line - 1] + 1, match.group()


def _merge(current: frozenset[str] | None, new: frozenset[str] | None) -> frozenset[str] | None:
    if current is ALL or new is ALL:
        return ALL
    return current | new

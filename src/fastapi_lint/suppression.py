"""`# noqa` comments: line-level on the reported node's first line, and file-level."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_CODES = r"[A-Z]+[0-9]+(?:[,\t ]+[A-Z]+[0-9]+)*"
# After a `#`: `noqa`, `noqa: FAPI101`, `NOQA:FAPI101, FAPI102` (codes comma- or space-separated).
# Blanks are `[ \t]`, never `\s`: a directive must not reach into the next line.
_LINE_NOQA = re.compile(rf"#[ \t]*noqa(?::[ \t]*(?P<codes>{_CODES}))?", re.IGNORECASE)
# `# fastapi-lint: noqa` or `# fastapi-lint: noqa: FAPI101`, anywhere in the file.
_FILE_NOQA = re.compile(
    rf"#[ \t]*fastapi-lint:[ \t]*noqa(?::[ \t]*(?P<codes>{_CODES}))?", re.IGNORECASE
)
_SPLIT = re.compile(r"[,\s]+")

ALL = None  # a blanket directive suppresses every code


def _codes(match: re.Match[str]) -> frozenset[str] | None:
    codes = match.group("codes")
    return frozenset(_SPLIT.split(codes.strip().upper())) if codes else ALL


@dataclass(frozen=True)
class Suppressions:
    by_line: dict[int, frozenset[str] | None]
    file_wide: frozenset[str] | bool | None  # False: no file-level directive

    @classmethod
    def scan(cls, text: str) -> Suppressions:
        by_line: dict[int, frozenset[str] | None] = {}
        line_starts: list[int] = []
        for match in _LINE_NOQA.finditer(text):
            if not line_starts:  # only files with a noqa pay for the line table
                line_starts = [0, *(m.end() for m in re.finditer("\n", text))]
            line = bisect.bisect_right(line_starts, match.start())
            by_line[line] = _merge(by_line.get(line, frozenset()), _codes(match))
        file_wide: frozenset[str] | bool | None = False
        for match in _FILE_NOQA.finditer(text):
            current = frozenset() if file_wide is False else file_wide
            file_wide = _merge(current, _codes(match))  # type: ignore[arg-type]
        return cls(by_line, file_wide)

    def suppresses(self, line: int, code: str) -> bool:
        if self.file_wide is not False and (self.file_wide is ALL or code in self.file_wide):
            return True
        if line not in self.by_line:
            return False
        codes = self.by_line[line]
        return codes is ALL or code in codes


def _merge(current: frozenset[str] | None, new: frozenset[str] | None) -> frozenset[str] | None:
    if current is ALL or new is ALL:
        return ALL
    return current | new

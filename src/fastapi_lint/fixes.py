"""Fixes as data, and their application: all fixes of a file in one pass, no overlaps.

A rule attaches a `Fix` to a finding: node replacements (by identity, on the module the rule
saw) plus imports to add. Applying a batch replaces the nodes in one transformer pass, then
adds the imports with LibCST's AddImportsVisitor, so comments and formatting survive.

The rules import this module to build fixes, so importing it must not load LibCST (see
`fastapi_lint.lazy`): only applying fixes does.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from fastapi_lint.diagnostics import (
    LINE_BREAK,
    Applicability,
    FixSummary,
    Position,
    TextEdit,
)
from fastapi_lint.lazy import libcst as cst

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@dataclass(frozen=True)
class RequiredImport:
    """`import module` (obj None) or `from module import obj`."""

    module: str
    obj: str | None = None


@dataclass(frozen=True, eq=False)
class Fix:
    title: str  # imperative: "Replace `return` with `raise`"
    applicability: Applicability
    replacements: Mapping[cst.CSTNode, cst.CSTNode]
    imports: tuple[RequiredImport, ...] = ()

    @property
    def is_safe(self) -> bool:
        return self.applicability is Applicability.SAFE

    def summary(self) -> FixSummary:
        """The fix without its nodes, for results that leave the process that checked."""
        return FixSummary(self.title, self.applicability)


@dataclass
class AppliedFixes:
    module: cst.Module
    applied: list[Fix] = field(default_factory=list)
    deferred: list[Fix] = field(default_factory=list)  # overlapped an applied fix


def apply_fixes(
    module: cst.Module,
    fixes: Sequence[Fix],
    ranges: Mapping[cst.CSTNode, tuple[Position, Position]],
) -> AppliedFixes:
    """Apply the fixes that do not overlap an earlier one (in source order); the others
    are deferred to the next round, when they are recomputed on the fixed source."""
    result = AppliedFixes(module)
    taken: list[tuple[Position, Position]] = []
    for fix in sorted(fixes, key=lambda f: min(ranges[node][0] for node in f.replacements)):
        spans = [ranges[node] for node in fix.replacements]
        if any(_overlaps(span, other) for span in spans for other in taken):
            result.deferred.append(fix)
            continue
        taken.extend(spans)
        result.applied.append(fix)
    if not result.applied:
        return result
    replacements = {old: new for fix in result.applied for old, new in fix.replacements.items()}
    fixed = _replace(module, replacements)
    imports = [RequiredImport(i.module, i.obj) for fix in result.applied for i in fix.imports]
    if imports:
        fixed = _add_imports(fixed, list(dict.fromkeys(imports)))
    result.module = fixed
    return result


def _replace(module: cst.Module, replacements: Mapping[cst.CSTNode, cst.CSTNode]) -> cst.Module:
    """One transformer pass that swaps every replaced node (defined here, not at module
    level, so that importing this module does not load LibCST)."""

    class Replace(cst.CSTTransformer):
        def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def]
            return replacements.get(original_node, updated_node)

    return module.visit(Replace())


def _add_imports(module: cst.Module, imports: Sequence[RequiredImport]) -> cst.Module:
    # libcst.codemod costs half a second to import: only runs that add imports pay for it.
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor, ImportItem

    items = [ImportItem(i.module, i.obj) for i in imports]
    return AddImportsVisitor(CodemodContext(), items).transform_module(module)


def _overlaps(a: tuple[Position, Position], b: tuple[Position, Position]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def text_edits(before: str, after: str) -> list[TextEdit]:
    """The smallest line-anchored edits turning `before` into `after` (for JSON output)."""
    old_lines, new_lines = _lines(before), _lines(after)
    edits = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old, new = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        prefix = len(_common_prefix(old, new))
        suffix = len(_common_prefix(old[prefix:][::-1], new[prefix:][::-1]))
        # Whole words read better: `return` -> `raise`, not `eturn` -> `aise`.
        while prefix and _is_word(old[prefix - 1]):
            prefix -= 1
        while suffix and _is_word(old[len(old) - suffix]):
            suffix -= 1
        start = _advance(Position(i1 + 1, 1), old[:prefix])
        end = _advance(start, old[prefix : len(old) - suffix])
        edits.append(TextEdit(new[prefix : len(new) - suffix], start, end))
    return edits


def _is_word(character: str) -> bool:
    return character.isalnum() or character == "_"


def _common_prefix(a: str, b: str) -> str:
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return a[:length]


def _lines(text: str) -> list[str]:
    """The lines of the text with their ends, broken where Python (and ruff) breaks them:
    `str.splitlines` also breaks at form feeds, `\x1c`-`\x1e`, `\x85` and `\u2028`, which
    would shift every row after them."""
    return _LINE.findall(text)


def _advance(position: Position, text: str) -> Position:
    *breaks, last = LINE_BREAK.split(text)
    if not breaks:
        return Position(position.line, position.column + len(text))
    return Position(position.line + len(breaks), len(last) + 1)


def unified_diff(path: str, before: str, after: str) -> str:
    """A unified diff, with GNU diff's marker after a last line that has no line break (else
    it would run into the next line of the diff)."""
    lines = difflib.unified_diff(_lines(before), _lines(after), fromfile=path, tofile=path)
    return "".join(
        line if line.endswith(("\n", "\r")) else f"{line}\n\\ No newline at end of file\n"
        for line in lines
    )


class FileChangedError(Exception):
    """The file changed on disk while we were fixing it; it was left as it is now."""


def write_atomically(path: Path, text: str, encoding: str, expected: bytes) -> None:
    """Replace `path` with `text` through a temporary file and a rename, keeping its mode, so
    a reader never sees half a file and a crash never loses it. `expected` is the content the
    fix was computed from: if the file no longer has it, another process changed it. A
    symbolic link stays a link: its target is replaced."""
    data = text.encode(encoding)
    path = Path(os.path.realpath(path))
    if path.read_bytes() != expected:
        raise FileChangedError(f"{path} changed while it was being fixed")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise

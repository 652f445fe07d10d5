"""Fixes as data, and their application: all fixes of a file in one pass, no overlaps.

A rule attaches a `Fix` to a finding: node replacements (by identity, on the module the rule
saw) plus imports to add. Applying a batch replaces the nodes in one transformer pass, then
adds the imports (`add_imports`, as LibCST's AddImportsVisitor would), so comments and
formatting survive. When a batch gives code that does not compile, `drop_breaking_fixes`
finds the fixes to blame.
(The JSON output's edits of each fix alone are computed without applying it: see
`fastapi_lint.fix_edits`.)

The rules import this module to build fixes, so importing it must not load LibCST (see
`fastapi_lint.lazy`): only applying fixes does.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from fastapi_lint.diagnostics import (
    LINE_BREAK,
    Applicability,
    FixSummary,
    Position,
    TextEdit,
)
from fastapi_lint.lazy import libcst as cst

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
NodeT = TypeVar("NodeT")


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

    def identity(self, module: cst.Module) -> tuple[str, ...]:
        """What the fix does, as text: rules make their fixes anew on each round of fixing,
        and the same fix made on a later round's text has the same identity."""
        return (
            self.title,
            *(
                _code(module, old) + "\0" + _code(module, new)
                for old, new in self.replacements.items()
            ),
        )


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
    fixed = replace_nodes(module, replacements)
    imports = [RequiredImport(i.module, i.obj) for fix in result.applied for i in fix.imports]
    if imports:
        fixed = add_imports(fixed, list(dict.fromkeys(imports)))
    result.module = fixed
    return result


def drop_breaking_fixes(
    module: cst.Module,
    fixes: Sequence[Fix],
    ranges: Mapping[cst.CSTNode, tuple[Position, Position]],
    breaks: Callable[[str], str | None],
    reason: str,
) -> tuple[AppliedFixes, list[tuple[Fix, str]]]:
    """`fixes` (in source order, none overlapping) give code that `breaks` rejects for
    `reason`: find the fix whose addition breaks it by bisection over the source order, drop
    it, and repeat with the others until they apply cleanly. Returns the application of the
    fixes kept, and each fix dropped with why."""
    kept = list(fixes)
    dropped: list[tuple[Fix, str]] = []
    while True:
        good, bad = 0, len(kept)  # kept[:good] applies cleanly, kept[:bad] breaks the code
        while bad - good > 1:
            middle = (good + bad) // 2
            problem = breaks(apply_fixes(module, kept[:middle], ranges).module.code)
            if problem is None:
                good = middle
            else:
                bad, reason = middle, problem
        dropped.append((kept.pop(bad - 1), reason))
        if not kept:
            return AppliedFixes(module), dropped
        result = apply_fixes(module, kept, ranges)
        problem = breaks(result.module.code)
        if problem is None:
            return result, dropped
        reason = problem


def replace_nodes(node: NodeT, replacements: Mapping[cst.CSTNode, object]) -> NodeT:
    """One transformer pass over `node` that swaps every replaced node below it, or `node`
    itself (defined here, not at module level, so that importing this module does not load
    LibCST)."""

    class Replace(cst.CSTTransformer):
        def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def]
            return replacements.get(original_node, updated_node)

    return node.visit(Replace())  # type: ignore[return-value]


def add_imports(module: cst.Module, imports: Sequence[RequiredImport]) -> cst.Module:
    """The module with the imports it lacks, as LibCST's AddImportsVisitor adds them (the
    tests compare the two), without its cost: importing `libcst.codemod` takes half a second,
    and each use of the visitor tens of milliseconds, for a walk of the whole tree. Only the
    imports at the top of the module (after a docstring) count: one there that brings the name
    makes it present; `from m import x` joins the first `from m import` line there; the others
    go after those imports, `import m` lines first, then `from` lines, each kind sorted, and a
    blank line between them and the code."""
    body = module.body
    first = 1 if _docstring_first(module) else 0
    top = first
    while top < len(body) and is_import_line(body[top]):
        top += 1
    head: list = list(body[:top])  # import lines after the first statement
    modules, names = _lacking(imports, [line.body[0] for line in head[first:]])
    if not modules and not names:
        return module
    for index in range(first, top):  # `from m import` lines take the names they lack
        statement = head[index].body[0]
        star = isinstance(statement, cst.ImportFrom) and isinstance(statement.names, cst.ImportStar)
        lacking = None if star else names.pop(_from_module(statement), None)  # type: ignore[arg-type]
        if lacking is not None:
            added = [cst.ImportAlias(cst.Name(name)) for name in sorted(lacking)]
            new = statement.with_changes(names=[*added, *statement.names])
            head[index] = head[index].with_changes(body=[new])
    rest = list(body[top:])
    if not modules and not names:
        return module.with_changes(body=[*head, *rest])
    config = module.config_for_parsing
    lines = {
        name: cst.parse_statement(f"from {name} import {', '.join(sorted(objects))}", config)
        for name, objects in names.items()
    }
    future = [line for name, line in lines.items() if name == "__future__"]
    later = [
        *(cst.parse_statement(f"import {name}", config) for name in sorted(modules)),
        *(line for name, line in lines.items() if name != "__future__"),
    ]
    if rest and (not rest[0].leading_lines or rest[0].leading_lines[0].comment is not None):
        rest[0] = rest[0].with_changes(leading_lines=(cst.EmptyLine(), *rest[0].leading_lines))
    return module.with_changes(body=[*head[:first], *future, *head[first:], *later, *rest])


def _lacking(
    imports: Sequence[RequiredImport], statements: Sequence[cst.CSTNode]
) -> tuple[set[str], dict[str, set[str]]]:
    """The modules to import, and the names to import by module (in module order), that the
    import statements do not bring already."""
    modules = {i.module for i in imports if i.obj is None}
    names: dict[str, set[str]] = {}
    for i in sorted(imports, key=lambda i: i.module):
        if i.obj is not None:
            names.setdefault(i.module, set()).add(i.obj)
    for statement in statements:
        if isinstance(statement, cst.Import):
            modules -= {a.evaluated_name for a in statement.names if a.asname is None}
            continue
        module = _from_module(statement)
        if module not in names:
            continue
        if isinstance(statement.names, cst.ImportStar):  # type: ignore[attr-defined]
            del names[module]
            continue
        names[module] -= {a.evaluated_name for a in statement.names if a.asname is None}  # type: ignore[attr-defined]
        if not names[module]:
            del names[module]
    return modules, names


def _docstring_first(module: cst.Module) -> bool:
    """Whether the first statement is a docstring or `__strict__ = ...` (imports go after)."""
    if not module.body or not isinstance(module.body[0], cst.SimpleStatementLine):
        return False
    statements = module.body[0].body
    if len(statements) != 1:
        return False
    statement = statements[0]
    if isinstance(statement, cst.Expr):
        return isinstance(statement.value, cst.SimpleString)
    return (
        isinstance(statement, cst.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0].target, cst.Name)
        and statement.targets[0].target.value == "__strict__"
    )


def is_import_line(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Import | cst.ImportFrom)
    )


def _from_module(statement: cst.CSTNode) -> str | None:
    """The module of `from module import ...` (None for a relative import or another
    statement)."""
    if not isinstance(statement, cst.ImportFrom) or statement.relative:
        return None
    return _dotted(statement.module) if statement.module is not None else None


def _dotted(node: cst.CSTNode) -> str:
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return node.value  # type: ignore[attr-defined]


def _code(module: cst.Module, node: object) -> str:
    return module.code_for_node(node) if isinstance(node, cst.CSTNode) else type(node).__name__


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
    """Replace `path` with `text` through a temporary file and a rename, keeping its mode (and
    its owner, where allowed: root fixing a mounted checkout), so a reader never sees half a
    file and a crash never loses it. `expected` is the content the fix was computed from: if
    the file no longer has it, another process changed it. A symbolic link stays a link: its
    target is replaced."""
    data = text.encode(encoding)
    path = Path(os.path.realpath(path))
    if path.read_bytes() != expected:
        raise FileChangedError(f"{path} changed while it was being fixed")
    status = os.stat(path)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        created = os.stat(temporary)
        if (created.st_uid, created.st_gid) != (status.st_uid, status.st_gid):
            with suppress(OSError):  # only root may give a file away
                os.chown(temporary, status.st_uid, status.st_gid)
        os.chmod(temporary, stat.S_IMODE(status.st_mode))  # after chown, which clears setuid
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise

"""The text edits of each fix alone (the JSON `fix` field), from where its nodes are.

Applying a fix to the tree to find its edits costs a transform of the whole tree and the code
generation of the whole file, for every fix. Instead, one replay of LibCST's code generation
per file (as `fastapi_lint.positions` does) records where the code of each replaced node
starts and ends, the indentation there and the node's ancestors. The text a fix gives is then
the source with each replaced node's code swapped for the code of its replacement, generated
in the same place. Where a node's code depends on its parent (a comma or a semicolon the
parent adds, `elif`, a removal that leaves a block empty), the nearest ancestor whose code
does not is regenerated instead. The imports a fix requires are added by
`add_imports`, as `apply_fixes` does, but to a module made of the file's first statements
only: all it reads and all it changes. The edits are the line diff of the two texts
(`text_edits`), so they are the edits that applying the fix to the tree gives.

This module subclasses LibCST's code generation state at import time, so it loads LibCST:
only the engine imports it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache

import libcst as cst
from libcst._nodes.internal import CodegenState

from fastapi_lint.diagnostics import TextEdit
from fastapi_lint.fixes import (
    Fix,
    RequiredImport,
    add_imports,
    is_import_line,
    replace_nodes,
    text_edits,
)


class _AllSpansFound(Exception):
    pass


@dataclass
class _Span:
    """Where a node's code is (offsets in the source, end exclusive), the indentation it is
    generated with, and its parent (None for the module)."""

    start: int
    end: int
    indent: tuple[str, ...]
    parent: cst.CSTNode | None


@dataclass
class _SpanState(CodegenState):
    """Replays code generation counting characters, and records the span of every target
    and of each of its ancestors; stops when they are all done."""

    targets: frozenset[cst.CSTNode] = frozenset()
    spans: dict[cst.CSTNode, _Span] = field(default_factory=dict)
    offset: int = 0
    _stack: list[tuple[cst.CSTNode, int, int]] = field(default_factory=list)
    _reached: int = 0
    _open: int = 0  # spans started and not ended

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.offset += len(token)

    def add_token(self, value: str) -> None:
        self.offset += len(value)

    def pop_trailing_newline(self) -> None:
        pass  # counted: `edits` adds the newline the module leaves out

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._stack.append((node, self.offset, len(self.indent_tokens)))
        if node not in self.targets:
            return
        self._reached += 1
        parent = None
        for ancestor, start, depth in self._stack:  # outermost first: the module
            if ancestor not in self.spans:
                indent = tuple(self.indent_tokens[:depth])
                self.spans[ancestor] = _Span(start, -1, indent, parent)
                self._open += 1
            parent = ancestor

    def after_codegen(self, node: cst.CSTNode) -> None:
        self._stack.pop()
        span = self.spans.get(node)
        if span is None or span.end >= 0:
            return
        span.end = self.offset
        self._open -= 1
        # The module is the last to end: stop at its last statement holding a target.
        if self._reached >= len(self.targets) and self._open == 1:
            raise _AllSpansFound


def _spans(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[cst.CSTNode, _Span]:
    state = _SpanState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        targets=frozenset(nodes),
    )
    with suppress(_AllSpansFound):
        module._codegen(state)
    return state.spans


@cache
def _takes_context(kind: type) -> bool:
    """Whether the parent passes arguments to the node's code generation (a default comma,
    semicolon or `elif`): its code depends on where it is, not only on itself."""
    return len(inspect.signature(kind._codegen_impl).parameters) > 2  # type: ignore[attr-defined]


class FixEdits:
    """The edits of each fix of one checked file; one replay of code generation serves
    every fix of the file."""

    def __init__(self, module: cst.Module, text: str, fixes: Sequence[Fix]) -> None:
        self.module = module
        self.text = text
        # The counted code ends with a newline even where the file does not (see
        # `pop_trailing_newline`): count in a text that has it.
        self._tail = "" if module.has_trailing_newline else module.default_newline
        self._spans = _spans(module, (node for fix in fixes for node in fix.replacements))

    def covers(self, fix: Fix) -> bool:
        return all(node in self._spans for node in fix.replacements)

    def edits(self, fix: Fix) -> list[TextEdit]:
        return text_edits(self.text, self.fixed_text(fix))

    def fixed_text(self, fix: Fix) -> str:
        """The text after applying `fix` alone (what `apply_fixes` gives, with no tree
        transform)."""
        replacements = fix.replacements
        targets = self._targets(replacements)
        padded = self.text + self._tail
        pieces, done = [], 0
        for target in sorted(targets, key=lambda node: self._spans[node].start):
            span = self._spans[target]
            pieces += [padded[done : span.start], self._code(targets[target], span)]
            done = span.end
        pieces.append(padded[done:])
        fixed = "".join(pieces)
        if fix.imports:
            fixed = self._with_imports(fixed, targets, fix.imports)
        return fixed[: len(fixed) - len(self._tail)]

    def _targets(self, replacements: Mapping[cst.CSTNode, object]) -> dict[cst.CSTNode, object]:
        """The nodes whose code to regenerate, each with what replaces it: the replaced nodes,
        or the nearest ancestor whose code does not depend on its parent; none inside
        another (a replaced node replaces what is inside it, as in a tree transform)."""
        targets: dict[cst.CSTNode, object] = {}
        for old, new in replacements.items():
            target: cst.CSTNode = old
            while self._in_context(target, new):
                target = self._spans[target].parent  # type: ignore[assignment]
                new = replace_nodes(target, replacements)
            targets[target] = new
        return {node: new for node, new in targets.items() if not self._inside(node, targets)}

    def _in_context(self, node: cst.CSTNode, new: object) -> bool:
        parent = self._spans[node].parent
        if isinstance(parent, cst.Module):  # the module adds nothing around its children
            return False
        removed = not isinstance(new, cst.CSTNode) or new._is_removable()
        if removed and not isinstance(node, cst.EmptyLine | cst.Decorator):
            return True  # a removal may leave a block empty (`pass`) or a line without code
        return _takes_context(type(node))

    def _inside(self, node: cst.CSTNode, targets: Mapping[cst.CSTNode, object]) -> bool:
        parent = self._spans[node].parent
        while parent is not None:
            if parent in targets:
                return True
            parent = self._spans[parent].parent
        return False

    def _code(self, new: object, span: _Span) -> str:
        """The code of `new` where the replaced node was ("" for a removal)."""
        if isinstance(new, cst.FlattenSentinel):
            return "".join(self._code(node, span) for node in new.nodes)
        if not isinstance(new, cst.CSTNode) or new._is_removable():
            return ""
        state = CodegenState(
            default_indent=self.module.default_indent,
            default_newline=self.module.default_newline,
            indent_tokens=list(span.indent),
        )
        new._codegen(state)
        return "".join(state.tokens)

    def _with_imports(
        self,
        fixed: str,
        targets: Mapping[cst.CSTNode, object],
        imports: Sequence[RequiredImport],
    ) -> str:
        """`fixed` (padded) with the imports added as `add_imports` adds them to the fixed
        module. It reads and changes only the first statement, the imports that follow it
        and the leading lines of the statement after them; so it is given a module of those
        statements, as fixed, with a stand-in for the statement after the imports."""
        module = self.module
        header = list(self._fixed_children(module.header, targets))
        body: list[cst.CSTNode] = []
        for statement in self._fixed_children(module.body, targets):
            body.append(statement)
            if len(body) > 1 and not is_import_line(statement):
                break
        else:  # the module is its first statement and imports: give it whole
            footer = list(self._fixed_children(module.footer, targets))
            small = module.with_changes(header=header, body=body, footer=footer)
            return add_imports(small, imports).code + self._tail
        # The statement after the imports: `add_imports` may add a blank line before it.
        stand_in = cst.SimpleStatementLine([cst.Pass()], leading_lines=body[-1].leading_lines)
        small = module.with_changes(
            header=header, body=[*body[:-1], stand_in], footer=(), has_trailing_newline=True
        )
        stand_in_code = "pass" + module.default_newline
        added = add_imports(small, imports).code
        return added[: -len(stand_in_code)] + fixed[len(small.code) - len(stand_in_code) :]

    def _fixed_children(
        self, children: Sequence[cst.CSTNode], targets: Mapping[cst.CSTNode, object]
    ) -> Iterator[cst.CSTNode]:
        """Children of the module after the fix, as a tree transform leaves them."""
        changed = {self._top(node) for node in targets}
        for child in children:
            new = replace_nodes(child, targets) if child in changed else child
            if isinstance(new, cst.FlattenSentinel):
                yield from new.nodes
            elif isinstance(new, cst.CSTNode) and not new._is_removable():
                yield new

    def _top(self, node: cst.CSTNode) -> cst.CSTNode:
        """The child of the module that holds `node`."""
        while not isinstance(self._spans[node].parent, cst.Module):
            node = self._spans[node].parent  # type: ignore[assignment]
        return node

"""Line and column of the few nodes we report, without LibCST's PositionProvider.

PositionProvider records a range for every node of the module, which costs about twice the
parse itself. We only need the ranges of reported nodes, so we replay LibCST's code generation
with a state that merely counts lines and columns, records the targets, and stops as soon as
the last target is done. Ranges follow PositionProvider's "syntactic" semantics: leading
whitespace, comments and enclosing parentheses are not part of a node. `comments` finds every
comment the same way (for FAPI003, unused-noqa).

This module subclasses LibCST's code generation state at import time, so it loads LibCST:
only the engine imports it at module level.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState

from fastapi_lint.diagnostics import LINE_BREAK, Position

__all__ = ["LINE_BREAK", "Comment", "comments", "node_ranges"]
_ORIGIN = Position(1, 1)


class _AllTargetsFound(Exception):
    pass


@dataclass
class _CountingState(CodegenState):
    targets: frozenset[cst.CSTNode] = frozenset()
    ranges: dict[cst.CSTNode, tuple[Position, Position]] = field(default_factory=dict)
    line: int = 1
    column: int = 0  # 0-based while counting; reported 1-based
    _starts: dict[cst.CSTNode, Position] = field(default_factory=dict)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self._advance(token)

    def add_token(self, value: str) -> None:
        self._advance(value)

    def _advance(self, text: str) -> None:
        newlines = text.count("\n") or text.count("\r")
        if newlines:
            self.line += newlines
            self.column = len(text) - max(text.rfind("\n"), text.rfind("\r")) - 1
        else:
            self.column += len(text)

    def pop_trailing_newline(self) -> None:
        pass

    def before_codegen(self, node: cst.CSTNode) -> None:
        if node in self.targets:
            self._starts.setdefault(node, Position(self.line, self.column + 1))

    def after_codegen(self, node: cst.CSTNode) -> None:
        if node in self.targets:
            self._record(node, self._starts[node])

    @contextmanager
    def record_syntactic_position(self, node: cst.CSTNode, **_hoisted: object) -> Iterator[None]:
        if node not in self.targets:
            yield
            return
        start = Position(self.line, self.column + 1)
        yield
        self._record(node, start)

    def _record(self, node: cst.CSTNode, start: Position) -> None:
        # The syntactic range is recorded first (innermost); keep it, as PositionProvider does.
        if node not in self.ranges:
            self.ranges[node] = (start, Position(self.line, self.column + 1))
            if len(self.ranges) == len(self.targets):
                raise _AllTargetsFound


def node_ranges(
    module: cst.Module, nodes: Iterable[cst.CSTNode]
) -> dict[cst.CSTNode, tuple[Position, Position]]:
    """Map each node to its (start, end) position; end is exclusive, as in ruff."""
    targets = frozenset(nodes)
    if not targets:
        return {}
    state = _CountingState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        targets=targets,
    )
    with suppress(_AllTargetsFound):  # raised as soon as the last target is recorded
        module._codegen(state)
    return state.ranges


@dataclass(frozen=True)
class Comment:
    node: cst.Comment
    parent: cst.TrailingWhitespace | cst.EmptyLine
    start: Position
    ranges: dict[cst.CSTNode, tuple[Position, Position]]  # of the comment and of its parent


@dataclass
class _CommentState(_CountingState):
    """Replays code generation to find every comment and where it is: comments are not
    visited by the semantic model, and this pass runs only in files where a `noqa` directive
    looks unused."""

    comments: dict[int, list[Comment]] = field(default_factory=dict)
    _parent: cst.TrailingWhitespace | cst.EmptyLine | None = None
    _parent_start: Position = _ORIGIN
    _comment: cst.Comment | None = None
    _comment_range: tuple[Position, Position] = (_ORIGIN, _ORIGIN)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.TrailingWhitespace | cst.EmptyLine) and node.comment is not None:
            self._parent, self._parent_start = node, self._here()
        elif isinstance(node, cst.Comment):
            self._comment = node
            start = self._here()
            self._comment_range = (start, Position(start.line, start.column + len(node.value)))

    def after_codegen(self, node: cst.CSTNode) -> None:
        if node is not self._parent or self._comment is None:
            return
        start = self._comment_range[0]
        ranges = {self._comment: self._comment_range, node: (self._parent_start, self._here())}
        comment = Comment(self._comment, node, start, ranges)  # type: ignore[arg-type]
        self.comments.setdefault(start.line, []).append(comment)
        self._parent = self._comment = None

    def _here(self) -> Position:
        return Position(self.line, self.column + 1)


def comments(module: cst.Module) -> dict[int, list[Comment]]:
    """Every comment of the module with its range, by line."""
    state = _CommentState(
        default_indent=module.default_indent, default_newline=module.default_newline
    )
    module._codegen(state)
    return state.comments

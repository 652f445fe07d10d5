"""Line and column of the few nodes we report, without LibCST's PositionProvider.

PositionProvider records a range for every node of the module, which costs about twice the
parse itself. We only need the ranges of reported nodes, so we replay LibCST's code generation
with a state that merely counts lines and columns, records the targets, and stops as soon as
the last target is done. Given the source text, we replay only the top-level statements that
hold a target, each located by finding its code in the text. Ranges follow PositionProvider's
"syntactic" semantics: leading whitespace, comments and enclosing parentheses are not part of
a node. `comments` finds every comment the same way (for FAPI003, unused-noqa).

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
from fastapi_lint.semantic import children

__all__ = ["LINE_BREAK", "Comment", "comments", "node_ranges"]
_ORIGIN = Position(1, 1)
Ranges = dict[cst.CSTNode, tuple[Position, Position]]  # (start, end), end exclusive


class _AllTargetsFound(Exception):
    pass


@dataclass
class _CountingState(CodegenState):
    targets: frozenset[cst.CSTNode] = frozenset()
    ranges: Ranges = field(default_factory=dict)
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


@dataclass
class _PrefixState(_CountingState):
    """Counts from the start of one top-level statement and keeps the code generated."""

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        super().add_indent_tokens()

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self._advance(value)


# Code generation recurses, about two frames per level of the tree: replaying a statement
# nested some 450 levels deep exceeds the recursion limit, and the engine reports the file as
# nested too deeply. A statement deeper than this is not skipped but replayed with the rest,
# so that skipping statements never hides that.
_MAX_SKIPPED_DEPTH = 100


def node_ranges(module: cst.Module, nodes: Iterable[cst.CSTNode], text: str = "") -> Ranges:
    """Map each node to its (start, end) position; end is exclusive, as in ruff. `text`, the
    module's code, lets us skip the statements that hold no target."""
    targets = frozenset(nodes)
    if not targets:
        return {}
    if text and "\r" not in text:  # lines are counted as code generation counts them
        ranges = _by_statement(module, targets, text)
        if ranges is not None:
            return ranges
    state = _CountingState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        targets=targets,
    )
    with suppress(_AllTargetsFound):  # raised as soon as the last target is recorded
        module._codegen(state)
    return state.ranges


def _by_statement(module: cst.Module, targets: frozenset[cst.CSTNode], text: str) -> Ranges | None:
    """The ranges from replaying only the top-level statements that hold targets; None when a
    target is outside them, a statement's code is not found exactly once in `text`, or a
    statement before the last target is nested too deeply to skip safely."""
    remaining = set(targets)
    ranges: Ranges = {}
    for statement in module.body:
        held = _held(statement, remaining)
        if held is None:
            return None
        if not held:
            continue
        found = _statement_ranges(module, statement, frozenset(held), text)
        if found is None:
            return None
        ranges.update(found)
        remaining -= held
        if not remaining:
            return ranges
    return None  # e.g. the module itself


def _held(statement: cst.CSTNode, targets: set[cst.CSTNode]) -> set[cst.CSTNode] | None:
    """The targets in the statement's subtree, walking only the nodes that may hold code (the
    nodes we report do); None when the walk goes deeper than `_MAX_SKIPPED_DEPTH`."""
    held = set()
    stack = [(statement, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > _MAX_SKIPPED_DEPTH:
            return None
        if node in targets:
            held.add(node)
            if len(held) == len(targets):
                break
        stack.extend((child, depth + 1) for child in children(node))
    return held


def _statement_ranges(
    module: cst.Module, statement: cst.CSTNode, targets: frozenset[cst.CSTNode], text: str
) -> Ranges | None:
    state = _PrefixState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        targets=targets,
    )
    with suppress(_AllTargetsFound):
        statement._codegen(state)
    # A top-level statement starts a line. If its code up to the last target, or else its
    # whole code, starts exactly one line of the text, that line is where the statement is.
    start = _only_line_start(text, "".join(state.tokens))
    if start is None:
        start = _only_line_start(text, module.code_for_node(statement))
        if start is None:
            return None
    offset = text.count("\n", 0, start)
    return {
        node: (
            Position(first.line + offset, first.column),
            Position(last.line + offset, last.column),
        )
        for node, (first, last) in state.ranges.items()
    }


def _only_line_start(text: str, code: str) -> int | None:
    """The offset of the one line of `text` that starts with `code`, if only one does."""
    if text.startswith(code):
        start = 0
    else:
        start = text.find("\n" + code) + 1
        if not start:
            return None
    return start if text.find("\n" + code, start) == -1 else None


@dataclass(frozen=True)
class Comment:
    node: cst.Comment
    parent: cst.TrailingWhitespace | cst.EmptyLine
    start: Position
    ranges: Ranges  # of the comment and of its parent


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

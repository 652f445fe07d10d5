"""The routes of each app in registration order, for the rules that need the whole app
(FAPI103 route-shadowed, FAPI104 duplicate-route, FAPI111 duplicate-operation-id).

The project index records, for every row, the chain of registrations that brings it to its
app (`Row.sites`: the `include_router` calls, then the route's own decorator or call) and
their order (`Row.order`). The index orders registrations made in different files or scopes
by a guess (the module's name); the rules only trust an order that Python guarantees: see
`registered_before`.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi_lint.diagnostics import Position, Related
from fastapi_lint.project.index import UNKNOWN_PART, ProjectIndex, Row, Site
from fastapi_lint.project.matching import Pattern, mount_pattern, parse_path
from fastapi_lint.project.summary import parse

if TYPE_CHECKING:
    from fastapi_lint.semantic import Route

# Compound statements whose bodies may not run, may stop half-way, or run several times: a
# `with` too, whose context manager may swallow an exception (`pytest.raises`, `suppress`).
# (`try/except*` is 3.11+.)
_CONDITIONAL = (
    ast.If,
    ast.With,
    ast.AsyncWith,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.Try,
    getattr(ast, "TryStar", ast.Try),
    ast.Match,
)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


@dataclass
class AppTables:
    """The rows each app serves, in registration order (built once per index)."""

    by_app: dict[str, list[Row]] = field(default_factory=dict)

    @classmethod
    def build(cls, index: ProjectIndex) -> AppTables:
        tables = cls()
        for row in index.rows:
            if row.app is not None:
                tables.by_app.setdefault(row.app, []).append(row)
        for rows in tables.by_app.values():
            rows.sort(key=lambda row: row.order)
        return tables

    def earlier(self, row: Row) -> Iterator[Row]:
        """The rows of the same app registered before `row`, first registered first."""
        for other in self.by_app.get(row.app or "", ()):
            if other.order >= row.order:
                return
            yield other


def app_tables(index: ProjectIndex) -> AppTables:
    return index.analysis(AppTables.build)


def route_rows(route: Route) -> Sequence[Row]:
    """The rows of one route of the per-file model. Two calls registering one handler in one
    scope (`add_api_route("/a", h)`, then `add_api_route("/b", h)`) share their rows: each
    keeps those of its own path and methods, and none when that does not tell them apart."""
    rows, path, methods = route.rows, route.path, route.methods
    if len({(row.file, row.line) for row in rows}) <= 1:
        return rows
    if path is None or methods is None:
        return ()
    kept = [
        row
        for row in rows
        if row.path.endswith(path) and frozenset(row.methods) == frozenset(methods)
    ]
    return kept if len({(row.file, row.line) for row in kept}) == 1 else ()


def pattern(row: Row) -> Pattern | None:
    """What the row matches, or None when its path is not fully known."""
    if UNKNOWN_PART in row.path:
        return None
    return mount_pattern(row.path) if row.kind == "mount" else parse_path(row.path)


def known_methods(row: Row) -> frozenset[str] | None:
    """The row's methods (WEBSOCKET for a websocket), None when an expression decides."""
    if row.kind == "mount" or not row.methods or UNKNOWN_PART in row.methods:
        return None
    return frozenset(row.methods)


def label(row: Row) -> str:
    """`GET /items/{item_id}` for messages."""
    return f"{'|'.join(row.methods)} {row.path}"


def endpoint_name(row: Row) -> str:
    """`read_item` for `shop.items:read_item`."""
    return (row.endpoint or "?").rpartition(":")[2]


def where(index: ProjectIndex, file: Path, line: int) -> str:
    """`routers/items.py:25`, relative to the project root."""
    return f"{display(index, file)}:{line}"


def display(index: ProjectIndex, file: Path) -> str:
    if index.root is not None:
        try:
            return file.relative_to(index.root).as_posix()
        except ValueError:
            pass
    return file.as_posix()


def related(file: Path, line: int, message: str) -> Related:
    """A related location at the first character of the line's code."""
    return Related(file, Position(line, _indent(file, line) + 1), message)


def standard_matching(index: ProjectIndex, row: Row) -> bool:
    """Whether the row's route matches requests as `APIRoute` does: none of the routers
    it is registered through sets `route_class=` (a route class may override `matches`),
    or may, through `**options`."""
    for site in row.sites:
        info = index.objects.get(site.receiver)
        if info is None:
            return False
        shared = [index.objects.get(template) for template in info.templates]
        for candidate in (info, *shared):
            if candidate is not None and candidate.keywords.keys() & {"route_class", "**"}:
                return False
    return True


# -- whether one registration certainly comes before another ------------------------------


def parting_sites(first: Row, then: Row) -> tuple[Site, Site] | None:
    """The two registrations where the chains of two rows of one app part: two
    `include_router` calls for a router included twice, the routes themselves for two
    routes of one router."""
    level = _split(first, then)
    return (first.sites[level], then.sites[level]) if level is not None else None


def _split(first: Row, then: Row) -> int | None:
    """The level of `order` (and `sites`) where two rows of one app part."""
    if len(first.sites) != len(first.order) or len(then.sites) != len(then.order):
        return None
    for level, (a, b) in enumerate(zip(first.order, then.order, strict=False)):
        if a != b:
            return level
    return None


def registered_before(index: ProjectIndex, first: Row, then: Row) -> bool:
    """Whether, whenever `then` is registered, `first` has been registered before it.

    The two chains of registrations part at two calls on the same object, in the same
    function (or module body) of the same file; `first`'s comes earlier in the source and
    runs unconditionally there. Below that point, each of `first`'s registrations is made
    unconditionally where its receiver is created (`router = APIRouter()`, then
    `@router.get(...)` in the same module body). Anything else (registrations spread over
    modules, made in functions that may not run, or under an `if`) leaves the order to
    the code that runs, and the rules stay silent.
    """
    split = _split(first, then)
    if split is None:
        return False
    mine, theirs = first.sites[split], then.sites[split]
    same_call_site = (mine.file, mine.scope, mine.receiver) == (
        theirs.file,
        theirs.scope,
        theirs.receiver,
    )
    if not same_call_site or mine.line >= theirs.line or not _unconditional(mine):
        return False
    if _stacked(first, then, split):
        return False
    return all(_made_with_receiver(index, site) for site in first.sites[split + 1 :])


def _stacked(first: Row, then: Row, split: int) -> bool:
    """Two decorators of one function: Python applies the lowest first, so the source order
    is the reverse of the registration order."""
    if split != len(first.sites) - 1 or split != len(then.sites) - 1:
        return False
    keys = (first.route_key, then.route_key)
    if None in keys:
        return False
    (module, function, position), (other_module, other_function, other_position) = keys
    same_function = (module, function) == (other_module, other_function)
    return same_function and position.startswith("@") and other_position.startswith("@")


def _made_with_receiver(index: ProjectIndex, site: Site) -> bool:
    """The registration runs whenever its receiver is created: same module and scope, not
    under a condition, and the receiver is a created object (not a parameter)."""
    receiver = index.objects.get(site.receiver)
    if receiver is None or receiver.is_param:
        return False
    if (receiver.module, receiver.scope) != (site.module, site.scope):
        return False
    return _unconditional(site)


def _unconditional(site: Site) -> bool:
    lines = _file_facts(site.file).guarded
    return lines.get(site.line) is False


# -- facts read from other files: which lines run under a condition ------------------------


@dataclass
class _FileFacts:
    lines: list[str]
    guarded: dict[int, bool]  # line -> whether a statement on it may not run


_FACTS: dict[tuple[Path, int, int], _FileFacts] = {}


def _file_facts(path: Path) -> _FileFacts:
    try:
        stat = path.stat()
        key = (path, stat.st_size, stat.st_mtime_ns)
    except OSError:
        return _FileFacts([], {})
    facts = _FACTS.get(key)
    if facts is None:
        facts = _FACTS[key] = _read_facts(path)
    return facts


def _read_facts(path: Path) -> _FileFacts:
    try:
        data = path.read_bytes()
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (OSError, UnicodeError, SyntaxError, LookupError):
        return _FileFacts([], {})
    tree = parse(text)
    guarded: dict[int, bool] = {}
    if tree is not None:
        _mark_block(tree.body, False, guarded)
    return _FileFacts(text.splitlines(), guarded)


def _mark_block(body: list[ast.stmt], guarded: bool, lines: dict[int, bool]) -> None:
    """Record, for the lines of each statement's own code, whether it may not run: it is
    inside an `if`, a loop, a `try`, a `with` or a `match` of its function, or follows one
    that may `return` early."""
    returned = False
    for statement in body:
        here = guarded or returned
        _mark_statement(statement, here, lines)
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            _mark_block(statement.body, False, lines)
        elif isinstance(statement, ast.ClassDef):
            _mark_block(statement.body, here, lines)
        elif isinstance(statement, _CONDITIONAL):
            for block in _blocks(statement):
                _mark_block(block, True, lines)
            returned = returned or _may_return(statement)


def _mark_statement(statement: ast.stmt, guarded: bool, lines: dict[int, bool]) -> None:
    for child in ast.iter_child_nodes(statement):
        if isinstance(child, ast.stmt | ast.excepthandler | ast.match_case):
            continue
        for node in ast.walk(child):
            line = getattr(node, "lineno", None)
            if line is not None:
                lines[line] = lines.get(line, False) or guarded
    lines[statement.lineno] = lines.get(statement.lineno, False) or guarded


def _blocks(statement: ast.stmt) -> Iterator[list[ast.stmt]]:
    for name in ("body", "orelse", "finalbody"):
        yield getattr(statement, name, None) or []
    for handler in getattr(statement, "handlers", None) or []:
        yield handler.body
    for case in getattr(statement, "cases", None) or []:
        yield case.body


def _may_return(statement: ast.stmt) -> bool:
    pending: list[ast.AST] = [statement]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Return):
            return True
        pending.extend(
            child for child in ast.iter_child_nodes(node) if not isinstance(child, _FUNCTIONS)
        )
    return False


def _indent(path: Path, line: int) -> int:
    lines = _file_facts(path).lines
    if not 0 < line <= len(lines):
        return 0
    text = lines[line - 1]
    return len(text) - len(text.lstrip())

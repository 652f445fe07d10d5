"""The parse screen: whether any enabled rule could report in a file, decided from CPython's
`ast` before the LibCST parse.

The byte prefilter (`Rule.triggers`) comes first and lets through every file that mentions,
say, `fastapi`. Most of those hold no route, no `async def` calling anything blocking, no
`class Config`: no rule can report there, yet a LibCST parse costs about eight times CPython's
own. The screen reads a few cheap facts of the file (`Facts`), made from the `ast` tree the
project index parses anyway (`project/build.py`), and asks each enabled rule whether it could
report in a file with those facts (`Rule.screen`). A file no rule wants is not parsed.

`Rule.screen` is a necessary condition of the rule, never a second implementation of it: it
may say yes to a file where the rule finds nothing (the LibCST engine, the one place where
rules run, then decides), never no to a file where it would report. When unsure, a rule says
yes; a rule that declares nothing says yes always. Every fact is a superset of what the rule
sees: `names` holds every identifier of the file (imports, attributes, definitions,
keywords, identifiers inside short strings such as quoted annotations), so a rule that
resolves a qualified name through the imports (`from time import sleep as nap`) can ask for
the name's last part; call names include the imported name behind an alias.

A file whose syntax `ast` rejects (a syntax error, or syntax newer than the running Python)
has no facts: it is parsed, so that the engine reports it as it would without the screen.
`--no-screen` (or `FASTAPI_LINT_NO_SCREEN=1`) turns the screen off: every file the prefilter
lets through is parsed. The output is the same either way (`tests/test_screen.py`, and
`bench/screen_check.py` over the corpus).

Facts the index knows (`InProject`: rows of the route table in the file, the request path,
FAPI202's chains to blocking calls) are asked of it only when a rule needs them. The
engine's workers fork once the screen lets the first files through (`runner.Checking`):
they inherit the analyses `Rule.prepare` made before, not what the screen finds after.
"""

from __future__ import annotations

import ast
import builtins
import io
import os
import re
import tokenize
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi_lint.names import API_ROUTE, DEPENDS, HTTP_METHOD_DECORATORS, SECURITY, canonical
from fastapi_lint.nesting import nested_too_deeply
from fastapi_lint.project.summary import NODE_FIELDS, node_fields

if TYPE_CHECKING:
    from fastapi_lint.project.index import ProjectIndex, Row
    from fastapi_lint.project.request_path import RequestPath
    from fastapi_lint.rule import Rule
    from fastapi_lint.semantic import ProjectModules

ENVIRONMENT_SWITCH = "FASTAPI_LINT_NO_SCREEN"  # set (not empty, not "0"): no screen
FACTS_VERSION = 3  # part of the summary store's key: bump when `Facts` changes

# What registers a route in the per-file model (`FileModel._finish`): `@x.get(...)` on a
# function, `x.add_api_route(...)`, `x.get(...)(endpoint)`.
_ROUTE_DECORATORS = HTTP_METHOD_DECORATORS | {API_ROUTE}
_ADD_API_ROUTE = "add_api_route"
# Identifiers inside strings this short count (quoted annotations such as `"FastAPI"`).
_SHORT_STRING = 120
_IDENTIFIER = re.compile(r"[^\W\d]\w*")
# The node kinds whose facts `_Collector._special` reads (the walk tests the common ones,
# names, attributes, calls and constants, first).
_SPECIAL = frozenset(
    {ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom}
    | {ast.keyword, ast.arg, ast.AnnAssign, ast.Return, ast.Expr, ast.Global, ast.Nonlocal}
    | {ast.MatchAs, ast.MatchStar, ast.MatchMapping, ast.MatchClass, ast.Await}
)
_BUILTINS = frozenset(dir(builtins))
_NOQA = re.compile(rb"noqa", re.IGNORECASE)  # as `suppression` finds directives
_OUR_CODE = re.compile(rb"fapi", re.IGNORECASE)


@dataclass(frozen=True)
class Route:
    """A call or decorator shaped like a route registration: its verb (`get`, `api_route`
    for `api_route` and `add_api_route`) and the keywords it is given (`**` for `**kw`)."""

    verb: str
    keywords: frozenset[str]


@dataclass(frozen=True)
class Facts:
    """What the screen knows of one file (see the module docstring). Each field is a
    superset of what the per-file model can see."""

    names: frozenset[str]  # every identifier
    calls: frozenset[str]  # last names of the called expressions (and the names they alias)
    async_calls: frozenset[str]  # the same, for calls an `async def` runs (in its frame)
    # Qualified names that calls inside an `async def` may have: each call of a name or a
    # dotted name, its first name replaced by what any import of the file binds it to
    # (`time.sleep` for `t.sleep()` after `import time as t`), or a builtin's.
    async_targets: frozenset[str]
    # The calls inside an `async def` that are not awaited (FAPI202 reports no awaited call),
    # as the project index resolves them: each callee (see `reach.expression`) with the
    # function or class it runs in.
    async_sites: tuple[tuple[list, str], ...]
    keywords: frozenset[str]  # keyword names of calls (`debug` of `FastAPI(debug=True)`)
    modules: frozenset[str]  # absolute modules imported (`from a.b import c`: `a.b`)
    nested_classes: frozenset[str]  # classes defined in a class body (`class Config`)
    routes: tuple[Route, ...]
    has_async: bool  # an `async def`
    returns_call: bool  # `return f(...)`
    returned_calls: frozenset[str]  # last names of what is called in `return f(...)`
    # Each class with the last names of its bases (`class Error(HTTPException)`).
    class_bases: tuple[tuple[str, tuple[str, ...]], ...]
    statement_calls: bool  # a call that is a whole statement (its value dropped)
    # From the bytes: a `noqa` directive may name one of our codes (comments are not in
    # the `ast`).
    noqa: bool = False
    # What the project index knows of the file (None: no index).
    project: InProject | None = None

    @property
    def roots(self) -> frozenset[str]:
        """The top-level modules imported (`a` for `import a.b` and `from a.b import c`)."""
        return frozenset(module.partition(".")[0] for module in self.modules)

    @property
    def index(self) -> ProjectIndex | None:
        return self.project.index if self.project is not None else None

    @property
    def rows(self) -> list[Row]:
        """The rows of the route table registered in this file (a superset of those of
        the routes the per-file model finds: `Route.rows`)."""
        return self.project.rows if self.project is not None else []

    @property
    def pydantic_v1_project(self) -> bool:
        """The project runs Pydantic 1 (`ProjectModules.pydantic_version`)."""
        return self.project is not None and self.project.pydantic_version == 1

    @property
    def served(self) -> bool:
        """Rows of the route table are registered in this file, served by an app."""
        return self.project is not None and self.project.served

    @property
    def unserved(self) -> bool:
        """Rows of the route table are registered in this file that no app serves."""
        return self.project is not None and self.project.unserved

    @property
    def on_request_path(self) -> bool:
        """An `async def` of this file is on the project's request path (`request_path`)."""
        return self.project is not None and self.project.on_request_path

    @property
    def calls_blocking_helper(self) -> bool:
        """A call inside an `async def` may run a sync function of the project that blocks,
        itself or through others (FAPI202's analysis, `project/reach.py`)."""
        return self.project is not None and self.project.calls_blocking_helper(self.async_sites)

    def subclasses(self, name: str) -> frozenset[str]:
        """`name` and the classes of this file that derive from a class of that name,
        directly or through each other (by last names: a superset)."""
        found = {name}
        changed = True
        while changed:
            changed = False
            for cls, bases in self.class_bases:
                if cls not in found and found.intersection(bases):
                    found.add(cls)
                    changed = True
        return frozenset(found)

    def any_route(self, *verbs: str, keyword: str | None = None) -> bool:
        """A route-shaped registration (of one of `verbs`, given `keyword`, when set)."""
        return any(
            (not verbs or route.verb in verbs) and (keyword is None or keyword in route.keywords)
            for route in self.routes
        )

    def to_data(self) -> tuple:
        """Plain data (`marshal` stores it with the module summary), without `project`."""
        routes = tuple((route.verb, route.keywords) for route in self.routes)
        return (*(getattr(self, name) for name in _DATA_FIELDS), routes)

    @classmethod
    def from_data(cls, data: Any) -> Facts | None:
        if not isinstance(data, tuple) or len(data) != len(_DATA_FIELDS) + 1:
            return None
        *values, routes = data
        return cls(
            **dict(zip(_DATA_FIELDS, values, strict=True)),
            routes=tuple(Route(verb, keywords) for verb, keywords in routes),
        )


_DATA_FIELDS = (
    "names",
    "calls",
    "async_calls",
    "async_targets",
    "async_sites",
    "keywords",
    "modules",
    "nested_classes",
    "has_async",
    "returns_call",
    "returned_calls",
    "class_bases",
    "statement_calls",
)


class InProject:
    """What the project index knows of one file, worked out when a rule asks."""

    def __init__(self, index: ProjectIndex, path: Path, pydantic_version: int | None) -> None:
        self.index = index
        self.path = path  # absolute
        self.pydantic_version = pydantic_version
        self._blocking_helper: bool | None = None

    @cached_property
    def rows(self) -> list[Row]:
        return self.index.rows_in(self.path)

    @cached_property
    def served(self) -> bool:
        return any(row.app is not None for row in self.rows)

    @cached_property
    def unserved(self) -> bool:
        return any(row.app is None for row in self.rows)

    @cached_property
    def on_request_path(self) -> bool:
        info = self.index.module_for(self.path)
        if info is None:
            return False
        from fastapi_lint.project.index import Func

        request_path = ready_request_path(self.index)
        functions = info.summary["functions"]
        return any(
            Func(info.key, name) in request_path
            for name, function in functions.items()
            if function["async"]
        )

    def calls_blocking_helper(self, sites: tuple[tuple[list, str], ...]) -> bool:
        if self._blocking_helper is None:
            self._blocking_helper = self._reaches_blocking(sites)
        return self._blocking_helper

    def _reaches_blocking(self, sites: tuple[tuple[list, str], ...]) -> bool:
        """Each call resolved as `project_calls.project_callee` resolves it (the same callee
        expression and scope), checked as FAPI202 checks its callee."""
        info = self.index.module_for(self.path)
        if info is None:
            return False
        from fastapi_lint.project.reach import reach

        analysis = reach(self.index)
        scopes = info.summary["scopes"]
        for callee, scope in sites:
            if scope not in scopes:
                return True  # a scope the summary does not know: unsure
            target = analysis.callee(callee, info.key, scope)
            if target is None or not analysis.is_sync_helper(target):
                continue
            if analysis.chain(target) is not None:
                return True
        return False


def ready_request_path(index: ProjectIndex) -> RequestPath:
    """The project's request path (`project/request_path.py`), made now if not yet."""
    from fastapi_lint.project.index import Func
    from fastapi_lint.project.reach import reach

    request_path = reach(index).request_path
    _ = Func("", "") in request_path  # the first question makes it
    return request_path


def screen_disabled() -> bool:
    value = os.environ.get(ENVIRONMENT_SWITCH, "")
    return value not in ("", "0")


class Screen:
    """The screen of one run: the facts of each file (from the project index's summaries, or
    parsed now) and the verdict of its enabled rules."""

    def __init__(self, project: ProjectModules, max_file_size: int | None = None) -> None:
        self.index = project.index
        self.pydantic_version = project.pydantic_version
        self.max_file_size = max_file_size

    def skips(self, path: Path, data: bytes, rules: Iterable[Rule]) -> bool:
        """Whether the engine would parse the file (`data`, whose bytes passed the prefilter)
        only for none of `rules` to report. Every rule counts, triggered or not: a rule may
        report in a file the prefilter let through for another rule's trigger, and a rule
        without a screen always wants the parse. Files the engine reports without a parse,
        or whose parse may fail, are not skipped."""
        if self.max_file_size is not None and len(data) > self.max_file_size:
            return False
        facts = self.facts(path, data)
        if facts is None or wanted(rules, facts):
            return False
        return not nested_too_deeply(data)  # LibCST may give up on it, and say so

    def facts(self, path: Path, data: bytes) -> Facts | None:
        absolute = Path(os.path.abspath(path))
        index = self.index
        store = index.store if index is not None else None
        facts = store.facts(absolute) if store is not None else None
        if facts is None:
            facts = parse_facts(data)
        if facts is None:
            return None
        noqa = _NOQA.search(data) is not None and _OUR_CODE.search(data) is not None
        project = InProject(index, absolute, self.pydantic_version) if index is not None else None
        return replace(facts, noqa=noqa, project=project)


def wanted(rules: Iterable[Rule], facts: Facts | None) -> bool:
    """Whether the file must be parsed: no facts (unsure), or a rule that may report."""
    return facts is None or any(rule.screen(facts) for rule in rules)


def last_names(qualified_names: Iterable[str]) -> frozenset[str]:
    """`sleep` for `time.sleep`: what `Facts.names` holds of each qualified name."""
    return frozenset(name.rpartition(".")[2] for name in qualified_names)


class QualifiedNames:
    """Qualified names (`time.sleep`, `builtins.open`) as a screen sees them. The per-file
    model resolves a name through the file's imports only, so a name of a module can be
    named in a file only if its last part is among the file's names (through an alias too:
    `from time import sleep as nap`) and its top-level module is imported there (a builtin
    needs no import)."""

    def __init__(self, qualified_names: Iterable[str]) -> None:
        self._tops: dict[str, set[str]] = {}
        for name in qualified_names:
            self._tops.setdefault(name.rpartition(".")[2], set()).add(name.partition(".")[0])
        self._lasts = frozenset(self._tops)

    def named(self, facts: Facts, names: frozenset[str] | None = None) -> bool:
        """Whether one of them may be named among `names` (default: all the file's)."""
        found = self._lasts & (facts.names if names is None else names)
        if not found:
            return False
        roots = facts.roots | {"builtins"}
        return any(self._tops[last] & roots for last in found)


def may_serve_requests(facts: Facts) -> bool:
    """Whether an `async def` of the file may serve requests (`request_path.serves_requests`):
    a route handler or a dependency of the file (named in a `Depends` or `Security` call), or
    a function on the project's request path."""
    return facts.any_route() or bool(facts.calls & _DEPENDENCY_CALLS) or facts.on_request_path


_DEPENDENCY_CALLS = last_names((DEPENDS, SECURITY))  # as `FileModel.calls_to` finds them


def calls_typed_method(facts: Facts, rule: str, exclude: frozenset[str] = frozenset()) -> bool:
    """Whether a call inside an `async def` may be a method that `rule` reports on a receiver
    of a type of the blocking knowledge base (`receivers.py`). A receiver has such a type
    only through a constructor or an annotation named by qualified name (of that type or of
    one whose members lead to it), or a `mypy_boto3_*` stub for boto3; and the method must
    be one the type reports (any, for a boto3 client or resource). Types named in `exclude`
    are left out (an option turned their findings off)."""
    if not facts.async_calls:
        return False
    for kind in _receiver_kinds(rule):
        if kind.name in exclude:
            continue
        if kind.methods is not None and not kind.methods & facts.async_calls:
            continue
        if kind.origins.named(facts):
            return True
        if kind.stubs and any(root.startswith(kind.stubs) for root in facts.roots):
            return True
    return False


@dataclass(frozen=True)
class _ReceiverKind:
    name: str
    origins: QualifiedNames
    methods: frozenset[str] | None  # None: every method
    stubs: str | None  # the prefix of the stub packages that also give the type


_RECEIVER_KINDS: dict[str, list[_ReceiverKind]] = {}


def _receiver_kinds(rule: str) -> list[_ReceiverKind]:
    found = _RECEIVER_KINDS.get(rule)
    if found is None:
        found = _RECEIVER_KINDS[rule] = list(_kinds_of(rule))
    return found


def _kinds_of(rule: str) -> Iterator[_ReceiverKind]:
    from fastapi_lint import blocking

    origins: dict[str, set[str]] = {}
    for table in (blocking.ANNOTATIONS, blocking.CONSTRUCTORS):
        for qualified, kind in table.items():
            origins.setdefault(kind, set()).add(qualified)
    leads_to: dict[str, set[str]] = {}  # type -> the types its members have
    for kind in blocking.TYPES.values():
        members = {*kind.returns.values(), *kind.attributes.values()}
        members.update(
            member
            for member in (kind.other_attributes, kind.items, kind.call_result, kind.subresources)
            if member is not None
        )
        leads_to[kind.name] = members
    for kind in blocking.TYPES.values():
        if kind.rule != rule:
            continue
        sources = {source for source in blocking.TYPES if kind.name in _reachable(source, leads_to)}
        names = {qualified for source in sources for qualified in origins.get(source, ())}
        every = kind.all_methods_except is not None
        yield _ReceiverKind(
            kind.name,
            QualifiedNames(names),
            None if every else kind.methods,
            blocking.BOTO3_STUBS_PREFIX if every else None,
        )


def _reachable(start: str, leads_to: dict[str, set[str]]) -> set[str]:
    seen = {start}
    pending = [start]
    while pending:
        for member in leads_to.get(pending.pop(), ()):
            if member not in seen:
                seen.add(member)
                pending.append(member)
    return seen


def parse_facts(data: bytes) -> Facts | None:
    """The facts of a file's bytes; None when they do not decode or `ast` rejects them."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (UnicodeError, SyntaxError, LookupError):
        return None
    tree = ast_tree(text)
    return file_facts(tree) if tree is not None else None


def ast_tree(text: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. invalid escape sequences
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def file_facts(tree: ast.Module) -> Facts:
    return _Collector().run(tree)


def _last_name(node: ast.expr) -> str | None:
    """`c` for `c` and `a.b.c`, else None."""
    if type(node) is ast.Name:
        return node.id  # type: ignore[attr-defined]
    if type(node) is ast.Attribute:
        return node.attr  # type: ignore[attr-defined]
    return None


def _callee_expression(node: ast.expr, calls: int = 1) -> list | None:
    """A callee (`name`, `a.b.c`, `A().b`) in the summary's expression form, as
    `reach.expression` makes it from a LibCST node."""
    parts: list[str] = []
    while type(node) is ast.Attribute:
        parts.append(node.attr)  # type: ignore[attr-defined]
        node = node.value  # type: ignore[attr-defined]
    if type(node) is ast.Name:
        expr: list = ["name", node.id]  # type: ignore[attr-defined]
    elif type(node) is ast.Call and parts and calls:
        func = _callee_expression(node.func, calls - 1)  # type: ignore[attr-defined]
        if func is None:
            return None
        expr = ["call", func, [], {}]
    else:
        return None
    for part in reversed(parts):
        expr = ["attr", expr, part]
    return expr


class _Collector:
    """One walk over the tree, with an explicit stack (deep code must not recurse)."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.calls: list[tuple[str, bool]] = []  # (last name, inside an async def)
        self.keywords: set[str] = set()
        self.modules: set[str] = set()
        self.nested_classes: set[str] = set()
        self.routes: list[Route] = []
        self.aliases: dict[str, str] = {}  # local name -> the imported name it stands for
        self.bound: dict[str, set[str]] = {}  # local name -> what its imports bind it to
        self.async_chains: set[tuple[str, tuple[str, ...]]] = set()  # called in `async def`s
        self.async_sites: dict[str, tuple[list, str]] = {}  # (callee, scope), by their repr
        self.awaited: set[int] = set()  # the ids of the calls `await` applies to directly
        self.has_async = self.returns_call = self.statement_calls = False
        self.returned: list[str | None] = []  # last names called in `return f(...)`
        self.bases: list[tuple[str, list[str | None]]] = []  # classes and their bases

    def run(self, tree: ast.Module) -> Facts:
        self._walk(tree.body, (False, False, ""))
        return self._facts()

    def _walk(self, nodes: list[Any], context: tuple[bool, bool, str]) -> None:
        """The nodes and everything under them, in one context: (inside an async def,
        directly in a class body, the qualified name of the function or class they run in,
        as the index names scopes). A function or class body is walked in its own context,
        by a call of its own: that recursion is as deep as definitions nest, which the
        tokenizer bounds (100 indentation levels); expressions are walked with the stack."""
        stack = list(nodes)
        names = self.names
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is ast.Name:
                names.add(node.id)
                continue
            if kind is ast.Attribute:
                names.add(node.attr)
            elif kind is ast.Call:
                self._call(node, context)
            elif kind is ast.Constant:
                value = node.value
                if type(value) is str and len(value) <= _SHORT_STRING:
                    names.update(_IDENTIFIER.findall(value))
                continue
            elif kind in _SPECIAL and self._special(node, kind, context):
                continue  # its children walked already
            # Statements and expressions: their children, in the same context (a class
            # body's `if` still defines classes in the class body). What is not a node
            # (None in a list of dict keys, say) has no fields.
            fields = NODE_FIELDS.get(kind)  # looked up here first: the walk's hot path
            if fields is None:
                fields = node_fields(kind)
            for field in fields:
                value = getattr(node, field)
                if type(value) is list:
                    stack.extend(value)
                elif value is not None:
                    stack.append(value)

    def _special(self, node: Any, kind: type, context: tuple[bool, bool, str]) -> bool:
        """The facts of a node of a `_SPECIAL` kind; whether its children are walked."""
        names = self.names
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            self._function(node, context)
            return True
        if kind is ast.ClassDef:
            self._class(node, context)
            return True
        if kind is ast.Import or kind is ast.ImportFrom:
            self._import(node)
            return True
        if kind is ast.keyword:
            if node.arg is not None:
                names.add(node.arg)
        elif kind is ast.arg:
            names.add(node.arg)
            self._annotation(node.annotation)
        elif kind is ast.AnnAssign:
            self._annotation(node.annotation)
        elif kind is ast.Return:
            if type(node.value) is ast.Call:
                self.returns_call = True
                self.returned.append(_last_name(node.value.func))
        elif kind is ast.Expr:
            self.statement_calls |= type(node.value) is ast.Call
        elif kind is ast.Global or kind is ast.Nonlocal:
            names.update(node.names)
        elif kind is ast.MatchAs or kind is ast.MatchStar:
            if node.name is not None:
                names.add(node.name)
        elif kind is ast.MatchMapping:
            if node.rest is not None:
                names.add(node.rest)
        elif kind is ast.MatchClass:
            names.update(node.kwd_attrs)
        elif kind is ast.Await and type(node.value) is ast.Call:
            self.awaited.add(id(node.value))  # walked next: the stack is last in, first out
        return False

    def _function(self, node: Any, context: tuple[bool, bool, str]) -> None:
        self.names.add(node.name)
        is_async = type(node) is ast.AsyncFunctionDef
        self.has_async |= is_async
        in_async, _, scope = context
        for decorator in node.decorator_list:
            if (
                type(decorator) is ast.Call
                and type(decorator.func) is ast.Attribute
                and decorator.func.attr in _ROUTE_DECORATORS
            ):
                self._route(decorator.func.attr, decorator)
        if node.returns is not None:
            self._annotation(node.returns)
        # Decorators, defaults and annotations run in the enclosing context, outside any
        # class body.
        self._walk([*node.decorator_list, node.args, node.returns], (in_async, False, scope))
        # A function's body runs in its own frame: a sync `def` nested in an `async def`
        # runs outside it, as `receivers.executing_async_function` sees it (a lambda's body
        # counts as inside: a superset).
        body = (is_async, False, f"{scope}.{node.name}" if scope else node.name)
        self._walk(node.body, body)

    def _class(self, node: ast.ClassDef, context: tuple[bool, bool, str]) -> None:
        self.names.add(node.name)
        in_async, in_class, scope = context
        if in_class:
            self.nested_classes.add(node.name)
        self.bases.append((node.name, [_last_name(base) for base in node.bases]))
        self._walk([*node.decorator_list, *node.bases, *node.keywords], (in_async, False, scope))
        self._walk(node.body, (in_async, True, f"{scope}.{node.name}" if scope else node.name))

    def _annotation(self, annotation: ast.expr | None) -> None:
        """Identifiers in quoted annotations, however long (`"Optional[Session]"`)."""
        if annotation is None or type(annotation) is ast.Name:
            return
        for node in ast.walk(annotation):
            if type(node) is ast.Constant and type(node.value) is str:
                self.names.update(_IDENTIFIER.findall(node.value))

    def _call(self, node: ast.Call, context: tuple[bool, bool, str]) -> None:
        func = node.func
        kind = type(func)
        in_async = context[0]
        if in_async:
            self._async_chain(func)
            callee = _callee_expression(func) if id(node) not in self.awaited else None
            if callee is not None:
                self.async_sites.setdefault(repr((callee, context[2])), (callee, context[2]))
        if kind is ast.Name:
            self.calls.append((func.id, in_async))
        elif kind is ast.Attribute:
            self.calls.append((func.attr, in_async))
            if func.attr == _ADD_API_ROUTE:
                self._route(API_ROUTE, node)
        elif (
            kind is ast.Call
            and type(func.func) is ast.Attribute
            and func.func.attr in HTTP_METHOD_DECORATORS
        ):
            self._route(func.func.attr, func)  # `app.get("/ping")(ping)`: the inner call
        for keyword in node.keywords:
            if keyword.arg is not None:
                self.keywords.add(keyword.arg)

    def _async_chain(self, func: ast.expr) -> None:
        """`a.b.c` as ("a", ("b", "c")): a dotted name the model may resolve."""
        parts: list[str] = []
        while type(func) is ast.Attribute:
            parts.append(func.attr)  # type: ignore[attr-defined]
            func = func.value  # type: ignore[attr-defined]
        if type(func) is ast.Name:
            self.async_chains.add((func.id, tuple(reversed(parts))))  # type: ignore[attr-defined]

    def _route(self, verb: str, call: ast.Call) -> None:
        keywords = {keyword.arg or "**" for keyword in call.keywords}
        self.routes.append(Route(verb, frozenset(keywords)))

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        names = self.names
        if type(node) is ast.ImportFrom:
            module = node.module or ""
            if module:
                names.update(module.split("."))
                if not node.level:
                    self.modules.add(module)
        for alias in node.names:
            names.update(alias.name.split("."))
            if type(node) is ast.Import:
                self.modules.add(alias.name)
            if alias.asname is not None:
                names.add(alias.asname)
                self.aliases[alias.asname] = alias.name.rpartition(".")[2]
            self._bind(node, alias)

    def _bind(self, node: ast.Import | ast.ImportFrom, alias: ast.alias) -> None:
        """What the import binds, as `FileModel` records it."""
        if type(node) is ast.Import:
            if alias.asname is not None:
                local, target = alias.asname, alias.name
            else:
                local = target = alias.name.partition(".")[0]
        elif alias.name == "*":
            return
        else:
            module = "." * node.level + (node.module or "")  # type: ignore[union-attr]
            separator = "" if module.endswith(".") else "."
            local, target = alias.asname or alias.name, f"{module}{separator}{alias.name}"
        self.bound.setdefault(local, set()).add(target)

    def _originals(self, names: Iterable[str | None]) -> Iterator[str]:
        """The names, and the imported names they are aliases of."""
        for name in names:
            if name is not None:
                yield name
                if name in self.aliases:
                    yield self.aliases[name]

    def _targets(self) -> Iterator[str]:
        for root, parts in self.async_chains:
            starts = {canonical(target) for target in self.bound.get(root, ())}
            if root in _BUILTINS:
                starts.add(f"builtins.{root}")
            for qualified in starts:
                for part in parts:
                    qualified = canonical(f"{qualified}.{part}")
                yield qualified

    def _facts(self) -> Facts:
        aliases = self.aliases
        calls: set[str] = set()
        async_calls: set[str] = set()
        for name, in_async in self.calls:
            found = (name, aliases[name]) if name in aliases else (name,)
            calls.update(found)
            if in_async:
                async_calls.update(found)
        return Facts(
            names=frozenset(self.names),
            calls=frozenset(calls),
            async_calls=frozenset(async_calls),
            async_targets=frozenset(self._targets()),
            async_sites=tuple(self.async_sites.values()),
            keywords=frozenset(self.keywords),
            modules=frozenset(self.modules),
            nested_classes=frozenset(self.nested_classes),
            routes=tuple(self.routes),
            has_async=self.has_async,
            returns_call=self.returns_call,
            returned_calls=frozenset(self._originals(self.returned)),
            class_bases=tuple((name, tuple(self._originals(bases))) for name, bases in self.bases),
            statement_calls=self.statement_calls,
        )

"""The semantic model of one file: scopes, bindings, and the FastAPI objects they name.

Built in ONE traversal of the LibCST tree, shared by every rule. We do not use LibCST's
ScopeProvider/QualifiedNameProvider: they cost about nine times the parse (measured on
lnbits). The traversal records facts (bindings per scope, calls, functions); names are
resolved afterwards, so an import placed below its use still resolves, as it does at run time.
"""

from __future__ import annotations

import builtins
import dataclasses
import enum
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi_lint import names
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.names import canonical

if TYPE_CHECKING:
    from fastapi_lint.project.index import ProjectIndex, Row

_T = TypeVar("_T")

_BUILTINS = frozenset(dir(builtins))
_RESOLUTION_DEPTH = 8


class BindingKind(enum.Enum):
    IMPORT = "import"
    ASSIGN = "assign"  # also `with ... as name` and `name := ...`
    DEF = "def"
    CLASS = "class"
    PARAM = "param"
    OTHER = "other"  # loop targets, `except ... as`, augmented assignment: value unknown


@dataclass(frozen=True, eq=False)
class Binding:
    kind: BindingKind
    qualified_name: str | None = None  # IMPORT
    value: cst.BaseExpression | None = None  # ASSIGN
    annotation: cst.BaseExpression | None = None  # ASSIGN, PARAM
    node: cst.CSTNode | None = None  # DEF, CLASS


@dataclass(eq=False)
class Scope:
    kind: str  # "module", "class", "function", "lambda" or "comprehension"
    node: cst.CSTNode
    parent: Scope | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    # `from x import *` (relative ones with their dots): unbound names may come from x.
    star_imports: list[tuple[str, int]] = field(default_factory=list)

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    @property
    def is_async_function(self) -> bool:
        return isinstance(self.node, cst.FunctionDef) and self.node.asynchronous is not None

    def executing_function(self) -> Scope | None:
        """The function whose frame runs code in this scope: class bodies and comprehensions
        run at once, in the frame that contains them."""
        scope: Scope | None = self
        while scope is not None and scope.kind in ("class", "comprehension"):
            scope = scope.parent
        return scope if scope is not None and scope.kind != "module" else None


@dataclass(frozen=True, eq=False)
class CallSite:
    call: cst.Call
    scope: Scope


@dataclass(eq=False)
class Route:
    """One path operation: a route decorator, or an `add_api_route(...)` call."""

    report_node: cst.CSTNode  # the Decorator, or the add_api_route Call
    call: cst.Call
    receiver: cst.BaseExpression
    methods: frozenset[str] | None  # None when not statically known
    path: str | None  # None when not a plain string literal
    keywords: dict[str, cst.Arg]
    handler: cst.FunctionDef | None  # None when defined elsewhere or not resolvable
    scope: Scope  # where the decorator or call is evaluated
    prefix: str = ""  # the router's literal `prefix=`, when it is built in this file
    # The route's lines in the project's route table: one per app and full path (app None
    # when no app serves it). Empty when the project index does not know the file.
    rows: Sequence[Row] = ()

    @property
    def context_in_schema(self) -> bool | None:
        """Whether the routers, `include_router` calls and apps that serve the route keep it
        in the OpenAPI schema: False when all of them hide it (`APIRouter(include_in_schema=
        False)`, `include_router(..., include_in_schema=False)`, `FastAPI(openapi_url=None)`),
        None when an expression decides it."""
        states = {row.in_schema for row in self.rows} or {True}
        return True if True in states else None if None in states else False

    @property
    def full_paths(self) -> list[str]:
        """The paths the apps serve the route at (router prefixes included), else the path
        on its router."""
        served = [row.path for row in self.rows if row.app is not None]
        return list(dict.fromkeys(served or [row.path for row in self.rows]))

    @property
    def in_schema(self) -> bool | None:
        """Whether the route appears in the OpenAPI schema: False when hidden at any level
        (the route itself, its router, an `include_router` call, the app), None when an
        expression (a setting, a conditional) decides it."""
        own = self.keyword_value("include_in_schema")
        if own is not None and not is_true(own):
            return False if is_false(own) else None
        return self.context_in_schema

    @property
    def has_unknown_keywords(self) -> bool:
        """`**options` in the call: any keyword may be in there."""
        return any(arg.star == "**" for arg in self.call.args)

    @property
    def handler_name(self) -> str | None:
        return self.handler.name.value if self.handler is not None else None

    def describe(self) -> str:
        """`GET /items/{id}` style label for messages: the full path an app serves it at
        (the first, and `(+N more)` when there are several)."""
        methods = "|".join(sorted(self.methods)) if self.methods else "?"
        paths = self.full_paths
        if paths:
            more = f" (+{len(paths) - 1} more)" if len(paths) > 1 else ""
            return f"{methods} {paths[0] or repr(paths[0])}{more}"
        path = self.prefix + self.path if self.path is not None else f"{self.prefix}?"
        return f"{methods} {path or repr(path)}"

    def keyword_value(self, name: str) -> cst.BaseExpression | None:
        arg = self.keywords.get(name)
        return arg.value if arg is not None else None


@dataclass(eq=False)
class FunctionInfo:
    node: cst.FunctionDef
    scope: Scope  # the function's own scope
    routes: list[Route] = field(default_factory=list)
    is_dependency: bool = False


class ProjectModules:
    """Which absolute module names belong to the linted project, and the project index
    (built once per run)."""

    def __init__(
        self,
        top_level_names: Sequence[str] = (),
        index: ProjectIndex | None = None,
        pydantic_version: int | None = None,
    ) -> None:
        self._names = frozenset(top_level_names)
        self.index = index
        # The Pydantic major version of the project (`Settings.pydantic_version`).
        self.pydantic_version = pydantic_version

    def module_key(self, path: Path | None) -> str | None:
        if path is None or self.index is None:
            return None
        info = self.index.module_for(Path(os.path.abspath(path)))
        return info.key if info is not None else None

    def rows_for_route(self, key: tuple[str, str, str]) -> Sequence[Row]:
        return self.index.rows_for_route(key) if self.index is not None else ()

    def must_parse(self, path: Path) -> bool:
        """Files that register routes on the project's apps and routers are parsed even when
        they never name fastapi (the byte prefilter cannot see them)."""
        if self.index is None:
            return False
        return Path(os.path.abspath(path)) in self.index.registering_files()

    def file_digest(self, path: Path) -> str:
        """What a file's findings depend on in the project index (for the result cache)."""
        if self.index is None:
            return ""
        return self.index.file_digest(Path(os.path.abspath(path)))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._names))


class FileModel:
    """Facts about one module, and the resolution helpers rules use."""

    def __init__(
        self, module: cst.Module, project: ProjectModules, path: Path | None = None
    ) -> None:
        self.module = module
        self.project = project
        self.module_key = project.module_key(path)  # its name in the project index
        self.module_scope = Scope("module", module, None)
        self.calls: list[CallSite] = []
        self.functions: dict[cst.FunctionDef, FunctionInfo] = {}
        self.classes: dict[cst.ClassDef, Scope] = {}  # each class and the scope it is defined in
        self.returns: list[tuple[cst.Return, Scope]] = []
        self.expression_statements: set[cst.Call] = set()  # calls that are whole statements
        self.generators: set[cst.FunctionDef] = set()  # functions that contain `yield`
        self.routes: list[Route] = []
        self.awaited: set[cst.Call] = set()  # calls that are directly awaited
        self._callees: dict[cst.Call, str | None] = {}
        self._analyses: dict[Callable[[FileModel], Any], Any] = {}
        _Builder(self).walk()

    def analysis(self, make: Callable[[FileModel], _T]) -> _T:
        """`make(self)`, made once: an analysis of this file that several rules share."""
        if make not in self._analyses:
            self._analyses[make] = make(self)
        return self._analyses[make]

    def release(self) -> None:
        """Drop the shared analyses once every rule has run: they refer back to the model,
        and the cycle would keep the whole tree until the garbage collector runs."""
        self._analyses.clear()

    # -- name resolution -------------------------------------------------------------

    def lookup(self, name: str, scope: Scope) -> list[Binding] | None:
        """Bindings of `name` in the nearest enclosing scope that binds it (Python's LEGB)."""
        found = self.binding_scope(name, scope)
        return found.bindings[name] if found is not None else None

    def binding_scope(self, name: str, scope: Scope) -> Scope | None:
        """The nearest enclosing scope that binds `name` (class bodies only for their own code)."""
        current: Scope | None = scope
        while current is not None:
            if (current is scope or current.kind != "class") and name in current.bindings:
                return current
            current = current.parent
        return None

    def _may_be_star_imported(self, name: str, scope: Scope) -> bool:
        """Whether a star import in scope may bind `name`: a project module's names are known
        from the project index, a few libraries' are known here, any other may bind it."""
        current: Scope | None = scope
        while current is not None:
            for module, level in current.star_imports:
                if self._star_binds(module, level, name):
                    return True
            current = current.parent
        return False

    def _star_binds(self, module: str, level: int, name: str) -> bool:
        index = self.project.index
        if index is not None and self.module_key is not None:
            exported = index.star_exports(self.module_key, module, level, name)
            if exported is not None:
                return exported
        if level:
            return True  # a relative module the index does not know
        known = names.STAR_IMPORT_BUILTINS.get(module.split(".", 1)[0])
        return known is None or name in known

    def qualified_name(self, expr: cst.BaseExpression, scope: Scope) -> str | None:
        """`requests.get` for `rq.get` after `import requests as rq`; None when unknown."""
        if isinstance(expr, cst.Name):
            bindings = self.lookup(expr.value, scope)
            if bindings is None:
                if expr.value not in _BUILTINS or self._may_be_star_imported(expr.value, scope):
                    return None
                return f"builtins.{expr.value}"
            # Canonical first: `from fastapi.applications import FastAPI` in an `except`
            # branch names the same class as `from fastapi import FastAPI`.
            targets = {canonical(b.qualified_name or "") for b in bindings}
            if len(targets) == 1 and all(b.kind is BindingKind.IMPORT for b in bindings):
                return targets.pop()
            return None
        if isinstance(expr, cst.Attribute):
            base = self.qualified_name(expr.value, scope)
            return canonical(f"{base}.{expr.attr.value}") if base else None
        return None

    def object_kind(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> str | None:
        """The class an expression's value is an instance of, e.g. `fastapi.FastAPI`.

        None when not provable (objects built in other modules are the project index's).
        """
        if depth > _RESOLUTION_DEPTH:
            return None
        if isinstance(expr, cst.Call):
            return self.class_name(expr.func, scope)
        if not isinstance(expr, cst.Name):
            return None
        # A binding's value and annotation are evaluated where the binding is, not here.
        where = self.binding_scope(expr.value, scope)
        if where is None:
            return None
        kinds = {self._binding_kind(b, where, depth) for b in where.bindings[expr.value]}
        return kinds.pop() if len(kinds) == 1 else None

    def class_name(self, expr: cst.BaseExpression, scope: Scope) -> str | None:
        """Qualified name of the class `expr` names; a local subclass (at any depth) of
        FastAPI or APIRouter counts as its base."""
        local = self.local_class(expr, scope)
        if local is None:
            return self.qualified_name(expr, scope)
        frameworks = self.ancestors(local) & {names.FASTAPI_APP, names.API_ROUTER}
        return frameworks.pop() if len(frameworks) == 1 else None

    def local_class(self, expr: cst.BaseExpression, scope: Scope) -> cst.ClassDef | None:
        """The `class` statement of this file a name refers to, if bound exactly once."""
        return self._only_binding(expr, scope, BindingKind.CLASS)  # type: ignore[return-value]

    def _only_binding(
        self, expr: cst.BaseExpression, scope: Scope, kind: BindingKind
    ) -> cst.CSTNode | None:
        """The node of a name's one binding, when it has exactly one and of this kind."""
        if not isinstance(expr, cst.Name):
            return None
        bindings = self.lookup(expr.value, scope) or []
        if len(bindings) == 1 and bindings[0].kind is kind:
            return bindings[0].node
        return None

    def ancestors(self, class_def: cst.ClassDef, depth: int = 0) -> set[str]:
        """Qualified names of the imported classes a local class derives from, directly or
        through other local classes (`class Base(BaseModel)`, then `class Item(Base)`)."""
        scope = self.classes[class_def]
        found: set[str] = set()
        for base in class_def.bases:
            if base.keyword is not None or depth > _RESOLUTION_DEPTH:
                continue
            local = self.local_class(base.value, scope)
            if local is not None:
                found |= self.ancestors(local, depth + 1)
            elif (name := self.qualified_name(base.value, scope)) is not None:
                found.add(name)
        return found

    def annotation_name(self, annotation: cst.BaseExpression | None, scope: Scope) -> str | None:
        """The qualified name an annotation names, also when quoted (`app: "FastAPI"`)."""
        text = string_value(annotation)
        if text is not None:  # only a dotted name: deeply nested text would crash the parser
            if not all(part.isidentifier() for part in text.split(".")):
                return None
            try:
                annotation = cst.parse_expression(text)
            except cst.ParserSyntaxError:  # a keyword, such as `"lambda"`
                return None
        return self.qualified_name(annotation, scope) if annotation is not None else None

    def _binding_kind(self, binding: Binding, scope: Scope, depth: int) -> str | None:
        if binding.kind is BindingKind.IMPORT:
            return None
        if binding.kind in (BindingKind.ASSIGN, BindingKind.PARAM):
            declared = self.annotation_name(binding.annotation, scope)
            if declared in (names.FASTAPI_APP, names.API_ROUTER):
                return declared
            if binding.value is not None:
                return self.object_kind(binding.value, scope, depth + 1)
        return None

    # -- FastAPI objects -----------------------------------------------------------------

    def is_app_or_router(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        """True when this file alone proves `expr` is a FastAPI app or APIRouter (objects
        built in other modules are known from the project index: see `_index_rows`)."""
        return self.object_kind(expr, scope) in (names.FASTAPI_APP, names.API_ROUTER)

    def _index_rows(self, scope: Scope, discriminator: str) -> Sequence[Row]:
        """The project index's rows for a route registered in `scope` (see `Row.route_key`)."""
        if self.module_key is None:
            return ()
        key = (self.module_key, scope_qualname(scope), discriminator)
        return self.project.rows_for_route(key)

    def function_info(self, node: cst.FunctionDef) -> FunctionInfo | None:
        return self.functions.get(node)

    def describe_function(self, node: cst.FunctionDef) -> str:
        """ "route `ping` (GET /ping)", "dependency `get_db`" or "function `helper`"."""
        info = self.functions.get(node)
        label = f"`{node.name.value}`"
        if info is not None and info.routes:
            return f"route {label} ({', '.join(route.describe() for route in info.routes)})"
        if info is not None and info.is_dependency:
            return f"dependency {label}"
        return f"function {label}"

    def is_instance_of(self, call: cst.Call, scope: Scope, class_name: str) -> bool:
        """True when `call` constructs `class_name` or a local subclass of it."""
        local = self.local_class(call.func, scope)
        if local is not None:
            return class_name in self.ancestors(local)
        return self.qualified_name(call.func, scope) == class_name

    def callee(self, site: CallSite) -> str | None:
        """Qualified name of the called function or class (memoised: rules share it)."""
        call = site.call
        if call not in self._callees:
            self._callees[call] = self.qualified_name(call.func, site.scope)
        return self._callees[call]

    def calls_to(self, *qualified_names: str) -> Iterator[CallSite]:
        """Calls of the given callables; a cheap check on the last name comes first."""
        wanted = frozenset(qualified_names)
        last_names = frozenset(name.rsplit(".", 1)[-1] for name in wanted)
        for site in self.calls:
            func = site.call.func
            last = (
                func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
            )
            if last in last_names and self.callee(site) in wanted:
                yield site

    def resolve_function(self, expr: cst.BaseExpression, scope: Scope) -> cst.FunctionDef | None:
        """The `def` a name refers to, when the name is bound to exactly one function; also
        `self.method` inside a method of the class that defines it."""
        if isinstance(expr, cst.Attribute):
            return self._own_method(expr, scope)
        return self._only_binding(expr, scope, BindingKind.DEF)  # type: ignore[return-value]

    def _own_method(self, expr: cst.Attribute, scope: Scope) -> cst.FunctionDef | None:
        method = scope.executing_function()
        if method is None or method.parent is None or method.parent.kind != "class":
            return None
        node = method.node
        params = node.params.params if isinstance(node, cst.FunctionDef) else ()
        if not (params and isinstance(expr.value, cst.Name)):
            return None
        if expr.value.value != params[0].name.value:
            return None
        bindings = method.parent.bindings.get(expr.attr.value, [])
        if len(bindings) == 1 and bindings[0].kind is BindingKind.DEF:
            return bindings[0].node  # type: ignore[return-value]
        return None

    def module_constant(self, name: cst.Name) -> cst.BaseExpression | None:
        """The value of a module-level name assigned exactly once."""
        bindings = self.module_scope.bindings.get(name.value, [])
        if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN:
            return bindings[0].value
        return None

    def _finish(self) -> None:
        """Post-traversal facts: routes declared by decorators or calls, and dependencies."""
        for info in self.functions.values():
            for position, decorator in enumerate(info.node.decorators):
                route = self._decorator_route(decorator, position, info)
                if route is not None:
                    info.routes.append(route)
                    self.routes.append(route)
        self.routes.extend(self._called_routes())
        for site in self.calls_to(names.DEPENDS, names.SECURITY):
            target = _argument(site.call, 0, "dependency")
            function = self.resolve_function(target, site.scope) if target else None
            if function is not None and function in self.functions:
                self.functions[function].is_dependency = True

    def _decorator_route(
        self, decorator: cst.Decorator, position: int, info: FunctionInfo
    ) -> Route | None:
        call = decorator.decorator
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
            return None
        verb = call.func.attr.value
        if verb not in names.HTTP_METHOD_DECORATORS and verb != names.API_ROUTE:
            return None
        outer = info.scope.parent
        assert outer is not None
        rows = self._index_rows(info.scope, f"@{position}")
        if not rows and not self.is_app_or_router(call.func.value, outer):
            return None
        methods = frozenset({verb.upper()}) if verb != names.API_ROUTE else _methods(call)
        return self._route(decorator, call, methods, info.node, outer, rows)

    def _called_routes(self) -> Iterator[Route]:
        """`router.add_api_route(path, endpoint, ...)` and `app.get(path)(endpoint)`."""
        # In source order (the traversal records later siblings first): a handler registered
        # twice is reported on its first registration.
        for site in reversed(self.calls):
            func = site.call.func
            if isinstance(func, cst.Attribute) and func.attr.value == names.ADD_API_ROUTE:
                call, verb = site.call, names.API_ROUTE
                endpoint, methods = _argument(call, 1, "endpoint"), _methods(call)
            elif (
                isinstance(func, cst.Call)
                and isinstance(func.func, cst.Attribute)
                and func.func.attr.value in names.HTTP_METHOD_DECORATORS
            ):
                call, verb, endpoint = func, func.func.attr.value, _argument(site.call, 0, "")
                methods = frozenset({verb.upper()})
            else:
                continue
            assert isinstance(call.func, cst.Attribute)
            rows = self._index_rows(site.scope, f"{verb}:{_last_name(endpoint)}")
            if not rows and not self.is_app_or_router(call.func.value, site.scope):
                continue
            handler = self.resolve_function(endpoint, site.scope) if endpoint else None
            route = self._route(site.call, call, methods, handler, site.scope, rows)
            if handler is not None and handler in self.functions:
                self.functions[handler].routes.append(route)
            yield route

    def _route(
        self,
        report_node: cst.CSTNode,
        call: cst.Call,
        methods: frozenset[str] | None,
        handler: cst.FunctionDef | None,
        scope: Scope,
        rows: Sequence[Row] = (),
    ) -> Route:
        assert isinstance(call.func, cst.Attribute)
        path = _argument(call, 0, "path")
        return Route(
            report_node=report_node,
            call=call,
            receiver=call.func.value,
            methods=methods,
            path=string_value(path) if path is not None else None,
            keywords={arg.keyword.value: arg for arg in call.args if arg.keyword is not None},
            handler=handler,
            scope=scope,
            prefix=self._router_prefix(call.func.value, scope),
            rows=rows,
        )

    def _router_prefix(self, receiver: cst.BaseExpression, scope: Scope) -> str:
        """`prefix=` of `router = APIRouter(prefix="/items")` when bound once in this file."""
        bindings = self.lookup(receiver.value, scope) if isinstance(receiver, cst.Name) else None
        if not bindings or len(bindings) != 1 or not isinstance(bindings[0].value, cst.Call):
            return ""
        return string_value(_argument(bindings[0].value, None, "prefix")) or ""


def _argument(call: cst.Call, position: int | None, keyword: str) -> cst.BaseExpression | None:
    """The expression passed as positional `position` (None: keyword-only) or as `keyword=`."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    if position is None:
        return None
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    return positional[position].value if len(positional) > position else None


def _methods(call: cst.Call) -> frozenset[str] | None:
    """HTTP methods of `api_route`/`add_api_route`: FastAPI defaults to GET."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "methods":
            if not isinstance(arg.value, cst.List | cst.Tuple | cst.Set):
                return None
            values = [string_value(el.value) for el in arg.value.elements]
            if any(v is None for v in values):
                return None
            return frozenset(v.upper() for v in values)  # type: ignore[union-attr]
    return frozenset({"GET"})


def _last_name(expr: cst.BaseExpression | None) -> str:
    """`handler` for `handler` or `self.handler`, as the project index names an endpoint."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return ""


def scope_qualname(scope: Scope) -> str:
    """`Class.method` for code in a method: the functions and classes holding a scope, as
    the project index names scopes ("" for the module)."""
    parts = []
    current: Scope | None = scope
    while current is not None and current.kind != "module":
        if current.kind in ("function", "class"):
            parts.append(current.node.name.value)  # type: ignore[attr-defined]
        current = current.parent
    return ".".join(reversed(parts))


def string_value(expr: cst.BaseExpression | None) -> str | None:
    """The value of a plain string literal (no f-string), else None."""
    if isinstance(expr, cst.SimpleString | cst.ConcatenatedString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def is_true(expr: cst.BaseExpression | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "True"


def is_false(expr: cst.BaseExpression | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "False"


def is_none(expr: cst.BaseExpression | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def union_members(expr: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The members of `A | B | C`; the expression itself when it is no `|` union."""
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
        yield from union_members(expr.left)
        yield from union_members(expr.right)
    else:
        yield expr


_HTTP_STATUS = re.compile(r"HTTP_(\d{3})_\w+")


def status_code(expr: cst.BaseExpression | None) -> int | None:
    """The number of a status code written `204` or `status.HTTP_204_NO_CONTENT`."""
    if isinstance(expr, cst.Integer):
        return expr.evaluated_value
    name = expr.attr.value if isinstance(expr, cst.Attribute) else getattr(expr, "value", None)
    match = _HTTP_STATUS.fullmatch(name) if isinstance(name, str) else None
    return int(match.group(1)) if match else None


# -- the traversal ---------------------------------------------------------------------

# Fields that never hold code we analyse (whitespace, brackets, punctuation).
_SKIPPED_FIELDS = frozenset(
    {
        "lpar", "rpar", "lbracket", "rbracket", "lbrace", "rbrace", "comma", "semicolon",
        "colon", "leading_lines", "lines_after_decorators", "header", "footer", "equal",
        "newline", "operator", "dot", "asynchronous", "star", "indent", "prefix",
        "encoding", "default_indent", "default_newline", "has_trailing_newline",
        "trailing_whitespace", "relative", "first_line",
    }
)  # fmt: skip
_child_fields_cache: dict[type, tuple[str, ...]] = {}
_is_node: dict[type, bool] = {}


def _child_fields(node_type: type) -> tuple[str, ...]:
    fields = _child_fields_cache.get(node_type)
    if fields is None:
        fields = tuple(
            f.name
            for f in dataclasses.fields(node_type)
            if f.name not in _SKIPPED_FIELDS and not f.name.startswith("whitespace")
        )
        _child_fields_cache[node_type] = fields
    return fields


def _node_type(value_type: type) -> bool:
    """`issubclass(t, CSTNode)`, cached: `isinstance` on LibCST's abstract classes is slow."""
    known = _is_node.get(value_type)
    if known is None:
        known = _is_node[value_type] = issubclass(value_type, cst.CSTNode)
    return known


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's children that may hold code, in field order (faster than LibCST's
    `children`, which also yields whitespace and punctuation)."""
    found = []
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if type(value) is tuple or type(value) is list:
            found.extend(item for item in value if _node_type(type(item)))
        elif _node_type(type(value)):
            found.append(value)
    return found


def _bound_names(target: cst.BaseExpression) -> Iterator[cst.Name]:
    """Names bound by an assignment target, including tuple unpacking and starred names."""
    if isinstance(target, cst.Name):
        yield target
    elif isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            yield from _bound_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _bound_names(target.value)


def _dotted(expr: cst.BaseExpression | None) -> str:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return f"{_dotted(expr.value)}.{expr.attr.value}"
    return ""


class _Builder:
    """Walks the tree once with an explicit stack (deeply nested code must not recurse)."""

    def __init__(self, model: FileModel) -> None:
        self.model = model

    def walk(self) -> None:
        # Bound methods in a local, not an attribute: kept on the builder they would make a
        # cycle, and the model and its whole tree would wait for the garbage collector.
        handlers = {
            cst.Import: self._import,
            cst.ImportFrom: self._import_from,
            cst.Assign: self._assign,
            cst.AnnAssign: self._ann_assign,
            cst.AugAssign: self._aug_assign,
            cst.NamedExpr: self._named_expr,
            cst.For: self._for,
            cst.With: self._with,
            cst.ExceptHandler: self._except_handler,
            cst.ExceptStarHandler: self._except_handler,
            cst.FunctionDef: self._function_def,
            cst.ClassDef: self._class_def,
            cst.Lambda: self._lambda,
            cst.Call: self._call,
            cst.Await: self._await,
            cst.Return: self._return,
            cst.Expr: self._expression_statement,
            cst.Yield: self._yield,
            cst.ListComp: self._comprehension,
            cst.SetComp: self._comprehension,
            cst.DictComp: self._comprehension,
            cst.GeneratorExp: self._comprehension,
            cst.CompFor: self._comp_for,
            cst.MatchAs: self._match_capture,
            cst.MatchStar: self._match_capture,
            cst.MatchMapping: self._match_capture,
        }
        self.stack: list[tuple[cst.CSTNode, Scope]] = [(self.model.module, self.model.module_scope)]
        while self.stack:
            node, scope = self.stack.pop()
            handler = handlers.get(type(node))
            if handler is not None:
                handler(node, scope)
            else:
                self._push_children(node, scope)
        self.model._finish()

    def _push_children(self, node: cst.CSTNode, scope: Scope) -> None:
        self.stack.extend((child, scope) for child in children(node))

    def _push(self, nodes: Sequence[cst.CSTNode | None], scope: Scope) -> None:
        self.stack.extend((node, scope) for node in nodes if node is not None)

    def _import(self, node: cst.Import, scope: Scope) -> None:
        for alias in node.names:
            module = _dotted(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local, target = alias.asname.name.value, module
            else:  # `import a.b` binds `a`
                local = target = module.split(".", 1)[0]
            scope.bind(local, Binding(BindingKind.IMPORT, target))

    def _import_from(self, node: cst.ImportFrom, scope: Scope) -> None:
        module = "." * len(node.relative) + _dotted(node.module)
        if isinstance(node.names, cst.ImportStar):
            scope.star_imports.append((_dotted(node.module), len(node.relative)))
            return
        for alias in node.names:
            local = alias.asname.name if alias.asname is not None else alias.name
            if isinstance(local, cst.Name):
                separator = "" if module.endswith(".") else "."
                qualified = f"{module}{separator}{_dotted(alias.name)}"
                scope.bind(local.value, Binding(BindingKind.IMPORT, qualified))

    def _assign(self, node: cst.Assign, scope: Scope) -> None:
        for target in node.targets:
            self._bind_target(target.target, scope, node.value)
        self._push_children(node, scope)

    def _ann_assign(self, node: cst.AnnAssign, scope: Scope) -> None:
        if isinstance(node.target, cst.Name):
            binding = Binding(
                BindingKind.ASSIGN, value=node.value, annotation=node.annotation.annotation
            )
            scope.bind(node.target.value, binding)
        self._push_children(node, scope)

    def _aug_assign(self, node: cst.AugAssign, scope: Scope) -> None:
        self._bind_target(node.target, scope, None)
        self._push_children(node, scope)

    def _named_expr(self, node: cst.NamedExpr, scope: Scope) -> None:
        self._bind_target(node.target, scope, node.value)
        self._push_children(node, scope)

    def _for(self, node: cst.For, scope: Scope) -> None:
        self._bind_target(node.target, scope, None)
        self._push_children(node, scope)

    def _with(self, node: cst.With, scope: Scope) -> None:
        for item in node.items:
            if item.asname is not None:
                self._bind_target(item.asname.name, scope, item.item)
        self._push_children(node, scope)

    def _except_handler(self, node: cst.ExceptHandler, scope: Scope) -> None:
        if node.name is not None:
            self._bind_target(node.name.name, scope, None)
        self._push_children(node, scope)

    def _bind_target(
        self, target: cst.BaseExpression, scope: Scope, value: cst.BaseExpression | None
    ) -> None:
        if isinstance(target, cst.Name):
            kind = BindingKind.ASSIGN if value is not None else BindingKind.OTHER
            scope.bind(target.value, Binding(kind, value=value))
            return
        for name in _bound_names(target):  # unpacking: the value of each name is unknown
            scope.bind(name.value, Binding(BindingKind.OTHER))

    def _function_def(self, node: cst.FunctionDef, scope: Scope) -> None:
        scope.bind(node.name.value, Binding(BindingKind.DEF, node=node))
        inner = Scope("function", node, scope)
        self.model.functions[node] = FunctionInfo(node, inner)
        # Decorators, defaults and annotations run in the enclosing scope; the body in its own.
        self._push([d.decorator for d in node.decorators], scope)
        self._push([node.returns], scope)
        self._parameters(node.params, inner, scope)
        self.stack.append((node.body, inner))

    def _lambda(self, node: cst.Lambda, scope: Scope) -> None:
        inner = Scope("lambda", node, scope)
        self._parameters(node.params, inner, scope)
        self.stack.append((node.body, inner))

    def _parameters(self, params: cst.Parameters, inner: Scope, outer: Scope) -> None:
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        for extra in (params.star_arg, params.star_kwarg):
            if isinstance(extra, cst.Param):
                every.append(extra)
        for param in every:
            annotation = param.annotation.annotation if param.annotation is not None else None
            inner.bind(param.name.value, Binding(BindingKind.PARAM, annotation=annotation))
            self._push([param.default, param.annotation], outer)

    def _class_def(self, node: cst.ClassDef, scope: Scope) -> None:
        scope.bind(node.name.value, Binding(BindingKind.CLASS, node=node))
        self.model.classes[node] = scope
        self._push([d.decorator for d in node.decorators], scope)
        self._push([*node.bases, *node.keywords], scope)
        self.stack.append((node.body, Scope("class", node, scope)))

    def _comprehension(self, node: cst.BaseComp, scope: Scope) -> None:
        # Comprehension variables are local to it; the code still runs in the enclosing frame.
        self._push_children(node, Scope("comprehension", node, scope))

    def _comp_for(self, node: cst.CompFor, scope: Scope) -> None:
        self._bind_target(node.target, scope, None)
        self._push_children(node, scope)

    def _match_capture(
        self, node: cst.MatchAs | cst.MatchStar | cst.MatchMapping, scope: Scope
    ) -> None:
        name = node.rest if isinstance(node, cst.MatchMapping) else node.name
        if name is not None:
            scope.bind(name.value, Binding(BindingKind.OTHER))
        self._push_children(node, scope)

    def _expression_statement(self, node: cst.Expr, scope: Scope) -> None:
        if isinstance(node.value, cst.Call):
            self.model.expression_statements.add(node.value)
        self._push_children(node, scope)

    def _yield(self, node: cst.Yield, scope: Scope) -> None:
        function = scope.executing_function()
        if function is not None and isinstance(function.node, cst.FunctionDef):
            self.model.generators.add(function.node)
        self._push_children(node, scope)

    def _return(self, node: cst.Return, scope: Scope) -> None:
        self.model.returns.append((node, scope))
        self._push_children(node, scope)

    def _await(self, node: cst.Await, scope: Scope) -> None:
        if isinstance(node.expression, cst.Call):
            self.model.awaited.add(node.expression)
        self._push_children(node, scope)

    def _call(self, node: cst.Call, scope: Scope) -> None:
        self.model.calls.append(CallSite(node, scope))
        self._push_children(node, scope)

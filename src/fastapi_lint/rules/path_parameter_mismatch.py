from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.route_params import (
    DEPENDENCY,
    INJECTED,
    Marker,
    Parameter,
    class_ancestors,
    has_var_keyword,
    is_method,
    marker_of,
    parameters,
    path_parameters,
    project_definition,
    type_kind,
)
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.semantic import BindingKind, FileModel, Route, Scope, string_value

_UNKNOWN_PART = "{?}"
_DEPTH = 12
_MODELS = frozenset({"pydantic.BaseModel", "pydantic_settings.BaseSettings", "sqlmodel.SQLModel"})


class PathParameterMismatch(Rule):
    """Route path and handler disagree: a `{name}` nobody reads, or a `Path()` not in the path.

    ## What it does
    Checks each route's full path (with the prefixes of its routers and `include_router`
    calls) against its handler:

    - a path parameter (`{item_id}`, `{item_id:int}`) that neither the handler nor any of
      its dependencies declares: FastAPI matches the URL segment and drops the value;
    - a handler parameter declared with `Path()` (in the default or in `Annotated[...]`)
      whose name (or `alias=`) is in none of the paths the route is served at: FastAPI
      expects a path parameter that never comes, and every request fails with `422`.

    Path parameters are found as Starlette finds them: `{ item_id }` (with spaces) or a
    non-ASCII name is literal text, not a parameter.

    ## Why is this bad?
    A path parameter nobody reads is usually a renamed argument (`/items/{item_id}` served
    by `def read_item(id: int)`: `id` becomes a required *query* parameter) or a forgotten
    check: `/users/{user_id}/orders` answering every user's orders. A `Path()` parameter
    missing from the path makes the route unusable.

    To stay precise, a `{name}` is **not** reported when:

    - a parameter of the handler, or of a dependency, is named after it, or declares it as
      its `alias=`; dependencies are followed through `Depends(...)` and `Security(...)`
      in defaults, in `Annotated[...]` metadata (also through an `Annotated` alias), and in
      the route's `dependencies=[...]`, into functions, classes (their `__init__`, or the
      fields of a Pydantic model or dataclass) and callable instances (`__call__`), in this
      module or another module of the project, recursively;
    - a dependency cannot be followed (a library's, a factory's result, a name of a module
      fastapi-lint cannot read), a parameter's annotation may hide one (an alias of an
      unreadable module), or the handler takes `**kwargs`;
    - the handler or a dependency takes the `Request` (or `WebSocket`) and reads
      `path_params`, its `url` or `scope`, or passes it on;
    - a router, an `include_router(...)` call or the app that serves the route has
      `dependencies=` (they may read it), or the handler is a method of a class
      (class-based views);
    - the handler is not defined in the same file, or the route has `**options`.

    A `Path()` parameter is only checked when every path the route is served at is known
    (no prefix computed at run time, shown as `{?}` in `fastapi-lint routes`), and not when
    its `alias=` is not a literal or it has a `validation_alias=`.

    ## Example
    ```python
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/items/{item_id}")
    async def read_item(id: int) -> int:
        \"\"\"Read one item.\"\"\"
        return id
    ```

    Use instead:
    ```python
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> int:
        \"\"\"Read one item.\"\"\"
        return item_id
    ```

    ## Fix safety
    There is no fix: renaming a parameter changes the query string clients send, and a
    stray `Path()` may belong in the path or out of it.

    ## Options
    None.
    """

    code = "FAPI110"
    name = "path-parameter-mismatch"
    severity = Severity.WARNING

    def check(self, model: FileModel) -> Iterator[Finding]:
        for route in model.routes:
            handler = route.handler
            if handler is None or route.has_unknown_keywords or route.path is None:
                continue
            if not route.rows:  # not in the project's route table: its context is unknown
                continue
            if is_method(model, handler):
                continue
            paths = _served_paths(route)
            yield from self._unread(model, route, handler, paths)
            yield from self._not_in_path(model, route, handler, paths)

    def _unread(
        self, model: FileModel, route: Route, handler: cst.FunctionDef, paths: list[str]
    ) -> Iterator[Finding]:
        wanted = list(dict.fromkeys(name for path in paths for name in path_parameters(path)))
        if not wanted:
            return
        reads = _Reads()
        reads.function(model, handler)
        reads.route_dependencies(model, route)
        missing = [name for name in wanted if name not in reads.names]
        import os, sys  # DEBUG

        if os.environ.get("FAPI110_DEBUG"):
            ctx = _context_dependencies(model, route)
            print(
                "DEBUG",
                repr(route.describe()),
                missing,
                repr(reads.unknown),
                "ctx" if ctx else "",
                file=sys.stderr,
            )
        if not missing or reads.unknown or _context_dependencies(model, route):
            return
        for name in missing:
            yield self.finding(
                route.report_node,
                f"Path parameter `{name}` of `{route.describe()}` is read by neither "
                f"`{handler.name.value}` nor its dependencies: FastAPI drops it",
            )

    def _not_in_path(
        self, model: FileModel, route: Route, handler: cst.FunctionDef, paths: list[str]
    ) -> Iterator[Finding]:
        own = route.path or ""
        served = [row.path for row in route.rows if row.app is not None and row.path.endswith(own)]
        if not served or any(_UNKNOWN_PART in path for path in served):
            return
        in_paths = [set(path_parameters(path)) for path in served]
        for param in parameters(model, handler):
            if param.marker is None or param.marker.kind != "Path":
                continue
            name = _path_name(param)
            if name is None or all(name in names for names in in_paths):
                continue
            yield self.finding(
                param.node,
                f"`{param.name}` is declared with `Path()` but `{{{name}}}` is not in the path "
                f"of `{route.describe()}`: every request fails with 422",
                Severity.ERROR,
            )


def _served_paths(route: Route) -> list[str]:
    """The full paths of the route (their unknown parts never hold a name we report): the
    rows that end with its own path (a function defined twice under one name shares its
    rows with its twin)."""
    own = route.path or ""
    served = [path for path in route.full_paths if path.endswith(own)]
    return served or [route.prefix + own]


def _path_name(param: Parameter) -> str | None:
    """The name a `Path()` parameter is read as; None when an expression decides it."""
    assert param.marker is not None
    if param.marker.argument("validation_alias") is not None:
        return None
    alias = param.marker.argument("alias")
    if alias is None:
        return param.name
    return string_value(alias)


@dataclass
class _Reads:
    """The parameter names a handler and its dependencies declare, followed recursively."""

    names: set[str] = field(default_factory=set)
    unknown: str | None = None  # why something may read a name we cannot see
    seen: set[cst.CSTNode] = field(default_factory=set)

    def give_up(self, reason: str) -> None:
        self.unknown = self.unknown or reason

    def function(self, model: FileModel, function: cst.FunctionDef, depth: int = 0) -> None:
        if depth > _DEPTH:
            self.give_up("dependencies nested too deeply")
        if function in self.seen or depth > _DEPTH:
            return
        self.seen.add(function)
        if has_var_keyword(function):
            self.give_up(f"`**` parameter of `{function.name.value}`")
        for param in parameters(model, function):
            self.parameter(model, function, param, depth)

    def parameter(
        self, model: FileModel, function: cst.FunctionDef, param: Parameter, depth: int
    ) -> None:
        self.names.add(param.name)
        if param.opaque:
            self.give_up(f"annotation or marker of `{param.name}`")
        if param.marker is not None:
            self.aliases(param.marker)
        if param.is_dependency:
            assert param.marker is not None
            target = param.marker.argument("dependency", 0)
            self.dependency(model, target if target is not None else param.type, param.scope, depth)
        elif _is_injected(model, param) and _request_used_for_path(model, function, param.name):
            self.give_up(f"`{param.name}` of `{function.name.value}` may read the path")

    def aliases(self, marker: Marker) -> None:
        if marker.argument("validation_alias") is not None:
            self.give_up("validation_alias")
        alias = marker.argument("alias")
        if alias is not None:
            text = string_value(alias)
            if text is None:
                self.give_up("alias")
            else:
                self.names.add(text)

    def route_dependencies(self, model: FileModel, route: Route) -> None:
        self.dependency_list(model, route.keyword_value("dependencies"), route.scope)
        receiver = _local_constructor(model, route)
        if receiver is not None:
            call, scope = receiver
            if any(arg.star == "**" for arg in call.args):
                self.give_up("router options")
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == "dependencies":
                    self.dependency_list(model, arg.value, scope)

    def dependency_list(
        self, model: FileModel, value: cst.BaseExpression | None, scope: Scope
    ) -> None:
        if value is None:
            return
        if not isinstance(value, cst.List | cst.Tuple):
            self.give_up("dependencies=")
            return
        for element in value.elements:
            marker = marker_of(model, element.value, scope)
            if marker is None or marker.kind not in DEPENDENCY:
                self.give_up("dependencies=")
                continue
            self.dependency(model, marker.argument("dependency", 0), scope, 0)

    def dependency(
        self, model: FileModel, target: cst.BaseExpression | None, scope: Scope, depth: int
    ) -> None:
        """Follow what `Depends(target)` calls."""
        if target is None:
            self.give_up("Depends()")
            return
        if isinstance(target, cst.Name):
            instance = _instance(model, target, scope)
            if instance is not None:
                target = instance  # `checker = Checker(...)`, then `Depends(checker)`
        if isinstance(target, cst.Call):
            self.callable_instance(model, target, scope, depth)
            return
        function = model.resolve_function(target, scope)
        if function is not None:
            self.function(model, function, depth + 1)
            return
        cls = _class(model, target, scope)
        if cls is None:
            self.give_up(f"dependency `{model.module.code_for_node(target)}`")
        elif isinstance(cls[1], cst.FunctionDef):
            self.function(cls[0], cls[1], depth + 1)
        else:
            self.class_dependency(cls[0], cls[1], depth)

    def callable_instance(self, model: FileModel, call: cst.Call, scope: Scope, depth: int) -> None:
        """`Depends(Checker("admin"))`: FastAPI calls the instance's `__call__`."""
        found = _class(model, call.func, scope)
        cls = found[1] if found is not None else None
        method = _method(cls, "__call__") if isinstance(cls, cst.ClassDef) else None
        if found is None or method is None:
            self.give_up(f"dependency `{model.module.code_for_node(call)}`")
        else:
            self.function(found[0], method, depth + 1)

    def class_dependency(self, model: FileModel, cls: cst.ClassDef, depth: int) -> None:
        """`Depends(Params)`: FastAPI calls the class, so its `__init__` (or the fields of a
        model or a dataclass) says what it reads."""
        init = _method(cls, "__init__")
        if init is not None:
            self.function(model, init, depth + 1)
            return
        fields = _model_fields(model, cls, depth)
        if fields is None:
            self.give_up(f"class dependency `{cls.name.value}`")
        else:
            self.names.update(fields)


def _instance(model: FileModel, name: cst.Name, scope: Scope) -> cst.Call | None:
    """The call a name is bound to once (an instance, if it calls a class)."""
    bindings = model.lookup(name.value, scope)
    if bindings and len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN:
        value = bindings[0].value
        return value if isinstance(value, cst.Call) else None
    return None


def _class(
    model: FileModel, expr: cst.BaseExpression, scope: Scope
) -> tuple[FileModel, cst.FunctionDef | cst.ClassDef] | None:
    """The class (or function) a name refers to, in this module or another of the project."""
    local = model.local_class(expr, scope)
    if local is not None:
        return model, local
    return project_definition(model, expr, scope)


def _is_injected(model: FileModel, param: Parameter) -> bool:
    """`request: Request` and the other objects FastAPI passes itself."""
    return param.marker is None and type_kind(model, param.type, param.scope) == INJECTED


def _method(cls: cst.ClassDef, name: str) -> cst.FunctionDef | None:
    """A method defined in the class body itself."""
    for statement in cls.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            return statement
    return None


def _model_fields(model: FileModel, cls: cst.ClassDef, depth: int) -> set[str] | None:
    """The field names (and literal aliases) of a Pydantic model or dataclass of this file,
    with those of its local bases; None when a base or an alias is unknown."""
    if depth > _DEPTH:
        return None
    scope = model.classes[cls]
    ancestors = class_ancestors(model, cst.Name(cls.name.value), scope) or set()
    if not (ancestors & _MODELS or "dataclass" in ancestors):
        return None
    found: set[str] = set()
    for base in cls.bases:
        local = model.local_class(base.value, scope)
        if local is not None:
            inherited = _model_fields(model, local, depth + 1)
            if inherited is None:
                return None
            found |= inherited
        elif model.qualified_name(base.value, scope) not in _MODELS:
            return None
    for statement in cls.body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for item in statement.body:
            if isinstance(item, cst.AnnAssign) and isinstance(item.target, cst.Name):
                found.add(item.target.value)
                if isinstance(item.value, cst.Call) and not _add_alias(item.value, found):
                    return None
    return found


def _add_alias(call: cst.Call, found: set[str]) -> bool:
    """Add a `Field(alias="x")` alias; False when an alias is not a literal."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in ("alias", "validation_alias"):
            text = string_value(arg.value)
            if text is None:
                return False
            found.add(text)
    return True


_PASSED_ON = r"[(,]\s*(?:\w+\s*=\s*)?{name}\s*[,)]"


def _request_used_for_path(model: FileModel, function: cst.FunctionDef, name: str) -> bool:
    """The `Request` parameter `name` may reveal path parameters: the function reads
    `path_params`, `url` or `scope`, or passes the request on."""
    code = model.module.code_for_node(function.body)
    if "path_params" in code or f"{name}.url" in code or f"{name}.scope" in code:
        return True
    return re.search(_PASSED_ON.format(name=re.escape(name)), code) is not None


def _local_constructor(model: FileModel, route: Route) -> tuple[cst.Call, Scope] | None:
    """`APIRouter(...)` of the route's receiver, when this file binds it once."""
    receiver = route.receiver
    if not isinstance(receiver, cst.Name):
        return None
    where = model.binding_scope(receiver.value, route.scope)
    bindings = where.bindings[receiver.value] if where is not None else []
    if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN:
        value = bindings[0].value
        if isinstance(value, cst.Call):
            return value, where  # type: ignore[return-value]
    return None


def _context_dependencies(model: FileModel, route: Route) -> bool:
    """Whether a router, an `include_router` call or an app serving the route has
    `dependencies=` that we do not follow (the route's own router, when built in this file,
    is followed)."""
    index = model.project.index
    if index is None:
        return True
    own = _local_constructor(model, route) is not None
    for row in route.rows:
        sites = row.sites
        for position, site in enumerate(sites):
            is_own_router = position == len(sites) - 1
            info = index.objects.get(site.receiver)
            keywords = info.keywords if info is not None else {}
            if not (is_own_router and own) and keywords.keys() & {"dependencies", "**"}:
                return True
            if not is_own_router and _include_has_dependencies(index, site):
                return True
    return False


def _include_has_dependencies(index: object, site: object) -> bool:
    module = index.modules.get(site.module)  # type: ignore[attr-defined]
    if module is None:
        return True
    calls = [c for c in module.summary["includes"] if c["line"] == site.line]  # type: ignore[attr-defined]
    return not calls or any(c["kw"].keys() & {"dependencies", "**"} for c in calls)

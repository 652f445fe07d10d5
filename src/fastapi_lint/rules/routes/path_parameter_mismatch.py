from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.route_context import context_sets, local_router
from fastapi_lint.route_params import (
    DEPENDENCY,
    INJECTED,
    Marker,
    Parameter,
    Where,
    class_ancestors,
    has_var_keyword,
    imported_value,
    is_method,
    marker_of,
    parameters,
    path_parameters,
    project_definition,
)
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import BindingKind, FileModel, Route, Scope, string_value

_UNKNOWN_PART = "{?}"
_SECURITY = "fastapi.security."
_DEPTH = 12
_MODELS = frozenset({"pydantic.BaseModel", "pydantic_settings.BaseSettings", "sqlmodel.SQLModel"})


class PathParameterMismatch(Rule):
    """Route path and handler disagree: a `{name}` nobody reads, or a `Path()` not in the path.

    ## What it does
    Checks each route's full path (with the prefixes of its routers and `include_router`
    calls) against its handler:

    - a path parameter (`{item_id}`, `{item_id:int}`) that neither the handler nor any of
      its dependencies declares: FastAPI matches the URL segment and drops the value
      (a warning);
    - a parameter of the handler declared with `Path()` (in the default or in
      `Annotated[...]`) whose name (or `alias=`) is in none of the paths the route is
      served at: FastAPI expects a path parameter that never comes, and every request
      fails with `422` (an error).

    Path parameters are found as Starlette finds them: `{ item_id }` (with spaces) or a
    non-ASCII name is literal text, not a parameter.

    ## Why is this bad?
    A path parameter nobody reads is usually a renamed argument (`/items/{item_id}` served
    by `def read_item(id: int)`: `id` becomes a required *query* parameter) or a forgotten
    check: `/users/{user_id}/orders` answering every user's orders. The OpenAPI schema
    then lists a path template without its parameter. A `Path()` parameter missing from
    the path makes the route unusable.

    To stay precise, a `{name}` is **not** reported when:

    - a parameter of the handler, or of a dependency, is named after it, or declares it as
      its `alias=`. Dependencies are followed through `Depends(...)` and `Security(...)`
      in defaults, in `Annotated[...]` metadata (also through an `Annotated` alias or a
      `Depends(...)` kept in a variable), in the route's `dependencies=[...]` and in those
      of its router when the router is built in the same file; into functions, classes
      (their `__init__`, or the fields of a Pydantic model or a dataclass) and callable
      instances (`__call__`), in this module or another module of the project,
      recursively. FastAPI's security schemes (`OAuth2PasswordBearer(...)`,
      `HTTPBearer()`, ...) never read the path;
    - a dependency cannot be followed (a library's, what a factory returns, a name of a
      module fastapi-lint cannot read), an annotation or a default may hide one (an alias
      of an unreadable module), or a function on the way takes `**kwargs`;
    - the handler or a dependency takes the `Request` (or `WebSocket`) and reads
      `path_params`, its `url` or `scope`, or passes the request on to other code;
    - an app, an `include_router(...)` call, or a router built in another module that
      serves the route has `dependencies=`, which may read it;
    - the handler is a method of a class (class-based views), is not defined in the same
      file, the route is not in the project's route table, or it has `**options`.

    A route whose prefix is computed at run time (`{?}` in `fastapi-lint routes`) is still
    checked for the parameters written out in its path; a `Path()` parameter is only
    checked when every path the route is served at is known, and not when its `alias=` is
    not a literal or it has a `validation_alias=`. Parameters of dependencies declared
    with `Path()` are not checked against the path.

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
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.WARNING

    def screen(self, facts: Facts) -> bool:
        return (facts.served or facts.unserved) and facts.any_route()

    def check(self, model: FileModel) -> Iterator[Finding]:
        reported: set[cst.Param] = set()  # a handler of several routes: its parameter once
        for route in model.routes:
            handler = route.handler
            if handler is None or route.has_unknown_keywords or route.path is None:
                continue
            if not route.rows:  # not in the project's route table: its context is unknown
                continue
            if is_method(model, handler):
                continue
            yield from self._unread(model, route, handler)
            for finding in self._not_in_path(model, route, handler):
                if finding.node not in reported:
                    reported.add(finding.node)  # type: ignore[arg-type]
                    yield finding

    def _unread(
        self, model: FileModel, route: Route, handler: cst.FunctionDef
    ) -> Iterator[Finding]:
        paths = _served_paths(route)
        wanted = list(dict.fromkeys(name for path in paths for name in path_parameters(path)))
        if not wanted:
            return
        if set(wanted) <= _declared_names(model, handler):
            return  # the common case, without following anything
        if context_sets(model, route, "dependencies", local_router(model, route) is not None):
            return
        reads = _Reads()
        reads.function(model, handler)
        reads.route_dependencies(model, route)
        missing = [name for name in wanted if name not in reads.names]
        if not missing or reads.unknown:
            return
        for name in missing:
            yield self.finding(
                route.report_node,
                f"Path parameter `{name}` of `{route.describe()}` is read by neither "
                f"`{handler.name.value}` nor its dependencies: FastAPI drops it",
            )

    def _not_in_path(
        self, model: FileModel, route: Route, handler: cst.FunctionDef
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


def _declared_names(model: FileModel, handler: cst.FunctionDef) -> set[str]:
    """The handler's own parameter names and literal aliases."""
    found = set()
    for param in parameters(model, handler):
        found.add(param.name)
        alias = param.marker.argument("alias") if param.marker is not None else None
        if string_value(alias) is not None:
            found.add(string_value(alias))  # type: ignore[arg-type]
    return found


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
        for param in parameters(model, function, follow_imports=True):
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
            if target is not None:
                self.dependency(param.marker.where, target, depth)
            else:  # `Annotated[Params, Depends()]`: the class is the dependency
                self.dependency(param.type_where, param.type, depth)
        elif _is_injected(param) and _request_used_for_path(model, function, param.name):
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
        self.dependency_list(
            Where(model, route.scope, follow_imports=True), route.keyword_value("dependencies")
        )
        receiver = local_router(model, route)
        if receiver is not None:
            call, scope = receiver
            if any(arg.star == "**" for arg in call.args):
                self.give_up("router options")
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == "dependencies":
                    self.dependency_list(Where(model, scope, follow_imports=True), arg.value)

    def dependency_list(self, where: Where, value: cst.BaseExpression | None) -> None:
        if value is None:
            return
        if not isinstance(value, cst.List | cst.Tuple):
            self.give_up("dependencies=")
            return
        for element in value.elements:
            marker = marker_of(where, element.value)
            if marker is None or marker.kind not in DEPENDENCY:
                self.give_up("dependencies=")
                continue
            self.dependency(marker.where, marker.argument("dependency", 0), 0)

    def dependency(self, where: Where, target: cst.BaseExpression | None, depth: int) -> None:
        """Follow what `Depends(target)` calls."""
        model, scope = where.model, where.scope
        if target is None:
            self.give_up("Depends()")
            return
        if isinstance(target, cst.Name):
            instance = _instance(model, target, scope)
            if instance is not None:
                target = instance  # `checker = Checker(...)`, then `Depends(checker)`
        if isinstance(target, cst.Name | cst.Attribute):
            imported = imported_value(model, target, scope)
            if imported is not None and isinstance(imported[0], cst.Call):
                where = imported[1]  # an instance built in another module
                model, scope, target = where.model, where.scope, imported[0]
        if _is_security_scheme(model, target, scope):
            return
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


def _is_security_scheme(model: FileModel, target: cst.BaseExpression, scope: Scope) -> bool:
    """FastAPI's security schemes and forms (`OAuth2PasswordBearer(...)`, `HTTPBearer()`,
    `OAuth2PasswordRequestForm`) read headers and forms, never the path."""
    func = target.func if isinstance(target, cst.Call) else target
    return (model.qualified_name(func, scope) or "").startswith(_SECURITY)


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


def _is_injected(param: Parameter) -> bool:
    """`request: Request` and the other objects FastAPI passes itself."""
    return param.marker is None and param.type_kind() == INJECTED


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


_REVEALING = frozenset({"path_params", "url", "scope"})  # what shows the path parameters


def _request_used_for_path(model: FileModel, function: cst.FunctionDef, name: str) -> bool:
    """The `Request` parameter `name` may reveal path parameters: the function reads its
    `path_params`, `url` or `scope`, or uses the request other than through an attribute
    (passes it on, stores it, hands it to a template)."""
    attribute_bases: set[cst.Name] = set()
    names: list[cst.Name] = []
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            if node.value.value == name and node.attr.value in _REVEALING:
                return True
            attribute_bases.add(node.value)
        elif isinstance(node, cst.Name) and node.value == name:
            names.append(node)
        stack.extend(node.children)
    return any(node not in attribute_bases for node in names)

from __future__ import annotations

import http
from collections.abc import Iterator
from dataclasses import dataclass, field

from fastapi_lint import names
from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.route_context import context_sets, local_router
from fastapi_lint.route_params import (
    DEPENDENCY,
    INJECTED,
    Where,
    imported_value,
    marker_of,
    parameters,
    project_definition,
)
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.rules.routes.http_exception_non_error_status import status_number
from fastapi_lint.screen import Facts
from fastapi_lint.security_facts import argument, descendants, written_values
from fastapi_lint.semantic import BindingKind, FileModel, Route, Scope, is_none, string_value

_DEPTH = 8
_VALIDATION_ERROR = 422  # FastAPI documents it on every route that reads parameters
_ALL = "all"  # `"default"` in `responses`: every status is documented
_CATCH_ALLS = frozenset({"builtins.Exception", "builtins.BaseException"})


@dataclass
class _Raised:
    """The error statuses a route raises, and where (for the message)."""

    statuses: dict[int, str] = field(default_factory=dict)  # status -> "`handler`"
    has_parameters: bool = False
    seen: set[cst.FunctionDef] = field(default_factory=set)


class UndeclaredErrorResponse(Rule):
    """Route raises an `HTTPException` status that its `responses=` does not document.

    This rule is off by default: it asks every route to document its errors in OpenAPI,
    which public APIs and generated clients want and many internal services do not. Enable
    it with `extend-select = ["FAPI402"]`.

    ## What it does
    Checks routes whose handler, or one of its dependencies, raises `HTTPException`
    (FastAPI's or Starlette's) with a literal client error status, 400 to 499 (`404`,
    `status.HTTP_404_NOT_FOUND`, `HTTPStatus.NOT_FOUND`), while neither the route's
    `responses=` nor that of its router (when the router is built in the same file)
    declares that status. `responses=` keys count as FastAPI reads them: `404`, `"404"`,
    `status.HTTP_404_NOT_FOUND`, the ranges `"4XX"` and `"5XX"`, and `"default"` (every
    status). A `responses=` kept in a constant (of this module or another of the project)
    and `{**COMMON, 404: ...}` are read too.

    Dependencies are followed through `Depends(...)` and `Security(...)` in parameters
    (also in `Annotated` aliases of other modules) and in the route's `dependencies=[...]`,
    into functions of this module or another of the project, recursively.

    ## Why is this bad?
    FastAPI documents only the success response and `422`. A client generated from the
    OpenAPI schema does not know the route can answer `404` or `409`, and neither does a
    reader of the docs: the error model, if any, is invisible. Declaring each error with
    `responses={404: {"description": "Item not found"}}` (or a `model`) puts it in the
    contract.

    Not reported:

    - `422` on a route with parameters: FastAPI documents it itself;
    - server errors (`500`, `502`, `503`, ...): they say the server failed, not what the
      client must handle, and APIs rarely document them per route;
    - routes with `**options`, or a `responses=` that is not a literal dict (or a name
      bound to one); routes served through an `APIRouter(...)`, `include_router(...)` or
      app with `responses=` that fastapi-lint does not read (built in another file, or
      not a literal): those may declare the status;
    - statuses raised in helper functions the handler calls, in subclasses of
      `HTTPException`, or given as an expression (`HTTPException(status_code=code)`);
    - a `raise` in a `try` block whose handler catches any exception (`except Exception:`)
      or the `HTTPException` itself without re-raising it: the client may get another
      status;
    - routes left out of the OpenAPI schema (`include_in_schema=False`, on the route, its
      router, its `include_router(...)` or an app without `openapi_url`), and routes not
      in the project's route table.

    ## Example
    ```python
    from fastapi import APIRouter, FastAPI, HTTPException

    app = FastAPI()
    router = APIRouter()
    ITEMS = {1: "hammer"}


    @router.get("/items/{item_id}")
    async def read_item(item_id: int) -> str:
        \"\"\"Read one item.\"\"\"
        if item_id not in ITEMS:
            raise HTTPException(status_code=404, detail="Item not found")
        return ITEMS[item_id]


    app.include_router(router)
    ```

    Use instead:
    ```python
    from fastapi import APIRouter, FastAPI, HTTPException

    app = FastAPI()
    router = APIRouter()
    ITEMS = {1: "hammer"}


    @router.get("/items/{item_id}", responses={404: {"description": "Item not found"}})
    async def read_item(item_id: int) -> str:
        \"\"\"Read one item.\"\"\"
        if item_id not in ITEMS:
            raise HTTPException(status_code=404, detail="Item not found")
        return ITEMS[item_id]


    app.include_router(router)
    ```

    ## Fix safety
    There is no fix: the description (and model) of each error is the author's to write.

    ## Options
    None.
    """

    code = "FAPI402"
    name = "undeclared-error-response"
    severity = Severity.INFO
    default_enabled = False

    def screen(self, facts: Facts) -> bool:
        return facts.any_route()

    def check(self, model: FileModel) -> Iterator[Finding]:
        for route in model.routes:
            handler = route.handler
            if handler is None or route.has_unknown_keywords or not route.rows:
                continue
            if route.in_schema is False:
                continue  # not in the OpenAPI schema: nothing to document
            declared = _declared(model, route)
            if declared is None or _ALL in declared:
                continue
            raised = _Raised()
            _collect(model, handler, f"`{handler.name.value}`", raised, 0)
            _route_dependencies(model, route, raised)
            missing = {
                status: where
                for status, where in raised.statuses.items()
                if status not in declared
                and f"{status // 100}XX" not in declared
                and not (status == _VALIDATION_ERROR and raised.has_parameters)
            }
            if missing:
                yield self.finding(route.report_node, _message(route, missing))


def _collect(
    model: FileModel, function: cst.FunctionDef, label: str, raised: _Raised, depth: int
) -> None:
    """The statuses `function` raises, and those of its dependencies."""
    if function in raised.seen or depth > _DEPTH:
        return
    raised.seen.add(function)
    info = model.function_info(function)
    scope = info.scope if info is not None else model.module_scope
    for call in _escaping_raises(model, function, scope):
        status = _raised_status(model, call, scope)
        if status is not None and 400 <= status < 500:
            raised.statuses.setdefault(status, label)
    for param in parameters(model, function, follow_imports=True):
        if not param.is_dependency:
            # FastAPI validates it, and documents 422 for the route (not `Request` and the like).
            raised.has_parameters |= param.marker is not None or param.type_kind() != INJECTED
            continue
        assert param.marker is not None
        target = param.marker.argument("dependency", 0)
        if target is not None:
            _dependency(param.marker.where, target, raised, depth)


def _escaping_raises(
    model: FileModel, function: cst.FunctionDef, scope: Scope
) -> Iterator[cst.Call]:
    """The `raise X(...)` of the function (not of nested ones) whose exception leaves it:
    not those in a `try` whose handlers catch any exception (`except Exception:`), which
    may turn the status into another."""
    stack: list[tuple[cst.CSTNode, bool]] = [(function.body, False)]
    while stack:
        node, caught = stack.pop()
        if isinstance(node, cst.FunctionDef | cst.Lambda | cst.ClassDef):
            continue
        if isinstance(node, cst.Raise):
            if not caught and isinstance(node.exc, cst.Call):
                yield node.exc
            continue
        if isinstance(node, cst.Try):
            stack.append((node.body, caught or _catches_http_exception(model, node, scope)))
            others = (*node.handlers, node.orelse, node.finalbody)
            stack.extend((other, caught) for other in others if other is not None)
            continue
        stack.extend((child, caught) for child in node.children)


def _catches_http_exception(model: FileModel, node: cst.Try, scope: Scope) -> bool:
    """The first handler that catches an `HTTPException` does not re-raise it."""
    for handler in node.handlers:
        caught = _caught_names(model, handler, scope)
        if caught & _CATCH_ALLS or names.HTTP_EXCEPTION in caught:
            return not any(
                isinstance(inner, cst.Raise) and inner.exc is None
                for inner in descendants(handler.body)
            )
    return False


def _caught_names(model: FileModel, handler: cst.ExceptHandler, scope: Scope) -> set[str]:
    if handler.type is None:
        return set(_CATCH_ALLS)
    if isinstance(handler.type, cst.Tuple):
        types = [element.value for element in handler.type.elements]
    else:
        types = [handler.type]
    return {model.qualified_name(item, scope) or "" for item in types}


def _raised_status(model: FileModel, call: cst.Call, scope: Scope) -> int | None:
    if model.qualified_name(call.func, scope) != names.HTTP_EXCEPTION:
        return None
    if any(arg.star for arg in call.args):
        return None
    status = argument(call, 0, "status_code")
    return status_number(model, status, scope) if status is not None else None


def _dependency(where: Where, target: cst.BaseExpression, raised: _Raised, depth: int) -> None:
    model, scope = where.model, where.scope
    function = model.resolve_function(target, scope)
    if function is not None:
        _collect(model, function, f"dependency `{function.name.value}`", raised, depth + 1)
        return
    found = project_definition(model, target, scope)
    if found is not None and isinstance(found[1], cst.FunctionDef):
        other, definition = found
        label = f"dependency `{definition.name.value}`"
        _collect(other, definition, label, raised, depth + 1)


def _route_dependencies(model: FileModel, route: Route, raised: _Raised) -> None:
    """`dependencies=[Depends(verify_token)]` of the route."""
    value = route.keyword_value("dependencies")
    if not isinstance(value, cst.List | cst.Tuple):
        return
    where = Where(model, route.scope, follow_imports=True)
    for element in value.elements:
        marker = marker_of(where, element.value)
        target = marker.argument("dependency", 0) if marker is not None else None
        if marker is not None and marker.kind in DEPENDENCY and target is not None:
            _dependency(marker.where, target, raised, 0)


# -- what the route declares ---------------------------------------------------------------


def _declared(model: FileModel, route: Route) -> set[int | str] | None:
    """The statuses the route's `responses=` and its router's declare; None when something
    that may declare one cannot be read."""
    found = _responses(model, route.keyword_value("responses"), route.scope)
    router = local_router(model, route)
    if found is None or context_sets(model, route, "responses", router is not None):
        return None
    if router is not None:
        call, scope = router
        if any(arg.star == "**" for arg in call.args):
            return None
        own = _responses(model, argument(call, None, "responses"), scope)
        if own is None:
            return None
        found |= own
    return found


def _responses(
    model: FileModel, value: cst.BaseExpression | None, scope: Scope, depth: int = 0
) -> set[int | str] | None:
    """The keys of a `responses` dict: status numbers, `"4XX"`, `_ALL`; None if unknown."""
    if value is None or is_none(value):
        return set()
    if depth > _DEPTH:
        return None
    if isinstance(value, cst.Name | cst.Attribute):
        return _named_responses(model, value, scope, depth)
    if not isinstance(value, cst.Dict):
        return None
    found: set[int | str] = set()
    for element in value.elements:
        if isinstance(element, cst.StarredDictElement):
            inner = _responses(model, element.value, scope, depth + 1)
        else:
            key = _key(model, element.key, scope)
            inner = {key} if key is not None else None
        if inner is None:
            return None
        found |= inner
    return found


def _named_responses(
    model: FileModel, value: cst.Name | cst.Attribute, scope: Scope, depth: int
) -> set[int | str] | None:
    """A constant of this module (bound once) or of another module of the project."""
    if isinstance(value, cst.Name):
        bindings = model.lookup(value.value, scope) or []
        if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN:
            values = list(written_values(model, value, scope, branches=False))
            return _responses(model, values[0], scope, depth + 1) if len(values) == 1 else None
    imported = imported_value(model, value, scope)
    if imported is None:
        return None
    other = imported[1]
    return _responses(other.model, imported[0], other.scope, depth + 1)


def _key(model: FileModel, key: cst.BaseExpression, scope: Scope) -> int | str | None:
    text = string_value(key)
    if text is not None:
        text = text.strip().upper()
        if text == "DEFAULT":
            return _ALL
        if text in ("1XX", "2XX", "3XX", "4XX", "5XX"):
            return text
        return int(text) if text.isdigit() else None
    return status_number(model, key, scope)


def _message(route: Route, missing: dict[int, str]) -> str:
    parts = [
        f"{status} {_phrase(status)} (in {where})" for status, where in sorted(missing.items())
    ]
    return (
        f"Route `{route.describe()}` raises {', '.join(parts)}, which `responses=` does not "
        "declare: the OpenAPI schema does not document it"
    )


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""

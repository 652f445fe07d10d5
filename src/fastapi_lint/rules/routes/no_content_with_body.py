from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.handlers import (
    gives_response,
    handler_returns,
    has_none_annotation,
    is_response_class,
    returned_values,
)
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import FileModel, Route, Scope, is_none, status_code, string_value

NO_BODY = frozenset({204, 205, 304})  # FastAPI refuses a response model for these


class NoContentWithBody(Rule):
    """Route answers a status without a body (204, 205, 304) but declares or returns one.

    ## What it does
    Checks for routes whose `status_code=` is `204 No Content`, `205 Reset Content` or
    `304 Not Modified` (an integer or a `status.HTTP_204_NO_CONTENT` style constant) and
    that still promise or produce a body:

    - the route sets `response_model=` to anything but `None`, or its handler has a return
      annotation other than `None` or a `Response` class (`-> dict`, `-> Item`,
      `-> Optional[Item]`) and no `response_model=`: FastAPI takes the annotation as the
      response model, and **refuses to start** (`AssertionError: Status code 204 must not
      have a response body`). Reported as an error, on the route;
    - the handler returns a value (`return {"deleted": True}`): FastAPI silently discards
      it and sends an empty body. Reported as a warning, on the first such `return`, when
      the route declares no response model (else the error above says it all).

    ## Why is this bad?
    These statuses have no body by definition (RFC 9110). A response model on such a route
    stops the application at import time; a returned value is thrown away, so the client
    never gets what the code seems to send, and the OpenAPI schema and the code disagree.

    A route is **not** reported when:

    - it sets `response_model=None`, which turns the annotation off;
    - its handler returns nothing, `None`, or a `Response` object (`return
      Response(status_code=204)`), which FastAPI sends as it is;
    - its handler is annotated `-> None` or `-> Response` (or a subclass of it), or is a
      generator;
    - the status is not a literal, the call has `**options`, or the handler is not defined
      in the same file (then only `response_model=` is checked).

    ## Example
    ```python
    from fastapi import FastAPI

    app = FastAPI()


    @app.delete("/items/{item_id}", status_code=204)
    async def delete_item(item_id: int) -> dict[str, bool]:
        \"\"\"Delete an item.\"\"\"
        return {"deleted": True}
    ```

    Use instead:
    ```python
    from fastapi import FastAPI

    app = FastAPI()


    @app.delete("/items/{item_id}", status_code=204)
    async def delete_item(item_id: int) -> None:
        \"\"\"Delete an item.\"\"\"
    ```

    ## Fix safety
    There is no fix: either the status or the body is wrong, and only the author knows
    which.

    ## Options
    None.
    """

    code = "FAPI107"
    name = "no-content-with-body"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.ERROR

    def screen(self, facts: Facts) -> bool:
        return facts.any_route(keyword="status_code")

    def check(self, model: FileModel) -> Iterator[Finding]:
        returns = handler_returns(model)
        reported_returns: set[cst.FunctionDef] = set()
        for route in model.routes:
            status = status_code(route.keyword_value("status_code"))
            if status not in NO_BODY or route.has_unknown_keywords:
                continue
            declared = _declared_body(model, route)
            if declared is not None:  # the app does not start: what it returns is moot
                yield self.finding(route.report_node, _declared_message(route, status, declared))
                continue
            handler = route.handler
            if handler is None or handler in reported_returns or handler in model.generators:
                continue
            value = _first_body(model, returns.get(handler, []))
            if value is not None:
                reported_returns.add(handler)
                yield self.finding(value, _returned_message(route, status), Severity.WARNING)


def _first_body(
    model: FileModel, returns: list[tuple[cst.BaseExpression | None, Scope]]
) -> cst.BaseExpression | None:
    """The first returned value that is not a `Response` (FastAPI sends those as they are)."""
    for value, scope in returned_values(returns):
        if not gives_response(model, value, scope):
            return value
    return None


def _declared_body(model: FileModel, route: Route) -> str | None:
    """What promises a body: `response_model=X`, or the handler's return annotation."""
    if "response_model" in route.keywords:
        value = route.keyword_value("response_model")
        if is_none(value):
            return None
        return "`response_model=`"
    handler = route.handler
    if handler is None or handler.returns is None or handler in model.generators:
        return None
    annotation = handler.returns.annotation
    if has_none_annotation(handler) or string_value(annotation) == "None":
        return None
    info = model.function_info(handler)
    defined_in = info.scope.parent if info is not None else None
    if defined_in is None or _names_response(model, annotation, defined_in):
        return None
    return "a return annotation"


def _names_response(model: FileModel, annotation: cst.BaseExpression, scope: Scope) -> bool:
    """`-> Response`, `-> JSONResponse`, also inside `Optional[...]` or a union: FastAPI
    treats a Response class as no model; a union with one we leave alone."""
    if is_response_class(model, annotation, scope):
        return True
    if isinstance(annotation, cst.Subscript):
        return any(
            isinstance(element.slice, cst.Index)
            and _names_response(model, element.slice.value, scope)
            for element in annotation.slice
        )
    if isinstance(annotation, cst.BinaryOperation):
        return _names_response(model, annotation.left, scope) or _names_response(
            model, annotation.right, scope
        )
    return False


def _declared_message(route: Route, status: int, declared: str) -> str:
    return (
        f"Route `{route.describe()}` answers {status}, which has no body, but declares a "
        f"response model ({declared}): FastAPI refuses to start; annotate `-> None` or "
        "set `response_model=None`"
    )


def _returned_message(route: Route, status: int) -> str:
    return (
        f"Route `{route.describe()}` answers {status}, which has no body: FastAPI discards "
        "this returned value"
    )

from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.handlers import gives_response, handler_returns, is_constant
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import FileModel, Route, Scope, status_code, string_value

_DECLARES_RESPONSE = frozenset({"response_model", "response_class"})
_NO_BODY = frozenset({204, 205, 304})  # these responses have no body to describe


class MissingResponseModel(Rule):
    """Route returns a body that no response model declares.

    This rule is off by default. Reviewers kept only 41% of its findings (16 of 39) in a
    reviewed sample of real code, far below the 90% a default-on rule must keep: most of
    the findings they dropped were proxies and passthrough handlers, which return what
    another service sent, and routes whose responses are typed in other files. To use it as
    a checklist, enable it with `extend-select = ["FAPI101"]` in `[tool.fastapi-lint]` (or
    `--extend-select FAPI101`).

    ## What it does
    Checks for routes whose handler returns a value that nothing declares: the decorator (or
    `add_api_route(...)` call) has no `response_model=`, no `response_class=` and no model
    for a success status in `responses=`, and the handler has no return annotation.

    ## Why is this bad?
    FastAPI uses the response model, or else the handler's return annotation, to validate and
    filter what the route returns and to document it in OpenAPI. Without either, whatever the
    handler returns is serialised as is: a database object can leak fields such as password
    hashes, and clients get an untyped `{}` schema.

    Only routes that return a body nobody described are reported. A route is **not**
    reported when:

    - every `return` of the handler gives a `Response` object, which FastAPI sends as is
      and does not validate: Starlette's and FastAPI's response classes (`Response`,
      `JSONResponse`, `HTMLResponse`, `PlainTextResponse`, `RedirectResponse`,
      `StreamingResponse`, `FileResponse`, `ORJSONResponse`, ...), a local subclass of one,
      `templates.TemplateResponse(...)`, a call to a function of the same file annotated to
      return one, or a name bound only to such values;
    - the handler never returns a value (no `return`, a bare `return`, `return None`), or
      returns only literal constants (`return {"status": "ok"}`, `return "pong"`): a health
      check's fixed answer needs no model, and a reviewer would not ask for one;
    - every `return` gives one of the above: a `Response`, nothing, or a constant (an
      error `JSONResponse` beside a `return {"ok": True}`);
    - the handler is a generator (`yield`): FastAPI cannot describe what it produces;
    - the route sets `response_model=` (even `None`, on purpose) or `response_class=`: the
      class declares the contract (an `HTMLResponse` page, a `FileResponse` download);
    - `responses=` gives a model for a success status (`responses={200: {"model": Item}}`,
      also with `status.HTTP_200_OK` or `"2XX"` as the key);
    - the handler has any return annotation (including `Response` subclasses);
    - the route answers a status that has no body (`status_code=204`, `205` or `304`, also
      as `status.HTTP_204_NO_CONTENT`);
    - the handler is not defined in the same file, or the call has `**options`.

    A handler registered by several routes (stacked decorators) is reported once, on the
    first route that declares nothing.

    ## Example
    ```python
    from fastapi import APIRouter

    router = APIRouter()


    @router.get("/items/{item_id}")
    async def read_item(item_id: int):
        return {"id": item_id}
    ```

    Use instead:
    ```python
    from fastapi import APIRouter
    from pydantic import BaseModel

    router = APIRouter()


    class Item(BaseModel):
        id: int


    @router.get("/items/{item_id}")
    async def read_item(item_id: int) -> Item:
        return Item(id=item_id)
    ```

    ## Fix safety
    There is no fix: only the author knows the shape of the response.

    ## Options
    None.
    """

    code = "FAPI101"
    name = "missing-response-model"
    severity = Severity.WARNING
    default_enabled = False

    def screen(self, facts: Facts) -> bool:
        return facts.any_route()

    def check(self, model: FileModel) -> Iterator[Finding]:
        returns = handler_returns(model)
        reported: set[cst.FunctionDef] = set()
        for route in model.routes:
            handler = route.handler
            if handler is None or handler in reported or _declares_response(route):
                continue
            if handler.returns is not None or handler in model.generators:
                continue
            if not any(
                value is not None and _undeclared_body(model, value, scope)
                for value, scope in returns.get(handler, [])
            ):
                continue
            reported.add(handler)
            yield self.finding(
                route.report_node,
                f"Route `{route.describe()}` (`{handler.name.value}`) returns a body that no "
                "response model declares: add a return annotation or `response_model=`",
            )


def _declares_response(route: Route) -> bool:
    """The route says what it answers, or may say it in `**options`."""
    if route.has_unknown_keywords or route.keywords.keys() & _DECLARES_RESPONSE:
        return True
    if status_code(route.keyword_value("status_code")) in _NO_BODY:
        return True
    return _has_success_model(route.keyword_value("responses"))


def _has_success_model(responses: cst.BaseExpression | None) -> bool:
    """`responses={200: {"model": Item}}`: a model for a 2xx status."""
    if not isinstance(responses, cst.Dict):
        return False
    return any(
        isinstance(element, cst.DictElement)
        and _is_success(element.key)
        and _names_a_model(element.value)
        for element in responses.elements
    )


def _is_success(key: cst.BaseExpression) -> bool:
    text = string_value(key)
    if text is not None:  # FastAPI also accepts "200" and "2XX"
        return text.upper() == "2XX" or (text.isdigit() and 200 <= int(text) < 300)
    code = status_code(key)
    return code is not None and 200 <= code < 300


def _names_a_model(value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Dict) and any(
        isinstance(element, cst.DictElement) and string_value(element.key) == "model"
        for element in value.elements
    )


def _undeclared_body(model: FileModel, value: cst.BaseExpression, scope: Scope) -> bool:
    return not is_constant(value) and not gives_response(model, value, scope)

from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.semantic import FileModel, status_code

_DECLARES_RESPONSE = frozenset({"response_model", "response_class"})
_NO_BODY = frozenset({204, 205, 304})  # these responses have no body to describe


class MissingResponseModel(Rule):
    """Route declares no response model: neither `response_model=` nor a return annotation.

    ## What it does
    Checks for routes whose decorator (or `add_api_route(...)` call) has no `response_model=`
    argument and whose handler has no return annotation.

    ## Why is this bad?
    FastAPI uses the response model, or else the handler's return annotation, to validate and
    filter what the route returns and to document it in OpenAPI. Without either, whatever the
    handler returns is serialised as is: a database object can leak fields such as password
    hashes, and clients get an untyped `{}` schema.

    A route is not flagged when it sets `response_model=None` on purpose, passes
    `response_class=` (the class defines the response), has any return annotation
    (including `Response` subclasses such as `StreamingResponse`), or answers a status that
    has no body (`status_code=204`, `205` or `304`, also as `status.HTTP_204_NO_CONTENT`).
    When the handler is not defined in the same file, the route is not flagged.

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

    def check(self, model: FileModel) -> Iterator[Finding]:
        for route in model.routes:
            if route.handler is None or route.handler.returns is not None:
                continue
            if route.has_unknown_keywords or route.keywords.keys() & _DECLARES_RESPONSE:
                continue
            if status_code(route.keyword_value("status_code")) in _NO_BODY:
                continue
            yield self.finding(
                route.report_node,
                f"Route `{route.describe()}` (`{route.handler_name}`) has neither "
                "`response_model=` nor a return annotation",
            )

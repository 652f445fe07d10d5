from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.route_params import (
    BODY,
    BODY_TYPE,
    UPLOAD,
    Parameter,
    bodyless_route_parameters,
)
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import FileModel, Route


class BodyOnGet(Rule):
    """`GET` or `HEAD` route reads a request body.

    ## What it does
    Checks for `GET` and `HEAD` routes whose handler has a parameter FastAPI reads from the
    request body:

    - a parameter with `Body()`, `Form()` or `File()` (in the default or in
      `Annotated[...]`);
    - an `UploadFile` (also `Optional[UploadFile]`, `list[UploadFile]`);
    - a parameter typed as a Pydantic model, a dataclass, a dict, or a list of those,
      with no marker: FastAPI reads it from the JSON body.

    A list of scalars (`tags: list[str]`) is FAPI109's: reported there, not here.

    ## Why is this bad?
    A body on a `GET` has no defined meaning (RFC 9110): browsers, `fetch`, many HTTP
    clients, proxies and caches drop it or refuse to send it, the OpenAPI 3.0 schema cannot
    describe it, and Swagger UI does not show it. The route cannot be called the way it is
    documented.

    A parameter is **not** reported when:

    - it is a query-parameter model (`Annotated[Filters, Query()]`, FastAPI 0.115 and
      later), a `Header()`, `Cookie()` or `Path()`, or a dependency (`Depends()`,
      `Security()`): a dependency's own parameters are not checked either;
    - its type is not provably a model (a class imported from a module fastapi-lint cannot
      read), or an alias or marker hides where it comes from;
    - the route answers any other method: `DELETE` is left alone on purpose (bulk deletes
      take a body), and so are routes that may answer several methods with one handler
      (`api_route(..., methods=["GET", "POST"])`);
    - the handler is a method of a class (class-based views), or the route documents an
      OpenAPI callback (`{$request.body.url}` in its path), a request the API sends.

    ## Example
    ```python
    from fastapi import FastAPI
    from pydantic import BaseModel

    app = FastAPI()


    class Filters(BaseModel):
        name: str = ""


    @app.get("/items")
    async def search_items(filters: Filters) -> list[str]:
        \"\"\"Search.\"\"\"
        return [filters.name]
    ```

    Use instead:
    ```python
    from typing import Annotated

    from fastapi import FastAPI, Query
    from pydantic import BaseModel

    app = FastAPI()


    class Filters(BaseModel):
        name: str = ""


    @app.get("/items")
    async def search_items(filters: Annotated[Filters, Query()]) -> list[str]:
        \"\"\"Search.\"\"\"
        return [filters.name]
    ```

    Or make the route a `POST` when the input does not fit in a query string.

    ## Fix safety
    There is no fix: reading the model from the query string or changing the method both
    change the API contract.

    ## Options
    None.
    """

    code = "FAPI108"
    name = "body-on-get"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.WARNING

    def screen(self, facts: Facts) -> bool:
        return facts.any_route("get", "head", "api_route")

    def check(self, model: FileModel) -> Iterator[Finding]:
        for route, param in bodyless_route_parameters(model):
            source = None if param.opaque else _body_source(param)
            if source is not None:
                yield self.finding(param.node, _message(model, route, param, source))


def _body_source(param: Parameter) -> str | None:
    """What makes FastAPI read the parameter from the body, if it does."""
    if param.marker is not None:
        return f"`{param.marker.kind}()`" if param.marker.kind in BODY else None
    kind = param.type_kind()
    if kind == UPLOAD:
        return "an `UploadFile`"
    return "a type that is not a scalar" if kind == BODY_TYPE else None


def _message(model: FileModel, route: Route, param: Parameter, source: str) -> str:
    declared = model.module.code_for_node(param.type) if param.type is not None else ""
    return (
        f"`{route.describe()}` reads a request body through `{param.name}: {declared}` "
        f"({source}): GET and HEAD requests carry no body; use `Query()` or another method"
    )

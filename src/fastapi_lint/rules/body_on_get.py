from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.route_params import (
    BODY,
    BODY_TYPE,
    UPLOAD,
    Parameter,
    is_method,
    parameters,
    route_path_names,
    type_kind,
)
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.semantic import FileModel, Route

_READ_ONLY = frozenset({"GET", "HEAD"})


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
    - the handler is a method of a class (class-based views).

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
    severity = Severity.WARNING

    def check(self, model: FileModel) -> Iterator[Finding]:
        reported: set[cst.Param] = set()
        for route in model.routes:
            if not route.methods or not route.methods <= _READ_ONLY or route.handler is None:
                continue
            if is_method(model, route.handler):
                continue
            for param, source in _body_parameters(model, route):
                if param.node not in reported:
                    reported.add(param.node)
                    yield self.finding(param.node, _message(model, route, param, source))


def _body_parameters(model: FileModel, route: Route) -> Iterator[tuple[Parameter, str]]:
    """The handler's parameters read from the body, with what makes them one."""
    assert route.handler is not None
    in_path = route_path_names(route)
    if in_path is None:
        return
    for param in parameters(model, route.handler):
        if param.opaque or param.name in in_path:
            continue
        if param.marker is not None:
            if param.marker.kind in BODY:
                yield param, f"`{param.marker.kind}()`"
            continue
        kind = type_kind(model, param.type, param.scope)
        if kind == UPLOAD:
            yield param, "an `UploadFile`"
        elif kind == BODY_TYPE:
            yield param, "a type that is not a scalar"


def _message(model: FileModel, route: Route, param: Parameter, source: str) -> str:
    declared = model.module.code_for_node(param.type) if param.type is not None else ""
    return (
        f"`{route.describe()}` reads a request body through `{param.name}: {declared}` "
        f"({source}): GET and HEAD requests carry no body; use `Query()` or another method"
    )

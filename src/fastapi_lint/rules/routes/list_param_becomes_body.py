from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.route_params import SCALAR_SEQUENCE, Parameter, bodyless_route_parameters
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import FileModel, Route


class ListParamBecomesBody(Rule):
    """Route parameter typed as a list of scalars is read from the body, not the query.

    ## What it does
    Checks for route handler parameters typed as a list, set or tuple of scalars
    (`list[str]`, `List[int]`, `set[UUID]`, `tuple[int, ...]`, also `Optional[list[str]]`
    and `list[str] | None`) with no `Query()`, `Header()` or `Cookie()` (in the default or
    in `Annotated[...]`).

    ## Why is this bad?
    FastAPI reads a parameter from the query string only when its type is a scalar. A list
    is not, so without `Query()` FastAPI expects it in the JSON **body**: `?tag=a&tag=b` is
    ignored, the route answers `422` when the list is required (or silently gets the
    default when it is optional), and the OpenAPI schema documents a request body. On a
    `GET` this is never what is meant.

    A parameter is **not** reported when:

    - it has a `Query()`, `Header()`, `Cookie()`, `Body()`, `Form()`, `File()`, `Path()` or
      `Depends()` marker, in the default or in `Annotated[...]` metadata, also through an
      `Annotated` alias of the same file; or an alias or marker this file cannot see into
      (a name imported from another module, a helper that builds the marker);
    - its elements are not provably scalars: `list[Item]` of a Pydantic model is a real
      body, and a type imported from a module fastapi-lint cannot read may be one;
    - it is a path parameter, the handler is a method of a class (class-based views), or
      the route documents an OpenAPI callback (`{$request.body.url}` in its path);
    - the route is not a `GET` or `HEAD` (or may also answer another method): a `POST`,
      `PUT`, `PATCH` or bulk `DELETE` often takes a JSON array as its body on purpose
      (`ids: list[int]` sent as `[1, 2, 3]`).

    ## Example
    ```python
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/items")
    async def list_items(tags: list[str] = []) -> list[str]:
        \"\"\"Items with any of the tags.\"\"\"
        return tags
    ```

    Use instead:
    ```python
    from typing import Annotated

    from fastapi import FastAPI, Query

    app = FastAPI()


    @app.get("/items")
    async def list_items(tags: Annotated[list[str], Query()] = []) -> list[str]:
        \"\"\"Items with any of the tags.\"\"\"
        return tags
    ```

    ## Fix safety
    There is no fix: adding `Query()` changes the API contract, and a client that sends the
    list in the body would break.

    ## Options
    None.
    """

    code = "FAPI109"
    name = "list-param-becomes-body"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.ERROR

    def screen(self, facts: Facts) -> bool:
        return facts.any_route("get", "head", "api_route")

    def check(self, model: FileModel) -> Iterator[Finding]:
        for route, param in bodyless_route_parameters(model):
            if param.marker is None and not param.opaque and param.type_kind() == SCALAR_SEQUENCE:
                yield self.finding(param.node, _message(model, route, param))


def _message(model: FileModel, route: Route, param: Parameter) -> str:
    declared = model.module.code_for_node(param.type) if param.type is not None else "list"
    return (
        f"`{param.name}: {declared}` is read from the request body, not the query string, "
        f"on `{route.describe()}`: declare it `Annotated[{declared}, Query()]`"
    )

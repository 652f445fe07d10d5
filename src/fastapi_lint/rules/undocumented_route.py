from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.semantic import FileModel, is_false


class UndocumentedRoute(Rule):
    """Route has neither a docstring nor `description=`.

    ## What it does
    Checks for routes whose handler has no docstring and whose decorator (or
    `add_api_route(...)` call) passes no `description=`.

    ## Why is this bad?
    FastAPI turns the handler's docstring (or `description=`) into the operation's description
    in OpenAPI, which is what `/docs`, generated clients and API consumers read. An
    undocumented route leaves them guessing what it does, what it returns and when it fails.

    Routes left out of OpenAPI with `include_in_schema=False`, routes whose handler is defined
    in another file, and routes with `**options` in the decorator call are not flagged.

    ## Example
    ```python
    from fastapi import APIRouter

    router = APIRouter()


    @router.get("/items")
    async def list_items() -> list[str]:
        return []
    ```

    Use instead:
    ```python
    from fastapi import APIRouter

    router = APIRouter()


    @router.get("/items")
    async def list_items() -> list[str]:
        \"\"\"List the caller's items, newest first.\"\"\"
        return []
    ```

    ## Fix safety
    There is no fix: a docstring must be written by someone who knows the route.

    ## Options
    None.
    """

    code = "FAPI401"
    name = "undocumented-route"
    severity = Severity.INFO

    def check(self, model: FileModel) -> Iterator[Finding]:
        for route in model.routes:
            handler = route.handler
            if handler is None or route.has_unknown_keywords or "description" in route.keywords:
                continue
            if is_false(route.keyword_value("include_in_schema")):
                continue  # not in OpenAPI: nobody reads its description
            if handler.get_docstring() is not None:
                continue
            yield self.finding(
                route.report_node,
                f"Route `{route.describe()}` (`{handler.name.value}`) has no docstring "
                "or `description=`",
            )

from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.rule import Finding, Option, Rule, string_list
from fastapi_lint.semantic import FileModel

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")


class MissingStatusCode(Rule):
    """POST or DELETE route without an explicit `status_code=`.

    ## What it does
    Checks for routes answering one of the configured methods (by default `POST` and `DELETE`)
    whose decorator or `add_api_route(...)` call does not pass `status_code=`.

    ## Why is this bad?
    FastAPI answers `200 OK` unless told otherwise. A `POST` that creates a resource should
    answer `201 Created` and a `DELETE` that returns nothing `204 No Content`; clients,
    generated SDKs and the OpenAPI document all rely on the declared code. Writing it out
    (`status_code=201` or `status_code=status.HTTP_201_CREATED`) makes the contract explicit.

    Routes registered with `api_route(..., methods=[...])` or `add_api_route` count when all
    of their methods are configured (one status code serves every method, and `GET` must not
    answer `201`); routes whose methods are not literal are not flagged.

    ## Example
    ```python
    from fastapi import FastAPI

    app = FastAPI()


    @app.post("/items")
    async def create_item(name: str) -> dict[str, str]:
        return {"name": name}
    ```

    Use instead:
    ```python
    from fastapi import FastAPI, status

    app = FastAPI()


    @app.post("/items", status_code=status.HTTP_201_CREATED)
    async def create_item(name: str) -> dict[str, str]:
        return {"name": name}
    ```

    ## Fix safety
    There is no fix yet.

    ## Options
    - `methods` (list of HTTP methods, default `["POST", "DELETE"]`): the methods whose routes
      must set `status_code=`. For example, in `pyproject.toml`:

      ```toml
      [tool.fastapi-lint.rules.FAPI102]
      methods = ["POST"]
      ```
    """

    code = "FAPI102"
    name = "missing-status-code"
    severity = Severity.WARNING
    options = (
        Option(
            "methods",
            ("POST", "DELETE"),
            "HTTP methods whose routes must set `status_code=`",
            lambda value: string_list(value, choices=HTTP_METHODS, upper=True),
        ),
    )

    def check(self, model: FileModel) -> Iterator[Finding]:
        checked = frozenset(self.settings["methods"])
        for route in model.routes:
            # One status code serves every method of the route: `methods=["GET", "POST"]`
            # cannot answer 201, so only routes whose methods are all checked are flagged.
            if not route.methods or not route.methods <= checked:
                continue
            if "status_code" in route.keywords or route.has_unknown_keywords:
                continue
            yield self.finding(
                route.report_node,
                f"Route `{route.describe()}` does not set `status_code=`",
            )

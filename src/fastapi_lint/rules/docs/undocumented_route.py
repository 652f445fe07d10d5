from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import FileModel, Route, string_value

# Either one shows in `/docs` next to the operation.
_DOCUMENTS = frozenset({"description", "summary"})


class UndocumentedRoute(Rule):
    """Route has no docstring, `description=` or `summary=`.

    This rule is off by default. Reviewers kept only 41% of its findings (14 of 34) in a
    reviewed sample of real code, far below the 90% a default-on rule must keep: most of
    the findings they dropped were self-explanatory routes (`GET /health`, `GET /users/{id}`)
    in projects that document little. To use it as a checklist, enable it with
    `extend-select = ["FAPI401"]` in `[tool.fastapi-lint]` (or `--extend-select FAPI401`).

    ## What it does
    Checks for routes that appear in the OpenAPI schema and whose handler has no docstring
    while their decorator (or `add_api_route(...)` call) passes neither `description=` nor
    `summary=`.

    ## Why is this bad?
    FastAPI turns the handler's docstring (or `description=`) into the operation's description
    in OpenAPI, which is what `/docs`, generated clients and API consumers read. An
    undocumented route leaves them guessing what it does, what it returns and when it fails.

    A route is **not** reported when:

    - it is hidden from the schema at any level: `include_in_schema=False` on the route, on
      its `APIRouter(...)` or its `include_router(...)` call, or an app that serves no schema
      (`FastAPI(openapi_url=None)`); nobody reads the description of a hidden route;
    - whether it is in the schema depends on an expression (`include_in_schema=DEBUG`,
      a setting): it cannot be known without running the code;
    - `summary=` gives it a title: a written summary is documentation; so does a `name=`
      written as words (`name="Create user"`), which FastAPI turns into the summary when
      `summary=` is absent (an identifier such as `name="auth:jwt.logout"` does not count);
    - its handler is defined in another file, or the call has `**options`.

    A handler registered by several routes (stacked decorators) is reported once, on the
    first undocumented route.

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
    default_enabled = False

    def screen(self, facts: Facts) -> bool:
        return facts.any_route()

    def check(self, model: FileModel) -> Iterator[Finding]:
        reported: set[cst.FunctionDef] = set()
        for route in model.routes:
            handler = route.handler
            if handler is None or handler in reported or _documented_or_hidden(route, handler):
                continue
            reported.add(handler)
            yield self.finding(
                route.report_node,
                f"Route `{route.describe()}` (`{handler.name.value}`) has no docstring, "
                "`description=` or `summary=`",
            )


def _is_title(name: str | None) -> bool:
    """Words a person wrote (`"Create user"`), not an identifier (`"users:create"`)."""
    return name is not None and " " in name.strip()


def _documented_or_hidden(route: Route, handler: cst.FunctionDef) -> bool:
    if route.has_unknown_keywords or route.keywords.keys() & _DOCUMENTS:
        return True
    if _is_title(string_value(route.keyword_value("name"))):
        return True
    # Hidden (False) or decided by an expression (None): nobody may read the description.
    return route.in_schema is not True or handler.get_docstring() is not None

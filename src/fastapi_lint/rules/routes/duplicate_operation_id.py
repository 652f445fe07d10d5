from __future__ import annotations

from collections.abc import Iterator, Sequence

from fastapi_lint.diagnostics import Related, Severity
from fastapi_lint.project.app_routes import (
    app_tables,
    endpoint_name,
    known_methods,
    label,
    parting_sites,
    pattern,
    registered_before,
    related,
    route_rows,
    where,
)
from fastapi_lint.project.index import UNKNOWN_PART, ProjectIndex, Row
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import FileModel


class DuplicateOperationId(Rule):
    """Two operations of one app's OpenAPI schema have the same `operation_id`.

    ## What it does
    Checks for an explicit `operation_id="..."` used by two routes of one app that are
    both in its OpenAPI schema, or given to a route with several methods
    (`api_route(..., methods=["GET", "HEAD"], operation_id="...")`: FastAPI makes one
    operation per method, each with that ID). A router included twice (under two prefixes)
    whose routes set `operation_id=` is reported too: both copies carry the same ID.

    The later route is reported, naming the first one, which is its related location.

    ## Why is this bad?
    An operation ID names one operation of the API: client generators (openapi-generator,
    orval, openapi-ts) turn each into a function name, and two operations with one ID make
    them fail or silently drop one. FastAPI only warns (`UserWarning: Duplicate Operation
    ID`) when the schema is built, at the first request to `/docs` or `/openapi.json`.

    A route is **not** reported when:

    - it is not in the schema (`include_in_schema=False` at any level, an app with
      `openapi_url=None`), or an expression decides whether it is;
    - the ID is computed by an expression the index cannot resolve;
    - it has no explicit `operation_id=`: the IDs FastAPI generates
      (`{function name}{path}_{method}`, or a custom `generate_unique_id_function`) are
      not checked. Two routes with generated IDs only collide when their paths differ by
      punctuation alone, or when they are the same route registered twice, which
      [FAPI104](FAPI104.md) reports;
    - the two routes are the same method and path registered twice: that is
      [FAPI104](FAPI104.md);
    - the two registrations may not both happen: they are made in different files or
      functions, or under an `if`, a loop, a `try` or a `with`, or after an early
      `return` (only one branch of an `if` may run);
    - the two routes are served by different apps (each app has its own schema).

    ## Example
    ```python
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/items", operation_id="list_items")
    async def list_items() -> list[str]:
        return []


    @app.get("/archived-items", operation_id="list_items")
    async def list_archived_items() -> list[str]:
        return []
    ```

    Use instead:
    ```python
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/items", operation_id="list_items")
    async def list_items() -> list[str]:
        return []


    @app.get("/archived-items", operation_id="list_archived_items")
    async def list_archived_items() -> list[str]:
        return []
    ```

    ## Fix safety
    There is no fix: renaming an operation ID renames the function of every generated
    client.

    ## Options
    None.
    """

    code = "FAPI111"
    name = "duplicate-operation-id"
    severity = Severity.WARNING

    def screen(self, facts: Facts) -> bool:
        # The analysis of the route table, on every row the file registers.
        index = facts.index
        if index is None or not (facts.served and facts.any_route(keyword="operation_id")):
            return False
        return _first_problem(index, facts.rows) is not None

    def prepare(self, index: ProjectIndex) -> None:
        app_tables(index)

    def check(self, model: FileModel) -> Iterator[Finding]:
        index = model.project.index
        if index is None:
            return
        for route in model.routes:
            found = _first_problem(index, route_rows(route))
            if found is not None:
                message, notes = found
                yield self.finding(route.report_node, message, related=notes)


def _first_problem(
    index: ProjectIndex, rows: Sequence[Row]
) -> tuple[str, tuple[Related, ...]] | None:
    for row in rows:
        operation_id = _explicit_id(row)
        if row.app is None or operation_id is None:
            continue
        methods = known_methods(row)
        if methods is not None and len(methods) > 1:
            return _several_methods(row, operation_id), ()
        first = _first_with_id(index, row, operation_id)
        if first is not None:
            return _describe(index, row, first, operation_id)
    return None


def _explicit_id(row: Row) -> str | None:
    """The row's literal `operation_id`, when it is in the app's schema."""
    if row.in_schema is not True or row.operation_id is None:
        return None
    return None if UNKNOWN_PART in row.operation_id else row.operation_id


def _first_with_id(index: ProjectIndex, row: Row, operation_id: str) -> Row | None:
    for earlier in app_tables(index).earlier(row):
        if _explicit_id(earlier) != operation_id or _same_operation(earlier, row):
            continue
        if registered_before(index, earlier, row):
            return earlier
    return None


def _same_operation(earlier: Row, row: Row) -> bool:
    """The same method and path: a duplicate route (FAPI104), not a duplicate ID."""
    shared = (known_methods(earlier) or frozenset()) & (known_methods(row) or frozenset())
    return bool(shared) and pattern(earlier) == pattern(row)


def _several_methods(row: Row, operation_id: str) -> str:
    methods = ", ".join(sorted(row.methods))
    return (
        f'`operation_id="{operation_id}"` is given to the {len(row.methods)} methods of '
        f"`{label(row)}` ({methods}): FastAPI makes one operation per method, each with "
        "this ID; declare one route per method, each with its own ID"
    )


def _describe(
    index: ProjectIndex, row: Row, first: Row, operation_id: str
) -> tuple[str, tuple[Related, ...]]:
    start = f'`operation_id="{operation_id}"` of `{label(row)}` is already used'
    sites = parting_sites(first, row)
    if first.route_key == row.route_key and sites is not None:
        included, again = sites
        message = (
            f"{start} in app `{row.app}` by the same route at `{first.path}`: its router "
            f"is included twice ({where(index, included.file, included.line)} and "
            f"{where(index, again.file, again.line)}), and both copies carry the ID"
        )
        notes = (
            related(included.file, included.line, "the router is included here"),
            related(again.file, again.line, "and included again here"),
        )
        return message, notes
    message = (
        f"{start} by `{label(first)}` (`{endpoint_name(first)}`, "
        f"{where(index, first.file, first.line)}) in app `{row.app}`: operation IDs must "
        "be unique"
    )
    note = f'`{label(first)}` uses `operation_id="{operation_id}"` here'
    return message, (related(first.file, first.line, note),)

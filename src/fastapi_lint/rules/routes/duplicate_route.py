from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

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
    standard_matching,
    where,
)
from fastapi_lint.project.index import ProjectIndex, Row
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import FileModel


@dataclass(frozen=True)
class _Duplicate:
    row: Row  # the registration never called
    first: Row  # the one registered before it
    methods: frozenset[str]


class DuplicateRoute(Rule):
    """Route is registered twice on one app with the same method and path.

    ## What it does
    Checks for two registrations of the same method and path on one app: the same route
    declared twice, two handlers that claim the same operation, or one router included
    twice with the same prefix. Paths are compared as Starlette matches them, so
    `/items/{id}` and `/items/{item_id}` are the same path (`/items/{id:int}` is not: see
    [FAPI103](FAPI103.md)). Prefixes count: a router included under `/v1` and under `/v2`
    serves two different paths.

    The later registration is reported, naming the first one, which is its related
    location; a router included twice is reported once per route, naming both
    `include_router` calls.

    ## Why is this bad?
    Starlette hands a request to the first route that matches it, so the later registration
    is never called. A handler that was meant to replace the first one silently does not,
    and the OpenAPI schema lists the operation twice with the same operation ID.

    A route is **not** reported when:

    - the order of the two registrations is not certain: they are made in different files or
      functions, or under an `if` (`if settings.v2: ... else: ...` registering the same
      path in each branch is fine), a loop, a `try` or a `with` (`pytest.raises`), or after
      an early `return`;
    - a router the first route is registered through sets `route_class=` (a route class
      may match requests its own way) or passes `**options`;
    - a path or method is computed by an expression the index cannot resolve;
    - its router is not served by any app, or the two routes are served by different apps
      (each app has its own routes; a mounted sub-application too);
    - they only overlap: `/items/{item_id}` registered before `/items/me` is
      [FAPI103](FAPI103.md). Two mounts at the same path are not checked.

    ## Example
    ```python
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}


    @app.get("/items/{id}")
    async def read_item_v2(id: int) -> dict[str, int]:
        return {"item_id": id, "version": 2}
    ```

    Use instead:
    ```python
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id, "version": 2}
    ```

    ## Fix safety
    There is no fix: which of the two handlers should stay is a decision.

    ## Options
    None.
    """

    code = "FAPI104"
    name = "duplicate-route"
    severity = Severity.ERROR

    def screen(self, facts: Facts) -> bool:
        # The analysis of the route table, on every row the file registers.
        index = facts.index
        if index is None or not (facts.served and facts.any_route()):
            return False
        return _first_duplicate(index, facts.rows) is not None

    def prepare(self, index: ProjectIndex) -> None:
        app_tables(index)

    def check(self, model: FileModel) -> Iterator[Finding]:
        index = model.project.index
        if index is None:
            return
        for route in model.routes:
            duplicate = _first_duplicate(index, route_rows(route))
            if duplicate is not None:
                message, notes = _describe(index, duplicate)
                yield self.finding(route.report_node, message, related=notes)


def _first_duplicate(index: ProjectIndex, rows: Sequence[Row]) -> _Duplicate | None:
    tables = app_tables(index)
    for row in rows:
        matched = pattern(row)
        methods = known_methods(row)
        if row.app is None or matched is None or methods is None:
            continue
        for earlier in tables.earlier(row):
            shared = methods & (known_methods(earlier) or frozenset())
            if not shared or earlier.kind == "mount" or pattern(earlier) != matched:
                continue
            if standard_matching(index, earlier) and registered_before(index, earlier, row):
                return _Duplicate(row, earlier, shared)
    return None


def _describe(index: ProjectIndex, duplicate: _Duplicate) -> tuple[str, tuple[Related, ...]]:
    row, first = duplicate.row, duplicate.first
    methods = ""
    if duplicate.methods != frozenset(row.methods):
        methods = f" for {'|'.join(sorted(duplicate.methods))}"
    start = f"Route `{label(row)}` is registered twice on app `{row.app}`{methods}"
    sites = parting_sites(first, row)
    if first.route_key == row.route_key and sites is not None:
        included, again = sites
        message = (
            f"{start}: its router is included twice with the same prefix "
            f"({where(index, included.file, included.line)} and "
            f"{where(index, again.file, again.line)}); the second copy is never called"
        )
        notes = (
            related(included.file, included.line, "the router is included here first"),
            related(again.file, again.line, "and included again here"),
        )
        return message, notes
    message = (
        f"{start}: `{label(first)}` (`{endpoint_name(first)}`, "
        f"{where(index, first.file, first.line)}) is registered first with the same path "
        "and method; this one is never called"
    )
    return message, (related(first.file, first.line, f"`{label(first)}` is registered here"),)

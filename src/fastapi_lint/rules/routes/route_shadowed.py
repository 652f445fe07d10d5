from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fastapi_lint.diagnostics import Severity
from fastapi_lint.project.app_routes import (
    app_tables,
    endpoint_name,
    known_methods,
    label,
    pattern,
    registered_before,
    related,
    route_rows,
    standard_matching,
    where,
)
from fastapi_lint.project.index import ProjectIndex, Row
from fastapi_lint.project.matching import covers
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import FileModel, Route

# Starlette's `add_route` without `methods=` answers every method: no method is shadowed.
_ANY_METHOD_CALLS = frozenset({"add_route", "route"})


@dataclass(frozen=True)
class _Shadow:
    row: Row  # the unreachable registration
    by: Row  # the earlier one that takes its requests
    methods: frozenset[str]


class RouteShadowed(Rule):
    """Route is never reached: a route registered before it matches all of its paths.

    ## What it does
    Checks for routes that no request can reach because an earlier registration on the
    same app takes every request they would get, following Starlette's matching: an app
    tries its routes in the order they were registered, and the first one whose path and
    method match handles the request. So with `/items/{item_id}` registered before
    `/items/me`, `GET /items/me` is handled by the first route, with `item_id="me"`.

    A path parameter matches as Starlette compiles it: `{x}` (or `{x:str}`) one segment of
    any characters but `/`, never empty; `{x:int}` digits; `{x:float}` digits with an
    optional fraction; `{x:uuid}` a UUID; `{x:path}` anything, slashes included, and the
    empty string. A route is reported only when **every** path it matches is matched by the
    earlier one for a method they share: `/items/{item_id:int}` does not shadow
    `/items/me`. A mount (`app.mount("/static", ...)`) registered before a route takes every
    request under `/static/`, for every method. A route with several methods of which only
    some are shadowed is reported, naming those methods.

    The order counts across `include_router`: routes of a router included first come first.
    The route is reported, naming the one that shadows it, with that route as a related
    location.

    ## Why is this bad?
    The shadowed handler is dead code that looks alive: its tests may pass when run against
    a router alone, while in the app its requests reach another handler, which answers
    with another body, or fails validation with a `422` (`"me"` is not an integer).

    A route is **not** reported when:

    - the order is not certain: the two registrations are made in different files or
      functions (the order then depends on imports and calls), under an `if`, a loop, a
      `try` or a `with` (its context manager may swallow an error, as `pytest.raises`
      does), after an early `return`, or on a router built in a function that may not
      run;
    - a router the earlier route is registered through sets `route_class=` (a route class
      may match requests its own way) or passes `**options`;
    - a path or method is computed by an expression the index cannot resolve, or uses a
      parameter inside a segment (`/files/{name}.txt`) or a custom convertor;
    - the two routes have exactly the same path and method: that is
      [FAPI104](FAPI104.md) (`duplicate-route`);
    - it is a Starlette `add_route` without `methods=`, which answers every method;
    - its router is not served by any app;
    - it is a websocket route, or a mount: only HTTP routes are checked. Routes of a
      mounted sub-application are matched against that application's own routes only.

    ## Example
    ```python
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/users/{user_id}")
    async def read_user(user_id: str) -> dict[str, str]:
        return {"user_id": user_id}


    @app.get("/users/me")
    async def read_current_user() -> dict[str, str]:
        return {"user_id": "the current user"}
    ```

    Use instead:
    ```python
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/users/me")
    async def read_current_user() -> dict[str, str]:
        return {"user_id": "the current user"}


    @app.get("/users/{user_id}")
    async def read_user(user_id: str) -> dict[str, str]:
        return {"user_id": user_id}
    ```

    ## Fix safety
    There is no fix: moving a route changes which handler answers other requests too.

    ## Options
    None.
    """

    code = "FAPI103"
    name = "route-shadowed"
    severity = Severity.ERROR

    def screen(self, facts: Facts) -> bool:
        # The analysis of the route table, on every row the file registers.
        index = facts.index
        if index is None or not (facts.served and facts.any_route()):
            return False
        return _first_shadow(index, facts.rows) is not None

    def prepare(self, index: ProjectIndex) -> None:
        app_tables(index)

    def check(self, model: FileModel) -> Iterator[Finding]:
        index = model.project.index
        if index is None:
            return
        for route in model.routes:
            if _answers_any_method(route):
                continue
            shadow = _first_shadow(index, route_rows(route))
            if shadow is not None:
                yield self._report(index, route, shadow)

    def _report(self, index: ProjectIndex, route: Route, shadow: _Shadow) -> Finding:
        by, row = shadow.by, shadow.row
        location = where(index, by.file, by.line)
        if by.kind == "mount":
            message = (
                f"Route `{label(row)}` is never reached: the mount at `{by.path}` "
                f"({location}), registered before it, receives every request under "
                f"`{by.path.rstrip('/')}/`"
            )
            note = f"the mount at `{by.path}` is registered here, before it"
        else:
            methods = ""
            if shadow.methods != frozenset(row.methods):
                methods = f" for {'|'.join(sorted(shadow.methods))}"
            message = (
                f"Route `{label(row)}` is never reached{methods}: `{label(by)}` "
                f"(`{endpoint_name(by)}`, {location}) is registered before it and matches "
                "every path it matches"
            )
            note = f"`{label(by)}` is registered here, before it"
        return self.finding(route.report_node, message, related=(related(by.file, by.line, note),))


def _answers_any_method(route: Route) -> bool:
    return route.call.func.attr.value in _ANY_METHOD_CALLS and "methods" not in route.keywords


def _first_shadow(index: ProjectIndex, rows: Sequence[Row]) -> _Shadow | None:
    tables = app_tables(index)
    for row in rows:
        later = pattern(row)
        methods = known_methods(row)
        if row.app is None or later is None or methods is None:
            continue
        for earlier in tables.earlier(row):
            shared = _shared_methods(earlier, methods)
            if not shared:
                continue
            shadowing = pattern(earlier)
            if shadowing is None or shadowing == later or not covers(shadowing, later):
                continue
            if standard_matching(index, earlier) and registered_before(index, earlier, row):
                return _Shadow(row, earlier, shared)
    return None


def _shared_methods(earlier: Row, methods: frozenset[str]) -> frozenset[str]:
    """The methods of `methods` whose requests `earlier` takes: all of them for a mount."""
    if earlier.kind == "mount":
        return methods
    theirs = known_methods(earlier)
    return methods & theirs if theirs is not None else frozenset()

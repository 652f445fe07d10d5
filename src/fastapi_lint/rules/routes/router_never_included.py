from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.project.app_routes import route_rows
from fastapi_lint.project.inclusion import Unserved, display_key, unserved_first_rows
from fastapi_lint.project.index import ProjectIndex
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import FileModel


class RouterNeverIncluded(Rule):
    """Router with routes that no app includes: none of its routes is served.

    ## What it does
    Checks for an `APIRouter` whose routes no app serves: no `include_router(...)` call of
    the project includes it, directly or through other routers. It is reported once, on
    its first route (in the file that creates it, when it has routes there).

    It needs the whole project: it runs when the project index holds every module under
    the project root (as a normal run does; a run on files outside any project does not),
    so that the `include_router` call, wherever it is, would have been seen.

    ## Why is this bad?
    A router that is never included serves nothing: its routes answer `404`, while their
    code, tests of the router alone and reviews suggest they work. It is the classic
    forgotten `app.include_router(users.router)` after adding a module.

    A router is **not** reported when it may be included by code the index cannot follow,
    or by someone else:

    - an `include_router` call near it (in its package, or in a module that imports its
      module) takes an argument the index cannot resolve: a loop over routers, a router
      found with `importlib`, a router returned by another library (any of them could be
      this one);
    - its name is used for anything other than its creation, registering routes on it,
      importing it and including it: listed in `__all__`, re-exported from a package's
      `__init__.py` (`from .users import router`), returned, passed to a function, put in
      a list, mounted, its `.routes` read (OpenAPI `callbacks=`), or spelled in a string
      (`getattr(module, "router")`), in its module or in one that imports it (comments
      and docstrings do not count);
    - it is not a plain router built in a module body: a router built in a function
      (a factory for callers), a parameter, a `self.router`, or shared by another object;
    - no app is created in its package or in a module that imports its module: a library
      ships routers for its users to include;
    - the index does not cover the whole project.

    ## Example
    ```python
    from fastapi import APIRouter, FastAPI

    app = FastAPI()
    users = APIRouter(prefix="/users")


    @users.get("/{user_id}")
    async def read_user(user_id: int) -> dict[str, int]:
        return {"user_id": user_id}
    ```

    Use instead:
    ```python
    from fastapi import APIRouter, FastAPI

    app = FastAPI()
    users = APIRouter(prefix="/users")


    @users.get("/{user_id}")
    async def read_user(user_id: int) -> dict[str, int]:
        return {"user_id": user_id}


    app.include_router(users)
    ```

    ## Fix safety
    There is no fix: where to include the router (which app, which prefix) is a decision.

    ## Options
    None.
    """

    code = "FAPI112"
    name = "router-never-included"
    severity = Severity.WARNING

    def screen(self, facts: Facts) -> bool:
        index = facts.index
        if index is None or not index.covers_project or not facts.any_route():
            return False
        firsts = unserved_first_rows(index)
        return any(row in firsts for row in facts.rows)

    def prepare(self, index: ProjectIndex) -> None:
        unserved_first_rows(index)

    def check(self, model: FileModel) -> Iterator[Finding]:
        index = model.project.index
        if index is None or not index.covers_project:
            return
        firsts = unserved_first_rows(index)
        if not firsts:
            return
        for route in model.routes:
            unserved = next((firsts[row] for row in route_rows(route) if row in firsts), None)
            if unserved is not None:
                yield self.finding(route.report_node, _message(unserved))


def _message(unserved: Unserved) -> str:
    root = display_key(unserved.root)
    if unserved.routes == 1:
        unserved_routes = "its route is never served"
    else:
        unserved_routes = f"none of its {unserved.routes} routes is served"
    if unserved.router == unserved.root:
        return f"Router `{root}` is never included in an app: {unserved_routes}"
    return (
        f"Router `{display_key(unserved.router)}` is only included in router `{root}`, "
        f"which no app includes: {unserved_routes}"
    )

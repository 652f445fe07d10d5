from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.rules.dependencies.on_event_ignored_with_lifespan import (
    EVENT_TRIGGERS,
    EventRegistration,
    event_registrations,
    screens_events,
)
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import FileModel


class DeprecatedOnEvent(Rule):
    """Startup or shutdown handler registered with the deprecated `on_event`: use a lifespan.

    ## What it does
    Checks for startup and shutdown handlers registered on a FastAPI app or an `APIRouter`
    the old way: `@app.on_event("startup")`, `@router.on_event("shutdown")`,
    `app.on_event(...)(handler)`, `add_event_handler(...)` (also through `app.router`), and
    `on_startup=`/`on_shutdown=` passed to `FastAPI(...)` or `APIRouter(...)`. The object
    must be proven to be an app or a router, in this module or, through the project index,
    in another; `on_event` of any other object (an event bus) is not reported. Neither are
    wrappers that pass the event on (`on_event(event_type)`, the event not a literal),
    calls on `self` in a method (a class implementing or wrapping the event API, FastAPI's
    own included), and `on_startup=on_startup` forwarding a parameter of the enclosing
    function: its caller decides.

    ## Why is this bad?
    FastAPI deprecates these events in favour of a lifespan: `on_event` emits a
    `DeprecationWarning`, and Starlette 1.0 removed the event API from its app, so
    `app.add_event_handler(...)` fails with `AttributeError` on current versions. A
    lifespan keeps startup and shutdown in one function, so what shutdown releases is what
    startup acquired, and it can hand objects to requests through its state instead of
    module globals. The two cannot be mixed: an app with a lifespan never runs its own
    `on_event` handlers (FAPI604 reports those, and this rule then stays silent on them).

    ## Example
    ```python
    from fastapi import FastAPI

    app = FastAPI()
    CACHE: dict[str, str] = {}


    @app.on_event("startup")
    async def warm_cache() -> None:
        CACHE["greeting"] = "hello"
    ```

    Use instead:
    ```python
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    CACHE: dict[str, str] = {}


    @asynccontextmanager
    async def lifespan(app: FastAPI):
        CACHE["greeting"] = "hello"
        yield
        CACHE.clear()


    app = FastAPI(lifespan=lifespan)
    ```

    An `APIRouter` takes a `lifespan=` too; FastAPI runs it with the app's when the router
    is included.

    ## Fix safety
    There is no fix: turning handlers into one lifespan means choosing their order and what
    happens when one of them fails.

    ## Options
    None.
    """

    code = "FAPI605"
    name = "deprecated-on-event"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.WARNING
    triggers = EVENT_TRIGGERS

    def screen(self, facts: Facts) -> bool:
        return screens_events(facts)

    def check(self, model: FileModel) -> Iterator[Finding]:
        for registration in event_registrations(model):
            if not (registration.kind == "app" and registration.ignored):  # FAPI604's
                yield self.finding(registration.node, _message(registration))


def _message(registration: EventRegistration) -> str:
    owner = "FastAPI" if registration.kind == "app" else "APIRouter"
    return (
        f"{registration.event} handler registered with {registration.how}, which is "
        f"deprecated: use `{owner}(lifespan=...)`"
    )

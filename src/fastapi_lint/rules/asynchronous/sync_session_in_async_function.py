from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.blocking import FAPI203
from fastapi_lint.diagnostics import Severity
from fastapi_lint.receivers import async_method_calls
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts, calls_typed_method
from fastapi_lint.semantic import FileModel


class SyncSessionInAsyncFunction(Rule):
    """Synchronous SQLAlchemy or SQLModel `Session` used inside an `async def`.

    ## What it does
    Checks for database calls on a synchronous SQLAlchemy or SQLModel `Session` made directly
    inside an `async def`: `execute`, `exec` (SQLModel), `query`, `scalars`, `scalar`, `get`,
    `get_one`, `commit`, `flush`, `refresh`, `delete`, `merge` and `rollback`. The session is
    recognised when its type is provable in the file:

    - a parameter annotated `Session` (from `sqlalchemy.orm` or `sqlmodel`), also
      `Optional[Session]`, `Annotated[Session, Depends(get_db)]` or an alias of that
      (`SessionDep = Annotated[Session, Depends(get_session)]`);
    - a parameter `db=Depends(get_db)` where `get_db` is a function of the same file that
      yields (or returns) a sync session: `Session(engine)`, or `SessionLocal()` for
      `SessionLocal = sessionmaker(...)`;
    - a session opened in the function or the module: `with Session(engine) as session:`,
      `db = SessionLocal()`, or `self.session` assigned one in the class.

    ## Why is this bad?
    Every one of these calls is a round trip to the database that blocks the calling thread.
    In an `async def` that thread is the event loop's: while the query runs, no other request
    is served. FastAPI runs plain `def` routes and dependencies in a threadpool, which is
    where a sync session belongs.

    Not reported: `add` and `add_all`, which only stage objects; calls in a nested `def` or
    `lambda` and callables handed to `run_in_threadpool` or `asyncio.to_thread`, which do not
    run on the loop; awaited calls (a session that is awaited is not a sync one, whatever its
    annotation says); `AsyncSession` (see FAPI204); and sessions whose type the file does not
    show (a parameter without annotation or dependency of this file, a session imported from
    another module).

    ## Example
    ```python
    from fastapi import Depends, FastAPI
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session, sessionmaker

    from .models import Item

    engine = create_engine("postgresql://localhost/shop")
    SessionLocal = sessionmaker(bind=engine)
    app = FastAPI()


    def get_db():
        with SessionLocal() as session:
            yield session


    @app.get("/items")
    async def list_items(db: Session = Depends(get_db)) -> list[str]:
        return list(db.scalars(select(Item.name)))
    ```

    Use instead:
    ```python
    from fastapi import Depends, FastAPI
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session, sessionmaker

    from .models import Item

    engine = create_engine("postgresql://localhost/shop")
    SessionLocal = sessionmaker(bind=engine)
    app = FastAPI()


    def get_db():
        with SessionLocal() as session:
            yield session


    @app.get("/items")
    def list_items(db: Session = Depends(get_db)) -> list[str]:
        return list(db.scalars(select(Item.name)))
    ```

    A plain `def` route runs in FastAPI's threadpool. Or move to SQLAlchemy's asyncio
    extension (`AsyncSession` from an `async_sessionmaker`) and `await` every call.

    ## Fix safety
    There is no fix: turning the route into a plain `def` or the session into an
    `AsyncSession` is a design decision that reaches beyond the call.

    ## Options
    None.
    """

    code = "FAPI203"
    name = "sync-session-in-async-function"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.ERROR
    # Only an `async def` is checked.
    triggers = (b"async",)

    def screen(self, facts: Facts) -> bool:
        return facts.has_async and calls_typed_method(facts, FAPI203)

    def check(self, model: FileModel) -> Iterator[Finding]:
        for site, function, method in async_method_calls(model, FAPI203):
            if site.call in model.awaited:
                continue
            where = model.describe_function(function.node)  # type: ignore[arg-type]
            message = (
                f"Sync `Session.{method}()` in async {where}: the database round trip "
                "blocks the event loop"
            )
            yield self.finding(site.call, message)

from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.blocking import FAPI204
from fastapi_lint.diagnostics import Severity
from fastapi_lint.receivers import async_method_calls
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts, calls_typed_method
from fastapi_lint.semantic import FileModel


class AsyncSessionNotAwaited(Rule):
    """`AsyncSession` coroutine called as a statement and never awaited: it never runs.

    ## What it does
    Checks for a call of a coroutine method of an SQLAlchemy or SQLModel `AsyncSession`
    (`execute`, `exec`, `scalars`, `scalar`, `get`, `commit`, `flush`, `refresh`, `delete`,
    `merge`, `rollback`, `close`, `stream`, ...) written as a whole statement inside an
    `async def`, without `await`. The session is recognised as FAPI203 recognises a sync
    one: an `AsyncSession` annotation (also through `Annotated` and aliases), a dependency of
    the same file yielding one from an `async_sessionmaker(...)` (or a `sessionmaker` with
    `class_=AsyncSession`), or `async with AsyncSession(engine) as session:`.

    ## Why is this bad?
    Calling a coroutine function only creates the coroutine; nothing runs until it is
    awaited. `session.commit()` without `await` commits nothing: the request answers as if
    the data were saved, and the changes are rolled back when the session closes. Python only
    warns `coroutine ... was never awaited`, at garbage collection, in the logs.

    Not reported: a coroutine that is awaited, returned, assigned, or passed to a call
    (`asyncio.gather(...)`, `asyncio.create_task(...)`, `asyncio.wait_for(...)`): it may be
    awaited there. Nor the methods that are not coroutines (`add`, `add_all`, `expunge`,
    `begin` used as `async with session.begin():`), calls outside an `async def`, and
    sessions whose type the file does not show.

    ## Example
    ```python
    from fastapi import Depends, FastAPI
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

    from .models import Item

    engine = create_async_engine("postgresql+asyncpg://localhost/shop")
    SessionLocal = async_sessionmaker(engine)
    app = FastAPI()


    async def get_session():
        async with SessionLocal() as session:
            yield session


    @app.post("/items", status_code=201)
    async def create_item(name: str, session: AsyncSession = Depends(get_session)) -> str:
        session.add(Item(name=name))
        session.commit()
        return name
    ```

    Use instead:
    ```python
    from fastapi import Depends, FastAPI
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

    from .models import Item

    engine = create_async_engine("postgresql+asyncpg://localhost/shop")
    SessionLocal = async_sessionmaker(engine)
    app = FastAPI()


    async def get_session():
        async with SessionLocal() as session:
            yield session


    @app.post("/items", status_code=201)
    async def create_item(name: str, session: AsyncSession = Depends(get_session)) -> str:
        session.add(Item(name=name))
        await session.commit()
        return name
    ```

    ## Fix safety
    There is no fix: adding `await` makes the statement run for the first time, which
    changes what the code does (a commit that now happens, an exception that now surfaces),
    so it deserves a look.

    ## Options
    None.
    """

    code = "FAPI204"
    name = "async-session-not-awaited"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.ERROR
    # AsyncSession is imported from `sqlalchemy.ext.asyncio` or `sqlmodel.ext.asyncio`, and
    # only an `async def` is checked.
    triggers = (b"async",)

    def screen(self, facts: Facts) -> bool:
        return facts.statement_calls and calls_typed_method(facts, FAPI204)

    def check(self, model: FileModel) -> Iterator[Finding]:
        for site, function, method in async_method_calls(model, FAPI204):
            if site.call not in model.expression_statements:
                continue
            where = model.describe_function(function.node)  # type: ignore[arg-type]
            message = (
                f"`AsyncSession.{method}()` is never awaited in {where}: the coroutine is "
                "dropped and does not run"
            )
            yield self.finding(site.call, message)

from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.project.reach import reach
from fastapi_lint.project_calls import project_callee
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import BindingKind, FileModel


class CoroutineNotAwaited(Rule):
    """Project coroutine function called as a statement and never awaited: it never runs.

    ## What it does
    Checks for a call of an `async def` of the project written as a whole statement,
    without `await`. The function is resolved through imports and the project index: an
    `async def` of the same file or of another module (also through re-exports),
    `self.method()` in a class, or a method of an instance or class the index knows
    (`notifier = Notifier()`, then `notifier.send(...)`).

    ## Why is this bad?
    Calling a coroutine function only creates the coroutine; its body runs when the
    coroutine is awaited (or scheduled as a task). Written as a statement, the coroutine is
    dropped at once: the email is not sent, the row not written, the cache not cleared, and
    no error is raised. Python only warns `coroutine ... was never awaited`, at garbage
    collection, in the logs. A route that forgets `await` answers as if the work were done.

    Not reported:

    - a coroutine that is awaited, returned, assigned, or passed to a call
      (`asyncio.create_task(...)`, `asyncio.gather(...)`, `background_tasks.add_task(...)`,
      `asyncio.run(...)`): it may be awaited or scheduled there;
    - a function passed without being called (`add_task(send_email, to)`);
    - async generators (`async def` with `yield`), and `async def`s with a decorator other
      than `staticmethod`, `classmethod`, `functools.wraps`, `abstractmethod`, `override`,
      `tenacity.retry` and `backoff`: a decorator may make it something else;
    - methods the index cannot resolve: of a parameter, of an object built in another way,
      or of a class outside the project;
    - coroutines of libraries (`AsyncSession.commit()` has its own rule, FAPI204);
    - a plain `def` calling an imported coroutine function in a file that has no
      `async def` and imports nothing named `async...`: such a file may not be read at all.

    ## Example
    ```python
    from fastapi import FastAPI

    from .mail import smtp

    app = FastAPI()


    async def send_welcome_email(to: str) -> None:
        await smtp.send_message(to, subject="Welcome!")


    @app.post("/users", status_code=201)
    async def create_user(email: str) -> str:
        send_welcome_email(email)
        return email
    ```

    Use instead:
    ```python
    from fastapi import FastAPI

    from .mail import smtp

    app = FastAPI()


    async def send_welcome_email(to: str) -> None:
        await smtp.send_message(to, subject="Welcome!")


    @app.post("/users", status_code=201)
    async def create_user(email: str) -> str:
        await send_welcome_email(email)
        return email
    ```

    Or, to answer before the work is done, hand it to FastAPI's background tasks:
    `background_tasks.add_task(send_welcome_email, email)`.

    ## Fix safety
    There is no fix: adding `await` makes the code run for the first time (a side effect
    that now happens, an exception that now surfaces), and in a plain `def` the right fix is
    a design decision (make it `async`, or schedule the coroutine).

    ## Options
    None.
    """

    code = "FAPI206"
    name = "coroutine-not-awaited"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.ERROR
    # The rule only reports in files that show an `async def` or an import of `async...`.
    triggers = (b"async",)

    def screen(self, facts: Facts) -> bool:
        # A dropped call, in a file that mentions `async` (see `_mentions_async`).
        mentions_async = facts.has_async or any("async" in name for name in facts.names)
        return facts.statement_calls and mentions_async

    def check(self, model: FileModel) -> Iterator[Finding]:
        index = model.project.index
        module = model.module_key
        if index is None or module is None or not model.expression_statements:
            return
        if not _mentions_async(model):
            return  # keep to files the trigger lets through whatever else is enabled
        analysis = reach(index)
        for site in model.calls:
            if site.call not in model.expression_statements:
                continue
            callee = project_callee(analysis, model, site)
            if callee is None or not analysis.is_coroutine_function(callee):
                continue
            name = callee.qualname
            message = (
                f"Coroutine function `{name}` is called without `await`: the coroutine is "
                f"dropped and `{name}` never runs"
            )
            yield self.finding(site.call, message)


def _mentions_async(model: FileModel) -> bool:
    """Whether the file's text surely contains `async` (the trigger): an `async def`, or a
    module-level import whose name contains it (`import asyncio`)."""
    if any(function.asynchronous is not None for function in model.functions):
        return True
    return any(
        "async" in name or "async" in (binding.qualified_name or "")
        for name, bindings in model.module_scope.bindings.items()
        for binding in bindings
        if binding.kind is BindingKind.IMPORT
    )

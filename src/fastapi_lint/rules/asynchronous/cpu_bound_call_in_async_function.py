from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.blocking import CPU_BOUND_CALLS, FAPI205
from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.receivers import (
    Receivers,
    executing_async_function,
    receivers,
    reported_methods,
)
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts, calls_typed_method
from fastapi_lint.semantic import CallSite, FileModel


class CpuBoundCallInAsyncFunction(Rule):
    """Slow password hash or key derivation inside an `async def`: it holds the event loop.

    ## What it does
    Checks for calls made directly inside an `async def` to functions that are slow by
    design: `bcrypt.hashpw`, `bcrypt.checkpw` and `bcrypt.kdf`, `hashlib.pbkdf2_hmac` and
    `hashlib.scrypt`, argon2's `PasswordHasher().hash`/`verify` and `argon2.low_level`,
    passlib's `CryptContext(...).hash`/`verify`/`verify_and_update` and its handlers
    (`passlib.hash.bcrypt.hash`), and pwdlib's `PasswordHash(...).hash`/`verify`. A hasher is
    recognised when the file shows its type: built in the module
    (`pwd_context = CryptContext(schemes=["bcrypt"])`), in the function, or in the class
    (`self.hasher = PasswordHasher()`), or annotated with its class.

    ## Why is this bad?
    Password hashes are made slow on purpose: a bcrypt or argon2 hash at the usual cost takes
    50 to 500 ms of CPU. Run on the event loop, that time is taken from every other request:
    a burst of logins makes the whole service unresponsive. The call does no I/O, so an async
    library cannot help; it has to run in a thread, where these libraries release the GIL.

    Not reported: cheap calls on the same objects (`bcrypt.gensalt`,
    `CryptContext.needs_update`, `PasswordHasher.check_needs_rehash`); calls in a nested
    `def` or `lambda`, or handed to `run_in_threadpool`/`asyncio.to_thread` (they run in a
    thread); hashes computed in a plain `def` (FastAPI runs those routes in a threadpool); and
    hashers whose type the file does not show (imported from another module).

    ## Example
    ```python
    from fastapi import FastAPI
    from passlib.context import CryptContext

    app = FastAPI()
    pwd_context = CryptContext(schemes=["bcrypt"])


    @app.post("/hash", status_code=201)
    async def hash_password(password: str) -> str:
        return pwd_context.hash(password)
    ```

    Use instead:
    ```python
    from fastapi import FastAPI
    from fastapi.concurrency import run_in_threadpool
    from passlib.context import CryptContext

    app = FastAPI()
    pwd_context = CryptContext(schemes=["bcrypt"])


    @app.post("/hash", status_code=201)
    async def hash_password(password: str) -> str:
        return await run_in_threadpool(pwd_context.hash, password)
    ```

    Or make the route a plain `def`, which FastAPI runs in its threadpool.

    ## Fix safety
    There is no fix: whether to offload the call or to make the route a plain `def` is a
    design decision.

    ## Options
    None.
    """

    code = "FAPI205"
    name = "cpu-bound-call-in-async-function"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.WARNING
    # Only an `async def` is checked.
    triggers = (b"async",)

    def screen(self, facts: Facts) -> bool:
        if not facts.has_async:
            return False
        return bool(facts.async_targets & CPU_BOUND_CALLS) or calls_typed_method(facts, FAPI205)

    def check(self, model: FileModel) -> Iterator[Finding]:
        typing = receivers(model)
        for site in model.calls:
            function = executing_async_function(site.scope)
            if function is None or site.call in model.awaited:
                continue
            name = _cpu_bound_name(model, site, typing)
            if name is not None:
                where = model.describe_function(function.node)  # type: ignore[arg-type]
                message = (
                    f"CPU-bound call `{name}` in async {where}: a deliberately slow hash "
                    "holds the event loop"
                )
                yield self.finding(site.call, message)


def _cpu_bound_name(model: FileModel, site: CallSite, typing: Receivers) -> str | None:
    name = model.callee(site)
    if name is not None:
        return name if name in CPU_BOUND_CALLS else None
    func = site.call.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in reported_methods(FAPI205):
        return None
    found = typing.method_call(site.call, site.scope)
    if found is None:
        return None
    receiver, method = found
    if receiver.type.rule != FAPI205 or not receiver.type.blocks(method):
        return None
    return f"{receiver.type.name}.{method}"

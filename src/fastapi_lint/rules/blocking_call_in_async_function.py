from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.fixes import Applicability, Fix, RequiredImport
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.rule import Finding, Option, OptionError, Rule, string_list
from fastapi_lint.semantic import CallSite, FileModel

_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")

# Qualified names of calls that block the calling thread.
BLOCKING_CALLS = frozenset(
    {
        "time.sleep",
        *(f"requests.{verb}" for verb in _HTTP_VERBS),
        *(f"requests.api.{verb}" for verb in _HTTP_VERBS),
        *(f"httpx.{verb}" for verb in _HTTP_VERBS),
        "httpx.stream",
        "urllib.request.urlopen",
        "urllib.request.urlretrieve",
        "urllib3.request",
        "builtins.open",
        "builtins.input",
        "io.open",
        *(
            f"subprocess.{name}"
            for name in ("run", "call", "check_call", "check_output", "getoutput",
                         "getstatusoutput", "Popen")
        ),
        "os.system",
        "os.popen",
        *(f"os.{name}" for name in ("wait", "wait3", "wait4", "waitid", "waitpid")),
        *(f"os.{name}" for name in ("spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv",
                                     "spawnve", "spawnvp", "spawnvpe", "posix_spawn",
                                     "posix_spawnp")),
        *(
            f"socket.{name}"
            for name in ("create_connection", "getaddrinfo", "gethostbyname",
                         "gethostbyname_ex", "gethostbyaddr", "getfqdn", "getnameinfo")
        ),
        *(f"shutil.{name}" for name in ("copy", "copy2", "copyfile", "copyfileobj",
                                         "copytree", "move", "rmtree")),
        "psycopg2.connect",
        "psycopg.connect",
        "sqlite3.connect",
        "pymysql.connect",
        "MySQLdb.connect",
        "pymongo.MongoClient",
        "redis.Redis",
        "redis.StrictRedis",
        "redis.from_url",
        "redis.Redis.from_url",
    }
)  # fmt: skip

# Methods that block when called on an instance of these classes.
BLOCKING_METHODS: dict[str, frozenset[str]] = {
    "requests.Session": frozenset({*_HTTP_VERBS, "send"}),
    "requests.session": frozenset({*_HTTP_VERBS, "send"}),
    "httpx.Client": frozenset({*_HTTP_VERBS, "send", "stream"}),
    "urllib3.PoolManager": frozenset({"request", "urlopen"}),
    "socket.socket": frozenset(
        {"connect", "accept", "recv", "recv_into", "recvfrom", "send", "sendall", "sendto"}
    ),
    "socket.create_connection": frozenset({"recv", "recv_into", "send", "sendall"}),
    "pathlib.Path": frozenset({"read_text", "read_bytes", "write_text", "write_bytes", "open"}),
}


def _qualified_names(value: object) -> tuple[str, ...]:
    names = string_list(value)
    for name in names:
        if "." not in name.strip(".") or " " in name:
            raise OptionError(f"`{name}` is not a qualified name such as `mylib.fetch`")
    return names


class BlockingCallInAsyncFunction(Rule):
    """Blocking call inside an `async def`: it stalls the event loop and every other request.

    ## What it does
    Checks for calls to known blocking APIs made directly inside an `async def`: a route, a
    dependency, or any other coroutine function. Blocking APIs include `time.sleep`,
    `requests`, module-level `httpx` calls and sync `httpx.Client` methods,
    `urllib.request.urlopen`, `urllib3`, the builtin `open()` and `input()`, `subprocess`,
    `os.system`/`os.popen`/`os.wait*`, blocking `socket` calls, `shutil` copies and moves, and
    sync database drivers (`psycopg2.connect`, `sqlite3.connect`, `pymysql.connect`,
    `pymongo.MongoClient`, `redis.Redis`). Names are resolved through imports, so
    `from time import sleep` and `import requests as rq` are recognised.

    ## Why is this bad?
    FastAPI runs `async def` routes and dependencies on the event loop. A blocking call there
    stops the loop: no other request is served until it returns, so one slow upstream call
    stalls the whole worker. Plain `def` routes are not affected: FastAPI runs them in a
    threadpool, so they are not flagged.

    Calls inside a nested `def` or `lambda` are not flagged, nor are callables handed to
    `run_in_threadpool`, `asyncio.to_thread` or `loop.run_in_executor`, because they do not
    run on the event loop.

    ## Example
    ```python
    import time

    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/ping")
    async def ping() -> dict[str, str]:
        time.sleep(1)
        return {"status": "ok"}
    ```

    Use instead:
    ```python
    import asyncio

    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/ping")
    async def ping() -> dict[str, str]:
        await asyncio.sleep(1)
        return {"status": "ok"}
    ```

    Or keep the blocking library and move the call off the loop, with
    `await run_in_threadpool(fetch, url)` or `await asyncio.to_thread(fetch, url)`.

    ## Fix safety
    `time.sleep(x)` written as a statement is replaced with `await asyncio.sleep(x)`, and
    `import asyncio` is added when the module lacks it. The fix is **unsafe**: the pause
    stays, but other requests now run during it, which can expose races in code that relied
    on nothing else running (for example state read before the sleep and written after it).
    Review it, then apply it with `--fix --unsafe-fixes`. A `from time import sleep` left
    unused is not removed. Other blocking calls have no fix: the right replacement (an async
    client, `run_in_threadpool`, a plain `def` route) is a design decision.

    ## Options
    - `extend-blocking-calls` (list of qualified names, default `[]`): more functions to treat
      as blocking, such as your own sync SDK:

      ```toml
      [tool.fastapi-lint.rules.FAPI201]
      extend-blocking-calls = ["billing.client.charge"]
      ```
    """

    code = "FAPI201"
    name = "blocking-call-in-async-function"
    severity = Severity.ERROR
    fixable = True
    triggers = (b"async",)
    options = (
        Option(
            "extend-blocking-calls",
            (),
            "more qualified names of blocking functions",
            _qualified_names,
        ),
    )

    def __init__(self, settings: dict | None = None) -> None:
        super().__init__(settings)
        self.blocking = BLOCKING_CALLS | frozenset(self.settings["extend-blocking-calls"])

    def check(self, model: FileModel) -> Iterator[Finding]:
        for site in model.calls:
            function = site.scope.executing_function()
            if function is None or not function.is_async_function:
                continue
            if site.call in model.awaited:
                continue
            blocking = self._blocking_name(model, site)
            if blocking is not None:
                where = model.describe_function(function.node)  # type: ignore[arg-type]
                message = f"Blocking call `{blocking}` in async {where}"
                yield self.finding(site.call, message, fix=_async_sleep_fix(model, site, blocking))

    def _blocking_name(self, model: FileModel, site: CallSite) -> str | None:
        name = model.callee(site)
        if name in self.blocking:
            return name.removeprefix("builtins.")  # type: ignore[union-attr]
        func = site.call.func
        if isinstance(func, cst.Attribute):
            receiver = model.object_kind(func.value, site.scope)
            if func.attr.value in BLOCKING_METHODS.get(receiver or "", ()):
                return f"{receiver}.{func.attr.value}"
        return None


def _async_sleep_fix(model: FileModel, site: CallSite, blocking: str) -> Fix | None:
    """`time.sleep(x)` as a statement -> `await asyncio.sleep(x)`; elsewhere in an expression
    `await` could bind differently, so no fix is offered there, nor in a class body nested in
    the coroutine, where `await` is a syntax error."""
    call = site.call
    if blocking != "time.sleep" or call not in model.expression_statements:
        return None
    if site.scope.kind != "function":  # a class body inside the coroutine: `await` is invalid
        return None
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        return None
    asyncio = model.lookup("asyncio", site.scope)
    if asyncio is not None and model.qualified_name(cst.Name("asyncio"), site.scope) != "asyncio":
        return None  # `asyncio` names something else here
    sleep = cst.Attribute(cst.Name("asyncio"), cst.Name("sleep"))
    replacement = cst.Await(call.with_changes(func=sleep))
    return Fix(
        "Replace with `await asyncio.sleep(...)`",
        Applicability.UNSAFE,
        {call: replacement},
        (RequiredImport("asyncio"),) if asyncio is None else (),
    )

from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint import names
from fastapi_lint.blocking import BLOCKING_CALLS, FAPI201, FILE_WRAPPERS
from fastapi_lint.diagnostics import Severity
from fastapi_lint.fixes import Applicability, Fix, RequiredImport
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.project.request_path import serves_requests
from fastapi_lint.receivers import Receivers, executing_async_function, receivers
from fastapi_lint.rule import Finding, Option, OptionError, Rule, string_list
from fastapi_lint.semantic import CallSite, FileModel, Scope


def _qualified_names(value: object) -> tuple[str, ...]:
    names = string_list(value)
    for name in names:
        if "." not in name.strip(".") or " " in name:
            raise OptionError(f"`{name}` is not a qualified name such as `mylib.fetch`")
    return names


def _scope(value: object) -> str:
    if value not in ("request", "all"):
        raise OptionError('expected "request" or "all"')
    return value  # type: ignore[return-value]


class BlockingCallInAsyncFunction(Rule):
    """Blocking call inside an `async def`: it stalls the event loop and every other request.

    ## What it does
    Checks for calls to known blocking APIs made directly inside an `async def` that serves
    requests: a route handler or a dependency (see the `scope` option for every coroutine
    function). Blocking APIs include `time.sleep`,
    `requests`, module-level `httpx` (and `httpx2`) calls, `urllib.request.urlopen`,
    `urllib3`, the builtin `open()` (also `io.open_code`, `os.fdopen`) and `input()`,
    `subprocess`, `os.system`/`os.popen`/`os.spawn*`/`os.wait*`, directory listings
    (`os.listdir`, `os.scandir`, `os.walk`, `glob.glob`), `socket` name lookups and
    `socket.create_connection`, `shutil` copies, moves and deletes, and sync database
    drivers that connect when called (`psycopg2.connect`, `sqlite3.connect`,
    `pymysql.connect`). Names are resolved through imports, so `from time import sleep` and
    `import requests as rq` are recognised.

    It also checks method calls on objects of a known synchronous type:

    - `httpx.Client`/`httpx2.Client` and `requests.Session` requests (`get`, `post`, ...,
      `request`, `send`, `stream`), and `urllib3.PoolManager` requests;
    - `pathlib.Path` reads, writes and directory walks (`read_text`, `read_bytes`,
      `write_text`, `write_bytes`, `open`, `glob`, `rglob`, `iterdir`, `walk`), and file
      objects (`read`, `readline`, `write`, `flush`, ...);
    - `redis.Redis` commands and pipeline `execute`, pymongo `MongoClient` databases and
      collections (`client.shop.orders.find_one(...)`, `db["orders"].insert_one(...)`);
    - boto3 clients (`boto3.client("s3")`, `boto3.Session().client(...)`, a `mypy_boto3_*`
      annotation: every operation) and resources (`boto3.resource("s3")`: actions such as
      `Object(...).get()`).

    An object's type is known when the file shows it: a parameter, variable or class
    attribute annotated with the class (also `Optional[X]`, `X | None`, `Annotated[X, ...]`),
    a value built by its constructor (`client = httpx.Client()`,
    `with requests.Session() as s:`), an attribute assigned one in the class
    (`self.client = httpx.Client()` in `__init__`), a call of a function of the file with
    that return annotation (`def tmp() -> Path`), or a dependency of the file that yields
    one (`client=Depends(get_client)`). When any assignment disagrees, the type is unknown and
    nothing is reported.

    ## Why is this bad?
    FastAPI runs `async def` routes and dependencies on the event loop. A blocking call there
    stops the loop: no other request is served until it returns, so one slow upstream call
    stalls the whole worker. Plain `def` routes are not affected: FastAPI runs them in a
    threadpool, so they are not flagged.

    Deliberately not reported:

    - calls inside a nested `def` or `lambda`, and callables handed to `run_in_threadpool`,
      `asyncio.to_thread`, `anyio.to_thread.run_sync` or `loop.run_in_executor`: they do not
      run on the event loop;
    - awaited calls: what is awaited is not the sync API, whatever its name;
    - cheap metadata calls: `os.path.exists`/`isfile`/`getsize`, and `Path.exists`,
      `is_file`, `stat`, `mkdir`, `touch`, `unlink`, `rename`, `resolve`;
    - constructors that connect lazily, on the first command: `redis.Redis()`,
      `redis.from_url()`, `pymongo.MongoClient()`, `boto3.client()`;
    - boto3's local helpers (`generate_presigned_url`, `generate_presigned_post`,
      `get_paginator`, `get_waiter`) and sub-resource constructors (`s3.Bucket("b")`);
    - `open()` passed straight to `anyio.wrap_file` or `trio.wrap_file`;
    - the methods of a file in the function that opened it: its `open()` is the one finding;
    - methods of sockets: in async code they are usually non-blocking sockets driven by the
      loop (`sock.setblocking(False)`, then `sock.accept()` once readable);
    - in-memory streams (`io.BytesIO`, `io.StringIO`) and `typing.IO` annotations, async
      clients (`httpx.AsyncClient`, `redis.asyncio`, motor, `anyio.Path`), and objects whose
      type the file does not show (imported from another module, unannotated parameters).

    Sync SQLAlchemy sessions have their own rule (FAPI203), as do slow password hashes
    (FAPI205).

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
    - `scope` (`"request"` or `"all"`, default `"request"`): where calls are checked. With
      `"request"`, only in the `async def`s that serve requests: route handlers and
      dependencies (and `dispatch` of a `BaseHTTPMiddleware`). Blocking work one call deeper,
      in the project's sync helpers, is FAPI202's. With `"all"`, in every `async def`,
      command-line coroutines, startup code and library code included: on real projects most
      of those findings were judged not worth a change (an async CLI command has no other
      work on its loop), so it is not the default.
    - `extend-blocking-calls` (list of qualified names, default `[]`): more functions to treat
      as blocking, such as your own sync SDK:

      ```toml
      [tool.fastapi-lint.rules.FAPI201]
      scope = "all"
      extend-blocking-calls = ["billing.client.charge"]
      ```
    """

    code = "FAPI201"
    name = "blocking-call-in-async-function"
    severity = Severity.ERROR
    fixable = True
    fix_safety = "unsafe"
    triggers = (b"async",)
    options = (
        Option(
            "scope",
            "request",
            "where calls are checked: `request` (routes, dependencies) or `all`",
            _scope,
        ),
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
        typing = receivers(model)
        wrapped = _wrapped_files(model)
        for site in model.calls:
            function = executing_async_function(site.scope)
            if function is None or site.call in model.awaited or site.call in wrapped:
                continue
            if self.settings["scope"] == "request" and not _serves_requests(model, function):
                continue
            blocking = self._blocking_name(model, typing, site, function)
            if blocking is not None:
                where = model.describe_function(function.node)  # type: ignore[arg-type]
                message = f"Blocking call `{blocking}` in async {where}"
                yield self.finding(site.call, message, fix=_async_sleep_fix(model, site, blocking))

    def _blocking_name(
        self, model: FileModel, typing: Receivers, site: CallSite, function: Scope
    ) -> str | None:
        name = model.callee(site)
        if name in self.blocking:
            return name.removeprefix("builtins.")  # type: ignore[union-attr]
        if name is not None:  # a module-level function: not a method of a typed receiver
            return None
        method_call = typing.method_call(site.call, site.scope)
        if method_call is None:
            return None
        receiver, method = method_call
        kind = receiver.type
        if kind.rule != FAPI201 or not kind.blocks(method):
            return None
        if kind.made_by_blocking_call and receiver.made_in is function:
            return None  # its `open()` is reported already, in this same function
        return f"{kind.name}.{method}"


def _serves_requests(model: FileModel, function: Scope) -> bool:
    """On the request path (see `serves_requests`), or the `dispatch` of an HTTP middleware
    class of this file."""
    if serves_requests(model, function):
        return True
    owner = function.parent
    if owner is None or owner.kind != "class" or function.node.name.value != "dispatch":  # type: ignore[attr-defined]
        return False
    return names.BASE_HTTP_MIDDLEWARE in model.ancestors(owner.node)  # type: ignore[arg-type]


def _wrapped_files(model: FileModel) -> set[cst.Call]:
    """`open(...)` passed straight to `anyio.wrap_file`/`trio.wrap_file`: the async file is
    what the code uses, and opening is not what the rule is about."""
    wrapped: set[cst.Call] = set()
    for site in model.calls_to(*FILE_WRAPPERS):
        wrapped.update(arg.value for arg in site.call.args if isinstance(arg.value, cst.Call))
    return wrapped


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

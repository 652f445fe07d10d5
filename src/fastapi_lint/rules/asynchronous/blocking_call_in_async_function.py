from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint import names
from fastapi_lint.blocking import (
    BLOCKING_CALLS,
    FAPI201,
    FILE_WRAPPERS,
    LOCAL_FILE_CALLS,
    LOCAL_FILE_TYPES,
)
from fastapi_lint.diagnostics import Severity
from fastapi_lint.fixes import Applicability, Fix, RequiredImport
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.project.index import ProjectIndex
from fastapi_lint.project.request_path import serves_requests
from fastapi_lint.receivers import Receivers, executing_async_function, receivers
from fastapi_lint.rule import Finding, Option, OptionError, Rule, boolean, string_list
from fastapi_lint.screen import (
    Facts,
    calls_typed_method,
    may_serve_requests,
    ready_request_path,
)
from fastapi_lint.semantic import CallSite, FileModel, Scope, children


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
    `urllib3`, `input()`,
    `subprocess`, `os.system`/`os.popen`/`os.spawn*`/`os.wait*`, `socket` name lookups and
    `socket.create_connection`, `shutil` copies, moves and deletes, and sync database
    drivers that connect when called (`psycopg2.connect`, `sqlite3.connect`,
    `pymysql.connect`). Names are resolved through imports, so `from time import sleep` and
    `import requests as rq` are recognised.

    It also checks method calls on objects of a known synchronous type:

    - `httpx.Client`/`httpx2.Client` and `requests.Session` requests (`get`, `post`, ...,
      `request`, `send`, `stream`), and `urllib3.PoolManager` requests;
    - with the `file-io` option: `pathlib.Path` reads, writes and directory walks
      (`read_text`, `read_bytes`, `write_text`, `write_bytes`, `open`, `glob`, `rglob`,
      `iterdir`, `walk`), and file objects (`read`, `readline`, `write`, `flush`, ...);
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
    - local file I/O, unless the `file-io` option is on (see Options); with it,
      `open()` passed straight to `anyio.wrap_file` or `trio.wrap_file`, and
      `with open(p) as f:` whose body uses `f` only inside the arguments of awaited calls
      (`data = await asyncio.to_thread(f.read)`): the reads run off the loop;
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
    - `file-io` (boolean, default `false`): also report local file I/O: the builtin `open()`
      (also `io.open_code`, `os.fdopen`), directory listings (`os.listdir`, `os.scandir`,
      `os.walk`, `glob.glob`), and the methods of files and `pathlib.Path`s (see above). Off
      by default because reviewers on real projects rarely asked for a change: the files
      were small (a settings file, a cache entry, a temporary file), and most findings were
      judged not worth moving off the loop. Turn it on where large files are read or written
      in routes (uploads, exports); ruff's `ASYNC230` and `ASYNC240` report `open()` and
      `pathlib` calls in every `async def` too.
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
            "file-io",
            False,
            "also report local file I/O: `open()`, file and `Path` reads and writes, listings",
            boolean,
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

    def screen(self, facts: Facts) -> bool:
        if not facts.has_async:
            return False
        file_io = self.settings["file-io"]
        blocking = self.blocking if file_io else self.blocking - LOCAL_FILE_CALLS
        types = frozenset() if file_io else LOCAL_FILE_TYPES
        if not (facts.async_targets & blocking or calls_typed_method(facts, FAPI201, types)):
            return False
        # `_serves_requests`: also the `dispatch` of an HTTP middleware.
        serving = may_serve_requests(facts) or "dispatch" in facts.names
        return self.settings["scope"] != "request" or serving

    def prepare(self, index: ProjectIndex) -> None:
        if self.settings["scope"] == "request":
            ready_request_path(index)

    def check(self, model: FileModel) -> Iterator[Finding]:
        typing = receivers(model)
        wrapped = _wrapped_files(model)
        handed_off: set[cst.Call] | None = None  # made when an `open()` is about to be reported
        for site in model.calls:
            function = executing_async_function(site.scope)
            if function is None or site.call in model.awaited or site.call in wrapped:
                continue
            if self.settings["scope"] == "request" and not _serves_requests(model, function):
                continue
            blocking = self._blocking_name(model, typing, site, function)
            if blocking == "open":
                handed_off = _files_handed_off(model) if handed_off is None else handed_off
                blocking = None if site.call in handed_off else blocking
            if blocking is not None:
                where = model.describe_function(function.node)  # type: ignore[arg-type]
                message = f"Blocking call `{blocking}` in async {where}"
                yield self.finding(site.call, message, fix=_async_sleep_fix(model, site, blocking))

    def _blocking_name(
        self, model: FileModel, typing: Receivers, site: CallSite, function: Scope
    ) -> str | None:
        file_io = self.settings["file-io"]
        name = model.callee(site)
        if name in self.blocking:
            if name in LOCAL_FILE_CALLS and not file_io:
                return None
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
        if kind.name in LOCAL_FILE_TYPES and not file_io:
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


def _files_handed_off(model: FileModel) -> set[cst.Call]:
    """`with open(p) as f:` whose body uses `f` only inside the arguments of awaited calls
    (`await asyncio.to_thread(f.read)`): the file's I/O runs off the loop, and opening it
    alone is not worth a finding."""
    handed_off: set[cst.Call] = set()
    for statement in _with_statements(model.module):
        for item in statement.items:
            target = item.asname.name if item.asname is not None else None
            if isinstance(item.item, cst.Call) and isinstance(target, cst.Name):
                uses = list(_uses(statement.body, target.value, model.awaited, False))
                if uses and all(uses):
                    handed_off.add(item.item)
    return handed_off


def _with_statements(node: cst.CSTNode) -> Iterator[cst.With]:
    for child in children(node):
        if isinstance(child, cst.With):
            yield child
        yield from _with_statements(child)


def _uses(node: cst.CSTNode, name: str, awaited: set, handed_off: bool) -> Iterator[bool]:
    """For each use of `name` under `node`: whether it is inside an awaited call's arguments."""
    if isinstance(node, cst.Name) and node.value == name:
        yield handed_off
        return
    if isinstance(node, cst.Call) and node in awaited:
        yield from _uses(node.func, name, awaited, handed_off)
        for arg in node.args:
            yield from _uses(arg.value, name, awaited, True)
        return
    if isinstance(node, (cst.Attribute, cst.Arg)):  # `x.f` and `g(f=1)` do not use `f`
        yield from _uses(node.value, name, awaited, handed_off)
        return
    for child in children(node):
        yield from _uses(child, name, awaited, handed_off)


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

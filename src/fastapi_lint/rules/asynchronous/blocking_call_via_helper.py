from __future__ import annotations

import linecache
from collections.abc import Iterator

from fastapi_lint.diagnostics import Position, Related, Severity
from fastapi_lint.project.index import Func, ProjectIndex
from fastapi_lint.project.reach import Chain, Reach, reach
from fastapi_lint.project.request_path import serves_requests
from fastapi_lint.project_calls import project_callee
from fastapi_lint.receivers import executing_async_function
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts, may_serve_requests, ready_request_path
from fastapi_lint.semantic import CallSite, FileModel, Scope, scope_qualname


class BlockingCallViaHelper(Rule):
    """Sync helper called on the request path reaches a blocking call: it stalls the event loop.

    ## What it does
    Checks for calls, made directly inside an `async def` that serves requests, of a plain
    (sync) function of the project that makes a blocking call, itself or through further
    sync functions of the project, in any module.

    An `async def` serves requests when FastAPI or Starlette runs it for a request: an async
    route or websocket, a dependency (`Depends(...)`, `Security(...)`), an
    `@app.middleware(...)` or `@app.exception_handler(...)` function, a function handed to
    `add_exception_handler`, `add_middleware(..., dispatch=...)` or `add_task`, the
    `dispatch` or `__call__` of a middleware class given to `add_middleware`, and any async
    function of the project these call, across modules.

    "Blocking" is what FAPI201, FAPI203 and FAPI205 report when the call is written in the
    `async def` itself, except small file work: network calls (`requests.get`,
    `httpx.post`, `socket.getaddrinfo`, `psycopg2.connect`), `time.sleep`, subprocesses
    (`subprocess.run`), whole-tree file operations (`shutil.rmtree`, `shutil.copytree`,
    `os.walk`, `Path.rglob`), slow password hashes (`bcrypt.hashpw`), and the blocking
    methods of an object whose type the helper's module shows: a name or `self.<attribute>`
    bound only to a known constructor (`pwd_context = CryptContext(...)`,
    `self.client = httpx.Client()`, `db = SessionLocal()`) or annotated with a known class
    (`db: Session`).

    The call is resolved through imports and the project index: a function of the same
    file or imported from another module (also through re-exports), `self.method()` in a
    class, a method of an instance or class the index knows (`service = UserService()`),
    and a class whose `__init__` blocks. The message shows the chain, for example
    `authenticate_user -> verify_password -> passlib.context.CryptContext.verify
    (app/security.py:12)`, and the blocking call is attached as a related location. The
    chain is the shortest one, at most 6 functions long.

    ## Why is this bad?
    A helper runs on the caller's thread. Called from an `async def`, that thread is the
    event loop's: while the helper waits for the network, the disk or a slow hash, no other
    request is served. Moving the blocking call into a helper, or into a helper of a helper
    in another module, hides it from review and from FAPI201, but the loop stalls all the
    same. FastAPI's OAuth2 tutorial is the classic case: an `async` login route calls
    `authenticate_user`, which calls `verify_password`, which runs a bcrypt or argon2 hash.

    Deliberately not reported:

    - `async def`s off the request path: startup code (lifespan, `on_event`), command-line
      entry points, scripts, tests, and library code no app of the project calls. Blocking
      there holds no request up (FAPI201 still reports a blocking call written in them).
      An `async def` reached only through calls the index cannot resolve (a method of a
      parameter or of a dependency's result) counts as off the path too;
    - helpers handed to `run_in_threadpool`, `asyncio.to_thread`, `anyio.to_thread.run_sync`,
      `loop.run_in_executor`, `BackgroundTasks.add_task` and the like: they are passed, not
      called, and run in a thread;
    - calls in a nested `def` or `lambda`, awaited calls, and calls of a sync function
      defined inside the calling `async def` (a local helper is usually meant for a thread);
    - a call FAPI201 reports itself: a blocking call written directly in the `async def`;
    - file reads and writes (`open()`, `Path.read_text`, `os.fdopen`), listings of one
      directory (`os.listdir`, `glob.glob`, `Path.glob`) and `hashlib.pbkdf2_hmac` reached
      through a helper: mostly a small configuration file or template, or a hash whose cost
      is its iteration count, which the chain does not show. FAPI201 and FAPI205 report
      them where they are written in an `async def`;
    - generators: calling one runs none of its body (`StreamingResponse(iter_file(path))`
      iterates it in a threadpool);
    - decorated helpers, except through `staticmethod`, `classmethod`, `functools.wraps`,
      `abstractmethod`, `override`, `tenacity.retry` and `backoff`: a decorator may run the
      function elsewhere. `@lru_cache` and `@cache` helpers are not followed either: their
      body runs once per argument, usually at the first request only;
    - methods of objects whose class the index does not know (a parameter, a dependency, an
      object built in another module), and blocking methods of objects whose type only the
      caller knows: a typed receiver counts only when the helper's own module shows the type.
      Also not followed: dependencies (`Depends`), the return annotations of helpers,
      type aliases and objects imported from another module.

    ## Example
    ```python
    import requests
    from fastapi import FastAPI

    app = FastAPI()


    def fetch_rates() -> dict[str, float]:
        return requests.get("https://rates.example.com/latest", timeout=5).json()


    @app.get("/rates")
    async def rates() -> dict[str, float]:
        return fetch_rates()
    ```

    Use instead:
    ```python
    import requests
    from fastapi import FastAPI
    from fastapi.concurrency import run_in_threadpool

    app = FastAPI()


    def fetch_rates() -> dict[str, float]:
        return requests.get("https://rates.example.com/latest", timeout=5).json()


    @app.get("/rates")
    async def rates() -> dict[str, float]:
        return await run_in_threadpool(fetch_rates)
    ```

    Or make the route a plain `def`, which FastAPI runs in its threadpool, or make the helper
    `async` with an async client (`httpx.AsyncClient`) and `await` it.

    ## Fix safety
    There is no fix: offloading the call, making the route a plain `def` or the helper
    `async` is a design decision.

    ## Options
    None. The functions listed in FAPI201's `extend-blocking-calls` are not followed here.
    """

    code = "FAPI202"
    name = "blocking-call-via-helper"
    severity = Severity.WARNING
    # Only an `async def` is checked.
    triggers = (b"async",)

    def screen(self, facts: Facts) -> bool:
        return facts.has_async and may_serve_requests(facts) and facts.calls_blocking_helper

    def prepare(self, index: ProjectIndex) -> None:
        ready_request_path(index)

    def check(self, model: FileModel) -> Iterator[Finding]:
        index = model.project.index
        if index is None or model.module_key is None:
            return
        analysis = reach(index)
        for site in model.calls:
            function = executing_async_function(site.scope)
            if function is None or site.call in model.awaited:
                continue
            callee = self._sync_helper(analysis, model, site, function)
            chain = analysis.chain(callee) if callee is not None else None
            if chain is not None and serves_requests(model, function):
                yield self._finding(analysis, model, site, function, chain)

    def _sync_helper(
        self, analysis: Reach, model: FileModel, site: CallSite, function: Scope
    ) -> Func | None:
        callee = project_callee(analysis, model, site)
        if callee is None or not analysis.is_sync_helper(callee):
            return None
        local_prefix = f"{scope_qualname(function)}."
        if callee.module == model.module_key and callee.qualname.startswith(local_prefix):
            return None  # defined inside this `async def`
        return callee

    def _finding(
        self, analysis: Reach, model: FileModel, site: CallSite, function: Scope, chain: Chain
    ) -> Finding:
        where = model.describe_function(function.node)  # type: ignore[arg-type]
        helper = chain.functions[0].qualname
        message = (
            f"Sync helper `{helper}` called in async {where} blocks the event loop: "
            f"{chain.describe(analysis.index)}"
        )
        column = _character_column(chain)
        note = f"`{chain.blocking}` blocks here, reached from `{helper}`"
        return self.finding(
            site.call, message, related=(Related(chain.path, Position(chain.line, column), note),)
        )


def _character_column(chain: Chain) -> int:
    """The 1-based column in characters of the blocking call (`ast` counts UTF-8 bytes)."""
    line = linecache.getline(str(chain.path), chain.line)
    if not line or line.isascii():
        return chain.column
    return len(line.encode("utf-8")[: chain.column - 1].decode("utf-8", "replace")) + 1

"""The request path: the async functions of the project that run while an app serves a
request, on the event loop every other request shares (FAPI202).

The roots are what FastAPI and Starlette call themselves:

- the endpoints of the route table (async routes and websockets);
- dependencies: a function (or an instance's `__call__`) passed to `Depends(...)` or
  `Security(...)` in a module that names fastapi (default values, `dependencies=[...]`,
  module-level `Annotated` aliases);
- `@app.middleware(...)` and `@app.exception_handler(...)` functions, and those handed to
  `add_exception_handler`, `add_middleware(..., dispatch=...)` and `add_task`;
- the `dispatch` and `__call__` methods of a middleware class of the project, given to
  `add_middleware(...)` or `Middleware(...)`.

From the roots, every call an async function makes of another async function of the
project (resolved as `Reach.callee` resolves calls: awaited, or handed on as a coroutine)
extends the path. Startup code (lifespan, `on_event`), command-line entry points, scripts,
tests and library code no app calls are outside it. Computed once per run, on first need.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from fastapi_lint.names import DEPENDS, MIDDLEWARE, SECURITY
from fastapi_lint.project.index import Cls, Ext, Func, Inst
from fastapi_lint.project.summary import Expr
from fastapi_lint.semantic import scope_qualname

if TYPE_CHECKING:
    from fastapi_lint.project.reach import Reach
    from fastapi_lint.semantic import FileModel, Scope

_DEPENDENCY_MAKERS = frozenset({DEPENDS, SECURITY})
_MIDDLEWARE_METHODS = ("dispatch", "__call__")  # BaseHTTPMiddleware, or pure ASGI
_HANDLER_DECORATORS = frozenset({"middleware", "exception_handler"})
# Registration methods and where they take the function: positional index or keyword.
_REGISTRATIONS = {
    "add_task": ("0", "func"),
    "add_exception_handler": ("1", "handler"),
    "add_middleware": ("dispatch",),
}


class RequestPath:
    def __init__(self, reach: Reach) -> None:
        self.reach = reach
        self.index = reach.index
        self._functions: frozenset[Func] | None = None

    def __contains__(self, func: Func) -> bool:
        if self._functions is None:
            self._functions = self._compute()
        return func in self._functions

    def _compute(self) -> frozenset[Func]:
        found = {func for func in self._roots() if self._is_async(func)}
        pending = list(found)
        while pending:
            for callee in self._async_callees(pending.pop()):
                if callee not in found:
                    found.add(callee)
                    pending.append(callee)
        return frozenset(found)

    def _async_callees(self, func: Func) -> Iterator[Func]:
        data = self.reach.function(func)
        for callee, _, _ in data.get("calls", ()) if data else ():
            target = self.reach.callee(callee, func.module, func.qualname)
            if target is not None and self._is_async(target):
                yield target

    def _is_async(self, func: Func) -> bool:
        data = self.reach.function(func)
        return data is not None and bool(data["async"])

    # -- roots ---------------------------------------------------------------------------

    def _roots(self) -> Iterator[Func]:
        for row in self.index.rows:
            if row.kind in ("route", "websocket") and row.endpoint and ":" in row.endpoint:
                module, _, qualname = row.endpoint.partition(":")
                yield Func(module, qualname)
        for info in self.index.modules.values():
            if not info.registers:
                continue  # `Depends`, handlers and tasks come with an import of fastapi
            summary = info.summary
            for data in summary["passes"]:
                yield from self._passed(info.key, data)
            for qualname, function in summary["functions"].items():
                if any(_handler_decorator(d) for d in function["decorators"]):
                    yield Func(info.key, qualname)

    def _passed(self, module: str, data: dict[str, Any]) -> Iterator[Func]:
        func, args, scope = data["func"], data["args"], data["scope"]
        if func[0] == "attr" and func[2] in _REGISTRATIONS:
            for position in _REGISTRATIONS[func[2]]:
                if position in args:
                    yield from self._function(args[position], module, scope)
        if func[0] == "attr" and func[2] == "add_middleware" and "0" in args:
            yield from self._function(args["0"], module, scope, _MIDDLEWARE_METHODS)
        if func[0] != "name" and func[0] != "attr":
            return
        maker = self.index.evaluate(func, module, scope)
        if not isinstance(maker, Ext):
            return
        if maker.name in _DEPENDENCY_MAKERS:
            dependency = args.get("0") or args.get("dependency")
            if dependency is not None:
                yield from self._function(dependency, module, scope)
        elif maker.name == MIDDLEWARE and "0" in args:  # `Middleware(TimingMiddleware)`
            yield from self._function(args["0"], module, scope, _MIDDLEWARE_METHODS)

    def _function(
        self, expr: Expr, module: str, scope: str, methods: tuple[str, ...] = ("__call__",)
    ) -> Iterator[Func]:
        """The function an argument names: a function, an instance's `__call__`, or the
        `methods` of a class (middleware)."""
        if self.reach.calls.unknown_base(expr, module, scope):
            return
        value = self.index.evaluate(expr, module, scope)
        if isinstance(value, Func):
            yield value
            return
        if isinstance(value, Inst):
            cls, methods = value.cls, ("__call__",)
        elif isinstance(value, Cls) and value.project and methods != ("__call__",):
            cls = value.name
        else:
            return
        for name in methods:
            method = self.reach.method(cls, name)
            if method is not None:
                yield method


def _handler_decorator(decorator: Expr) -> bool:
    """`@app.middleware("http")`, `@app.exception_handler(404)`."""
    return (
        decorator[0] == "call"
        and decorator[1][0] == "attr"
        and decorator[1][2] in _HANDLER_DECORATORS
    )


def serves_requests(model: FileModel, function: Scope) -> bool:
    """Whether an `async def` of the per-file model runs while serving a request: a route
    handler or dependency of this file, or, through the project index, any function on the
    request path (dependencies declared in other modules, middleware, exception handlers,
    the async functions they call)."""
    info = model.functions.get(function.node)  # type: ignore[arg-type]
    if info is not None and (info.routes or info.is_dependency):
        return True
    index = model.project.index
    if index is None or model.module_key is None:
        return False
    from fastapi_lint.project.reach import reach  # the analysis is built on first use

    return Func(model.module_key, scope_qualname(function)) in reach(index).request_path

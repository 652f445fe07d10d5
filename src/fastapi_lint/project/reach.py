"""What the sync functions of the project reach: blocking calls made directly or through
further sync functions of the project, across modules (FAPI202), and which calls name a
project coroutine function (FAPI206).

Works on the module summaries of the project index: each function's recorded calls are
resolved with the index to a function of the project (`Func`, a method through `self`, an
instance or its class) or to a blocking call of the knowledge base (`blocking_calls.py`).
The chain from a function to a blocking call is the shortest one (breadth first, calls in
source order), at most `MAX_CHAIN` functions long; cycles are safe. Everything is computed
lazily, at most once per function and run, and kept beside the index (`reach(index)`).

Only plain functions are followed: defined once in their scope, not generators (calling one
runs none of its body), and decorated with nothing but `TRANSPARENT` decorators. A cached
function (`@lru_cache`, `@cache`) or any other decorator (it may run the function elsewhere,
or only once) ends the chain.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi_lint.project.app_routes import display
from fastapi_lint.project.blocking_calls import SummaryBlocking
from fastapi_lint.project.index import Cls, Func, Inst, ProjectIndex
from fastapi_lint.project.request_path import RequestPath
from fastapi_lint.project.summary import Expr

if TYPE_CHECKING:
    import libcst as cst

MAX_CHAIN = 6  # project functions in a chain, the called one included
# Decorators that leave a function called as it is written.
TRANSPARENT = frozenset(
    {
        "builtins.staticmethod",
        "builtins.classmethod",
        "functools.wraps",
        "abc.abstractmethod",
        "typing.override",
        "typing_extensions.override",
        "tenacity.retry",
        "backoff.on_exception",
        "backoff.on_predicate",
    }
)
_MAX_BASES = 8  # depth of project base classes searched for a method


@dataclass(frozen=True)
class Chain:
    """`get_user -> load_profile -> requests.get`: the functions called one after the other,
    then the blocking call the last one makes, and where."""

    functions: tuple[Func, ...]
    blocking: str
    path: Path
    line: int
    column: int  # 1-based, in UTF-8 bytes (as `ast` counts)

    def describe(self, index: ProjectIndex) -> str:
        steps = " -> ".join(func.qualname for func in self.functions)
        return f"{steps} -> {self.blocking} ({display(index, self.path)}:{self.line})"


@dataclass(frozen=True)
class _Edges:
    blocking: tuple[str, int, int] | None  # the first blocking call: name, line, column
    callees: tuple[Func, ...]  # the sync project functions it calls, in source order


def reach(index: ProjectIndex) -> Reach:
    """The reach analysis of an index, made once per run (per worker process)."""
    return index.analysis(Reach)


class Reach:
    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.calls = SummaryBlocking(index)
        self._edges: dict[Func, _Edges] = {}
        self._chains: dict[Func, Chain | None] = {}
        self.request_path = RequestPath(self)

    # -- functions -------------------------------------------------------------------------

    def function(self, func: Func) -> dict[str, Any] | None:
        info = self.index.modules.get(func.module)
        return info.summary["functions"].get(func.qualname) if info is not None else None

    def callee(self, expr: Expr | None, module: str, scope: str) -> Func | None:
        """The project function a call of `expr` from `scope` of `module` runs: a function,
        a method through `self`, an instance or a class, or a class's `__init__`."""
        if expr is None or module not in self.index.modules:
            return None
        if expr[0] == "name":
            where = self.index.binding_scope(module, scope, expr[1])
            if where is not None and self._is_parameter(module, where, expr[1]):
                return None  # not evaluated: the index would record it as an object
            return self._runs(self.index.resolve_name(module, scope, expr[1]))
        if expr[0] != "attr":
            return None
        owner = self.calls.self_class(expr[1], module, scope)
        if owner is not None:
            return self.method(f"{module}:{owner}", expr[2])
        if expr[1][0] == "call":  # `Profiles().load()`
            made = self._project_class(expr[1][1], module, scope)
            return self.method(made, expr[2]) if made is not None else None
        if self.calls.unknown_base(expr, module, scope):
            return None
        base = self.index.evaluate(expr[1], module, scope)
        if isinstance(base, Inst):
            return self.method(base.cls, expr[2])
        if isinstance(base, Cls):
            return self.method(base.name, expr[2]) if base.project else None
        return self._runs(self.index.evaluate(expr, module, scope))

    def _project_class(self, expr: Expr, module: str, scope: str) -> str | None:
        if expr[0] not in ("name", "attr") or self.calls.unknown_base(expr, module, scope):
            return None
        value = self.index.evaluate(expr, module, scope)
        return value.name if isinstance(value, Cls) and value.project else None

    def _runs(self, value: object) -> Func | None:
        if isinstance(value, Func):
            return value
        if isinstance(value, Cls) and value.project:
            return self.method(value.name, "__init__")
        return None

    def _is_parameter(self, module: str, scope: str, name: str) -> bool:
        entries = self.index.modules[module].summary["scopes"][scope]["names"].get(name, [])
        return any(kind == "param" for kind, _ in entries)

    def method(self, cls: str, name: str, depth: int = 0) -> Func | None:
        """The method `name` of a project class (`module:Class`), defined in it or in its
        project bases (in order); None when an attribute of that name is assigned, or when a
        base outside the project comes first."""
        module, _, qualname = cls.partition(":")
        info = self.index.modules.get(module)
        data = info.summary["classes"].get(qualname) if info is not None else None
        if data is None or depth > _MAX_BASES:
            return None
        if name in data["attrs"]:
            return None  # `self.name = ...`: a value, maybe a callable, not the method
        entries = info.summary["scopes"][qualname]["names"].get(name)  # type: ignore[union-attr]
        if entries is not None:
            if entries == [["def", f"{qualname}.{name}"]]:
                return Func(module, f"{qualname}.{name}")
            return None
        for base in data["bases"]:
            value = self.index.evaluate(base, module, data["parent"])
            if not (isinstance(value, Cls) and value.project):
                return None
            found = self.method(value.name, name, depth + 1)
            if found is not None:
                return found
        return None

    def is_plain(self, func: Func) -> bool:
        """Defined once in its scope and decorated only transparently."""
        data = self.function(func)
        if data is None:
            return False
        summary = self.index.modules[func.module].summary
        name = func.qualname.rpartition(".")[2]
        parent = data["parent"]
        if summary["scopes"][parent]["names"].get(name) != [["def", func.qualname]]:
            return False
        if not parent and name in summary["imports"]:
            return False
        return all(self._transparent(d, func.module, parent) for d in data["decorators"])

    def _transparent(self, decorator: Expr, module: str, scope: str) -> bool:
        target = decorator[1] if decorator[0] == "call" else decorator
        return self.calls.qualified_name(target, module, scope) in TRANSPARENT

    def is_sync_helper(self, func: Func) -> bool:
        data = self.function(func)
        return data is not None and not data["async"] and self.is_plain(func)

    def is_coroutine_function(self, func: Func) -> bool:
        """A plain `async def` (an async generator is not one)."""
        data = self.function(func)
        if data is None or not data["async"] or not self.is_plain(func):
            return False
        return not self.is_generator(func)

    def is_generator(self, func: Func) -> bool:
        """Whether the function contains `yield` (True when the index does not know it)."""
        data = self.function(func)
        return data is None or bool(data["generator"])

    # -- chains ----------------------------------------------------------------------------

    def chain(self, func: Func) -> Chain | None:
        """The shortest chain from `func` (a sync helper) to a blocking call, or None."""
        if func not in self._chains:
            self._chains[func] = self._chain(func)
        return self._chains[func]

    def _chain(self, start: Func) -> Chain | None:
        # Generators are rare: the chains are searched without telling them apart, then
        # searched again without the generators they went through.
        excluded: set[Func] = set()
        while True:
            found = self._search(start, excluded)
            if found is None:
                return None
            functions, (name, line, column) = found
            generators = {func for func in functions if self.is_generator(func)}
            if not generators:
                path = self.index.modules[functions[-1].module].path
                return Chain(functions, name, path, line, column)
            excluded |= generators

    def _search(
        self, start: Func, excluded: set[Func]
    ) -> tuple[tuple[Func, ...], tuple[str, int, int]] | None:
        if start in excluded:
            return None
        pending: deque[tuple[Func, ...]] = deque([(start,)])
        seen = {start}
        while pending:
            functions = pending.popleft()
            edges = self.edges(functions[-1])
            if edges.blocking is not None:
                return functions, edges.blocking
            if len(functions) >= MAX_CHAIN:
                continue
            for callee in edges.callees:
                if callee not in seen and callee not in excluded:
                    seen.add(callee)
                    pending.append((*functions, callee))
        return None

    def edges(self, func: Func) -> _Edges:
        """The first blocking call a sync function makes itself, and the sync helpers it
        calls (memoised)."""
        found = self._edges.get(func)
        if found is None:
            found = self._edges[func] = self._compute_edges(func)
        return found

    def _compute_edges(self, func: Func) -> _Edges:
        data = self.function(func)
        blocking: tuple[str, int, int] | None = None
        callees: list[Func] = []
        calls = sorted(data.get("calls", ()), key=lambda call: (call[1], call[2])) if data else []
        for callee, line, column in calls:
            name = self.calls.blocking_name(callee, func.module, func.qualname)
            if name is not None:
                # `open(p).read()`: both calls start at one place; the inner one, recorded
                # after the outer one, is named.
                if blocking is None or (line, column) == blocking[1:]:
                    blocking = (name, line, column)
                continue
            target = self.callee(callee, func.module, func.qualname)
            if target is not None and target not in callees and self.is_sync_helper(target):
                callees.append(target)
        return _Edges(blocking, tuple(callees))


def expression(node: cst.BaseExpression, calls: int = 1) -> Expr | None:
    """A LibCST callee (`name`, `a.b.c`, `A().b`) in the summary's expression form (a
    call's arguments left out), else None."""
    from fastapi_lint.lazy import libcst as cst

    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        expr: Expr = ["name", node.value]
    elif isinstance(node, cst.Call) and parts and calls:
        func = expression(node.func, calls - 1)
        if func is None:
            return None
        expr = ["call", func, [], {}]
    else:
        return None
    for part in reversed(parts):
        expr = ["attr", expr, part]
    return expr

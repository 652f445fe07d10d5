from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.project.dependencies import is_dependency
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import FileModel, children

# Methods that release what a dependency acquired.
_CLEANUPS = frozenset(
    {"close", "aclose", "release", "disconnect", "dispose", "shutdown", "terminate"}
)
_SHORT = 60  # longer cleanup calls are shown as `f(...)`


class YieldDependencyWithoutCleanup(Rule):
    """Yield dependency cleans up after `yield` outside `try`/`finally`: failed requests skip it.

    ## What it does
    Checks dependencies with `yield` (generator functions passed to `Depends(...)` or
    `Security(...)`, in this module or, through the project index, in another one) that
    acquire something before the `yield` and release it after, where the `yield` is in no
    `try` statement and no `with` block. "Acquire and release" is read from the code, not
    from names: a local name bound before the `yield` (`db = SessionLocal()`,
    `conn = await pool.acquire()`) is closed after it, as the receiver or an argument of a
    call of `close`, `aclose`, `release`, `disconnect`, `dispose`, `shutdown` or `terminate`
    (`db.close()`, `await client.aclose()`, `pool.release(conn)`).

    ## Why is this bad?
    When the route or a later dependency raises (an `HTTPException`, a validation error, a
    bug), FastAPI throws the exception into the dependency at its `yield`. Without
    `try`/`finally` (or a `with` block) the exception leaves the generator there, and the
    code after the `yield` never runs: every failed request leaks a session, a connection
    or a client until the pool is exhausted and the app stops answering. FastAPI's
    documentation writes these dependencies with `try: yield db` / `finally: db.close()`.

    Not reported: a `yield` inside any `try` statement or any `with` block (whatever they
    handle), cleanup that releases a name bound elsewhere (a module-level engine or pool,
    an attribute), generators that are not known to be dependencies (context managers,
    lifespans, plain generators), and a dependency used only through an `Annotated[...]`
    written in a signature of another module, which the project index does not see.

    ## Example
    ```python
    import sqlite3

    from fastapi import Depends, FastAPI

    app = FastAPI()


    def get_connection():
        connection = sqlite3.connect("app.db")
        yield connection
        connection.close()


    @app.get("/items")
    def list_items(connection: sqlite3.Connection = Depends(get_connection)) -> list:
        \"\"\"List the items.\"\"\"
        return connection.execute("SELECT name FROM items").fetchall()
    ```

    Use instead:
    ```python
    import sqlite3

    from fastapi import Depends, FastAPI

    app = FastAPI()


    def get_connection():
        connection = sqlite3.connect("app.db")
        try:
            yield connection
        finally:
            connection.close()


    @app.get("/items")
    def list_items(connection: sqlite3.Connection = Depends(get_connection)) -> list:
        \"\"\"List the items.\"\"\"
        return connection.execute("SELECT name FROM items").fetchall()
    ```

    A `with` block does the same when the resource is a context manager
    (`with SessionLocal() as db: yield db`).

    ## Fix safety
    There is no fix: which statements after the `yield` belong in `finally` (a `close()`)
    and which must run only on success (a `commit()`) is the author's call.

    ## Options
    None.
    """

    code = "FAPI602"
    name = "yield-dependency-without-cleanup"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.WARNING
    # The dependency's module need not name fastapi: routes of other modules use it.
    triggers = (b"yield",)

    def screen(self, facts: Facts) -> bool:
        return bool(facts.calls & _CLEANUPS)

    def check(self, model: FileModel) -> Iterator[Finding]:
        for function in model.generators:
            walk = _Walk()
            walk.block(function.body, guarded=False)
            found = [
                (point, released)
                for point in walk.yields
                if not point.guarded and (released := walk.released_after(point)) is not None
            ]
            if found and is_dependency(model, function):
                for point, cleanup in found:
                    yield self.finding(point.node, _message(model, function, cleanup))


@dataclass
class _Yield:
    node: cst.Yield
    guarded: bool  # inside a `try` statement or a `with` block of the function
    order: int
    bound: frozenset[str]  # local names bound before it


@dataclass
class _Walk:
    """The function's own code in source order (nested functions and classes left out):
    its `yield`s, the names it binds and the cleanup calls it makes."""

    yields: list[_Yield] = field(default_factory=list)
    bound: set[str] = field(default_factory=set)
    cleanups: list[tuple[int, cst.Call, frozenset[str]]] = field(default_factory=list)
    order: int = 0

    def block(self, node: cst.CSTNode, guarded: bool) -> None:
        pending: list[tuple[cst.CSTNode, bool]] = [(node, guarded)]
        while pending:
            current, inside = pending.pop()
            self.order += 1
            if isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):  # not its code
                continue
            if isinstance(current, cst.Yield):
                self.yields.append(_Yield(current, inside, self.order, frozenset(self.bound)))
            elif isinstance(current, cst.Call):
                self._call(current)
            elif isinstance(current, cst.Assign | cst.AnnAssign | cst.NamedExpr):
                self._bind(current)
            # Statements whose body an exception raised at the `yield` does not simply leave.
            inside = inside or isinstance(current, (cst.Try, cst.TryStar, cst.With))
            pending.extend((child, inside) for child in reversed(children(current)))

    def _bind(self, node: cst.Assign | cst.AnnAssign | cst.NamedExpr) -> None:
        targets = (
            [target.target for target in node.targets]
            if isinstance(node, cst.Assign)
            else [node.target]
        )
        self.bound.update(target.value for target in targets if isinstance(target, cst.Name))

    def _call(self, call: cst.Call) -> None:
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in _CLEANUPS):
            return
        operands = [func.value, *(arg.value for arg in call.args)]
        released = frozenset(o.value for o in operands if isinstance(o, cst.Name))
        if released:
            self.cleanups.append((self.order, call, released))

    def released_after(self, point: _Yield) -> cst.Call | None:
        """The first cleanup call after the `yield` of a name bound before it."""
        for order, call, released in self.cleanups:
            if order > point.order and released & point.bound:
                return call
        return None


def _message(model: FileModel, function: cst.FunctionDef, cleanup: cst.Call) -> str:
    text = model.module.code_for_node(cleanup)
    if len(text) > _SHORT or "\n" in text:
        text = f"{model.module.code_for_node(cleanup.func)}(...)"
    return (
        f"dependency `{function.name.value}` calls `{text}` after its `yield`, outside "
        "`try`/`finally`: when the request fails, FastAPI raises the exception at the "
        f"`yield` and `{text}` never runs"
    )

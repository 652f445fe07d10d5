from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.project.dependencies import is_dependency
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import CallSite, FileModel

_PRINT = "builtins.print"
_CONSOLE = frozenset({"sys.stdout", "sys.stderr"})


class PrintInRoute(Rule):
    """`print()` in a route handler or a dependency: use logging.

    ## What it does
    Checks for calls of the builtin `print` made by a route handler or a dependency: a
    function passed to `Depends(...)` or `Security(...)` in this module or, through the
    project index, in another. Only the function's own code counts, not functions nested
    in it.

    ## Why is this bad?
    `print` writes to the server process's standard output: no level, no logger name, no
    timestamp or request context, nothing a log pipeline can filter, and often nothing at
    all under a process manager that discards stdout. Left-over debugging prints also tend
    to dump request data (tokens, personal data) where nobody reviews it. A logger
    (`logger = logging.getLogger(__name__)`, then `logger.info(...)`) goes wherever the
    deployment sends logs, at a level that can be turned down.

    Not reported: `print(..., file=...)` writing to anything but `sys.stdout` or
    `sys.stderr` (a buffer the route builds a response from), a `print` shadowed by another
    definition or possibly replaced by a star import, and `print` in scripts, lifespans,
    helpers and tests.

    ## Example
    ```python
    from fastapi import FastAPI

    app = FastAPI()


    @app.post("/orders")
    async def create_order(order: dict) -> dict:
        \"\"\"Create an order.\"\"\"
        print("new order", order)
        return order
    ```

    Use instead:
    ```python
    import logging

    from fastapi import FastAPI

    app = FastAPI()
    logger = logging.getLogger(__name__)


    @app.post("/orders")
    async def create_order(order: dict) -> dict:
        \"\"\"Create an order.\"\"\"
        logger.info("new order %s", order.get("id"))
        return order
    ```

    ## Fix safety
    There is no fix: the logger, the level and what is safe to log are the author's choice.

    ## Options
    None.
    """

    code = "FAPI701"
    name = "print-in-route"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.INFO
    # A dependency's module need not name fastapi: routes of other modules use it.
    triggers = (b"print",)

    def screen(self, facts: Facts) -> bool:
        return "print" in facts.calls

    def check(self, model: FileModel) -> Iterator[Finding]:
        for site in model.calls_to(_PRINT):
            if _to_another_file(model, site):
                continue
            function = site.scope.executing_function()
            node = function.node if function is not None else None
            if not isinstance(node, cst.FunctionDef):
                continue
            where = _served_by(model, node)
            if where is not None:
                yield self.finding(site.call, f"`print()` in {where}: use a logger")


def _to_another_file(model: FileModel, site: CallSite) -> bool:
    """`print(..., file=buffer)`: writing, not logging (`sys.stdout`, `sys.stderr` are)."""
    for arg in site.call.args:
        if arg.star == "**":
            return True
        if arg.keyword is not None and arg.keyword.value == "file":
            return model.qualified_name(arg.value, site.scope) not in _CONSOLE
    return False


def _served_by(model: FileModel, function: cst.FunctionDef) -> str | None:
    """How to name the function when it serves requests: a route or a dependency."""
    info = model.function_info(function)
    if info is None:
        return None
    if info.routes or info.is_dependency:
        return model.describe_function(function)
    if is_dependency(model, function):  # used in another module
        return f"dependency `{function.name.value}`"
    return None

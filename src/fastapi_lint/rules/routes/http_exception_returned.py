from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint import names
from fastapi_lint.diagnostics import Severity
from fastapi_lint.fixes import Applicability, Fix
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts, last_names
from fastapi_lint.semantic import FileModel

# `calls_to` finds dependencies by these call names.
_DEPENDENCY_CALLS = last_names((names.DEPENDS, names.SECURITY))


class HttpExceptionReturned(Rule):
    """`HTTPException` is returned instead of raised in a route or dependency.

    ## What it does
    Checks for `return HTTPException(...)` in a route handler or a dependency, with
    `HTTPException` from `fastapi` or `starlette` (or a local subclass of it).

    ## Why is this bad?
    An exception that is returned is just a value: FastAPI serialises it as the response body
    and answers `200 OK` (or fails with a 500 when it cannot serialise it). The client never
    sees the intended error status, and a dependency that returns it lets the request go on as
    if the check had passed, which can turn a failed authorisation into a granted one.

    Functions that are neither routes nor dependencies are not flagged: a factory that builds
    an exception for its caller to raise is fine.

    ## Example
    ```python
    from fastapi import FastAPI, HTTPException

    app = FastAPI()
    ITEMS = {1: "apple"}


    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> str:
        \"\"\"Read one item.\"\"\"
        if item_id not in ITEMS:
            return HTTPException(status_code=404, detail="Item not found")
        return ITEMS[item_id]
    ```

    Use instead:
    ```python
    from fastapi import FastAPI, HTTPException

    app = FastAPI()
    ITEMS = {1: "apple"}


    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> str:
        \"\"\"Read one item.\"\"\"
        if item_id not in ITEMS:
            raise HTTPException(status_code=404, detail="Item not found")
        return ITEMS[item_id]
    ```

    ## Fix safety
    The fix replaces `return` with `raise` and is safe: returning an `HTTPException` from a
    route or dependency is never what the code means, and raising it is what FastAPI expects.

    ## Options
    None.
    """

    code = "FAPI105"
    name = "http-exception-returned"
    severity = Severity.ERROR
    fixable = True
    fix_safety = "safe"
    triggers = (b"HTTPException",)

    def screen(self, facts: Facts) -> bool:
        # `return HTTPException(...)` (or of a subclass of this file) in a route handler or a
        # dependency.
        if not facts.returned_calls & facts.subclasses("HTTPException"):
            return False
        return facts.any_route() or bool(facts.calls & _DEPENDENCY_CALLS)

    def check(self, model: FileModel) -> Iterator[Finding]:
        for statement, scope in model.returns:
            value = statement.value
            if not isinstance(value, cst.Call):
                continue
            if not model.is_instance_of(value, scope, names.HTTP_EXCEPTION):
                continue
            function = scope.executing_function()
            info = model.function_info(function.node) if function is not None else None  # type: ignore[arg-type]
            if info is None or not (info.routes or info.is_dependency):
                continue
            raise_statement = cst.Raise(
                exc=value,
                whitespace_after_raise=statement.whitespace_after_return,
                semicolon=statement.semicolon,
            )
            where = model.describe_function(info.node)
            fix = Fix(
                "Replace `return` with `raise`", Applicability.SAFE, {statement: raise_statement}
            )
            yield self.finding(
                statement, f"`HTTPException` is returned, not raised, in {where}", fix=fix
            )

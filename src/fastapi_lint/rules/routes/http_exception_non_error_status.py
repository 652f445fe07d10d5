from __future__ import annotations

import http
import re
from collections.abc import Iterator

from fastapi_lint import names
from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.names import canonical
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts, QualifiedNames
from fastapi_lint.semantic import CallSite, FileModel, Scope, is_none, string_value

_STATUS_MODULES = ("starlette.status.", "fastapi.status.")
_STATUS_CONSTANT = re.compile(r"HTTP_(\d{3})_\w+")
_HTTP_STATUS = "http.HTTPStatus."
_NOT_MODIFIED = 304  # raised from a dependency for a conditional GET: FastAPI sends no body


# Every spelling of `HTTPException` (see `names.canonical`).
_HTTP_EXCEPTION = QualifiedNames({names.HTTP_EXCEPTION, "starlette.exceptions.HTTPException"})


class HttpExceptionNonErrorStatus(Rule):
    """`HTTPException` with a status that is not an error: below 400.

    ## What it does
    Checks for `HTTPException(...)` (FastAPI's or Starlette's, however imported) built with a
    literal status code below 400: an integer (`200`), a constant of `fastapi.status` or
    `starlette.status` (`status.HTTP_201_CREATED`), or an `http.HTTPStatus` member
    (`HTTPStatus.FOUND`). Every construction counts, raised at once or kept in a variable
    to be raised later.

    ## Why is this bad?
    `HTTPException` is FastAPI's way to answer an *error*: it aborts the request, skips the
    response model, and wraps the message as `{"detail": ...}`. With a success status the
    client gets a body no model describes and that OpenAPI does not document, and error
    handlers, logging and monitoring treat a success as a failure. A redirect (`3xx`)
    raised without a `Location` header sends the client nowhere.

    A status below 400 is **not** reported when:

    - it is a `3xx` with a `Location` header (`headers={"Location": url}`): raising a
      redirect from a dependency is the only way to redirect from there;
    - it is a `3xx` whose `headers=` is not a literal dict (a variable, `**` spread), which
      may hold the `Location`;
    - it is `304 Not Modified` without a `detail`: raised from a dependency, it answers a
      conditional request (an `ETag` match) without a body, as FastAPI's exception handler
      supports. With a `detail` it is reported: the message is never sent, and the code
      usually means "nothing changed" where a `200` or an error is due;
    - the status is not a literal (`HTTPException(status_code=response.status_code)`), or
      the call passes `*args` or `**kwargs`;
    - the class is a subclass of `HTTPException` (its own `__init__` may take other
      arguments) or another class named `HTTPException`.

    ## Example
    ```python
    from fastapi import FastAPI, HTTPException

    app = FastAPI()


    @app.post("/jobs/{job_id}/cancel")
    async def cancel_job(job_id: int) -> None:
        \"\"\"Cancel a job.\"\"\"
        raise HTTPException(status_code=200, detail="cancelled")
    ```

    Use instead:
    ```python
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI()


    @app.post("/jobs/{job_id}/cancel")
    async def cancel_job(job_id: int) -> JSONResponse:
        \"\"\"Cancel a job.\"\"\"
        return JSONResponse({"status": "cancelled"}, status_code=200)
    ```

    To redirect, return a `RedirectResponse(url)` from the route, or raise the exception with
    `headers={"Location": url}` from a dependency.

    ## Fix safety
    There is no fix: whether to return a response, redirect, or raise a real error status
    is the author's choice.

    ## Options
    None.
    """

    code = "FAPI106"
    name = "http-exception-non-error-status"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.WARNING
    triggers = (b"HTTPException",)

    def screen(self, facts: Facts) -> bool:
        return _HTTP_EXCEPTION.named(facts)

    def check(self, model: FileModel) -> Iterator[Finding]:
        for site in _http_exceptions(model):
            call = site.call
            status = _argument(call, 0, "status_code")
            code = status_number(model, status, site.scope) if status is not None else None
            if code is None or code >= 400:
                continue
            if code == _NOT_MODIFIED and not _has_detail(call):
                continue
            if code != _NOT_MODIFIED and 300 <= code < 400 and _may_have_location(call):
                continue
            yield self.finding(status, _message(code))  # type: ignore[arg-type]


def _http_exceptions(model: FileModel) -> Iterator[CallSite]:
    """Calls of FastAPI's or Starlette's `HTTPException`, also imported under another name
    (`calls_to` only looks at calls named `HTTPException`), without `*args` or `**kwargs`."""
    spellings = {"HTTPException"} | {
        name
        for name, bindings in model.module_scope.bindings.items()
        if any(canonical(b.qualified_name or "") == names.HTTP_EXCEPTION for b in bindings)
    }
    for site in model.calls:
        func = site.call.func
        last = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
        if last not in spellings or any(arg.star for arg in site.call.args):
            continue
        if model.callee(site) == names.HTTP_EXCEPTION:
            yield site


def status_number(model: FileModel, expr: cst.BaseExpression, scope: Scope) -> int | None:
    """The status code a literal gives: `302`, `status.HTTP_302_FOUND`, `HTTPStatus.FOUND`."""
    if isinstance(expr, cst.Integer):
        value = expr.evaluated_value
        return value if isinstance(value, int) else None
    qualified = model.qualified_name(expr, scope) or ""
    if qualified.startswith(_STATUS_MODULES):
        match = _STATUS_CONSTANT.fullmatch(qualified.rpartition(".")[2])
        return int(match.group(1)) if match else None
    if qualified.startswith(_HTTP_STATUS):
        member = http.HTTPStatus.__members__.get(qualified[len(_HTTP_STATUS) :])
        return member.value if member is not None else None
    return None


def _argument(call: cst.Call, position: int, keyword: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [arg for arg in call.args if arg.keyword is None]
    return positional[position].value if len(positional) > position else None


def _has_detail(call: cst.Call) -> bool:
    detail = _argument(call, 1, "detail")
    return detail is not None and not is_none(detail)


def _may_have_location(call: cst.Call) -> bool:
    """`headers=` names a `Location`, or is something we cannot read."""
    headers = _argument(call, 2, "headers")
    if headers is None or is_none(headers):
        return False
    if not isinstance(headers, cst.Dict):
        return True
    for element in headers.elements:
        if not isinstance(element, cst.DictElement):
            return True  # `**other`
        key = string_value(element.key)
        if key is None or key.lower() == "location":
            return True
    return False


def _message(code: int) -> str:
    if code == _NOT_MODIFIED:
        return (
            "`HTTPException` with status 304, which is not an error: FastAPI sends it without "
            "a body, so its `detail` never reaches the client"
        )
    if code >= 300:
        return (
            f"`HTTPException` with redirect status {code} but no `Location` header: the "
            "client is sent nowhere; return a `RedirectResponse(url)` or pass "
            '`headers={"Location": url}`'
        )
    return (
        f"`HTTPException` with status {code}, which is not an error: return the response "
        "instead of raising it"
    )

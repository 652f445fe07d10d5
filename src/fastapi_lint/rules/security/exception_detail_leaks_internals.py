from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi_lint import names
from fastapi_lint.diagnostics import Severity
from fastapi_lint.handlers import is_response_class
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.security_facts import ancestors, argument, parents
from fastapi_lint.semantic import BindingKind, CallSite, FileModel, Scope, status_code

_DEPTH = 8
_CATCH_ALLS = frozenset({"builtins.Exception", "builtins.BaseException"})
_VALIDATOR = re.compile(r"_?(validate|check|verify|parse)(_|$)")
_APPS = frozenset({names.FASTAPI_APP, "starlette.applications.Starlette"})
_TRACEBACK_TEXT = frozenset(
    {
        "traceback.format_exc",
        "traceback.format_exception",
        "traceback.format_exception_only",
        "traceback.format_tb",
    }
)
_TO_TEXT = frozenset({"builtins.str", "builtins.repr", "builtins.format"})
# Exceptions whose message describes the server, not the request: the catch-alls, and the
# OS errors that quote paths and addresses. Those that code raises with messages meant for
# the caller are left out: ValueError (with UnicodeError and JSONDecodeError), TypeError,
# LookupError, AssertionError, RuntimeError, PermissionError (authorisation), TimeoutError.
_INTERNAL_BUILTINS = frozenset(
    {
        "Exception",
        "BaseException",
        "OSError",
        "IOError",
        "EnvironmentError",
        "FileNotFoundError",
        "FileExistsError",
        "IsADirectoryError",
        "NotADirectoryError",
        "ConnectionError",
        "ConnectionRefusedError",
        "ConnectionResetError",
        "ConnectionAbortedError",
        "BrokenPipeError",
    }
)
# Libraries whose exceptions quote queries, connection strings, internal URLs or commands.
_INTERNAL_LIBRARIES = frozenset(
    {
        "sqlalchemy",
        "sqlmodel",
        "psycopg2",
        "psycopg",
        "asyncpg",
        "pymysql",
        "MySQLdb",
        "aiomysql",
        "aiosqlite",
        "sqlite3",
        "pymongo",
        "motor",
        "redis",
        "httpx",
        "requests",
        "aiohttp",
        "urllib3",
        "botocore",
        "boto3",
        "subprocess",
        "socket",
        "ssl",
    }
)


@dataclass(frozen=True)
class _Leak:
    node: cst.CSTNode  # the expression that turns the exception into text
    exception: str | None  # the name the exception is bound to; None for a traceback


class ExceptionDetailLeaksInternals(Rule):
    """Error response built from a caught exception: its message reaches the client.

    ## What it does
    Checks the `detail` of an `HTTPException` (FastAPI's or Starlette's, or a local
    subclass) and the content of a response (`JSONResponse(content=...)`, `PlainTextResponse`
    and the other Starlette and FastAPI response classes) for text made from a caught
    exception: `str(e)`, `repr(e)`, `format(e)`, `f"...{e}..."`, `"...".format(e)`,
    `"..." % e`, `e.args`, directly, inside a dict or list, or through a name bound once to
    such a value; and for `traceback.format_exc()` and its siblings.

    `e` must be bound by `except ... as e` around that text, or be the exception parameter
    of a handler registered with `@app.exception_handler(...)` or `app.add_exception_handler`
    for such a class. It counts only when the exception is internal: the catch-alls
    `Exception` and `BaseException`, the OS errors that quote paths and addresses
    (`OSError`, `FileNotFoundError`, `ConnectionError`, ...), or an exception of a database,
    HTTP client, AWS, socket or `subprocess` library (`sqlalchemy`, `psycopg`, `asyncpg`,
    `pymongo`, `redis`, `httpx`, `requests`, `aiohttp`, `botocore`, ...); one such class in
    an `except (A, B)` tuple is enough. A traceback counts in any `except` block or
    exception handler. What only decides a conditional expression is not sent
    (`detail=str(e) if e.args else "failed"` reports `str(e)`, not `e.args`).

    ## Why is this bad?
    An exception's message is written for the developer: a database error quotes the query
    and sometimes the connection string, an HTTP client error the internal URL (API keys in
    its query string included), an `OSError` the server's paths, a `TypeError` the code's
    names. Returned to the client, it maps the system for an attacker (CWE-209, OWASP API8)
    and turns every unexpected error into a disclosure. Log the exception, and answer with a
    message written for the client.

    Not reported, because their message is usually meant for the caller:

    - the built-in exceptions that code raises with a message for the caller:
      `ValueError` (and `UnicodeError`, `json.JSONDecodeError`), `TypeError`, `KeyError`
      and `LookupError`, `AssertionError`, `RuntimeError`, `PermissionError` (raised to
      refuse access), `TimeoutError`;
    - `except HTTPException as e` (re-raising its own detail), `RequestValidationError` and
      pydantic's `ValidationError` (`detail=e.errors()` is deliberate);
    - exceptions the project defines (its own classes, written to be shown), and classes
      that cannot be resolved;
    - `except Exception` around a single statement that validates with the project's own
      code: builds a class of the project (`try: form = ChatForm(**data)`) or calls a
      project function named `validate...`, `check...`, `verify...` or `parse...`
      (`try: validate_password(form.password)`): the messages are that validation's,
      written for the caller;
    - other attributes of the exception (`e.detail`, `e.status_code`), and an exception
      passed to a function (`format_error(e)`): what they return is unknown;
    - values returned as plain dicts from a route.

    ## Example
    ```python
    import httpx
    from fastapi import FastAPI, HTTPException

    app = FastAPI()


    @app.get("/rates")
    async def rates() -> dict:
        \"\"\"Current exchange rates.\"\"\"
        try:
            async with httpx.AsyncClient() as client:
                response = await client.get("http://rates.internal/latest")
            return response.json()
        except Exception as e:
            raise HTTPException(status_code=502, detail=str(e)) from e
    ```

    Use instead:
    ```python
    import logging

    import httpx
    from fastapi import FastAPI, HTTPException

    app = FastAPI()
    logger = logging.getLogger(__name__)


    @app.get("/rates")
    async def rates() -> dict:
        \"\"\"Current exchange rates.\"\"\"
        try:
            async with httpx.AsyncClient() as client:
                response = await client.get("http://rates.internal/latest")
            return response.json()
        except Exception as e:
            logger.exception("rates service failed")
            raise HTTPException(status_code=502, detail="Rates are unavailable") from e
    ```

    ## Fix safety
    There is no fix: the message for the client has to be written.

    ## Options
    None.
    """

    code = "FAPI308"
    name = "exception-detail-leaks-internals"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.WARNING
    triggers = (b"HTTPException", b"Response")

    def check(self, model: FileModel) -> Iterator[Finding]:
        handlers = None  # the exception handlers' parameters, computed on first need
        for site in model.calls:
            payload, status = _error_payload(model, site)
            if payload is None:
                continue
            for leak in _leaks(model, payload, site.scope):
                if handlers is None:
                    handlers = _exception_handler_parameters(model)
                if _leaks_internals(model, leak, handlers):
                    yield self.finding(leak.node, _message(model, leak), _severity(status))
                    break


def _error_payload(
    model: FileModel, site: CallSite
) -> tuple[cst.BaseExpression | None, cst.BaseExpression | None]:
    """What the client reads of an `HTTPException` or a response, and its status."""
    call, scope = site.call, site.scope
    if model.is_instance_of(call, scope, names.HTTP_EXCEPTION):
        return argument(call, 1, "detail"), argument(call, 0, "status_code")
    if is_response_class(model, call.func, scope):
        return argument(call, 0, "content"), argument(call, 1, "status_code")
    return None, None


def _severity(status: cst.BaseExpression | None) -> Severity:
    number = status_code(status) if status is not None else None
    return Severity.ERROR if number is not None and number >= 500 else Severity.WARNING


def _message(model: FileModel, leak: _Leak) -> str:
    code = " ".join(model.module.code_for_node(leak.node).split())
    if leak.exception is None:
        return f"`{code}` sends the traceback to the client"
    return f"`{code}` sends the message of an internal exception to the client"


# -- text made from an exception --------------------------------------------------------


def _leaks(
    model: FileModel, payload: cst.BaseExpression, scope: Scope, depth: int = 0
) -> Iterator[_Leak]:
    """Expressions in the payload (or in the values of names bound once that it uses) that
    turn an exception into text."""
    if depth > _DEPTH:
        return
    for node in _sent(payload):
        leak = _as_leak(model, node, scope)
        if leak is not None:
            yield leak
        elif isinstance(node, cst.Name):
            value = _single_value(model, node, scope)
            if value is not None:
                yield from _leaks(model, value, scope, depth + 1)


def _sent(payload: cst.BaseExpression) -> Iterator[cst.CSTNode]:
    """The payload and its parts that can end up in it: not the tests of conditional
    expressions, nor comparisons (`detail=str(e) if e.args else "failed"` sends no args)."""
    stack: list[cst.CSTNode] = [payload]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, cst.Comparison | cst.FunctionDef | cst.Lambda | cst.ClassDef):
            continue
        if isinstance(node, cst.IfExp):
            stack.extend((node.body, node.orelse))
        elif isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            continue
        else:
            stack.extend(node.children)


def _single_value(model: FileModel, name: cst.Name, scope: Scope) -> cst.BaseExpression | None:
    bindings = model.lookup(name.value, scope) or []
    if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN:
        return bindings[0].value
    return None


def _as_leak(model: FileModel, node: cst.CSTNode, scope: Scope) -> _Leak | None:
    if isinstance(node, cst.Call):
        callee = model.qualified_name(node.func, scope)
        if callee in _TRACEBACK_TEXT:
            return _Leak(node, None)
        first = node.args[0].value if node.args else None
        if callee in _TO_TEXT and isinstance(first, cst.Name):
            return _Leak(node, first.value)
        if _is_string_format(node):
            for arg in node.args:
                if isinstance(arg.value, cst.Name):
                    return _Leak(node, arg.value.value)
    if isinstance(node, cst.FormattedStringExpression) and isinstance(node.expression, cst.Name):
        return _Leak(node, node.expression.value)
    if (
        isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.attr.value == "args"
    ):
        return _Leak(node, node.value.value)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
        return _percent_leak(node)
    return None


def _is_string_format(call: cst.Call) -> bool:
    func = call.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value == "format"
        and isinstance(func.value, cst.SimpleString | cst.ConcatenatedString)
    )


def _percent_leak(node: cst.BinaryOperation) -> _Leak | None:
    if not isinstance(node.left, cst.SimpleString | cst.ConcatenatedString):
        return None
    right = node.right
    values = [e.value for e in right.elements] if isinstance(right, cst.Tuple) else [right]
    for value in values:
        if isinstance(value, cst.Name):
            return _Leak(node, value.value)
    return None


# -- where the exception comes from -------------------------------------------------------


def _leaks_internals(
    model: FileModel, leak: _Leak, handlers: dict[cst.FunctionDef, tuple[str, bool]]
) -> bool:
    """The exception the leak names is internal (a traceback always is), as caught by the
    `except` around it or as handled by the exception handler it is in."""
    for node in ancestors(model.module, leak.node):
        if isinstance(node, cst.ExceptHandler | cst.ExceptStarHandler):
            if leak.exception is None:
                return True
            if _binds(node, leak.exception):
                return _catches_internal(model, node, leak.node)
        elif isinstance(node, cst.FunctionDef):
            parameter, internal = handlers.get(node, (None, False))
            return parameter is not None and (
                leak.exception is None or (leak.exception == parameter and internal)
            )
        elif isinstance(node, cst.Lambda | cst.ClassDef):
            return False
    return False


def _binds(handler: cst.ExceptHandler | cst.ExceptStarHandler, name: str) -> bool:
    bound = handler.name.name if handler.name is not None else None
    return isinstance(bound, cst.Name) and bound.value == name


def _catches_internal(
    model: FileModel, handler: cst.ExceptHandler | cst.ExceptStarHandler, at: cst.CSTNode
) -> bool:
    if handler.type is None:
        return False
    scope = _scope_of(model, at)
    caught = handler.type
    classes = [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [caught]
    names_ = [model.qualified_name(c, scope) for c in classes]
    if not any(_is_internal(model, name) for name in names_):
        return False
    catch_all = all(name in _CATCH_ALLS for name in names_)
    return not (catch_all and _guards_one_project_call(model, handler, scope))


def _guards_one_project_call(
    model: FileModel, handler: cst.ExceptHandler | cst.ExceptStarHandler, scope: Scope
) -> bool:
    """The `try` holds one statement that validates with the project's own code: builds a
    class of the project (`form = ChatForm(**data)`) or calls a project function named
    `validate...`, `check...`, `verify...` or `parse...` (`validate_password(password)`).
    What it raises is that validation's message, meant for the caller."""
    statement = parents(model.module).get(handler)
    if not isinstance(statement, cst.Try | cst.TryStar):
        return False
    body = statement.body.body
    if len(body) != 1 or not isinstance(body[0], cst.SimpleStatementLine):
        return False
    if len(body[0].body) != 1:
        return False
    value = getattr(body[0].body[0], "value", None)
    if isinstance(value, cst.Await):
        value = value.expression
    if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Name):
        return False
    return _is_project_class(model, value.func, scope) or (
        _VALIDATOR.match(value.func.value) is not None
        and _is_project_code(model, value.func, scope)
    )


def _is_project_class(model: FileModel, func: cst.Name, scope: Scope) -> bool:
    if model.local_class(func, scope) is not None:
        return True
    return func.value[:1].isupper() and _is_project_code(model, func, scope)


def _is_project_code(model: FileModel, func: cst.Name, scope: Scope) -> bool:
    """Defined in this file or imported from a project module."""
    if model.resolve_function(func, scope) is not None or model.local_class(func, scope):
        return True
    bindings = model.lookup(func.value, scope) or []
    if len(bindings) != 1 or bindings[0].kind is not BindingKind.IMPORT:
        return False
    module = bindings[0].qualified_name or ""
    return module.startswith(".") or module.split(".", 1)[0] in model.project.names


def _scope_of(model: FileModel, node: cst.CSTNode) -> Scope:
    """The scope a node runs in: its innermost function's, else the module's."""
    for parent in ancestors(model.module, node):
        if isinstance(parent, cst.FunctionDef):
            info = model.function_info(parent)
            if info is not None:
                return info.scope
    return model.module_scope


def _is_internal(model: FileModel, qualified_name: str | None) -> bool:
    if qualified_name is None:
        return False
    module, _, name = qualified_name.rpartition(".")
    if module == "builtins":
        return name in _INTERNAL_BUILTINS
    top = qualified_name.split(".", 1)[0]
    return top in _INTERNAL_LIBRARIES and top not in model.project.names


# -- exception handlers ---------------------------------------------------------------------


def _exception_handler_parameters(model: FileModel) -> dict[cst.FunctionDef, tuple[str, bool]]:
    """Functions registered as exception handlers on an app: the name of their exception
    parameter, and whether the exception they handle is internal."""
    found: dict[cst.FunctionDef, tuple[str, bool]] = {}
    for info in model.functions.values():
        outer = info.scope.parent
        for decorator in info.node.decorators:
            handled = _registered_class(model, decorator.decorator, "exception_handler", outer)
            if handled is not None:
                _record(model, found, info.node, handled, outer)
    for site in model.calls:
        handled = _registered_class(model, site.call, "add_exception_handler", site.scope)
        handler = argument(site.call, 1, "handler")
        function = model.resolve_function(handler, site.scope) if handler is not None else None
        if handled is not None and function is not None:
            _record(model, found, function, handled, site.scope)
    return found


def _registered_class(
    model: FileModel, call: cst.BaseExpression, method: str, scope: Scope | None
) -> cst.BaseExpression | None:
    """`T` of `app.<method>(T, ...)` when the receiver is an app."""
    if scope is None or not isinstance(call, cst.Call):
        return None
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == method):
        return None
    if not _is_app(model, func.value, scope):
        return None
    return argument(call, 0, "exc_class_or_status_code")


def _is_app(model: FileModel, receiver: cst.BaseExpression, scope: Scope) -> bool:
    """An app built or annotated in this file, or imported from the project."""
    if model.object_kind(receiver, scope) in _APPS:
        return True
    if isinstance(receiver, cst.Name):
        bindings = model.lookup(receiver.value, scope) or []
        return (
            len(bindings) == 1
            and bindings[0].kind is BindingKind.IMPORT
            and (bindings[0].qualified_name or "").split(".", 1)[0] in (*model.project.names, "")
        )
    return False


def _record(
    model: FileModel,
    found: dict[cst.FunctionDef, tuple[str, bool]],
    function: cst.FunctionDef,
    handled: cst.BaseExpression,
    scope: Scope,
) -> None:
    params = [*function.params.posonly_params, *function.params.params]
    if len(params) >= 2:
        internal = _is_internal(model, model.qualified_name(handled, scope))
        found[function] = (params[1].name.value, internal)

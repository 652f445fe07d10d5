from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.fixes import Applicability, Fix
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.rule import Finding, Option, Rule, string_list
from fastapi_lint.semantic import FileModel, Route

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")


class MissingStatusCode(Rule):
    """POST or DELETE route without an explicit `status_code=`.

    ## What it does
    Checks for routes answering one of the configured methods (by default `POST` and `DELETE`)
    whose decorator or `add_api_route(...)` call does not pass `status_code=`.

    ## Why is this bad?
    FastAPI answers `200 OK` unless told otherwise. A `POST` that creates a resource should
    answer `201 Created` and a `DELETE` that returns nothing `204 No Content`; clients,
    generated SDKs and the OpenAPI document all rely on the declared code. Writing it out
    (`status_code=201` or `status_code=status.HTTP_201_CREATED`) makes the contract explicit.

    Routes registered with `api_route(..., methods=[...])` or `add_api_route` count when all
    of their methods are configured (one status code serves every method, and `GET` must not
    answer `201`); routes whose methods are not literal are not flagged.

    ## Example
    ```python
    from fastapi import FastAPI

    app = FastAPI()


    @app.post("/items")
    async def create_item(name: str) -> dict[str, str]:
        return {"name": name}
    ```

    Use instead:
    ```python
    from fastapi import FastAPI, status

    app = FastAPI()


    @app.post("/items", status_code=status.HTTP_201_CREATED)
    async def create_item(name: str) -> dict[str, str]:
        return {"name": name}
    ```

    ## Fix safety
    A `POST` route gets `status_code=201`, and a `DELETE` route whose handler returns nothing
    (no `return value`, no `yield`, no return annotation but `None`) gets
    `status_code=204`. The fix is **unsafe**: it changes the API contract, and clients or
    tests that expect `200` break. Other routes get no fix: only the author knows which code
    they should answer.

    ## Options
    - `methods` (list of HTTP methods, default `["POST", "DELETE"]`): the methods whose routes
      must set `status_code=`. For example, in `pyproject.toml`:

      ```toml
      [tool.fastapi-lint.rules.FAPI102]
      methods = ["POST"]
      ```
    """

    code = "FAPI102"
    name = "missing-status-code"
    severity = Severity.WARNING
    fixable = True
    options = (
        Option(
            "methods",
            ("POST", "DELETE"),
            "HTTP methods whose routes must set `status_code=`",
            lambda value: string_list(value, choices=HTTP_METHODS, upper=True),
        ),
    )

    def check(self, model: FileModel) -> Iterator[Finding]:
        checked = frozenset(self.settings["methods"])
        for route in model.routes:
            # One status code serves every method of the route: `methods=["GET", "POST"]`
            # cannot answer 201, so only routes whose methods are all checked are flagged.
            if not route.methods or not route.methods <= checked:
                continue
            if "status_code" in route.keywords or route.has_unknown_keywords:
                continue
            yield self.finding(
                route.report_node,
                f"Route `{route.describe()}` does not set `status_code=`",
                fix=_status_code_fix(model, route),
            )


def _status_code_fix(model: FileModel, route: Route) -> Fix | None:
    """`status_code=201` for a POST, `status_code=204` for a DELETE that returns nothing."""
    if route.methods == {"POST"}:
        code = "201"
    elif route.methods == {"DELETE"} and _returns_nothing(model, route.handler):
        code = "204"
    else:
        return None
    call = route.call
    no_space = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
    status_code = cst.Arg(cst.Integer(code), keyword=cst.Name("status_code"), equal=no_space)
    if call.args:
        status_code, arguments = _append(call, status_code)
    else:
        arguments = [status_code]
    return Fix(
        f"Add `status_code={code}`",
        Applicability.UNSAFE,
        {call: call.with_changes(args=arguments)},
    )


def _append(call: cst.Call, new: cst.Arg) -> tuple[cst.Arg, list[cst.Arg]]:
    """The arguments of the call with `new` after the last one, laid out as the others are:
    on a line of its own when they are one per line, a trailing comma kept, comments left on
    their lines."""
    *head, last = call.args
    separator = _separator(head[-1].comma if head else call.whitespace_before_args)
    trailing_comma = isinstance(last.comma, cst.Comma)
    # What separates the last argument from `)`, its line's comment included.
    closing = last.comma.whitespace_after if trailing_comma else last.whitespace_after_arg  # type: ignore[union-attr]
    if isinstance(separator, cst.ParenthesizedWhitespace) and isinstance(
        closing, cst.ParenthesizedWhitespace
    ):
        # One argument per line: the last one keeps its comment, the new one goes on the
        # next line, and `)` stays on its own line.
        after_last = closing.with_changes(indent=separator.indent, last_line=separator.last_line)
        after_new = closing.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    else:
        after_last, after_new = separator, closing
    if trailing_comma:
        last = last.with_changes(comma=last.comma.with_changes(whitespace_after=after_last))  # type: ignore[union-attr]
        new = new.with_changes(comma=cst.Comma(whitespace_after=after_new))
    else:
        last = last.with_changes(
            comma=cst.Comma(whitespace_after=after_last),
            whitespace_after_arg=cst.SimpleWhitespace(""),
        )
        new = new.with_changes(whitespace_after_arg=after_new)
    return new, [*head, last, new]


def _separator(before: object) -> cst.BaseParenthesizableWhitespace:
    """The whitespace between two arguments, modelled on `before` (the previous comma, or the
    whitespace after `(`): the same new line and indentation, without its comment; else a space."""
    whitespace = before.whitespace_after if isinstance(before, cst.Comma) else before
    if isinstance(whitespace, cst.ParenthesizedWhitespace):
        return whitespace.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    return cst.SimpleWhitespace(" ")


def _returns_nothing(model: FileModel, handler: cst.FunctionDef | None) -> bool:
    """No `return value`, no `yield`, and no return annotation other than `None`."""
    if handler is None:
        return False
    returns = handler.returns
    if returns is not None and not (
        isinstance(returns.annotation, cst.Name) and returns.annotation.value == "None"
    ):
        return False
    for statement, scope in model.returns:
        function = scope.executing_function()
        if function is not None and function.node is handler and statement.value is not None:
            return False
    return handler not in model.generators

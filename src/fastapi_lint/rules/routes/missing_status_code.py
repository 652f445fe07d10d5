from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fastapi_lint.diagnostics import Severity
from fastapi_lint.fixes import Applicability, Fix
from fastapi_lint.handlers import (
    gives_response,
    handler_returns,
    has_none_annotation,
    parameter_classes,
    returned_values,
)
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.rule import Finding, Option, Rule, string_list
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import FileModel, Route

if TYPE_CHECKING:
    from fastapi_lint.handlers import Returns

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")
CREATE_WORDS = ("create", "add", "register", "new", "insert", "upload", "signup")
# Keywords that decide the status or the response themselves.
_DECIDES_STATUS = frozenset({"status_code", "response_class"})
# A handler taking one of these may set its own status (`response.status_code = 201`).
_RESPONSE_PARAMETERS = frozenset({"fastapi.Response", "starlette.responses.Response"})
# Work left running after the answer: `202 Accepted` may be meant, not `204`.
_BACKGROUND_TASKS = frozenset({"fastapi.BackgroundTasks", "starlette.background.BackgroundTasks"})
# The OAuth2 token endpoint answers 200 (RFC 6749, 5.1), whatever its handler is called.
_TOKEN_FORMS = frozenset(
    {
        "fastapi.security.OAuth2PasswordRequestForm",
        "fastapi.security.OAuth2PasswordRequestFormStrict",
        "fastapi.security.oauth2.OAuth2PasswordRequestForm",
        "fastapi.security.oauth2.OAuth2PasswordRequestFormStrict",
    }
)
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class MissingStatusCode(Rule):
    """Route's success status does not match what it does: 201 for a create, 204 for no body.

    This rule is off by default. Reviewers kept only 28% of its findings (9 of 32) in a
    reviewed sample of real code, far below the 90% a default-on rule must keep: most of
    the findings they dropped were create-named endpoints that compute something or perform
    an action rather than create a resource, and routes of projects whose convention is to
    answer `200`. To use it as a checklist, enable it with `extend-select = ["FAPI102"]` in
    `[tool.fastapi-lint]` (or `--extend-select FAPI102`).

    ## What it does
    Checks for routes that answer FastAPI's default `200 OK` where the route's own code says
    another success status is meant, and that do not pass `status_code=`:

    - a `POST` route whose handler creates something (a word of its name, split on `_`
      and on camelCase humps, is one of `create-words`: `create_item`, `addUser`,
      `register`, `upload_file`, ...) should answer `201 Created`, whether or not it
      returns a body;
    - a route of any method whose handler never returns a value (no `return`, a bare
      `return` or `return None`; no `yield`; no return annotation but `None`) should answer
      `204 No Content`: FastAPI otherwise sends `200` with the body `null`.

    A `POST` that creates and returns nothing is a create: it should answer `201`.

    Nothing else is reported: searches (`search_jobs`), logins, OAuth2 token endpoints,
    webhooks, callbacks, actions and proxies often answer `200` on purpose. In particular
    a route is **not** reported when:

    - it passes `status_code=` (any value), `response_class=` (the class decides the
      response, e.g. `RedirectResponse` answers `307`), or `**options`;
    - its handler takes a `Response` parameter (it may set `response.status_code` itself),
      or returns a `Response` object from every `return` that gives a value (that object's
      status is sent, e.g. `Response(status_code=204)`);
    - the create is an OAuth2 token endpoint: its handler takes an
      `OAuth2PasswordRequestForm` (the token response is `200` by RFC 6749);
    - the handler is a placeholder (only `pass`, `...` or a docstring): the route is not
      written yet;
    - the handler that returns nothing is a generator (streaming), ends by raising, declares
      `response_model=` (even `None`), answers `HEAD` (which mirrors `GET`), or takes
      `BackgroundTasks` (`202 Accepted` may be meant);
    - the route's methods are not literal; and a create must answer `POST` only
      (`api_route(..., methods=["GET", "POST"])` answers both with one status);
    - the handler is not defined in the same file.

    Each route is checked on its own: stacked decorators each need their `status_code=`.

    ## Why is this bad?
    A `POST` that creates a resource should answer `201 Created`, and a route that returns
    nothing `204 No Content`; clients, generated SDKs and the OpenAPI document all rely on
    the declared code. FastAPI answers `200 OK` unless told otherwise, so a create looks
    like any other call and an empty answer carries a `null` body that clients must parse.

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
    Every finding has a fix: `status_code=201` for a create, `status_code=204` for a route
    that returns nothing, added after the route's last argument. The fix is **unsafe**: it
    changes the API contract, and clients or tests that expect `200` break.

    ## Options
    - `create-words` (list of strings, default
      `["create", "add", "register", "new", "insert", "upload", "signup"]`): the words of a
      `POST` handler's name that mean it creates something (compared in lower case). For
      example, in `pyproject.toml`:

      ```toml
      [tool.fastapi-lint.rules.FAPI102]
      create-words = ["create", "add", "enroll"]
      ```
    - `methods` (list of HTTP methods, deprecated): still accepted for one release, with a
      warning; only routes whose methods are all listed are reported. The rule now decides
      from what each route does, so the list is no longer needed: use `per-file-ignores` or
      `# noqa: FAPI102` for the routes that answer `200` on purpose.
    """

    code = "FAPI102"
    name = "missing-status-code"
    severity = Severity.WARNING
    default_enabled = False
    fixable = True
    fix_safety = "unsafe"
    options = (
        Option(
            "create-words",
            CREATE_WORDS,
            "words of a POST handler's name that mean it creates something",
            lambda value: tuple(word.lower() for word in string_list(value)),
        ),
        Option(
            "methods",
            None,
            "deprecated: only routes whose methods are all listed are reported",
            lambda value: string_list(value, choices=HTTP_METHODS, upper=True),
            deprecated="FAPI102 now decides from what each route does (a create answers 201, "
            "a route that returns nothing 204); use `per-file-ignores` or `# noqa: FAPI102` "
            "for routes that answer 200 on purpose",
        ),
    )

    def screen(self, facts: Facts) -> bool:
        return facts.any_route()

    def check(self, model: FileModel) -> Iterator[Finding]:
        returns = handler_returns(model)
        methods = self.settings["methods"]
        for route in model.routes:
            if not route.methods or (methods is not None and not route.methods <= set(methods)):
                continue
            if route.handler is None or route.has_unknown_keywords:
                continue
            if route.keywords.keys() & _DECIDES_STATUS:
                continue
            expected = self._expected_status(model, route, route.handler, returns)
            if expected is None:
                continue
            yield self.finding(
                route.report_node,
                _message(route, route.handler, expected),
                fix=_status_code_fix(route, expected),
            )

    def _expected_status(
        self, model: FileModel, route: Route, handler: cst.FunctionDef, returns: Returns
    ) -> int | None:
        """201 or 204 when the route provably means it, else None."""
        parameters = set(parameter_classes(model, handler))
        if parameters & _RESPONSE_PARAMETERS or _is_placeholder(handler):
            return None
        values = returned_values(returns.get(handler, []))
        if route.methods == {"POST"} and self._creates(handler, parameters):
            sent_as_is = bool(values) and all(
                gives_response(model, value, scope) for value, scope in values
            )
            return None if sent_as_is else 201
        if not values and _answers_null(model, route, handler):
            return None if parameters & _BACKGROUND_TASKS else 204
        return None

    def _creates(self, handler: cst.FunctionDef, parameters: set[str]) -> bool:
        words = set(_CAMEL_HUMP.sub("_", handler.name.value).lower().split("_"))
        return bool(words & set(self.settings["create-words"])) and not parameters & _TOKEN_FORMS


def _answers_null(model: FileModel, route: Route, handler: cst.FunctionDef) -> bool:
    """A handler that returns no value runs to its end and FastAPI sends `null`, unless it
    streams, only raises, promises a model, or answers a HEAD."""
    if "HEAD" in (route.methods or ()) or "response_model" in route.keywords:
        return False
    if handler in model.generators or not has_none_annotation(handler):
        return False
    return not _ends_by_raising(handler)


def _statements(handler: cst.FunctionDef) -> list[cst.BaseStatement | cst.BaseSuite]:
    body = handler.body
    return list(body.body) if isinstance(body, cst.IndentedBlock) else [body]


def _ends_by_raising(handler: cst.FunctionDef) -> bool:
    last = _statements(handler)[-1]
    simple = isinstance(last, cst.SimpleStatementLine | cst.SimpleStatementSuite)
    return simple and isinstance(last.body[-1], cst.Raise)  # type: ignore[union-attr]


def _is_placeholder(handler: cst.FunctionDef) -> bool:
    """Only `pass`, `...` and a docstring: the route is not written yet."""
    return all(
        isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite)
        and all(_is_filler(item) for item in statement.body)
        for statement in _statements(handler)
    )


def _is_filler(statement: cst.BaseSmallStatement) -> bool:
    if isinstance(statement, cst.Pass):
        return True
    return isinstance(statement, cst.Expr) and isinstance(
        statement.value, cst.Ellipsis | cst.SimpleString | cst.ConcatenatedString
    )


def _message(route: Route, handler: cst.FunctionDef, expected: int) -> str:
    label = f"Route `{route.describe()}` (`{handler.name.value}`)"
    if expected == 201:
        return f"{label} creates a resource but answers 200: set `status_code=201`"
    return f"{label} returns nothing but answers 200 with a `null` body: set `status_code=204`"


def _status_code_fix(route: Route, expected: int) -> Fix:
    call = route.call
    no_space = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
    argument = cst.Arg(cst.Integer(str(expected)), keyword=cst.Name("status_code"), equal=no_space)
    arguments = _append(call, argument) if call.args else [argument]
    return Fix(
        f"Add `status_code={expected}`",
        Applicability.UNSAFE,
        {call: call.with_changes(args=arguments)},
    )


def _append(call: cst.Call, new: cst.Arg) -> list[cst.Arg]:
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
    return [*head, last, new]


def _separator(before: object) -> cst.BaseParenthesizableWhitespace:
    """The whitespace between two arguments, modelled on `before` (the previous comma, or the
    whitespace after `(`): the same new line and indentation, without its comment; else a space."""
    whitespace = before.whitespace_after if isinstance(before, cst.Comma) else before
    if isinstance(whitespace, cst.ParenthesizedWhitespace):
        return whitespace.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    return cst.SimpleWhitespace(" ")

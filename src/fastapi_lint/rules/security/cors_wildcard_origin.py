from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from fastapi_lint import names
from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.rule import Finding, Option, Rule, boolean
from fastapi_lint.screen import Facts, QualifiedNames
from fastapi_lint.semantic import BindingKind, CallSite, FileModel, Scope, is_true, string_value

# An origin no legitimate allow-list accepts: a regex matching it lets any site in.
_ATTACKER_ORIGIN = "https://attacker.invalid"
_DEPTH = 8  # names bound to names bound to ...


_CORS_MIDDLEWARE = QualifiedNames({names.CORS_MIDDLEWARE, "fastapi.middleware.cors.CORSMiddleware"})


class CorsWildcardOrigin(Rule):
    """CORS middleware allows every origin.

    ## What it does
    Checks for `CORSMiddleware` configured with `"*"` in `allow_origins` or with an
    `allow_origin_regex` that matches any origin, such as `".*"` or `"https?://.*"`. The
    value counts when it is written in the code: a literal, a name bound once to one (at
    module level or in the function), or either branch of a conditional expression
    (`["*"] if DEBUG else ORIGINS`: the wildcard ships whenever the condition holds). All
    three ways of adding the middleware are checked:
    `app.add_middleware(CORSMiddleware, ...)`, `Middleware(CORSMiddleware, ...)` and
    `CORSMiddleware(app, ...)`, with the class imported from `fastapi.middleware.cors` or
    `starlette.middleware.cors`.

    ## Why is this bad?
    A wildcard lets any web page call the API from a visitor's browser and read the answers.
    With `allow_credentials=True` it is an error, and a dangerous one: browsers refuse
    `Access-Control-Allow-Origin: *` on credentialed requests, so Starlette answers with the
    caller's own `Origin` instead. Every site on the internet can then make requests carrying
    the user's cookies or `Authorization` header and read the responses.

    Origins read from settings or the environment are not flagged, even when a wildcard is
    their default: `settings.cors_origins`, `os.environ["ORIGINS"]`,
    `os.getenv("ORIGINS", "*").split(",")` cannot be proven to be a wildcard. Neither are
    names bound more than once, `**options`, nor a class that merely shares the name
    `CORSMiddleware`.

    ## Example
    ```python
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
    ```

    Use instead:
    ```python
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    app = FastAPI()
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["https://app.example.com"],
        allow_credentials=True,
    )
    ```

    ## Fix safety
    There is no fix: the allowed origins are business data.

    By default only the credentialed wildcard is reported: a wildcard without
    `allow_credentials=True` is how a public API (keys in headers, no cookies) is meant to be
    served, and on real projects reviewers kept none of those findings.

    ## Options
    - `without-credentials` (boolean, default `false`): also report a wildcard without
      `allow_credentials=True` (a warning), for services whose browser clients should be
      listed one by one:

      ```toml
      [tool.fastapi-lint.rules.FAPI301]
      without-credentials = true
      ```
    """

    code = "FAPI301"
    name = "cors-wildcard-origin"
    severity = Severity.WARNING
    triggers = (b"CORSMiddleware",)

    options = (
        Option(
            "without-credentials",
            False,
            "also report a wildcard origin without `allow_credentials=True`",
            boolean,
        ),
    )

    def screen(self, facts: Facts) -> bool:
        # By default only a call given `allow_credentials=` can be reported.
        credentials = self.settings["without-credentials"] or "allow_credentials" in facts.keywords
        return credentials and _CORS_MIDDLEWARE.named(facts)

    def check(self, model: FileModel) -> Iterator[Finding]:
        for site in model.calls:
            keywords = _cors_keywords(model, site)
            if keywords is None:
                continue
            culprit = _wildcard_argument(model, keywords, site.scope)
            if culprit is None:
                continue
            credentials = keywords.get("allow_credentials")
            if credentials is not None and is_true(credentials.value):
                yield self.finding(
                    culprit,
                    "CORS allows any origin with `allow_credentials=True`: browsers refuse "
                    "`*` with credentials, so Starlette echoes the caller's Origin and any "
                    "site can make credentialed requests",
                    Severity.ERROR,
                )
            elif self.settings["without-credentials"]:
                yield self.finding(culprit, "CORS allows any origin")


def _cors_keywords(model: FileModel, site: CallSite) -> dict[str, cst.Arg] | None:
    """Keyword arguments of a call that configures CORSMiddleware, else None."""
    call, scope = site.call, site.scope
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "add_middleware":
        configured = _class_argument(call, "middleware_class")
    elif model.callee(site) == names.MIDDLEWARE:
        configured = _class_argument(call, "cls")
    else:
        configured = func
    if configured is None or model.qualified_name(configured, scope) != names.CORS_MIDDLEWARE:
        return None
    return {arg.keyword.value: arg for arg in call.args if arg.keyword is not None}


def _class_argument(call: cst.Call, keyword: str) -> cst.BaseExpression | None:
    """The middleware class: the first positional argument, or passed as `keyword=`."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    first = call.args[0] if call.args else None
    return first.value if first is not None and first.keyword is None and not first.star else None


def _wildcard_argument(
    model: FileModel, keywords: dict[str, cst.Arg], scope: Scope
) -> cst.Arg | None:
    origins = keywords.get("allow_origins")
    if origins is not None and _any_written(model, origins.value, scope, _contains_star):
        return origins
    regex = keywords.get("allow_origin_regex")
    if regex is not None and _any_written(model, regex.value, scope, _matches_any_origin):
        return regex
    return None


def _any_written(
    model: FileModel,
    value: cst.BaseExpression,
    scope: Scope,
    test: Callable[[cst.BaseExpression], bool],
    depth: int = 0,
) -> bool:
    """`test` holds for a value written in the code: `value` itself, the value of a name
    bound once, or either branch of a conditional expression."""
    if depth > _DEPTH:
        return False
    if isinstance(value, cst.IfExp):
        return any(
            _any_written(model, branch, scope, test, depth + 1)
            for branch in (value.body, value.orelse)
        )
    if isinstance(value, cst.Name):
        where = model.binding_scope(value.value, scope)
        bindings = where.bindings[value.value] if where is not None else []
        if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN:
            assigned = bindings[0].value
            return assigned is not None and _any_written(model, assigned, where, test, depth + 1)  # type: ignore[arg-type]
        return False
    return test(value)


def _contains_star(value: cst.BaseExpression) -> bool:
    if string_value(value) == "*":
        return True  # a bare "*" string: Starlette tests `"*" in allow_origins`
    if isinstance(value, cst.List | cst.Tuple | cst.Set):
        return any(string_value(element.value) == "*" for element in value.elements)
    return False


def _matches_any_origin(value: cst.BaseExpression) -> bool:
    pattern = string_value(value)
    if pattern is None:
        return False
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    # Starlette checks origins with fullmatch.
    return compiled.fullmatch(_ATTACKER_ORIGIN) is not None

from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts, QualifiedNames
from fastapi_lint.security_facts import (
    argument,
    has_unpacking,
    middleware_call,
    written_values,
)
from fastapi_lint.semantic import FileModel, string_value

TRUSTED_HOST_MIDDLEWARE = "starlette.middleware.trustedhost.TrustedHostMiddleware"
_SPELLINGS = frozenset(
    {TRUSTED_HOST_MIDDLEWARE, "fastapi.middleware.trustedhost.TrustedHostMiddleware"}
)


_TRUSTED_HOST = QualifiedNames(_SPELLINGS)


class TrustedHostWildcard(Rule):
    """`TrustedHostMiddleware` accepts every host.

    ## What it does
    Checks for `TrustedHostMiddleware` (from `starlette.middleware.trustedhost` or
    `fastapi.middleware.trustedhost`) configured with `"*"` in `allowed_hosts`, or without
    `allowed_hosts` at all (its default is `["*"]`). The value counts when it is written in
    the code: a literal, a name bound once to one (at module level or in the function), or
    either branch of a conditional expression (`["*"] if DEBUG else HOSTS`: the wildcard
    ships whenever the condition holds). All three ways of adding the middleware are
    checked: `app.add_middleware(TrustedHostMiddleware, ...)`,
    `Middleware(TrustedHostMiddleware, ...)` and `TrustedHostMiddleware(app, ...)`.

    ## Why is this bad?
    The middleware exists to reject requests whose `Host` header names a host the app does
    not serve. With `"*"` it accepts every host and protects nothing, while the code reads
    as if it did: absolute URLs the app builds from the request (`request.url_for`, password
    reset and confirmation links, redirects) then follow whatever `Host` an attacker sends
    (Host header injection, cache poisoning).

    Hosts read from settings or the environment are not flagged, even when a wildcard is
    their default (`settings.allowed_hosts`, `os.getenv("HOSTS", "*").split(",")`), nor are
    wildcard subdomains such as `"*.example.com"`, names bound more than once, `*args` and
    `**options`, or a class that merely shares the name `TrustedHostMiddleware`.

    ## Example
    ```python
    from fastapi import FastAPI
    from fastapi.middleware.trustedhost import TrustedHostMiddleware

    app = FastAPI()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["*"])
    ```

    Use instead:
    ```python
    from fastapi import FastAPI
    from fastapi.middleware.trustedhost import TrustedHostMiddleware

    app = FastAPI()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["api.example.com", "*.example.com"])
    ```

    ## Fix safety
    There is no fix: the hosts the app serves are deployment data.

    ## Options
    None.
    """

    code = "FAPI306"
    name = "trusted-host-wildcard"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.WARNING
    triggers = (b"TrustedHostMiddleware",)

    def screen(self, facts: Facts) -> bool:
        return _TRUSTED_HOST.named(facts)

    def check(self, model: FileModel) -> Iterator[Finding]:
        for site in model.calls:
            if not middleware_call(model, site, _SPELLINGS):
                continue
            hosts = argument(site.call, 1, "allowed_hosts")
            if hosts is None:
                if not has_unpacking(site.call):
                    yield self.finding(
                        site.call,
                        "`TrustedHostMiddleware` without `allowed_hosts` accepts every host: "
                        'the default is `["*"]`',
                    )
                continue
            if any(_has_wildcard(value) for value in written_values(model, hosts, site.scope)):
                yield self.finding(
                    hosts, '`TrustedHostMiddleware` accepts every host: `"*"` in `allowed_hosts`'
                )


def _has_wildcard(value: cst.BaseExpression) -> bool:
    if string_value(value) == "*":
        return True  # Starlette makes a list of it: list("*") == ["*"]
    if isinstance(value, cst.List | cst.Tuple | cst.Set):
        return any(string_value(element.value) == "*" for element in value.elements)
    return False

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts, QualifiedNames
from fastapi_lint.security_facts import (
    argument,
    calls_of,
    contains,
    descendants,
    has_unpacking,
    is_literal_false,
    parents,
    same_code,
    written_values,
)
from fastapi_lint.semantic import BindingKind, CallSite, FileModel, Scope, string_value

_PYJWT_DECODE = frozenset(
    {"jwt.decode", "jwt.decode_complete", "jwt.api_jwt.decode", "jwt.api_jwt.decode_complete"}
)
_JOSE_DECODE = frozenset({"jose.jwt.decode"})
_JOSE_VERIFY = frozenset({"jose.jws.verify"})
_UNVERIFIED_CLAIMS = frozenset({"jose.jwt.get_unverified_claims", "jose.jws.get_unverified_claims"})
_DEPTH = 8
_TIME_CLAIMS = frozenset({"exp", "iat", "nbf"})
_NONE_MESSAGE = 'algorithms include `"none"`: unsigned tokens are accepted'


@dataclass(frozen=True)
class _Decode:
    """A call that decodes a token, and the library that does."""

    site: CallSite
    library: str  # "pyjwt", "jose" or "jose.jws"

    @property
    def token(self) -> cst.BaseExpression | None:
        return argument(self.site.call, 0, "jwt" if self.library == "pyjwt" else "token")


_CALLED = QualifiedNames(_PYJWT_DECODE | _JOSE_DECODE | _JOSE_VERIFY | _UNVERIFIED_CLAIMS)


class JwtWithoutVerification(Rule):
    """JWT decoded without verifying its signature, or trusting the token's own algorithm.

    ## What it does
    Checks PyJWT (`import jwt`) and python-jose (`from jose import jwt`) calls, resolved
    through the imports, for:

    - `decode(..., options={"verify_signature": False})`, with either library;
    - `verify=False`: PyJWT 1.x turns verification off with it, PyJWT 2.x ignores it (with a
      warning) and verifies anyway. The version is not known statically, and either way the
      code does not do what it says, so it is reported. python-jose's `jws.verify(...,
      verify=False)` is reported too; its `jwt.decode` has no `verify` parameter;
    - `algorithms` containing `"none"`: the unsigned algorithm;
    - python-jose `jwt.decode` without `algorithms=`: it then accepts whatever algorithm
      the token's header names;
    - PyJWT `decode` without `algorithms=` while it verifies: PyJWT 2 raises `DecodeError`
      on every call. Reported as the bug it is (the request fails), not as a vulnerability;
    - claims from python-jose's `get_unverified_claims(token)`, directly or through names
      bound to them in the function, used in a condition (`if`, `while`, `assert`, a
      conditional expression or a comprehension's `if`).

    A value counts when it is written in the code: a literal, a name bound once to one, or a
    branch of a conditional expression.

    ## Why is this bad?
    A token whose signature is not checked proves nothing: anyone can write one with
    `"sub": "admin"`. Accepting the token's own `alg` lets an attacker choose it: `none`
    (no signature at all) or `HS256` keyed with the server's public RSA key, which the
    attacker knows (algorithm confusion).

    Not reported, because they are the normal way to pick the key before verifying:

    - reading the unverified header (`get_unverified_header(token)["kid"]`, JWKS lookups);
    - an unverified decode or `get_unverified_claims` of a token that the same function
      also decodes with verification (peeking at `iss` to choose the issuer's keys);
    - an unverified read whose result is only read for `exp`, `iat` or `nbf`
      (`decode(...)["exp"]`, or a name bound to it that only those reads use): knowing when
      a token the app holds expires, to refresh it, is no trust decision;
    - options read from settings, `verify_exp: False` and the other claim checks;
    - `**options` (the arguments are unknown), and a project module named `jwt` or `jose`.

    ## Example
    ```python
    import jwt
    from fastapi import Header


    async def current_user(authorization: str = Header()) -> str:
        claims = jwt.decode(authorization, options={"verify_signature": False})
        return claims["sub"]
    ```

    Use instead:
    ```python
    import jwt
    from fastapi import Header

    from shop.settings import settings


    async def current_user(authorization: str = Header()) -> str:
        claims = jwt.decode(authorization, settings.jwt_key, algorithms=["HS256"])
        return claims["sub"]
    ```

    ## Fix safety
    There is no fix: the key and the algorithms to accept are the project's.

    ## Options
    None.
    """

    code = "FAPI302"
    name = "jwt-without-verification"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.ERROR
    triggers = (b"jwt", b"jose")

    def screen(self, facts: Facts) -> bool:
        return _CALLED.named(facts)

    def check(self, model: FileModel) -> Iterator[Finding]:
        if {"jwt", "jose"} & set(model.project.names):
            return  # `import jwt` names the project's own module
        decodes = list(_decodes(model))
        for decode in decodes:
            found = _problem(model, decode)
            if found is None:
                continue
            node, message, unverified = found
            if unverified and _excused(model, decode.site, decode.token, decodes):
                continue
            yield self.finding(node, message)
        for site in calls_of(model, _UNVERIFIED_CLAIMS):
            token = argument(site.call, 0, "token")
            if _condition_using(model, site) is None or _excused(model, site, token, decodes):
                continue
            yield self.finding(
                site.call,
                "claims read with `get_unverified_claims` decide a condition: nothing checked "
                "their signature",
            )


def _decodes(model: FileModel) -> Iterator[_Decode]:
    for site in calls_of(model, _PYJWT_DECODE | _JOSE_DECODE | _JOSE_VERIFY):
        callee = model.callee(site)
        if callee in _PYJWT_DECODE:
            yield _Decode(site, "pyjwt")
        elif callee in _JOSE_DECODE:
            yield _Decode(site, "jose")
        else:
            yield _Decode(site, "jose.jws")


def _problem(model: FileModel, decode: _Decode) -> tuple[cst.CSTNode, str, bool] | None:
    """The node to report, the message, and whether it is an unverified read (which a
    verified decode of the same token in the function excuses)."""
    call, scope = decode.site.call, decode.site.scope
    switch = _verification_switched_off(model, decode)
    if switch is not None:
        return switch
    algorithms = _algorithms(decode)
    if algorithms is not None:
        for value in written_values(model, algorithms, scope):
            if _names_none(value):
                return algorithms, _NONE_MESSAGE, False
        return None
    if has_unpacking(call) or decode.library == "jose.jws":
        return None
    if decode.library == "jose":
        return (
            call,
            "python-jose `decode` without `algorithms=` accepts whatever algorithm the "
            "token's header names",
            False,
        )
    return (
        call,
        "PyJWT 2 raises `DecodeError` on every call: `decode` verifies the signature and "
        "needs `algorithms=`",
        False,
    )


def _verification_switched_off(
    model: FileModel, decode: _Decode
) -> tuple[cst.CSTNode, str, bool] | None:
    call, scope = decode.site.call, decode.site.scope
    options = argument(call, 3 if decode.library != "jose.jws" else None, "options")
    if options is not None and any(
        _disables_signature(model, value, scope) for value in written_values(model, options, scope)
    ):
        return options, "`verify_signature` is off: the token's signature is not checked", True
    verify = _verify_argument(decode)
    if verify is not None and any(
        is_literal_false(value) for value in written_values(model, verify, scope)
    ):
        if decode.library == "pyjwt":
            message = (
                "`verify=False` turns signature verification off in PyJWT 1.x (PyJWT 2.x "
                "ignores it): say what you mean with `options=`"
            )
        else:
            message = "`verify=False`: the token's signature is not checked"
        return verify, message, True
    return None


def _verify_argument(decode: _Decode) -> cst.BaseExpression | None:
    call = decode.site.call
    if decode.library == "jose.jws":
        return argument(call, 3, "verify")
    if decode.library == "pyjwt":
        third = argument(call, 2, "verify")  # PyJWT 1.x: decode(jwt, key, verify, ...)
        if third is not None and (is_literal_false(third) or _keyword(call, "verify")):
            return third
    return None


def _keyword(call: cst.Call, name: str) -> bool:
    return any(arg.keyword is not None and arg.keyword.value == name for arg in call.args)


def _algorithms(decode: _Decode) -> cst.BaseExpression | None:
    call = decode.site.call
    value = argument(call, 2, "algorithms")
    if (
        decode.library == "pyjwt"
        and not _keyword(call, "algorithms")
        and isinstance(value, cst.Name)
        and value.value in ("True", "False")
    ):
        return None  # PyJWT 1.x's `verify`
    return value


def _disables_signature(model: FileModel, value: cst.BaseExpression, scope: Scope) -> bool:
    """`{"verify_signature": False}` or `dict(verify_signature=False)`."""
    entries: list[tuple[str | None, cst.BaseExpression]] = []
    if isinstance(value, cst.Dict):
        entries = [
            (string_value(element.key), element.value)
            for element in value.elements
            if isinstance(element, cst.DictElement)
        ]
    elif isinstance(value, cst.Call) and model.qualified_name(value.func, scope) == "builtins.dict":
        entries = [(arg.keyword.value, arg.value) for arg in value.args if arg.keyword is not None]
    return any(
        key == "verify_signature"
        and any(is_literal_false(v) for v in written_values(model, entry, scope))
        for key, entry in entries
    )


def _names_none(value: cst.BaseExpression) -> bool:
    if isinstance(value, cst.List | cst.Tuple | cst.Set):
        return any(_is_none_algorithm(element.value) for element in value.elements)
    return _is_none_algorithm(value)


def _is_none_algorithm(value: cst.BaseExpression) -> bool:
    text = string_value(value)
    return text is not None and text.lower() == "none"


def _excused(
    model: FileModel,
    site: CallSite,
    token: cst.BaseExpression | None,
    decodes: list[_Decode],
) -> bool:
    """An unverified read that is fine: it only picks the key (the function verifies the
    same token too) or only reads the token's times (when to refresh it)."""
    return _verified_elsewhere(model, token, site, decodes) or _reads_only_times(model, site)


def _reads_only_times(model: FileModel, site: CallSite) -> bool:
    """The result is only read for `exp`, `iat` or `nbf`: directly (`decode(...)["exp"]`,
    `.get("exp")`) or through a name bound once to it in the function."""
    parent_of = parents(model.module)
    holder = parent_of.get(site.call)
    if _is_time_read(parent_of, site.call):
        return True
    if isinstance(holder, cst.Assign) and len(holder.targets) == 1:
        target = holder.targets[0].target
    elif isinstance(holder, cst.AnnAssign):
        target = holder.target
    else:
        return False
    if not isinstance(target, cst.Name) or len(model.lookup(target.value, site.scope) or []) != 1:
        return False
    function = site.scope.executing_function()
    body = function.node if function is not None else model.module
    uses = [
        node
        for node in descendants(body)
        if isinstance(node, cst.Name) and node.value == target.value and node is not target
    ]
    return bool(uses) and all(_is_time_read(parent_of, use) for use in uses)


def _is_time_read(parent_of: dict, node: cst.CSTNode) -> bool:
    parent = parent_of.get(node)
    if isinstance(parent, cst.Subscript) and parent.value is node and len(parent.slice) == 1:
        index = parent.slice[0].slice
        return isinstance(index, cst.Index) and string_value(index.value) in _TIME_CLAIMS
    if isinstance(parent, cst.Attribute) and parent.value is node and parent.attr.value == "get":
        call = parent_of.get(parent)
        if isinstance(call, cst.Call) and call.func is parent and call.args:
            return string_value(call.args[0].value) in _TIME_CLAIMS
    return False


def _verified_elsewhere(
    model: FileModel,
    token: cst.BaseExpression | None,
    site: CallSite,
    decodes: list[_Decode],
) -> bool:
    """The same token is decoded with verification in the same function: the unverified
    read only picks the key or the issuer."""
    if token is None:
        return False
    function = site.scope.executing_function()
    for other in decodes:
        if other.site is site or other.site.scope.executing_function() is not function:
            continue
        other_token = other.token
        if other_token is None or not same_code(model, token, other_token):
            continue
        if _verification_switched_off(model, other) is None:
            return True
    return False


def _condition_using(model: FileModel, site: CallSite) -> cst.BaseExpression | None:
    """A condition in the function that uses the call's result, directly or through names
    bound (once or more) to expressions that use it."""
    function = site.scope.executing_function()
    body = function.node if function is not None else model.module
    tainted = _names_holding(model, site)
    for node in descendants(body):
        for test in _tests(node):
            if contains(test, site.call) or any(
                isinstance(n, cst.Name) and n.value in tainted for n in (test, *descendants(test))
            ):
                return test
    return None


def _names_holding(model: FileModel, site: CallSite) -> set[str]:
    """Names of the function bound to an expression holding the call's result."""
    scope = site.scope.executing_function() or model.module_scope
    tainted: set[str] = set()
    for _ in range(_DEPTH):
        grown = {
            name
            for name, found in scope.bindings.items()
            if name not in tainted
            and any(
                binding.kind is BindingKind.ASSIGN
                and binding.value is not None
                and _holds(binding.value, site.call, tainted)
                for binding in found
            )
        }
        if not grown:
            break
        tainted |= grown
    return tainted


def _holds(value: cst.BaseExpression, call: cst.Call, tainted: set[str]) -> bool:
    return contains(value, call) or any(
        isinstance(node, cst.Name) and node.value in tainted
        for node in (value, *descendants(value))
    )


def _tests(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    if isinstance(node, cst.If | cst.While | cst.IfExp | cst.Assert | cst.CompIf):
        yield node.test

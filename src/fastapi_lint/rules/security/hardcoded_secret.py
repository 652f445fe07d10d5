from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.rule import Finding, Option, OptionError, Rule, string_list
from fastapi_lint.security_facts import (
    ancestors,
    argument,
    boolean,
    calls_of,
    descendants,
    is_test_file,
    middleware_call,
    non_empty_string,
)
from fastapi_lint.semantic import BindingKind, CallSite, FileModel, Scope, string_value

_SETTINGS_BASES = frozenset(
    {
        "pydantic_settings.BaseSettings",
        "pydantic.BaseSettings",
        "pydantic.v1.BaseSettings",
        "pydantic.env_settings.BaseSettings",
    }
)
_FIELD = frozenset({"pydantic.Field", "pydantic.fields.Field", "pydantic.v1.Field"})
_SECRET_TYPES = frozenset(
    {"pydantic.SecretStr", "pydantic.types.SecretStr", "pydantic.SecretBytes"}
)
_SESSION_MIDDLEWARE = frozenset({"starlette.middleware.sessions.SessionMiddleware"})
# The key is the second argument of encode and decode in both libraries.
_JWT_KEYED = frozenset(
    {"jwt.encode", "jwt.decode", "jwt.decode_complete", "jose.jwt.encode", "jose.jwt.decode"}
)
DEFAULT_SECRET_NAMES = (
    "secret",
    "secret_key",
    "secret_access_key",
    "password",
    "passwd",
    "token",
    "api_key",
    "apikey",
    "private_key",
    "signing_key",
    "encryption_key",
)
# Words of a name: `JWT_SECRET_KEY`, `jwtSecretKey` and `JwtSecretKey` give jwt, secret, key.
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z0-9]+(?![a-z])")
# What a key looks like when it is generated (hex, base64, `sk-...`, a UUID).
_RANDOM = re.compile(r"[A-Za-z0-9+/=_\-.:~!@#$%^&*]{16,}")
# What a key looks like when someone typed a placeholder for it.
_PLACEHOLDER = re.compile(
    r"secret|change|passw|insecure|dummy|default|example|sample|replace|your|todo|xxx",
    re.IGNORECASE,
)
_WEAK_PASSWORDS = frozenset(
    {"admin", "root", "postgres", "pass", "letmein", "qwerty", "guest", "123456", "12345678"}
)


def _triggers(names: Iterable[str]) -> tuple[bytes, ...]:
    """A secret's name holds the first word of its ending, in one of the three casings a
    word of a name has (`secret`, `SECRET`, `Secret`); keys given to calls need these."""
    triggers = {b"jwt", b"jose", b"SessionMiddleware"}
    for name in names:
        first = name.split("_")[0]
        triggers |= {first.encode(), first.upper().encode(), first.capitalize().encode()}
    return tuple(sorted(triggers))


class HardcodedSecret(Rule):
    """Secret written in the source: a signing key, password, token or API key.

    ## What it does
    Checks for a non-empty string literal that is a secret:

    - the default of a settings field (a class deriving from `pydantic_settings.BaseSettings`
      or pydantic v1's `BaseSettings`, in this file, directly or through local classes)
      whose name says secret, written as `= "..."`, `Field("...")`, `Field(default="...")`
      or `SecretStr("...")`. Any non-empty value counts: a placeholder such as
      `"changeme"` is exactly the bug, since production runs with it when the variable is
      missing;
    - a module constant (bound once) whose name says secret and whose value looks like one:
      16 or more characters without spaces that mix letters and digits (a generated key),
      or a placeholder (`"secret"`, `"changeme"`, `"your-api-key"`, `"insecure-..."`,
      `"admin"`, ...). Values that are labels are not secrets: a value equal to the name
      itself or its last words (`ACCESS_TOKEN = "access_token"`), header names
      (`API_KEY = "X-API-Key"`), tokens of a language model (`BOS_TOKEN = "<s>"`);
    - the key given to PyJWT's or python-jose's `encode`/`decode`, or the `secret_key` of
      Starlette's `SessionMiddleware`, written as a literal or a name bound once to one.

    A name says secret when its last words are one of `secret-names` (`SECRET_KEY`,
    `jwt_secret`, `DB_PASSWORD`, `GITHUB_TOKEN`, `openaiApiKey`). Names that merely contain
    such a word are not secrets: `TOKEN_URL`, `PASSWORD_MIN_LENGTH`, `SECRET_HEADER_NAME`,
    `password_reset_token_expire`, `max_tokens`.

    ## Why is this bad?
    A secret in the source is in every clone, fork, wheel, container image and CI log of the
    project, and it cannot be rotated without a release. Anyone who holds a JWT signing key
    can mint tokens for any user; a session key lets them forge sessions. A literal default
    of a settings field is worse than it looks: when the environment variable is missing,
    the app starts anyway, in production, with the key everybody can read.

    Not reported:

    - values read from the environment or a secret store (`os.getenv("SECRET_KEY")`,
      `Field(default_factory=...)`, `secrets.token_urlsafe(32)`), empty strings and `None`;
    - a value the code refuses to run with: the same literal compared (`==`, `!=`, `in`)
      in a function of the file that raises (a validator such as
      `if v == "changeme": raise ValueError(...)`), or in an `if` that raises;
    - fields of classes that are not settings (pydantic models, dataclasses, enums), and
      settings classes whose `BaseSettings` base is defined in another module;
    - test files (see `skip-test-files`).

    ## Example
    ```python
    from pydantic_settings import BaseSettings


    class Settings(BaseSettings):
        jwt_secret: str = "changeme"
    ```

    Use instead:
    ```python
    from pydantic import SecretStr
    from pydantic_settings import BaseSettings


    class Settings(BaseSettings):
        jwt_secret: SecretStr  # required: the app does not start without it
    ```

    ## Fix safety
    There is no fix: the secret has to move to the environment or a secret store, and, once
    it has been committed, be rotated.

    ## Options
    - `secret-names` (default: `secret`, `secret_key`, `secret_access_key`, `password`,
      `passwd`, `token`, `api_key`, `apikey`, `private_key`, `signing_key`,
      `encryption_key`): name endings, in snake case, that make a name a secret's. They are
      compared word by word, whatever the case (`api_key` matches `OPENAI_API_KEY` and
      `openaiApiKey`).
    - `skip-test-files` (default `true`): do not check test files: files under a `tests/`
      or `test/` directory of the project, and files named `test_*.py`, `*_test.py` or
      `conftest.py`. Tests need keys, and theirs are not secrets.
    """

    code = "FAPI304"
    name = "hardcoded-secret"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.ERROR
    triggers = _triggers(DEFAULT_SECRET_NAMES)
    options = (
        Option(
            "secret-names",
            DEFAULT_SECRET_NAMES,
            "Name endings that make a name a secret's.",
            lambda value: _secret_names(string_list(value)),
        ),
        Option("skip-test-files", True, "Do not check test files.", boolean),
    )

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.endings = [tuple(ending.split("_")) for ending in self.settings["secret-names"]]
        self.triggers = _triggers(self.settings["secret-names"])

    def check(self, model: FileModel) -> Iterator[Finding]:
        if self.settings["skip-test-files"] and is_test_file(model):
            return
        guarded = _Guards(model)
        reported: set[cst.CSTNode] = set()
        for node, message in self._candidates(model):
            literal = string_value(node)
            if node in reported or literal is None or guarded.refuses(literal):
                continue
            reported.add(node)
            yield self.finding(node, message)

    def _candidates(self, model: FileModel) -> Iterator[tuple[cst.CSTNode, str]]:
        yield from self._settings_defaults(model)
        yield from self._module_constants(model)
        yield from _keys_given(model)

    def _settings_defaults(self, model: FileModel) -> Iterator[tuple[cst.CSTNode, str]]:
        for class_def in model.classes:
            if not model.ancestors(class_def) & _SETTINGS_BASES:
                continue
            scope = model.classes[class_def]  # where the names of the body resolve
            for name, value in _class_fields(class_def):
                if not self.says_secret(name):
                    continue
                default = _default(model, value, scope)
                if non_empty_string(default) is not None:
                    yield default, f"settings field `{name}` defaults to a hard-coded secret"

    def _module_constants(self, model: FileModel) -> Iterator[tuple[cst.CSTNode, str]]:
        for name, bindings in model.module_scope.bindings.items():
            if len(bindings) != 1 or bindings[0].kind is not BindingKind.ASSIGN:
                continue
            value = bindings[0].value
            text = non_empty_string(value)
            if text is None or not self.says_secret(name) or not _looks_secret(name, text):
                continue
            yield value, f"`{name}` is a secret written in the source"  # type: ignore[misc]

    def says_secret(self, name: str) -> bool:
        words = tuple(word.lower() for word in _WORD.findall(name))
        return any(words[-len(ending) :] == ending for ending in self.endings)


# -- settings classes ------------------------------------------------------------------


def _class_fields(class_def: cst.ClassDef) -> Iterator[tuple[str, cst.BaseExpression]]:
    """`name: T = value` and `name = value` statements of a class body."""
    for statement in class_def.body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.AnnAssign) and small.value is not None:
                target, value = small.target, small.value
            elif isinstance(small, cst.Assign) and len(small.targets) == 1:
                target, value = small.targets[0].target, small.value
            else:
                continue
            if isinstance(target, cst.Name):
                yield target.value, value


def _default(
    model: FileModel, value: cst.BaseExpression, scope: Scope
) -> cst.BaseExpression | None:
    """The default a field declaration gives: the value, or the default of `Field(...)`,
    or the literal wrapped in `SecretStr(...)`."""
    if not isinstance(value, cst.Call):
        return value
    callee = model.qualified_name(value.func, scope)
    if callee in _FIELD:
        inner = argument(value, 0, "default")
    elif callee in _SECRET_TYPES:
        inner = argument(value, 0, "secret_value")
    else:
        return None
    return _default(model, inner, scope) if inner is not None else None


# -- module constants --------------------------------------------------------------------


def _looks_secret(name: str, value: str) -> bool:
    """A generated key or a typed placeholder, not a label."""
    if _is_label(name, value):
        return False
    if _RANDOM.fullmatch(value) and any(c.isdigit() for c in value):
        return any(c.isalpha() for c in value)
    return value.lower() in _WEAK_PASSWORDS or (
        _PLACEHOLDER.search(value) is not None and not any(c.isspace() for c in value)
    )


def _is_label(name: str, value: str) -> bool:
    """`ACCESS_TOKEN = "access_token"`, `RESOURCE_PASSWORD = "Passwords"`,
    `API_KEY = "X-API-Key"`, `BOS_TOKEN = "<s>"`: the value names something."""
    words = [word.lower() for word in _WORD.findall(name)]
    squashed = re.sub(r"[\W_]", "", value).lower()
    if squashed in {"".join(words[start:]) for start in range(len(words))}:
        return True
    value_words = [word.lower() for word in _WORD.findall(value)]
    if value_words and all(_one_of(word, words) for word in value_words):
        return True
    header = re.fullmatch(r"(X-)?[A-Z][A-Za-z0-9]*(-[A-Z][A-Za-z0-9]*)+", value)
    return header is not None or any(c in "<>[]{}|" for c in value) or not value.isascii()


def _one_of(word: str, words: list[str]) -> bool:
    """The word, or its plural, is one of `words`."""
    return word in words or (word.endswith("s") and word[:-1] in words)


# -- keys passed to calls ------------------------------------------------------------------


def _keys_given(model: FileModel) -> Iterator[tuple[cst.CSTNode, str]]:
    jwt_libraries = not {"jwt", "jose"} & set(model.project.names)
    for site in calls_of(model, _JWT_KEYED if jwt_libraries else frozenset()):
        key = argument(site.call, 1, "key")
        if key is not None:
            yield from _literal_key(model, key, site, f"`{model.callee(site)}`")
    for site in model.calls:
        if middleware_call(model, site, _SESSION_MIDDLEWARE):
            key = argument(site.call, 1, "secret_key")
            if key is not None:
                yield from _literal_key(model, key, site, "`SessionMiddleware`")


def _literal_key(
    model: FileModel, key: cst.BaseExpression, site: CallSite, where: str
) -> Iterator[tuple[cst.CSTNode, str]]:
    """The key, when it is a literal or a name bound once to one."""
    if non_empty_string(key) is not None:
        yield key, f"{where} is given a hard-coded key"
        return
    if not isinstance(key, cst.Name):
        return
    scope = model.binding_scope(key.value, site.scope)
    bindings = scope.bindings[key.value] if scope is not None else []
    if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN:
        value = bindings[0].value
        if non_empty_string(value) is not None:
            yield value, f"`{key.value}` is a hard-coded key, given to {where}"  # type: ignore[misc]


# -- guards ----------------------------------------------------------------------------


class _Guards:
    """Literals the code refuses to run with: compared in a function that raises, or in an
    `if` that raises."""

    def __init__(self, model: FileModel) -> None:
        self.model = model
        self._refused: set[str] | None = None

    def refuses(self, literal: str) -> bool:
        if self._refused is None:
            self._refused = set(self._collect())
        return literal in self._refused

    def _collect(self) -> Iterator[str]:
        module = self.model.module
        for node in descendants(module, into_functions=True):
            if not isinstance(node, cst.Comparison):
                continue
            literals = set(_compared_literals(node))
            if literals and _raises_around(module, node):
                yield from literals


def _compared_literals(comparison: cst.Comparison) -> Iterator[str]:
    operands: list[cst.BaseExpression] = [comparison.left]
    operands += [target.comparator for target in comparison.comparisons]
    for operand in operands:
        if isinstance(operand, cst.List | cst.Tuple | cst.Set):
            for element in operand.elements:
                text = string_value(element.value)
                if text:
                    yield text
        else:
            text = string_value(operand)
            if text:
                yield text


def _raises_around(module: cst.Module, comparison: cst.Comparison) -> bool:
    """The comparison is in a function that raises, or in the test of an `if` that raises."""
    for node in ancestors(module, comparison):
        if isinstance(node, cst.FunctionDef):
            return _raises(node)
        if isinstance(node, cst.If) and _raises(node.body):
            return True
    return False


def _raises(node: cst.CSTNode) -> bool:
    return any(isinstance(n, cst.Raise) for n in descendants(node))


# -- options -----------------------------------------------------------------------------


def _secret_names(names: Iterable[str]) -> tuple[str, ...]:
    found = []
    for name in names:
        if not re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", name):
            raise OptionError(f"`{name}` is not a name ending in snake case, such as `api_key`")
        found.append(name)
    return tuple(found)

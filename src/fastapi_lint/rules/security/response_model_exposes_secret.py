from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.names import canonical
from fastapi_lint.pydantic_models import ModelField, model_fields
from fastapi_lint.route_params import subscript_items, unquoted
from fastapi_lint.rule import Finding, Option, Rule, string_list
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import FileModel, Route, Scope, is_none, string_value, union_members

DEFAULT_FIELD_NAMES = ("password", "hashed_password", "password_hash", "secret", "private_key")
# Words of a name: `hashedPassword` and `HASHED_PASSWORD` give hashed, password.
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z0-9]+(?![a-z])")
_DEPTH = 4  # nested models followed (`Team.owner.hashed_password`)
# Type constructors whose arguments are what a response holds.
_WRAPPERS = frozenset(
    f"{module}.{name}"
    for module, names in (
        ("builtins", ("list", "set", "frozenset", "tuple")),
        ("typing", ("List", "Set", "FrozenSet", "Tuple", "Sequence", "Iterable", "Optional",
                    "Union", "Collection", "AbstractSet")),
        ("typing_extensions", ("Optional", "Union")),
        ("collections.abc", ("Sequence", "Iterable", "Collection", "Set")),
    )
    for name in names
)  # fmt: skip
_MAPPINGS = frozenset({"builtins.dict", "typing.Dict", "typing.Mapping", "collections.abc.Mapping"})
_ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
_NOT_MODELS = frozenset({"typing.Literal", "typing_extensions.Literal", "typing.Any"})
_STRINGS = frozenset(
    {
        "builtins.str", "builtins.bytes", "pydantic.StrictStr", "pydantic.StrictBytes",
        "pydantic.types.StrictStr", "pydantic.constr", "pydantic.conbytes",
        "pydantic.types.constr",
    }
)  # fmt: skip
_FIELD = frozenset(
    {"pydantic.Field", "pydantic.fields.Field", "pydantic.v1.Field", "sqlmodel.Field"}
)
# Decorators that change a field's value on the way in or out: they may redact it.
_PER_FIELD = frozenset(
    {
        "pydantic.field_serializer", "pydantic.functional_serializers.field_serializer",
        "pydantic.field_validator", "pydantic.functional_validators.field_validator",
        "pydantic.validator", "pydantic.v1.validator", "pydantic.class_validators.validator",
    }
)  # fmt: skip
_WHOLE_MODEL = frozenset(
    {
        "pydantic.model_serializer", "pydantic.functional_serializers.model_serializer",
        "pydantic.model_validator", "pydantic.functional_validators.model_validator",
        "pydantic.root_validator", "pydantic.v1.root_validator",
    }
)  # fmt: skip
# Methods that, overridden, change what a model serialises to.
_DUMPS = frozenset({"model_dump", "model_dump_json", "dict", "json", "__iter__"})
_EVERYTHING = "*"


@dataclass(frozen=True)
class _Exposed:
    path: str  # `hashed_password`, or `owner.hashed_password` in a nested model
    owner: cst.ClassDef  # the class that declares the field


class ResponseModelExposesSecret(Rule):
    """Route's response model has a password or key field: every response sends it.

    ## What it does
    Checks the response model of each route, from `response_model=` or else the return
    annotation of the handler, for a field whose name says it holds a password or a key
    (see `field-names`: `password`, `hashed_password`, `password_hash`, `secret`,
    `private_key`). The model is resolved through imports, in this file or another module
    of the project, with the fields of its bases; `list[...]`, `Optional[...]`, unions,
    `dict[str, ...]` values and the arguments of generic classes (`Page[UserInDB]`) are
    looked into, and so are the models nested in its fields (`team.owner.hashed_password`).
    Only Pydantic models (and SQLModel classes) are checked.

    ## Why is this bad?
    FastAPI sends every field of the response model. A model that carries a password, its
    hash or a private key sends it to every client of the route: the classic mistake of
    returning the database model, or the input model, where an output model without the
    secret belongs (OWASP API3, excessive data exposure). A password hash is enough to
    mount an offline attack on the password.

    A field is **not** reported when:

    - it is typed `SecretStr` or `SecretBytes` (serialised as `**********`), or its type is
      not a string (`has_password: bool`, a nested model is looked into instead);
    - it is excluded from serialisation: `Field(exclude=True)`, in the default or in
      `Annotated[...]` metadata;
    - the route leaves it out: `response_model_exclude={"password"}` or a
      `response_model_include=` that does not name it. A route whose `response_model_exclude`
      or `response_model_include` is not a literal is not checked;
    - a class declaring the fields may change the value on the way in or out, which may
      redact it: a `@field_serializer` or a validator (`@field_validator`, v1's
      `@validator`) naming the field, or for every field a `@model_serializer`, a
      `@model_validator`, its own `model_dump` or `dict`;
    - its name is not one of `field-names`: `password_changed_at`, `secret_name`, and also
      `smtp_password` or `client_secret`. Settings and admin endpoints return such
      credentials on purpose, to an administrator who edits them; add their names to the
      option to report them too.

    Tokens are not in the default list: a login route returns its access token to its owner
    on purpose. Routes with `**options`, `response_model=None`, models of a library and
    classes whose bases fastapi-lint cannot see are not checked.

    ## Example
    ```python
    from fastapi import FastAPI
    from pydantic import BaseModel

    app = FastAPI()


    class User(BaseModel):
        email: str
        hashed_password: str


    @app.get("/users/me")
    async def read_me() -> User:
        \"\"\"The current user.\"\"\"
        return User(email="a@example.com", hashed_password="...")
    ```

    Use instead:
    ```python
    from fastapi import FastAPI
    from pydantic import BaseModel

    app = FastAPI()


    class UserOut(BaseModel):
        email: str


    @app.get("/users/me")
    async def read_me() -> UserOut:
        \"\"\"The current user.\"\"\"
        return UserOut(email="a@example.com")
    ```

    ## Fix safety
    There is no fix: which model the route should answer with is the author's choice.

    ## Options
    - `field-names` (default: `password`, `hashed_password`, `password_hash`, `secret`,
      `private_key`): the names, in snake case, of the fields that hold a secret. A field's
      name is compared word by word, whatever its case (`hashed_password` matches
      `hashedPassword` and `HASHED_PASSWORD`), and whole: `password` does not match
      `smtp_password`.
    """

    code = "FAPI305"
    name = "response-model-exposes-secret"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.ERROR
    options = (
        Option(
            "field-names",
            DEFAULT_FIELD_NAMES,
            "Names of the fields that hold a secret.",
            lambda value: tuple(item.lower() for item in string_list(value)),
        ),
    )

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.secret_names = {tuple(name.split("_")) for name in self.settings["field-names"]}

    def screen(self, facts: Facts) -> bool:
        return facts.any_route()

    def check(self, model: FileModel) -> Iterator[Finding]:
        reported: set[cst.CSTNode] = set()
        for route in model.routes:
            declared = _response_type(model, route)
            if declared is None or declared[0] in reported:
                continue
            node, scope = declared
            shown = _shown_fields(route)
            if shown is None:
                continue
            exposed = _once(self._exposed(model, node, scope, shown))
            if exposed:
                reported.add(node)
                yield self.finding(node, _message(model, route, node, exposed))

    def _exposed(
        self, model: FileModel, annotation: cst.BaseExpression, scope: Scope, shown: _Shown
    ) -> Iterator[_Exposed]:
        for model_expr, where in _models_in(model, annotation, scope, 0):
            yield from self._fields(where[0], model_expr, where[1], shown, "", 0)

    def _fields(
        self,
        model: FileModel,
        expr: cst.BaseExpression,
        scope: Scope,
        shown: _Shown,
        prefix: str,
        depth: int,
    ) -> Iterator[_Exposed]:
        fields = model_fields(model, expr, scope)
        if not fields or depth > _DEPTH:
            return
        customised = _customised(fields)
        if _EVERYTHING in customised:
            return
        for field in fields:
            if not shown.includes(field.name) or field.name in customised or _excluded(field):
                continue
            path = prefix + field.name
            if self._says_secret(field.name):
                if _is_plain_string(field.model, field.annotation, field.scope):
                    yield _Exposed(path, field.owner)
                continue
            for inner, where in _models_in(field.model, field.annotation, field.scope, 0):
                yield from self._fields(where[0], inner, where[1], _Shown(), f"{path}.", depth + 1)

    def _says_secret(self, name: str) -> bool:
        return tuple(word.lower() for word in _WORD.findall(name)) in self.secret_names


def _response_type(model: FileModel, route: Route) -> tuple[cst.BaseExpression, Scope] | None:
    """What FastAPI validates the response with: `response_model=`, else the handler's
    return annotation (evaluated where the handler is defined)."""
    if route.has_unknown_keywords:
        return None
    if "response_model" in route.keywords:
        value = route.keyword_value("response_model")
        if is_none(value):
            return None
        return value, route.scope  # type: ignore[return-value]
    handler = route.handler
    info = model.function_info(handler) if handler is not None else None
    if handler is None or handler.returns is None or info is None or info.scope.parent is None:
        return None
    return handler.returns.annotation, info.scope.parent


class _Shown:
    """The top-level fields a route's `response_model_include`/`_exclude` let through."""

    def __init__(self, include: set[str] | None = None, exclude: set[str] | None = None) -> None:
        self.include = include
        self.exclude = exclude or set()

    def includes(self, name: str) -> bool:
        return name not in self.exclude and (self.include is None or name in self.include)


def _shown_fields(route: Route) -> _Shown | None:
    """None when `response_model_include` or `_exclude` is not a literal."""
    include = route.keyword_value("response_model_include")
    exclude = route.keyword_value("response_model_exclude")
    included = _names(include) if include is not None else None
    excluded = _names(exclude) if exclude is not None else set()
    if (include is not None and included is None) or excluded is None:
        return None
    return _Shown(included, excluded)


def _names(expr: cst.BaseExpression) -> set[str] | None:
    """`{"a", "b"}`, `["a"]` or `{"a": True, "b": {...}}`: the top-level names."""
    if is_none(expr):
        return set()
    if isinstance(expr, cst.Set | cst.List | cst.Tuple):
        keys = [string_value(element.value) for element in expr.elements]
    elif isinstance(expr, cst.Dict):
        keys = [
            string_value(element.key) if isinstance(element, cst.DictElement) else None
            for element in expr.elements
        ]
    else:
        return None
    return None if any(key is None for key in keys) else set(keys)  # type: ignore[arg-type]


_Where = tuple[FileModel, Scope]


def _models_in(
    model: FileModel, expr: cst.BaseExpression, scope: Scope, depth: int
) -> Iterator[tuple[cst.BaseExpression, _Where]]:
    """The class expressions a response type holds: `X` of `list[X]`, `X | None`,
    `dict[str, X]`, `Annotated[X, ...]`; both `Page` and `X` of `Page[X]`."""
    if depth > _DEPTH:
        return
    expr = unquoted(expr)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
        yield from _models_in(model, expr.left, scope, depth + 1)
        yield from _models_in(model, expr.right, scope, depth + 1)
        return
    if isinstance(expr, cst.Subscript):
        origin = canonical(model.qualified_name(expr.value, scope) or "")
        items = subscript_items(expr)
        if origin in _NOT_MODELS:
            return
        if origin in _ANNOTATED:
            items = items[:1]
        elif origin in _MAPPINGS:
            items = items[-1:]
        elif origin not in _WRAPPERS:
            yield expr.value, (model, scope)
        for item in items:
            yield from _models_in(model, item, scope, depth + 1)
        return
    if isinstance(expr, cst.Name | cst.Attribute) and not (is_none(expr)):
        yield expr, (model, scope)


def _is_plain_string(model: FileModel, annotation: cst.BaseExpression, scope: Scope) -> bool:
    """`str`, `bytes`, `str | None`, `Optional[str]`, `Annotated[str, ...]`, `constr(...)`:
    not `SecretStr`, not a bool or a number."""
    annotation = unquoted(annotation)
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        members = [m for m in union_members(annotation) if not is_none(m)]
        return len(members) == 1 and _is_plain_string(model, members[0], scope)
    if isinstance(annotation, cst.Subscript):
        origin = canonical(model.qualified_name(annotation.value, scope) or "")
        items = [item for item in subscript_items(annotation) if not is_none(item)]
        if origin in _ANNOTATED or (origin in _WRAPPERS and "Optional" in origin):
            return bool(items) and _is_plain_string(model, items[0], scope)
        if origin.endswith(".Union"):
            return len(items) == 1 and _is_plain_string(model, items[0], scope)
        return False
    if isinstance(annotation, cst.Call):
        annotation = annotation.func
    return canonical(model.qualified_name(annotation, scope) or "") in _STRINGS


def _excluded(field: ModelField) -> bool:
    """`Field(exclude=True)` as the default or in `Annotated[...]` metadata; a non-literal
    `exclude=` may exclude it too."""
    candidates = [field.value]
    annotation = unquoted(field.annotation)
    if isinstance(annotation, cst.Subscript):
        candidates.extend(subscript_items(annotation)[1:])
    for candidate in candidates:
        if not isinstance(candidate, cst.Call):
            continue
        if canonical(field.model.qualified_name(candidate.func, field.scope) or "") not in _FIELD:
            continue
        for arg in candidate.args:
            if arg.star == "**":
                return True
            if arg.keyword is not None and arg.keyword.value == "exclude":
                return not (isinstance(arg.value, cst.Name) and arg.value.value == "False")
    return False


def _customised(fields: list[ModelField]) -> set[str]:
    """The fields whose value the classes declaring `fields` change on the way out: named
    by a `@field_serializer` or a validator (which may redact them); `*` for all of them
    (a `@model_serializer`, a `*` validator, its own `model_dump` or `dict`)."""
    found: set[str] = set()
    for field in {field.owner: field for field in fields}.values():
        for statement in field.owner.body.body:
            if not isinstance(statement, cst.FunctionDef):
                continue
            if statement.name.value in _DUMPS:
                found.add(_EVERYTHING)
            for decorator in statement.decorators:
                found |= _customised_by(field, decorator.decorator)
    return found


def _customised_by(field: ModelField, decorator: cst.BaseExpression) -> set[str]:
    func = decorator.func if isinstance(decorator, cst.Call) else decorator
    qualified = canonical(field.model.qualified_name(func, field.scope) or "")
    if qualified in _WHOLE_MODEL:
        return {_EVERYTHING}
    if qualified not in _PER_FIELD or not isinstance(decorator, cst.Call):
        return set()
    # The field names are its positional arguments; one we cannot read may be any.
    return {string_value(arg.value) or _EVERYTHING for arg in decorator.args if not arg.keyword}


def _once(exposed: Iterator[_Exposed]) -> list[_Exposed]:
    """Each field once, by its first path (a model nested in itself reaches it again)."""
    found: dict[tuple[cst.ClassDef, str], _Exposed] = {}
    for item in exposed:
        found.setdefault((item.owner, item.path.rpartition(".")[2]), item)
    return list(found.values())


def _message(model: FileModel, route: Route, node: cst.CSTNode, exposed: list[_Exposed]) -> str:
    shown = model.module.code_for_node(node).strip()
    declared = shown if len(shown) <= 60 else "..."
    fields = ", ".join(f"`{item.path}` (declared in `{item.owner.name.value}`)" for item in exposed)
    return (
        f"Response model `{declared}` of `{route.describe()}` exposes {fields}: every "
        f"response sends {'them' if len(exposed) > 1 else 'it'} to the client; answer with a "
        "model without it"
    )

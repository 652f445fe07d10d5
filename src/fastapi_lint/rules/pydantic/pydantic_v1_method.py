from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi_lint.diagnostics import Severity
from fastapi_lint.fixes import Applicability, Fix, RequiredImport
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.pydantic_models import (
    ModelClass,
    class_receiver,
    in_version_branch,
    instance_model,
    is_pydantic_v1_code,
    may_mention,
    walk_with_scopes,
)
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import BindingKind, CallSite, FileModel, Scope

INSTANCE, CLASS = "instance", "class"
_DUMP = frozenset(
    {"include", "exclude", "by_alias", "exclude_unset", "exclude_defaults", "exclude_none"}
)
_ANY = frozenset({"*"})


@dataclass(frozen=True)
class _Method:
    """A v1 method and its v2 replacement, with the arguments that carry over."""

    new: str
    on: str  # INSTANCE or CLASS
    keywords: frozenset[str] = frozenset()
    positional: int = 0
    # Keywords Pydantic 2's deprecated method rejects with a TypeError (_ANY: all but
    # `keywords`).
    rejected: frozenset[str] = frozenset()


METHODS: dict[str, _Method] = {
    "dict": _Method("model_dump", INSTANCE, _DUMP, rejected=frozenset({"skip_defaults"})),
    "json": _Method("model_dump_json", INSTANCE, _DUMP, rejected=_ANY),
    "copy": _Method("model_copy", INSTANCE, frozenset({"update", "deep"})),
    "parse_obj": _Method("model_validate", CLASS, frozenset({"obj"}), 1),
    "parse_raw": _Method("model_validate_json", CLASS),
    "parse_file": _Method("model_validate_json", CLASS),
    "from_orm": _Method("model_validate", CLASS, positional=1),
    "schema": _Method("model_json_schema", CLASS, frozenset({"by_alias", "ref_template"}), 2),
    "schema_json": _Method("model_json_schema", CLASS, _ANY),
    "update_forward_refs": _Method("model_rebuild", CLASS, rejected=_ANY),
    "construct": _Method("model_construct", CLASS, _ANY, 1),
}
ATTRIBUTES = {"__fields__": "model_fields", "__fields_set__": "model_fields_set"}
_STRING_TYPES = frozenset({"builtins.str", "builtins.bytes"})


class PydanticV1Method(Rule):
    """Pydantic v1 method (`.dict()`, `.json()`, `.parse_obj()`, ...) called on a model.

    ## What it does
    Checks for the v1 methods and attributes of Pydantic models that Pydantic 2 renamed:
    `.dict()`, `.json()`, `.copy()`, `.parse_obj()`, `.parse_raw()`, `.parse_file()`,
    `.from_orm()`, `.schema()`, `.schema_json()`, `.update_forward_refs()`, `.construct()`,
    `__fields__` and `__fields_set__`.

    Only receivers that are provably Pydantic models count: a class that derives from
    `BaseModel` (or `SQLModel`, `BaseSettings`), directly or through the project's classes
    in any module; a name annotated with such a class (a route's body parameter, `item:
    Item | None`, `Annotated[Item, Body()]`); a name assigned `Item(...)`,
    `Item.parse_obj(...)` or the result of a function annotated to return `Item`; `self`
    and `cls` in the model's own methods. `response.json()`, `counter.copy()` or
    `row.dict()` on anything else are never reported, nor a method the model (or one of
    its project base classes) defines itself.

    ## Why is this bad?
    The v1 names are deprecated in Pydantic 2: each call emits a `PydanticDeprecatedSince20`
    warning, and they will be removed in Pydantic 3. Some v1 arguments fail outright:
    `.json(encoder=...)`, `.json(indent=2)` and `.dict(skip_defaults=True)` raise a
    `TypeError` under Pydantic 2.

    Code that deliberately uses Pydantic 1 is not flagged: files that import from
    `pydantic.v1`; projects that declare Pydantic 1 in `pyproject.toml`,
    `requirements*.txt` or a lock file (or a FastAPI older than 0.100), unless
    `pydantic-version = 2` is set; and branches that test the Pydantic version
    (`if PYDANTIC_V2: ... else: ...`, `except AttributeError:`).

    ## Example
    ```python
    from fastapi import FastAPI
    from pydantic import BaseModel

    app = FastAPI()


    class ItemIn(BaseModel):
        name: str


    @app.post("/items", status_code=201)
    async def create_item(item: ItemIn) -> dict:
        \"\"\"Create an item.\"\"\"
        return {"id": 1, **item.dict()}
    ```

    Use instead:
    ```python
    from fastapi import FastAPI
    from pydantic import BaseModel

    app = FastAPI()


    class ItemIn(BaseModel):
        name: str


    @app.post("/items", status_code=201)
    async def create_item(item: ItemIn) -> dict:
        \"\"\"Create an item.\"\"\"
        return {"id": 1, **item.model_dump()}
    ```

    ## Fix safety
    The renames are safe: under Pydantic 2 each deprecated method calls its replacement
    with the same arguments. `.dict()` becomes `.model_dump()`, `.json()`
    `.model_dump_json()`, `.copy(update=..., deep=...)` `.model_copy(...)`, `.parse_obj()`
    `.model_validate()`, `.from_orm(obj)` `.model_validate(obj, from_attributes=True)`,
    `.schema()` `.model_json_schema()`, `.schema_json(...)`
    `json.dumps(Model.model_json_schema(...), ...)`, `.update_forward_refs()`
    `.model_rebuild()`, `.construct()` `.model_construct()`, `Model.__fields__`
    `Model.model_fields` (`type(item).model_fields` on an instance) and `__fields_set__`
    `model_fields_set`. (One difference: `.dict()` and `.json()` ignore the v2 setting
    `serialize_by_alias=True`, `.model_dump()` honours it.)

    `.parse_raw(data)` becomes `.model_validate_json(data)` only when `data` is provably a
    `str` or `bytes` (a literal, or a name annotated so), and unsafely: Pydantic 2
    validates JSON input in JSON mode, which differs in details from validating the
    decoded Python objects.

    Reported without a fix: arguments that do not carry over (`.copy(include=...)`,
    `.json(encoder=...)`, `.dict(skip_defaults=...)`, `**options`), and `.parse_file()`
    (read the file, then call `.model_validate_json()`).

    ## Options
    None.
    """

    code = "FAPI503"
    name = "pydantic-v1-method"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.WARNING
    fixable = True
    fix_safety = "sometimes"
    triggers = (
        b".dict(", b".json(", b".copy(", b"parse_obj", b"parse_raw", b"parse_file",
        b"from_orm", b"schema", b"update_forward_refs", b"construct", b"__fields",
    )  # fmt: skip

    def screen(self, facts: Facts) -> bool:
        if facts.pydantic_v1_project:  # `is_pydantic_v1_code`
            return False
        return bool(facts.calls & METHODS.keys()) or bool(facts.names & ATTRIBUTES.keys())

    def check(self, model: FileModel) -> Iterator[Finding]:
        if is_pydantic_v1_code(model):
            return
        for site in model.calls:
            func = site.call.func
            if isinstance(func, cst.Attribute) and func.attr.value in METHODS:
                finding = self._call_finding(model, site, func)
                if finding is not None:
                    yield finding
        for attribute, scope in _v1_attributes(model):
            finding = self._attribute_finding(model, attribute, scope)
            if finding is not None:
                yield finding

    def _call_finding(
        self, model: FileModel, site: CallSite, func: cst.Attribute
    ) -> Finding | None:
        old = func.attr.value
        method = METHODS[old]
        owner = _receiver(model, func.value, site.scope, method.on)
        if owner is None or old in owner.defined or in_version_branch(model, site.call):
            return None
        rejected = _rejected_argument(site.call, method)
        if rejected is not None:
            message = (
                f"`.{old}({rejected})` on `{owner.name}` fails under Pydantic 2: use "
                f"`.{method.new}()`"
            )
            return self.finding(func, message, Severity.ERROR)
        message = f"`.{old}()` on `{owner.name}` is deprecated in Pydantic 2: "
        message += _advice(old, method)
        return self.finding(func, message, fix=_call_fix(model, site, func, method))

    def _attribute_finding(
        self, model: FileModel, attribute: cst.Attribute, scope: Scope
    ) -> Finding | None:
        old = attribute.attr.value
        new = ATTRIBUTES[old]
        owner = class_receiver(model, attribute.value, scope) if old == "__fields__" else None
        on_class = owner is not None
        owner = owner or instance_model(model, attribute.value, scope)
        if owner is None or old in owner.defined or in_version_branch(model, attribute):
            return None
        message = f"`{old}` of `{owner.name}` is deprecated in Pydantic 2: use `{new}`"
        if on_class or old == "__fields_set__":
            fix = Fix(f"Use `{new}`", Applicability.SAFE, {attribute.attr: cst.Name(new)})
        else:
            fix = _fields_of_type(model, attribute, scope)
        return self.finding(attribute, message, fix=fix)


def _receiver(
    model: FileModel, expr: cst.BaseExpression, scope: Scope, on: str
) -> ModelClass | None:
    if on == CLASS:
        return class_receiver(model, expr, scope)
    return instance_model(model, expr, scope)


def _advice(old: str, method: _Method) -> str:
    if old == "parse_file":
        return "read the file, then use `.model_validate_json()`"
    if old == "schema_json":
        return "use `json.dumps(Model.model_json_schema())`"
    if old == "from_orm":
        return "use `.model_validate(obj, from_attributes=True)`"
    return f"use `.{method.new}()`"


def _rejected_argument(call: cst.Call, method: _Method) -> str | None:
    """The first argument Pydantic 2's deprecated method raises a TypeError on."""
    for argument in call.args:
        if argument.keyword is None:
            continue
        name = argument.keyword.value
        if name in method.rejected or (method.rejected == _ANY and name not in method.keywords):
            return f"{name}=..."
    return None


# -- fixes ----------------------------------------------------------------------------------


def _call_fix(model: FileModel, site: CallSite, func: cst.Attribute, method: _Method) -> Fix | None:
    old = func.attr.value
    call = site.call
    if any(argument.star for argument in call.args) and method.keywords != _ANY:
        return None
    if old == "schema_json":
        return _schema_json_fix(model, site, func)
    if old == "from_orm":
        return _from_orm_fix(call, func)
    if old == "parse_raw":
        return _parse_raw_fix(model, site, func, method)
    if old == "parse_file" or not _arguments_carry_over(call, method):
        return None
    return _rename(func, method.new, Applicability.SAFE)


def _rename(func: cst.Attribute, new: str, applicability: Applicability) -> Fix:
    title = f"Replace `.{func.attr.value}()` with `.{new}()`"
    return Fix(title, applicability, {func.attr: cst.Name(new)})


def _arguments_carry_over(call: cst.Call, method: _Method) -> bool:
    if method.keywords == _ANY:
        return True
    positional = [argument for argument in call.args if argument.keyword is None]
    keywords = {a.keyword.value for a in call.args if a.keyword is not None}
    return len(positional) <= method.positional and keywords <= method.keywords


def _from_orm_fix(call: cst.Call, func: cst.Attribute) -> Fix | None:
    """`Item.from_orm(row)` -> `Item.model_validate(row, from_attributes=True)`."""
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        return None
    source = call.args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    flag = cst.Arg(
        cst.Name("True"),
        keyword=cst.Name("from_attributes"),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )
    new_func = func.with_changes(attr=cst.Name("model_validate"))
    fixed = call.with_changes(func=new_func, args=[source, flag])
    title = "Replace `.from_orm(obj)` with `.model_validate(obj, from_attributes=True)`"
    return Fix(title, Applicability.SAFE, {call: fixed})


def _schema_json_fix(model: FileModel, site: CallSite, func: cst.Attribute) -> Fix | None:
    """`Item.schema_json(indent=2)` -> `json.dumps(Item.model_json_schema(), indent=2)`."""
    call = site.call
    if any(argument.keyword is None for argument in call.args):
        return None
    imports: tuple[RequiredImport, ...] = ()
    bound = model.lookup("json", site.scope)
    if bound is None:
        imports = (RequiredImport("json"),)
    elif model.qualified_name(cst.Name("json"), site.scope) != "json":
        return None  # `json` names something else here
    inner = [a for a in call.args if a.keyword and a.keyword.value in ("by_alias", "ref_template")]
    outer = [a for a in call.args if a not in inner]
    schema = cst.Call(func.with_changes(attr=cst.Name("model_json_schema")), args=_commas(inner))
    dumps = cst.Attribute(cst.Name("json"), cst.Name("dumps"))
    fixed = cst.Call(dumps, args=_commas([cst.Arg(schema), *outer]))
    title = "Replace `.schema_json()` with `json.dumps(.model_json_schema())`"
    return Fix(title, Applicability.SAFE, {call: fixed}, imports)


def _commas(arguments: list[cst.Arg]) -> list[cst.Arg]:
    """The arguments on one line: `a, b`."""
    between = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    last = len(arguments) - 1
    return [
        a.with_changes(comma=between if i < last else cst.MaybeSentinel.DEFAULT)
        for i, a in enumerate(arguments)
    ]


def _parse_raw_fix(
    model: FileModel, site: CallSite, func: cst.Attribute, method: _Method
) -> Fix | None:
    """`.model_validate_json(data)`, unsafely, when `data` is provably `str` or `bytes`."""
    call = site.call
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        return None
    if not _is_text(model, call.args[0].value, site.scope):
        return None
    return _rename(func, method.new, Applicability.UNSAFE)


def _is_text(model: FileModel, value: cst.BaseExpression, scope: Scope) -> bool:
    if isinstance(value, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString):
        return True
    if not isinstance(value, cst.Name):
        return False
    where = model.binding_scope(value.value, scope)
    bindings = where.bindings[value.value] if where is not None else []
    annotated = [
        model.annotation_name(b.annotation, where.parent or where)  # type: ignore[union-attr]
        for b in bindings
        if b.kind in (BindingKind.PARAM, BindingKind.ASSIGN) and b.annotation is not None
    ]
    return bool(annotated) and len(annotated) == len(bindings) and set(annotated) <= _STRING_TYPES


def _fields_of_type(model: FileModel, attribute: cst.Attribute, scope: Scope) -> Fix | None:
    """`item.__fields__` -> `type(item).model_fields`: the class property, as Pydantic 2
    prefers (on an instance it is deprecated too)."""
    if model.qualified_name(cst.Name("type"), scope) != "builtins.type":
        return None
    receiver = cst.Call(cst.Name("type"), args=[cst.Arg(attribute.value)])
    fixed = cst.Attribute(receiver, cst.Name("model_fields"))
    return Fix("Use `type(...).model_fields`", Applicability.SAFE, {attribute: fixed})


def _v1_attributes(model: FileModel) -> Iterator[tuple[cst.Attribute, Scope]]:
    """`x.__fields__` and `x.__fields_set__`, with their scope (the search walks the whole
    tree: only in files that contain `__fields`)."""
    if not may_mention(model, b"__fields"):
        return
    for node, scope, shadowed in walk_with_scopes(model):
        if not isinstance(node, cst.Attribute) or node.attr.value not in ATTRIBUTES:
            continue
        if _head_name(node.value) not in shadowed:
            yield node, scope


def _head_name(expr: cst.BaseExpression) -> str | None:
    while isinstance(expr, cst.Attribute | cst.Call | cst.Subscript):
        expr = expr.value if not isinstance(expr, cst.Call) else expr.func
    return expr.value if isinstance(expr, cst.Name) else None

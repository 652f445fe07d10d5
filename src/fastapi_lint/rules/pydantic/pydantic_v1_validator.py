from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fastapi_lint.diagnostics import Severity
from fastapi_lint.fixes import Applicability, Fix, RequiredImport
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.pydantic_models import in_version_branch, is_pydantic_v1_code
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts, QualifiedNames
from fastapi_lint.semantic import BindingKind, FileModel, Scope, children, is_false, is_true

VALIDATOR = frozenset({"pydantic.validator", "pydantic.class_validators.validator"})
ROOT_VALIDATOR = frozenset({"pydantic.root_validator", "pydantic.class_validators.root_validator"})
CLASSMETHOD = "builtins.classmethod"
VALUES = "values"
INFO = "info"
VALIDATION_INFO = "ValidationInfo"
# Where a use of `values` may become `info.data`: loads only (a binding of the name, in
# the validator or a function nested in it, stops the fix).
_LOAD_PARENTS = (
    "Subscript", "Attribute", "Arg", "ComparisonTarget", "Comparison", "Return",
    "StarredDictElement", "DictElement", "FormattedStringExpression", "BooleanOperation",
    "UnaryOperation", "BinaryOperation", "IfExp", "Expr", "Assign", "Await", "Yield",
)  # fmt: skip


@dataclass(frozen=True)
class _Decorator:
    """A `@validator(...)` or `@root_validator(...)` decorator of a method."""

    node: cst.Decorator
    function: cst.FunctionDef
    scope: Scope  # where the decorator is evaluated: the class body
    root: bool


_DECORATOR_NAMES = QualifiedNames(VALIDATOR | ROOT_VALIDATOR)


class PydanticV1Validator(Rule):
    """Pydantic v1 `@validator` or `@root_validator` decorator.

    ## What it does
    Checks for methods decorated with `validator(...)` or `root_validator(...)` from
    `pydantic` (any import spelling).

    ## Why is this bad?
    Pydantic 2 replaced them with `@field_validator` and `@model_validator`. The old
    decorators still work, with a `PydanticDeprecatedSince20` warning, and will be removed
    in Pydantic 3. Their arguments changed too: `pre=True` is `mode="before"`, a validator
    reads the other fields from `info.data` instead of a `values` argument, and an `after`
    root validator is an instance method that works on `self`.

    Code that deliberately uses Pydantic 1 is not flagged: files that import from
    `pydantic.v1`; projects that declare Pydantic 1 in `pyproject.toml`,
    `requirements*.txt` or a lock file (or a FastAPI older than 0.100), unless
    `pydantic-version = 2` is set; and branches that test the Pydantic version
    (`if PYDANTIC_V2: ... else: ...`, `except AttributeError:`).

    ## Example
    ```python
    from pydantic import BaseModel, validator


    class Signup(BaseModel):
        email: str
        password: str
        password_again: str

        @validator("email", pre=True)
        def clean_email(cls, value):
            return value.strip().lower()

        @validator("password_again")
        def passwords_match(cls, value, values):
            if value != values.get("password"):
                raise ValueError("passwords do not match")
            return value
    ```

    Use instead:
    ```python
    from pydantic import BaseModel, field_validator


    class Signup(BaseModel):
        email: str
        password: str
        password_again: str

        @field_validator("email", mode="before")
        @classmethod
        def clean_email(cls, value):
            return value.strip().lower()

        @field_validator("password_again")
        @classmethod
        def passwords_match(cls, value, info):
            if value != info.data.get("password"):
                raise ValueError("passwords do not match")
            return value
    ```

    ## Fix safety
    The fix replaces `@validator(...)` with `@field_validator(...)` and adds `@classmethod`:
    `pre=True` becomes `mode="before"`, `allow_reuse=` is dropped (Pydantic 2 needs none),
    and a `(cls, value, values)` signature becomes `(cls, value, info)` with every use of
    `values` read from `info.data`. `@root_validator(pre=True)` becomes
    `@model_validator(mode="before")` with `@classmethod`, its `(cls, values)` signature
    kept. The imports are added.

    It is unsafe: validation order and inputs differ in details. A `before` model validator
    receives whatever was passed in (an ORM object, a model), where a v1 `pre` root validator
    always got a dict; `info.data` holds only the fields that validated before this one.

    Reported without a fix: `always=True` (set `validate_default=True` on the field) and
    `each_item=True` (validate the items with an `Annotated` type), validators that take
    `field`, `config` or `**kwargs`, an `after` root validator (rewrite it as
    `@model_validator(mode="after")` on `self`), a method with other decorators, and a name
    `info` the validator already uses.

    ## Options
    None.
    """

    code = "FAPI502"
    name = "pydantic-v1-validator"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.WARNING
    fixable = True
    fix_safety = "unsafe"
    triggers = (b"validator",)

    def screen(self, facts: Facts) -> bool:
        return _DECORATOR_NAMES.named(facts) and not facts.pydantic_v1_project

    def check(self, model: FileModel) -> Iterator[Finding]:
        if is_pydantic_v1_code(model):
            return
        for decorator in _decorators(model):
            if in_version_branch(model, decorator.node):
                continue
            if decorator.root:
                yield self._root_finding(model, decorator)
            else:
                yield self._field_finding(model, decorator)

    def _field_finding(self, model: FileModel, decorator: _Decorator) -> Finding:
        name = decorator.function.name.value
        message = f"Pydantic v1 `@validator` on `{name}`: use `@field_validator`"
        call = decorator.node.decorator
        if isinstance(call, cst.Call):
            blocker = _field_blocker(call)
            if blocker is not None:
                return self.finding(decorator.node, f"{message} ({blocker})")
        return self.finding(decorator.node, message, fix=_field_fix(model, decorator))

    def _root_finding(self, model: FileModel, decorator: _Decorator) -> Finding:
        name = decorator.function.name.value
        call = decorator.node.decorator
        if isinstance(call, cst.Call) and _is_pre(call):
            message = f"Pydantic v1 `@root_validator` on `{name}`: use `@model_validator`"
            return self.finding(decorator.node, message, fix=_root_fix(model, decorator))
        message = (
            f"Pydantic v1 `@root_validator` on `{name}`: use "
            '`@model_validator(mode="after")`, which validates `self`, not a dict of values'
        )
        return self.finding(decorator.node, message)


def _decorators(model: FileModel) -> Iterator[_Decorator]:
    for function, info in model.functions.items():
        owner = info.scope.parent
        if owner is None or owner.kind != "class":
            continue
        for decorator in function.decorators:
            expression = decorator.decorator
            callee = expression.func if isinstance(expression, cst.Call) else expression
            qualified = model.qualified_name(callee, owner)
            if qualified in VALIDATOR and isinstance(expression, cst.Call):
                yield _Decorator(decorator, function, owner, root=False)
            elif qualified in ROOT_VALIDATOR:
                yield _Decorator(decorator, function, owner, root=True)


def _keyword(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def _is_pre(call: cst.Call) -> bool:
    pre = _keyword(call, "pre")
    return pre is not None and is_true(pre.value)


def _field_blocker(call: cst.Call) -> str | None:
    """Why the v1 arguments have no v2 equivalent, or None."""
    for name, advice in (
        ("always", "set `validate_default=True` on the field"),
        ("each_item", "validate the items with an `Annotated` type"),
    ):
        argument = _keyword(call, name)
        if argument is not None and not is_false(argument.value):
            return f"`{name}=` has no direct equivalent: {advice}"
    return None


# -- fixes --------------------------------------------------------------------------------


def _field_fix(model: FileModel, decorator: _Decorator) -> Fix | None:
    call = decorator.node.decorator
    assert isinstance(call, cst.Call)
    arguments = _field_arguments(call)
    converted = _with_info(model, decorator.function)
    if arguments is None or converted is None:
        return None
    function, annotated = converted
    extra: tuple[RequiredImport, ...] = ()
    if annotated:
        if not _name_free(model, VALIDATION_INFO, decorator.scope):
            return None
        extra = (RequiredImport("pydantic", VALIDATION_INFO),)
    new_call = call.with_changes(func=_renamed(call.func, "field_validator"), args=arguments)
    return _decorated_fix(model, decorator, function, new_call, "field_validator", extra)


def _root_fix(model: FileModel, decorator: _Decorator) -> Fix | None:
    call = decorator.node.decorator
    assert isinstance(call, cst.Call)
    if any(a.keyword is None or a.keyword.value not in _ROOT_KEYWORDS for a in call.args):
        return None
    params = decorator.function.params
    if not _positional_only(params) or len(params.params) != 2:
        return None
    before = _keyword(call, "pre")
    assert before is not None
    mode = before.with_changes(keyword=cst.Name("mode"), value=cst.SimpleString('"before"'))
    changes = {"pre": mode, "skip_on_failure": None, "allow_reuse": None}
    new_call = call.with_changes(
        func=_renamed(call.func, "model_validator"), args=_trimmed(call.args, changes)
    )
    return _decorated_fix(model, decorator, decorator.function, new_call, "model_validator")


_ROOT_KEYWORDS = frozenset({"pre", "skip_on_failure", "allow_reuse"})
_FIELD_KEYWORDS = frozenset({"pre", "allow_reuse", "check_fields", "always", "each_item"})


def _field_arguments(call: cst.Call) -> list[cst.Arg] | None:
    """The `field_validator` arguments: the field names, `mode="before"` for `pre=True`,
    `check_fields=`; None when an argument has no known translation."""
    changes: dict[str, cst.Arg | None] = {}
    for argument in call.args:
        if argument.keyword is None:
            if argument.star == "**":
                return None
            continue
        name = argument.keyword.value
        if name not in _FIELD_KEYWORDS:
            return None
        if name == "pre":
            if is_true(argument.value):
                changes[name] = argument.with_changes(
                    keyword=cst.Name("mode"), value=cst.SimpleString('"before"')
                )
            elif not is_false(argument.value):
                return None
        elif name != "check_fields":
            changes[name] = None  # allow_reuse, and always=False, each_item=False
    return _trimmed(call.args, changes)  # type: ignore[arg-type]


def _trimmed(arguments: Sequence[cst.Arg], changes: dict[str, cst.Arg | None]) -> list[cst.Arg]:
    """The arguments with some replaced (by keyword) or dropped (None); the last one kept
    ends as the old last one did (with or without a trailing comma)."""
    kept = []
    for argument in arguments:
        name = argument.keyword.value if argument.keyword is not None else None
        if name in changes:
            if changes[name] is not None:
                kept.append(changes[name])
        else:
            kept.append(argument)
    if kept and arguments and kept[-1] is not arguments[-1]:
        kept[-1] = kept[-1].with_changes(comma=arguments[-1].comma)  # type: ignore[union-attr]
    return kept  # type: ignore[return-value]


def _positional_only(params: cst.Parameters) -> bool:
    """Plain positional parameters: no `*`, `*args`, keyword-only, `**kwargs` or `/`."""
    star = isinstance(params.star_arg, cst.Param | cst.ParamStar)
    return not (star or params.kwonly_params or params.star_kwarg or params.posonly_params)


def _renamed(func: cst.BaseExpression, name: str) -> cst.BaseExpression:
    """`validator` -> `field_validator`, `pydantic.validator` -> `pydantic.field_validator`."""
    if isinstance(func, cst.Attribute):
        return func.with_changes(attr=cst.Name(name))
    return cst.Name(name)


def _decorated_fix(
    model: FileModel,
    decorator: _Decorator,
    function: cst.FunctionDef,
    new_call: cst.Call,
    new_name: str,
    extra: tuple[RequiredImport, ...] = (),
) -> Fix | None:
    """The method with the new decorator and `@classmethod`, the imports added."""
    others = [d for d in function.decorators if d is not decorator.node]
    if any(model.qualified_name(d.decorator, decorator.scope) != CLASSMETHOD for d in others):
        return None  # other decorators: their order with the new ones matters
    if model.qualified_name(cst.Name("classmethod"), decorator.scope) != CLASSMETHOD:
        return None
    imports = extra
    if isinstance(new_call.func, cst.Name):
        if not _name_free(model, new_name, decorator.scope):
            return None
        imports = (RequiredImport("pydantic", new_name), *extra)
    decorators = [decorator.node.with_changes(decorator=new_call)]
    decorators.append(others[0] if others else cst.Decorator(cst.Name("classmethod")))
    new_function = function.with_changes(decorators=decorators)
    title = f"Use `@{new_name}` with `@classmethod`"
    return Fix(title, Applicability.UNSAFE, {decorator.function: new_function}, imports)


def _name_free(model: FileModel, name: str, scope: Scope) -> bool:
    """Whether `name` is unbound where the decorator runs, or already Pydantic's."""
    if model.lookup(name, scope) is None:
        return True
    return model.qualified_name(cst.Name(name), scope) == f"pydantic.{name}"


# -- the `values` argument ---------------------------------------------------------------------


def _with_info(model: FileModel, function: cst.FunctionDef) -> tuple[cst.FunctionDef, bool] | None:
    """The validator with `(cls, value, values)` turned into `(cls, value, info)` and
    `values` read from `info.data` (and whether `info` is annotated `ValidationInfo`);
    unchanged for `(cls, value)`; None for any other signature."""
    params = function.params
    if not _positional_only(params):
        return None
    positional = params.params
    if any(param.default is not None for param in positional[1:]):
        return None
    if len(positional) == 2:
        return function, False
    if len(positional) != 3 or positional[2].name.value != VALUES:
        return None
    if any(param.name.value == INFO for param in positional):
        return None
    uses = _values_uses(model, function)
    if uses is None:
        return None
    info = positional[2].with_changes(name=cst.Name(INFO))
    annotated = info.annotation is not None
    if annotated:  # `values: dict` becomes `info: ValidationInfo`
        info = info.with_changes(annotation=cst.Annotation(cst.Name(VALIDATION_INFO)))
    params = params.with_changes(params=[*positional[:2], info])
    body = _replace_names(function.body, uses)
    return function.with_changes(params=params, body=body), annotated


def _values_uses(model: FileModel, function: cst.FunctionDef) -> list[cst.Name] | None:
    """Every use of `values` in the validator's body, when each one is a plain read of the
    parameter and the name `info` is free; None otherwise."""
    info = model.function_info(function)
    if info is None or len(info.scope.bindings.get(VALUES, [])) != 1:
        return None
    if info.scope.bindings[VALUES][0].kind is not BindingKind.PARAM:
        return None
    uses = []
    for node, parent in _with_parents(function.body):
        if not isinstance(node, cst.Name) or node.value not in (VALUES, INFO):
            continue
        if _is_attribute_name(node, parent):
            continue
        if node.value == INFO or type(parent).__name__ not in _LOAD_PARENTS:
            return None
        if isinstance(parent, cst.Assign) and parent.value is not node:
            return None
        uses.append(node)
    return uses


def _is_attribute_name(node: cst.Name, parent: cst.CSTNode | None) -> bool:
    """`x.values` or `f(values=...)`: the name of an attribute or a keyword, no variable."""
    if isinstance(parent, cst.Attribute):
        return parent.attr is node
    return isinstance(parent, cst.Arg) and parent.keyword is node


def _with_parents(root: cst.CSTNode) -> Iterator[tuple[cst.CSTNode, cst.CSTNode | None]]:
    pending: list[tuple[cst.CSTNode, cst.CSTNode | None]] = [(root, None)]
    while pending:
        node, parent = pending.pop()
        yield node, parent
        pending.extend((child, node) for child in children(node))


def _replace_names(body: cst.BaseSuite, uses: list[cst.Name]) -> cst.BaseSuite:
    wanted = {id(use) for use in uses}
    data = cst.Attribute(cst.Name(INFO), cst.Name("data"))

    class Replace(cst.CSTTransformer):
        def leave_Name(self, original_node, updated_node):  # type: ignore[no-untyped-def]
            return data if id(original_node) in wanted else updated_node

    return body.visit(Replace())  # type: ignore[return-value]

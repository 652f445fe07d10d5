from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi_lint.diagnostics import Severity
from fastapi_lint.fixes import Applicability, Fix, RequiredImport
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.pydantic_models import is_pydantic_v1_code, walk
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import BindingKind, FileModel, string_value

# Names Pydantic 2 removed: importing one fails (`pydantic._migration.REMOVED_IN_V2`).
_REMOVED_TEXT = {
    "pydantic": """ConstrainedBytes ConstrainedDate ConstrainedDecimal ConstrainedFloat
        ConstrainedFrozenSet ConstrainedInt ConstrainedList ConstrainedSet ConstrainedStr
        JsonWrapper NoneBytes NoneStr NoneStrBytes Protocol Required StrBytes compiled
        create_model_from_namedtuple create_model_from_typeddict parse_file_as parse_raw_as
        stricturl validate_model""",
    "pydantic.types": """ConstrainedBytes ConstrainedDate ConstrainedDecimal ConstrainedFloat
        ConstrainedFrozenSet ConstrainedInt ConstrainedList ConstrainedSet ConstrainedStr
        JsonWrapper NoneBytes NoneStr NoneStrBytes StrBytes""",
    "pydantic.tools": "parse_file_as parse_raw_as",
    "pydantic.main": "validate_model",
    "pydantic.networks": "stricturl",
    "pydantic.error_wrappers": "ErrorWrapper",
    "pydantic.config": "get_config inherit_config prepare_config",
    "pydantic.dataclasses": """create_pydantic_model_from_dataclass make_dataclass_validator
        set_validation""",
    "pydantic.datetime_parse": "parse_date parse_datetime parse_duration parse_time",
    "pydantic.utils": """ClassAttribute DUNDER_ATTRIBUTES PyObjectStr ValueItems
        almost_equal_floats get_discriminator_alias_and_values get_model
        get_unique_discriminator_alias in_ipython is_valid_identifier path_type
        validate_field_name""",
    "pydantic.typing": """AbstractSetIntStr AnyCallable AnyClassMethod CallableGenerator DictAny
        DictIntStrAny DictStrAny IntStr ListStr MappingIntStrAny NoArgAnyCallable NoneType
        ReprArgs SetStr StrPath TupleGenerator WithArgsTypes all_literal_values
        display_as_type evaluate_forwardref get_all_type_hints get_args get_origin
        get_sub_types is_callable_type is_classvar is_finalvar is_literal_type is_namedtuple
        is_new_type is_none_type is_typeddict is_typeddict_special is_union
        new_type_supertype resolve_annotations typing_base update_field_forward_refs
        update_model_forward_refs""",
    "pydantic.errors": """AnyStrMaxLengthError AnyStrMinLengthError ArbitraryTypeError BoolError
        BytesError CallableError ClassError ColorError ConfigError DataclassTypeError DateError
        DateNotInTheFutureError DateNotInThePastError DateTimeError DecimalError
        DecimalIsNotFiniteError DecimalMaxDigitsError DecimalMaxPlacesError
        DecimalWholeDigitsError DictError DurationError EmailError EnumError EnumMemberError
        ExtraError FloatError FrozenSetError FrozenSetMaxLengthError FrozenSetMinLengthError
        HashableError IPv4AddressError IPv4InterfaceError IPv4NetworkError IPv6AddressError
        IPv6InterfaceError IPv6NetworkError IPvAnyAddressError IPvAnyInterfaceError
        IPvAnyNetworkError IntEnumError IntegerError InvalidByteSize InvalidByteSizeUnit
        InvalidDiscriminator InvalidLengthForBrand JsonError JsonTypeError ListError
        ListMaxLengthError ListMinLengthError ListUniqueItemsError LuhnValidationError
        MissingDiscriminator MissingError NoneIsAllowedError NoneIsNotAllowedError
        NotDigitError NotNoneError NumberNotGeError NumberNotGtError NumberNotLeError
        NumberNotLtError NumberNotMultipleError PathError PathNotADirectoryError
        PathNotAFileError PathNotExistsError PatternError PyObjectError PydanticTypeError
        PydanticValueError SequenceError SetError SetMaxLengthError SetMinLengthError StrError
        StrRegexError StrictBoolError SubclassError TimeError TupleError TupleLengthError
        UUIDError UUIDVersionError UrlError UrlExtraError UrlHostError UrlHostTldError
        UrlPortError UrlSchemeError UrlSchemePermittedError UrlUserInfoError
        WrongConstantError""",
}
REMOVED = frozenset(
    f"{module}.{name}" for module, text in _REMOVED_TEXT.items() for name in text.split()
)
ERROR_WRAPPERS = "pydantic.error_wrappers"


@dataclass(frozen=True)
class _Change:
    severity: Severity
    message: str
    kind: str | None = None  # how to fix: "settings", "unused", "parse_obj_as", "moved"


def _deprecated(name: str, instead: str, kind: str | None = None) -> _Change:
    return _Change(Severity.WARNING, f"`{name}` is deprecated in Pydantic 2: use {instead}", kind)


_VALIDATOR = _deprecated("validator", "`field_validator`", "unused")
_ROOT_VALIDATOR = _deprecated("root_validator", "`model_validator`", "unused")
_PARSE_OBJ_AS = _deprecated(
    "parse_obj_as", "`TypeAdapter(type).validate_python(value)`", "parse_obj_as"
)
_SETTINGS = _Change(
    Severity.ERROR,
    "`BaseSettings` moved to the `pydantic-settings` package: importing it from `pydantic` "
    "fails under Pydantic 2",
    "settings",
)
CHANGES: dict[str, _Change] = {
    "pydantic.BaseSettings": _SETTINGS,
    "pydantic.env_settings.BaseSettings": _SETTINGS,
    "pydantic.validator": _VALIDATOR,
    "pydantic.class_validators.validator": _VALIDATOR,
    "pydantic.root_validator": _ROOT_VALIDATOR,
    "pydantic.class_validators.root_validator": _ROOT_VALIDATOR,
    "pydantic.parse_obj_as": _PARSE_OBJ_AS,
    "pydantic.tools.parse_obj_as": _PARSE_OBJ_AS,
    "pydantic.error_wrappers.ValidationError": _Change(
        Severity.WARNING,
        "`pydantic.error_wrappers.ValidationError` moved to `pydantic.ValidationError` in "
        "Pydantic 2",
        "moved",
    ),
    "pydantic.generics.GenericModel": _deprecated(
        "GenericModel", "`BaseModel` with `typing.Generic`"
    ),
    ERROR_WRAPPERS: _Change(
        Severity.WARNING,
        "`pydantic.error_wrappers` is gone in Pydantic 2: import `ValidationError` from `pydantic`",
    ),
}


@dataclass(frozen=True)
class _Import:
    """One imported name: its alias in a `from` import (None for `import a.b`)."""

    line: cst.SimpleStatementLine
    statement: cst.ImportFrom | cst.Import
    alias: cst.ImportAlias
    qualified: str
    top_level: bool  # the line is a statement of the module itself


_PACKAGES = frozenset(name.split(".", 1)[0] for name in [*CHANGES, *REMOVED])


class PydanticV1Import(Rule):
    """Import of a Pydantic v1 name that Pydantic 2 moved, deprecated or removed.

    ## What it does
    Checks `from pydantic import ...` (and `import pydantic.x`) statements for:

    - `BaseSettings`, which moved to the `pydantic-settings` package: the import fails;
    - `validator` and `root_validator`, deprecated for `field_validator` and
      `model_validator` (FAPI502 rewrites the decorators themselves);
    - `parse_obj_as`, deprecated for `TypeAdapter(type).validate_python(value)`;
    - `pydantic.error_wrappers`: its `ValidationError` moved to `pydantic`, its
      `ErrorWrapper` was removed;
    - `pydantic.generics.GenericModel`, deprecated: `BaseModel` is generic itself;
    - every other name Pydantic 2 removed (`ConstrainedStr`, `parse_raw_as`, the v1 error
      classes of `pydantic.errors` such as `PydanticValueError`, ...): the import fails.

    Imports inside `try` or `if` blocks are not flagged: they are how code supports both
    versions (`try: from pydantic_settings import BaseSettings except ImportError: ...`).
    Nor is code that deliberately uses Pydantic 1: files that import from `pydantic.v1`,
    and projects that declare Pydantic 1 in `pyproject.toml`, `requirements*.txt` or a
    lock file (or a FastAPI older than 0.100), unless `pydantic-version = 2` is set.

    ## Why is this bad?
    Under Pydantic 2, `from pydantic import BaseSettings` and the removed names raise at
    import time: the application does not start. The deprecated names still import, with a
    `PydanticDeprecatedSince20` warning when used, and go away in Pydantic 3.

    ## Example
    ```python
    from pydantic import BaseSettings, parse_obj_as


    class Settings(BaseSettings):
        database_url: str = "sqlite://"


    ports = parse_obj_as(list[int], ["80", "443"])
    ```

    Use instead:
    ```python
    from pydantic import TypeAdapter
    from pydantic_settings import BaseSettings


    class Settings(BaseSettings):
        database_url: str = "sqlite://"


    ports = TypeAdapter(list[int]).validate_python(["80", "443"])
    ```

    ## Fix safety
    - `BaseSettings` is imported from `pydantic_settings` instead. The fix is unsafe: it is
      another package, which the project must install, and its settings differ in details
      (`Field(env=...)` is ignored, use `validation_alias`).
    - `parse_obj_as(T, value)` calls become `TypeAdapter(T).validate_python(value)`, which
      is what Pydantic 2's `parse_obj_as` runs, and the import becomes `TypeAdapter`: safe.
      Offered only when every use of the name in the file is such a call (an import that
      nothing uses is removed, as below).
    - `pydantic.error_wrappers.ValidationError` is imported from `pydantic`: safe, it is the
      same class.
    - An import of `validator` or `root_validator` that nothing in the file uses any more
      (after FAPI502's fixes) is removed: safe. Not in an `__init__.py`, nor for a name in
      `__all__`: other modules may import it from there.

    An aliased name (`import ... as`) is fixed only when it is the statement's only name;
    the other imports are reported without a fix.

    ## Options
    None.
    """

    code = "FAPI505"
    name = "pydantic-v1-import"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.WARNING
    fixable = True
    fix_safety = "sometimes"
    triggers = (b"pydantic",)

    def screen(self, facts: Facts) -> bool:
        if facts.pydantic_v1_project:  # `is_pydantic_v1_code`
            return False
        return any(module.split(".", 1)[0] in _PACKAGES for module in facts.modules)

    def check(self, model: FileModel) -> Iterator[Finding]:
        if is_pydantic_v1_code(model):
            return
        for item in _imports(model.module):
            change = _change(item.qualified)
            if change is None:
                continue
            fix = _fix(model, item, change.kind) if change.kind else None
            yield self.finding(item.alias, change.message, change.severity, fix=fix)


def _change(qualified: str) -> _Change | None:
    if qualified in CHANGES:
        return CHANGES[qualified]
    if qualified in REMOVED:
        name = qualified.rsplit(".", 1)[-1]
        return _Change(Severity.ERROR, f"`{name}` was removed in Pydantic 2: the import fails")
    return None


# -- finding the imports --------------------------------------------------------------------


def _imports(module: cst.Module) -> Iterator[_Import]:
    """Every imported name outside `try` and `if` blocks, in source order."""
    # Blocks whose imports count (defined here: LibCST loads on first use).
    blocks = (cst.FunctionDef, cst.ClassDef, cst.With, cst.For, cst.While)
    pending: list[tuple[cst.CSTNode, bool]] = [(s, True) for s in reversed(module.body)]
    while pending:
        node, top_level = pending.pop()
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                yield from _names(node, small, top_level)
        elif isinstance(node, blocks):
            body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
            pending.extend((s, False) for s in reversed(body))


def _names(
    line: cst.SimpleStatementLine, statement: cst.BaseSmallStatement, top_level: bool
) -> Iterator[_Import]:
    if isinstance(statement, cst.ImportFrom):
        if statement.relative or isinstance(statement.names, cst.ImportStar):
            return
        module = _dotted(statement.module)
        for alias in statement.names:
            yield _Import(line, statement, alias, f"{module}.{_dotted(alias.name)}", top_level)
    elif isinstance(statement, cst.Import):
        for alias in statement.names:
            yield _Import(line, statement, alias, _dotted(alias.name), top_level)


def _dotted(expr: cst.BaseExpression | None) -> str:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return f"{_dotted(expr.value)}.{expr.attr.value}"
    return ""


# -- fixes ------------------------------------------------------------------------------------


def _fix(model: FileModel, item: _Import, kind: str) -> Fix | None:
    if not isinstance(item.statement, cst.ImportFrom):
        return None
    if kind == "settings":
        return _move(item, "pydantic_settings", Applicability.UNSAFE)
    if kind == "moved":
        return _move(item, "pydantic", Applicability.SAFE)
    if kind == "unused":
        return _remove_unused(model, item)
    return _parse_obj_as_fix(model, item)


def _move(item: _Import, module: str, applicability: Applicability) -> Fix | None:
    """Import the name from `module` instead."""
    statement = item.statement
    assert isinstance(statement, cst.ImportFrom)
    name = _dotted(item.alias.name)
    title = f"Import `{name}` from `{module}`"
    if len(statement.names) == 1:  # type: ignore[arg-type]
        moved = statement.with_changes(module=_module_expr(module))
        return Fix(title, applicability, {statement: moved})
    if item.alias.asname is not None:
        return None
    without = _without_alias(statement, item.alias)
    return Fix(title, applicability, {statement: without}, (RequiredImport(module, name),))


def _module_expr(module: str) -> cst.Name | cst.Attribute:
    head, *rest = module.split(".")
    expr: cst.Name | cst.Attribute = cst.Name(head)
    for part in rest:
        expr = cst.Attribute(expr, cst.Name(part))
    return expr


def _without_alias(statement: cst.ImportFrom, alias: cst.ImportAlias) -> cst.ImportFrom:
    names = [name for name in statement.names if name is not alias]  # type: ignore[union-attr]
    if statement.lpar is None:  # `from x import a, b,` would not parse
        names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return statement.with_changes(names=names)


def _local_name(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return _dotted(alias.name)


def _remove_unused(model: FileModel, item: _Import) -> Fix | None:
    """Drop an import nothing in the file uses, unless other modules may import it."""
    local = _local_name(item.alias)
    if _is_package(model) or local in _dunder_all(model):
        return None
    own = {id(item.alias.name), id(_asname(item.alias))}
    if any(id(name) not in own for name in _names_called(model.module, local)):
        return None
    return _drop(item, f"Remove the unused import of `{local}`")


def _asname(alias: cst.ImportAlias) -> cst.CSTNode | None:
    return alias.asname.name if alias.asname is not None else None


def _drop(item: _Import, title: str) -> Fix | None:
    """The import without the alias; without the whole line when it was its only name."""
    statement = item.statement
    assert isinstance(statement, cst.ImportFrom)
    if len(statement.names) > 1:  # type: ignore[arg-type]
        return Fix(title, Applicability.SAFE, {statement: _without_alias(statement, item.alias)})
    line = item.line
    if not item.top_level or len(line.body) != 1:
        return None
    if any(empty.comment is not None for empty in line.leading_lines):
        return None  # the comment above would go with it
    removal = cst.RemoveFromParent()
    return Fix(title, Applicability.SAFE, {line: removal})  # type: ignore[dict-item]


def _is_package(model: FileModel) -> bool:
    """An `__init__.py` (or a module the index does not know: maybe one)."""
    index = model.project.index
    if index is None or model.module_key is None:
        return True
    info = index.modules.get(model.module_key)
    return info is None or info.is_package


def _dunder_all(model: FileModel) -> frozenset[str]:
    names: set[str] = set()
    for binding in model.module_scope.bindings.get("__all__", []):
        value = binding.value
        if binding.kind is not BindingKind.ASSIGN or not isinstance(value, cst.List | cst.Tuple):
            return frozenset({"*"})  # unknown: keep every import
        names.update(string_value(element.value) or "" for element in value.elements)
    return frozenset(names)


def _names_called(root: cst.CSTNode, name: str) -> Iterator[cst.Name]:
    """Every `Name` node spelling `name` under `root`."""
    for node in walk(root):
        if isinstance(node, cst.Name) and node.value == name:
            yield node


def _parse_obj_as_fix(model: FileModel, item: _Import) -> Fix | None:
    """`parse_obj_as(T, value)` -> `TypeAdapter(T).validate_python(value)`, every call."""
    local = _local_name(item.alias)
    if not _type_adapter_available(model):
        return None
    calls = _calls_of(model.module, local, item.alias)
    if calls is None:
        return None
    if not calls:
        return _remove_unused(model, item)
    replacements: dict[cst.CSTNode, cst.CSTNode] = {
        call: _type_adapter_call(call) for call in calls
    }
    statement = item.statement
    assert isinstance(statement, cst.ImportFrom)
    imported = "TypeAdapter" in model.module_scope.bindings
    if len(statement.names) == 1 and not imported and item.alias.asname is None:  # type: ignore[arg-type]
        renamed = item.alias.with_changes(name=cst.Name("TypeAdapter"))
        replacements[item.alias] = renamed
        return Fix("Replace `parse_obj_as` with `TypeAdapter`", Applicability.SAFE, replacements)
    dropped = _drop(item, "")
    if dropped is None:
        return None
    replacements.update(dropped.replacements)
    return Fix(
        "Replace `parse_obj_as` with `TypeAdapter`",
        Applicability.SAFE,
        replacements,
        (RequiredImport("pydantic", "TypeAdapter"),),
    )


def _type_adapter_available(model: FileModel) -> bool:
    """`TypeAdapter` is free, or already Pydantic's."""
    if model.lookup("TypeAdapter", model.module_scope) is None:
        return True
    return (
        model.qualified_name(cst.Name("TypeAdapter"), model.module_scope) == "pydantic.TypeAdapter"
    )


def _calls_of(root: cst.Module, name: str, alias: cst.ImportAlias) -> list[cst.Call] | None:
    """The calls `name(T, value)` when they are all the file does with the name."""
    own = {id(alias.name), id(_asname(alias))}
    references = [n for n in _names_called(root, name) if id(n) not in own]
    wanted = {id(reference) for reference in references}
    calls = [call for call in _all_calls(root) if id(call.func) in wanted]
    called = {id(call.func) for call in calls}
    if any(id(reference) not in called for reference in references):
        return None
    if not all(_two_positional(call) for call in calls):
        return None
    return calls


def _all_calls(root: cst.CSTNode) -> Iterator[cst.Call]:
    for node in walk(root):
        if isinstance(node, cst.Call):
            yield node


def _two_positional(call: cst.Call) -> bool:
    return len(call.args) == 2 and all(a.keyword is None and not a.star for a in call.args)


def _type_adapter_call(call: cst.Call) -> cst.Call:
    type_, value = (arg.value for arg in call.args)
    adapter = cst.Call(cst.Name("TypeAdapter"), args=[cst.Arg(type_)])
    return cst.Call(cst.Attribute(adapter, cst.Name("validate_python")), args=[cst.Arg(value)])

from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint.diagnostics import Severity
from fastapi_lint.fixes import Applicability, Fix, RequiredImport
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.pydantic_models import in_version_branch, is_pydantic_v1_code
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import FileModel, Scope, is_false, is_true

MODEL = "pydantic.BaseModel"
SETTINGS = "pydantic_settings.BaseSettings"
LINE_LENGTH = 88
EXTRA = frozenset({"pydantic.Extra", "pydantic.config.Extra"})

# Pydantic v1 config keys and their v2 names (v2 keys written in a v1 class stay as they are).
RENAMED_KEYS = {
    "orm_mode": "from_attributes",
    "allow_population_by_field_name": "populate_by_name",
    "schema_extra": "json_schema_extra",
    "anystr_strip_whitespace": "str_strip_whitespace",
    "anystr_lower": "str_to_lower",
    "anystr_upper": "str_to_upper",
    "max_anystr_length": "str_max_length",
    "min_anystr_length": "str_min_length",
    "validate_all": "validate_default",
    "keep_untouched": "ignored_types",
}
UNCHANGED_KEYS = frozenset(
    {
        "title", "extra", "frozen", "validate_assignment", "arbitrary_types_allowed",
        "use_enum_values", "allow_inf_nan", "str_strip_whitespace", "str_to_lower",
        "str_to_upper", "str_max_length", "str_min_length", "from_attributes",
        "populate_by_name", "json_schema_extra", "validate_default", "ignored_types",
        "protected_namespaces", "hide_input_in_errors", "revalidate_instances", "strict",
        "use_attribute_docstrings", "alias_generator", "coerce_numbers_to_str",
        # pydantic-settings
        "env_prefix", "env_file", "env_file_encoding", "env_nested_delimiter",
        "case_sensitive", "secrets_dir", "env_ignore_empty",
    }
)  # fmt: skip


class PydanticV1ConfigClass(Rule):
    """Pydantic model configured with a v1 `class Config`.

    ## What it does
    Checks for a nested `class Config:` in a Pydantic model (a subclass of `BaseModel`, also
    through your own base classes) or in a `pydantic_settings.BaseSettings`.

    ## Why is this bad?
    Pydantic v2 replaced `class Config` with `model_config = ConfigDict(...)` and renamed many
    keys. The old class still works but is deprecated (a warning at import time), and v1 keys
    such as `orm_mode` are silently ignored in v2 unless translated: a response model with
    `orm_mode = True` stops reading attributes from ORM objects.

    Code that deliberately uses Pydantic 1 is not flagged: files that import from
    `pydantic.v1`; projects that declare Pydantic 1 in `pyproject.toml`,
    `requirements*.txt` or a lock file (or a FastAPI older than 0.100), unless
    `pydantic-version = 2` is set; and branches that test the Pydantic version
    (`if PYDANTIC_V2: ... else: ...`, `except AttributeError:`).

    ## Example
    ```python
    from pydantic import BaseModel


    class ItemOut(BaseModel):
        id: int

        class Config:
            orm_mode = True
    ```

    Use instead:
    ```python
    from pydantic import BaseModel, ConfigDict


    class ItemOut(BaseModel):
        id: int

        model_config = ConfigDict(from_attributes=True)
    ```

    ## Fix safety
    The fix replaces the class with `model_config = ConfigDict(...)` (`SettingsConfigDict`
    for settings), renames the keys Pydantic v2 renamed (`orm_mode` to `from_attributes`,
    `allow_population_by_field_name` to `populate_by_name`, `schema_extra` to
    `json_schema_extra`, `anystr_strip_whitespace` to `str_strip_whitespace`,
    `max_anystr_length`/`min_anystr_length` to `str_max_length`/`str_min_length`,
    `validate_all` to `validate_default`, `allow_mutation = False` to `frozen=True`, ...),
    turns `Extra.forbid` into `"forbid"`, and adds the import. It is safe: the configuration
    means the same in v2. It is offered only when every key is known and the class holds
    nothing but `key = value` lines (no methods, no comments, which the fix would lose), and
    when the model has no `model_config` already; otherwise the finding has no fix.

    ## Options
    None.
    """

    code = "FAPI501"
    name = "pydantic-v1-config-class"
    severity = Severity.WARNING
    fixable = True
    fix_safety = "safe"
    triggers = (b"class Config",)

    def screen(self, facts: Facts) -> bool:
        return "Config" in facts.nested_classes and not facts.pydantic_v1_project

    def check(self, model: FileModel) -> Iterator[Finding]:
        if is_pydantic_v1_code(model):
            return
        for class_def, scope in model.classes.items():
            if class_def.name.value != "Config" or scope.kind != "class":
                continue
            owner = scope.node
            assert isinstance(owner, cst.ClassDef)
            ancestors = model.ancestors(owner)
            if not ancestors & {MODEL, SETTINGS} or in_version_branch(model, class_def):
                continue
            factory = "SettingsConfigDict" if SETTINGS in ancestors else "ConfigDict"
            yield self.finding(
                class_def,
                f"Pydantic v1 `class Config` in model `{owner.name.value}`",
                fix=_config_dict_fix(model, class_def, owner, scope, factory),
            )


def _config_dict_fix(
    model: FileModel, config: cst.ClassDef, owner: cst.ClassDef, scope: Scope, factory: str
) -> Fix | None:
    if config.bases or config.decorators or not isinstance(config.body, cst.IndentedBlock):
        return None
    if _has_comment(config.body.with_changes(header=cst.TrailingWhitespace())):
        return None  # the fix would lose it (the `class Config:` line's comment is kept)
    if "model_config" in scope.bindings:
        return None
    module = "pydantic_settings" if factory == "SettingsConfigDict" else "pydantic"
    bound = model.lookup(factory, model.module_scope)
    if bound is not None and model.qualified_name(cst.Name(factory), model.module_scope) != (
        f"{module}.{factory}"
    ):
        return None  # the name is taken by something else
    arguments = _config_arguments(model, config)
    if arguments is None:
        return None
    assign = cst.Assign(
        targets=[cst.AssignTarget(cst.Name("model_config"))],
        value=cst.Call(cst.Name(factory), args=arguments),
    )
    # The comment of the `class Config:` line ends the new line, or its first when it is split.
    header = config.body.header
    if _too_long(model, scope, assign):
        value = _one_per_line(assign.value, model.module.default_indent, header)  # type: ignore[arg-type]
        assign, header = assign.with_changes(value=value), cst.TrailingWhitespace()
    assignment = cst.SimpleStatementLine(
        body=[assign], leading_lines=config.leading_lines, trailing_whitespace=header
    )
    return Fix(
        f"Replace with `model_config = {factory}(...)`",
        Applicability.SAFE,
        {config: assignment},
        (RequiredImport(module, factory),),
    )


def _too_long(model: FileModel, scope: Scope, assign: cst.Assign) -> bool:
    """Whether `model_config = ConfigDict(...)` on one line would be longer than formatters
    allow (88 columns)."""
    depth, outer = 0, scope
    while outer.parent is not None:
        depth, outer = depth + 1, outer.parent
    first_line = model.module.code_for_node(assign).split("\n", 1)[0]
    return len(model.module.default_indent) * depth + len(first_line) > LINE_LENGTH


def _one_per_line(call: cst.Call, indent: str, header: cst.TrailingWhitespace) -> cst.Call:
    """The call with one argument per line and a trailing comma, as formatters write it; the
    comment of `header` goes after the opening parenthesis."""
    inner = cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace(indent))
    opening = inner.with_changes(
        first_line=cst.TrailingWhitespace(whitespace=header.whitespace, comment=header.comment)
    )
    closing = cst.ParenthesizedWhitespace(indent=True)
    last = len(call.args) - 1
    arguments = [
        argument.with_changes(
            comma=cst.Comma(whitespace_after=closing if index == last else inner),
            whitespace_after_arg=cst.SimpleWhitespace(""),
        )
        for index, argument in enumerate(call.args)
    ]
    return call.with_changes(whitespace_before_args=opening, args=arguments)


def _config_arguments(model: FileModel, config: cst.ClassDef) -> list[cst.Arg] | None:
    """`ConfigDict` keyword arguments for the class body, or None if any line is unknown."""
    arguments = []
    for statement in config.body.body:
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return None
        small = statement.body[0]
        if isinstance(small, cst.Pass) or _is_docstring(small):
            continue
        key_value = _key_value(small)
        if key_value is None:
            return None
        converted = _convert(model, *key_value)
        if converted is None:
            return None
        key, value = converted
        equal = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
        arguments.append(cst.Arg(value=value, keyword=cst.Name(key), equal=equal))
    return arguments


def _key_value(statement: cst.BaseSmallStatement) -> tuple[str, cst.BaseExpression] | None:
    if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
        target, value = statement.targets[0].target, statement.value
    elif isinstance(statement, cst.AnnAssign) and statement.value is not None:
        target, value = statement.target, statement.value
    else:
        return None
    return (target.value, value) if isinstance(target, cst.Name) else None


def _convert(
    model: FileModel, key: str, value: cst.BaseExpression
) -> tuple[str, cst.BaseExpression] | None:
    if key == "allow_mutation":  # inverted in v2
        if is_false(value):
            return "frozen", cst.Name("True")
        return ("frozen", cst.Name("False")) if is_true(value) else None
    if (
        key == "extra"
        and isinstance(value, cst.Attribute)
        and model.qualified_name(value.value, model.module_scope) in EXTRA
    ):
        return key, cst.SimpleString(f'"{value.attr.value}"')
    if key in RENAMED_KEYS:
        return RENAMED_KEYS[key], value
    return (key, value) if key in UNCHANGED_KEYS else None


def _has_comment(node: cst.CSTNode) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Comment):
            return True
        stack.extend(current.children)
    return False


def _is_docstring(statement: cst.BaseSmallStatement) -> bool:
    return isinstance(statement, cst.Expr) and isinstance(
        statement.value, cst.SimpleString | cst.ConcatenatedString
    )

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi_lint.diagnostics import Severity
from fastapi_lint.fixes import Applicability, Fix
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.names import canonical
from fastapi_lint.pydantic_models import in_version_branch, is_pydantic_v1_code
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import (
    BindingKind,
    CallSite,
    FileModel,
    Scope,
    is_false,
    is_true,
    string_value,
)

FIELD = frozenset({"pydantic.Field", "pydantic.fields.Field"})
CONSTR = frozenset({"pydantic.constr", "pydantic.types.constr"})
COLLECTIONS = frozenset(
    f"pydantic.{module}{name}"
    for module in ("", "types.")
    for name in ("conlist", "conset", "confrozenset")
)
_PARAMS = ("Query", "Path", "Body", "Header", "Cookie", "Form", "File")
FASTAPI_PARAMS = frozenset(
    f"fastapi.{module}{name}" for module in ("", "param_functions.", "params.") for name in _PARAMS
)
# Regex syntax Python's `re` has and the Rust engine of Pydantic 2 rejects.
_RUST_UNSUPPORTED = ("(?=", "(?!", "(?<=", "(?<!", "(?P=", "(?>", "(?(")


@dataclass(frozen=True)
class _Rename:
    new: str
    severity: Severity
    why: str


# What each callable's v1 keywords are in v2 (None: removed, reported without a fix).
_FIELD_KEYWORDS: dict[str, _Rename | None] = {
    "regex": _Rename("pattern", Severity.ERROR, "was removed in Pydantic 2"),
    "min_items": _Rename("min_length", Severity.WARNING, "is deprecated in Pydantic 2"),
    "max_items": _Rename("max_length", Severity.WARNING, "is deprecated in Pydantic 2"),
    "allow_mutation": _Rename("frozen", Severity.WARNING, "is deprecated in Pydantic 2"),
    "const": None,
    "unique_items": None,
}
_COLLECTION_KEYWORDS: dict[str, _Rename | None] = {
    "min_items": _Rename("min_length", Severity.ERROR, "was removed in Pydantic 2"),
    "max_items": _Rename("max_length", Severity.ERROR, "was removed in Pydantic 2"),
    "unique_items": None,
}
_REGEX = {"regex": _Rename("pattern", Severity.ERROR, "was removed in Pydantic 2")}
_FASTAPI_REGEX = {"regex": _Rename("pattern", Severity.WARNING, "is deprecated")}
_REMOVED = {
    "const": "was removed in Pydantic 2: annotate the field with `Literal[...]`",
    "unique_items": "was removed in Pydantic 2: use a `set` type, or validate uniqueness",
}


_V1_KEYWORDS = frozenset({*_FIELD_KEYWORDS, *_COLLECTION_KEYWORDS, *_REGEX, *_FASTAPI_REGEX})


class PydanticV1FieldArgument(Rule):
    """Pydantic v1 argument of `Field`, `constr`, `conlist` or a FastAPI parameter.

    ## What it does
    Checks for keyword arguments that Pydantic 2 renamed or removed:

    - `Field(regex=...)` and `constr(regex=...)`: now `pattern=`; `Field` raises an error at
      import time, `constr` a `TypeError`;
    - `Field(min_items=..., max_items=...)`: now `min_length=`/`max_length=` (deprecated);
      `conlist`, `conset` and `confrozenset` no longer accept them at all;
    - `Field(allow_mutation=False)`: now `frozen=True` (deprecated);
    - `Field(const=...)`, `Field(unique_items=...)`, `conlist(unique_items=...)`: removed,
      with no argument to rename (use `Literal[...]`, a set type);
    - FastAPI's `Query`, `Path`, `Body`, `Header`, `Cookie`, `Form` and `File` with
      `regex=`: deprecated, now `pattern=`.

    Only calls that resolve to `pydantic` or `fastapi` are checked, through any import.

    ## Why is this bad?
    A model with `Field(regex=...)` or `Field(const=...)` fails to build under Pydantic 2:
    the module that defines it raises at import time, so the whole application stops. The
    deprecated arguments still work, with a `PydanticDeprecatedSince20` warning, and will be
    removed in Pydantic 3.

    Code that deliberately uses Pydantic 1 is not flagged: files that import from
    `pydantic.v1`; projects that declare Pydantic 1 in `pyproject.toml`,
    `requirements*.txt` or a lock file (or a FastAPI older than 0.100), unless
    `pydantic-version = 2` is set; and branches that test the Pydantic version
    (`if PYDANTIC_V2: ... else: ...`, `except AttributeError:`).

    ## Example
    ```python
    from pydantic import BaseModel, Field


    class User(BaseModel):
        username: str = Field(regex="^[a-z0-9_]+$")
        tags: list[str] = Field(default_factory=list, max_items=10)
    ```

    Use instead:
    ```python
    from pydantic import BaseModel, Field


    class User(BaseModel):
        username: str = Field(pattern="^[a-z0-9_]+$")
        tags: list[str] = Field(default_factory=list, max_length=10)
    ```

    ## Fix safety
    The fix renames the argument (`allow_mutation=False` becomes `frozen=True`, and
    `allow_mutation=True`, the default, is dropped). Renames are safe: Pydantic 2 maps the
    deprecated names to the new ones itself, and FastAPI passes `regex=` on as `pattern=`.

    `regex=` of `Field` and `constr` is the exception. Pydantic 1 matched it at the start of
    the string (`re.match`); Pydantic 2 finds `pattern=` anywhere in it, with a regex engine
    that has no look-around or back-references. The rename is safe for a literal pattern
    anchored with `^` (and no top-level `|`), unsafe for any other pattern (unanchored, or
    not a literal: add the `^` where it matters), and not offered for a pattern that uses
    look-around or back-references, which Pydantic 2 would reject.

    No fix is offered when the new argument is given already, for `const=` and
    `unique_items=`, or for an `allow_mutation=` whose value is not `True` or `False`.

    ## Options
    None.
    """

    code = "FAPI504"
    name = "pydantic-v1-field-argument"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.WARNING
    fixable = True
    fix_safety = "sometimes"
    triggers = (b"regex", b"_items", b"allow_mutation", b"const")

    def screen(self, facts: Facts) -> bool:
        return bool(facts.keywords & _V1_KEYWORDS) and not facts.pydantic_v1_project

    def check(self, model: FileModel) -> Iterator[Finding]:
        if is_pydantic_v1_code(model):
            return
        for site in model.calls:
            callee = canonical(model.callee(site) or "")
            keywords = _v1_keywords(callee)
            if keywords is None:
                continue
            for argument in site.call.args:
                name = argument.keyword.value if argument.keyword is not None else None
                if name in keywords and not _skipped(model, site, argument):
                    yield self._finding(model, site, argument, keywords[name], callee)

    def _finding(
        self,
        model: FileModel,
        site: CallSite,
        argument: cst.Arg,
        rename: _Rename | None,
        qualified: str,
    ) -> Finding:
        assert argument.keyword is not None
        old = argument.keyword.value
        callee = qualified.rsplit(".", 1)[-1]
        if rename is None:
            message = f"`{callee}({old}=...)` {_REMOVED[old]}"
            return self.finding(argument, message, Severity.ERROR)
        message = f"`{callee}({old}=...)` {rename.why}: use `{rename.new}=`"
        fix = _fix(model, site, argument, rename.new, qualified in FASTAPI_PARAMS)
        return self.finding(argument, message, rename.severity, fix=fix)


def _skipped(model: FileModel, site: CallSite, argument: cst.Arg) -> bool:
    """Code for both Pydantic versions, and a wrapper handing on its own parameter of the
    same name (`def Query(regex=None): return params.Query(regex=regex)`): its callers
    chose the argument."""
    if in_version_branch(model, argument):
        return True
    value, keyword = argument.value, argument.keyword
    if not (isinstance(value, cst.Name) and keyword is not None and value.value == keyword.value):
        return False
    bindings = model.lookup(value.value, site.scope) or []
    return any(binding.kind is BindingKind.PARAM for binding in bindings)


def _v1_keywords(name: str) -> dict[str, _Rename | None] | None:
    if name in FIELD:
        return _FIELD_KEYWORDS
    if name in CONSTR:
        return _REGEX  # type: ignore[return-value]
    if name in COLLECTIONS:
        return _COLLECTION_KEYWORDS
    if name in FASTAPI_PARAMS:
        return _FASTAPI_REGEX  # type: ignore[return-value]
    return None


def _fix(
    model: FileModel, site: CallSite, argument: cst.Arg, new: str, fastapi: bool
) -> Fix | None:
    """Rename the argument; FastAPI passes `regex=` on as `pattern=`, so its rename is safe."""
    assert argument.keyword is not None
    call = site.call
    old = argument.keyword.value
    given = {arg.keyword.value for arg in call.args if arg.keyword is not None}
    if new in given or any(arg.star == "**" for arg in call.args):
        return None
    if old == "allow_mutation":
        return _allow_mutation_fix(call, argument)
    applicability = Applicability.SAFE
    if old == "regex" and not fastapi:
        applicability = _regex_applicability(model, argument.value, site.scope)
        if applicability is None:
            return None
    return Fix(
        f"Rename `{old}=` to `{new}=`",
        applicability,
        {argument.keyword: cst.Name(new)},
    )


def _allow_mutation_fix(call: cst.Call, argument: cst.Arg) -> Fix | None:
    if is_false(argument.value):
        replacement = argument.with_changes(keyword=cst.Name("frozen"), value=cst.Name("True"))
        return Fix(
            "Replace `allow_mutation=False` with `frozen=True`",
            Applicability.SAFE,
            {argument: replacement},
        )
    if not is_true(argument.value):
        return None
    return Fix(
        "Remove `allow_mutation=True` (the default)",
        Applicability.SAFE,
        {call: _without_argument(call, argument)},
    )


def _without_argument(call: cst.Call, argument: cst.Arg) -> cst.Call:
    """The call without one argument; the last one left keeps the old last one's comma."""
    kept = [arg for arg in call.args if arg is not argument]
    if kept and call.args[-1] is argument:
        kept[-1] = kept[-1].with_changes(comma=argument.comma)
    return call.with_changes(args=kept)


def _regex_applicability(
    model: FileModel, value: cst.BaseExpression, scope: Scope
) -> Applicability | None:
    """SAFE for a literal anchored at the start, UNSAFE for any other pattern, None for one
    that Pydantic 2's regex engine rejects."""
    if isinstance(value, cst.Name):
        value = model.module_constant(value) or value
    pattern = string_value(value)
    if pattern is None:
        return Applicability.UNSAFE
    if any(token in pattern for token in _RUST_UNSUPPORTED) or _has_backreference(pattern):
        return None
    anchored = pattern.startswith(("^", "\\A")) and not _top_level_alternation(pattern)
    return Applicability.SAFE if anchored else Applicability.UNSAFE


def _has_backreference(pattern: str) -> bool:
    escaped = False
    for character in pattern:
        if escaped and character.isdigit() and character != "0":
            return True
        escaped = not escaped and character == "\\"
    return False


def _top_level_alternation(pattern: str) -> bool:
    """Whether `|` splits the whole pattern (then `^` anchors only its first branch)."""
    depth, escaped, in_class = 0, False, False
    for character in pattern:
        if escaped:
            escaped = False
        elif character == "\\":
            escaped = True
        elif in_class:
            in_class = character != "]"
        elif character == "[":
            in_class = True
        elif character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        elif character == "|" and depth == 0:
            return True
    return False

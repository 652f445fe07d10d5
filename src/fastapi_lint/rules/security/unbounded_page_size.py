from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.names import canonical
from fastapi_lint.project.dependencies import is_dependency
from fastapi_lint.pydantic_models import model_fields
from fastapi_lint.route_params import (
    DEPENDENCY,
    UNKNOWN,
    Parameter,
    Where,
    is_method,
    parameters,
    route_path_names,
    subscript_items,
    unquoted,
    unwrap_annotation,
)
from fastapi_lint.rule import Finding, Option, Rule, string_list
from fastapi_lint.semantic import (
    BindingKind,
    FileModel,
    Scope,
    is_none,
    scope_qualname,
    string_value,
)

DEFAULT_NAMES = ("limit", "page_size", "per_page", "size", "count", "top")
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z0-9]+(?![a-z])")
_INTEGERS = frozenset(
    {
        "builtins.int", "pydantic.StrictInt", "pydantic.PositiveInt", "pydantic.NonNegativeInt",
        "pydantic.types.StrictInt", "pydantic.types.PositiveInt",
        "pydantic.types.NonNegativeInt",
    }
)  # fmt: skip
_CONINT = frozenset({"pydantic.conint", "pydantic.types.conint"})
_OPTIONAL = frozenset({"typing.Optional", "typing_extensions.Optional"})
_UNION = frozenset({"typing.Union", "typing_extensions.Union"})
# Calls whose `le=`/`lt=` bounds a value: FastAPI's markers, Pydantic's `Field`.
_BOUNDING_CALLS = frozenset(
    {
        "fastapi.Query", "fastapi.param_functions.Query", "fastapi.params.Query",
        "pydantic.Field", "pydantic.fields.Field", "sqlmodel.Field",
    }
)  # fmt: skip
_UPPER_BOUNDS = frozenset({"le", "lt"})
# `annotated_types` constraints that bound a value from above.
_BOUND_CONSTRAINTS = frozenset(
    {"annotated_types.Le", "annotated_types.Lt", "annotated_types.Interval"}
)
_VALIDATORS = frozenset(
    {
        "pydantic.field_validator", "pydantic.functional_validators.field_validator",
        "pydantic.validator", "pydantic.v1.validator",
    }
)  # fmt: skip


@dataclass(frozen=True)
class _Candidate:
    function: cst.FunctionDef
    label: str  # "route `list_items` (GET /items)", "dependency `pagination`"
    path_names: frozenset[str] = frozenset()  # the route's path parameters


class UnboundedPageSize(Rule):
    """Page size query parameter without an upper bound: a client can ask for every row.

    ## What it does
    Checks the query parameters named like a page size (see `names`: `limit`, `page_size`,
    `per_page`, `size`, `count`, `top`) typed as an integer (`int`, `Optional[int]`,
    `int | None`, `conint(...)`, `PositiveInt`) that have no upper bound: no `le=` or `lt=`
    in `Query(...)`, in `Annotated[...]` metadata (`Query(le=100)`, `Field(le=100)`,
    `annotated_types.Le(100)`) or in `conint(...)`. Aliases are followed
    (`Limit = Annotated[int, Query()]`, also from another module of the project).

    Checked are the parameters of route handlers, of dependencies (functions passed to
    `Depends(...)` anywhere in the project, and any function that declares a FastAPI
    marker such as `Query()`, so the `__init__` of a shared dependency class is checked
    too), and the fields of a Pydantic model of the same file used as a dependency class
    (`Depends(Pagination)`, `Annotated[Pagination, Depends()]`) or as a query model
    (`Annotated[Pagination, Query()]`).

    ## Why is this bad?
    A list endpoint whose page size has no ceiling lets any client ask for the whole table
    in one request (`?limit=100000000`): the database reads every row, the app serialises
    them all, and a few such requests exhaust memory and connections (OWASP API4,
    unrestricted resource consumption). The default value is no protection: it only
    applies when the client sends nothing.

    Not reported:

    - a parameter the function checks itself: compared with something other than a
      small constant (`if limit > MAX_PAGE: raise ...`, `limit <= settings.max_limit`) or
      passed to `min(...)`, which clamps it. Comparisons with `0`, `1` or negative
      numbers are lower-bound checks and do not count;
    - a parameter the function assigns a new value (`limit = max(1, limit)`,
      `limit = DEFAULT_PAGE` for some users): it handles the value in a way fastapi-lint
      does not follow;
    - a field of a model with a validator for it (`@field_validator("limit")`);
    - parameters read from the path, the body, headers or cookies, dependencies and
      parameters whose marker fastapi-lint cannot see (a marker built by a helper);
    - methods of class-based views, and classes or models defined in another module that
      declare no FastAPI marker.

    ## Example
    ```python
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/items")
    async def list_items(limit: int = 100) -> list[int]:
        \"\"\"List items.\"\"\"
        return list(range(limit))
    ```

    Use instead:
    ```python
    from typing import Annotated

    from fastapi import FastAPI, Query

    app = FastAPI()


    @app.get("/items")
    async def list_items(limit: Annotated[int, Query(ge=1, le=100)] = 100) -> list[int]:
        \"\"\"List items.\"\"\"
        return list(range(limit))
    ```

    ## Fix safety
    There is no fix: the largest page the API serves is the author's choice.

    ## Options
    - `names` (default: `limit`, `page_size`, `per_page`, `size`, `count`, `top`): the
      parameter names, in snake case, of a page size. A parameter's name (or its literal
      `alias=`) is compared word by word, whatever its case (`page_size` matches `pageSize`).
    """

    code = "FAPI309"
    name = "unbounded-page-size"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.WARNING
    options = (
        Option(
            "names",
            DEFAULT_NAMES,
            "Parameter names of a page size.",
            lambda value: tuple(item.lower() for item in string_list(value)),
        ),
    )

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.page_names = {tuple(name.split("_")) for name in self.settings["names"]}

    def check(self, model: FileModel) -> Iterator[Finding]:
        reported: set[cst.CSTNode] = set()
        candidates = list(_candidates(model))
        for candidate in candidates:
            for param in parameters(model, candidate.function, follow_imports=True):
                if param.node in reported or param.name in candidate.path_names:
                    continue
                if self._unbounded(model, candidate.function, param):
                    reported.add(param.node)
                    yield self.finding(param.node, _message(param.name, candidate.label))
        for class_def, label in _model_dependencies(model, candidates):
            yield from self._fields(model, class_def, label, reported)

    def _unbounded(self, model: FileModel, function: cst.FunctionDef, param: Parameter) -> bool:
        if not self._names_page_size(param):
            return False
        if param.opaque or not _from_query(param) or _has_upper_bound(model, function, param):
            return False
        if not _is_integer(param.type_where.model, param.type, param.type_where.scope):
            return False
        return not _reassigned(model, function, param.name) and not _checked_in_body(
            function, param.name
        )

    def _names_page_size(self, param: Parameter) -> bool:
        alias = param.marker.argument("alias") if param.marker is not None else None
        names = [param.name, string_value(alias) or ""]
        return any(
            tuple(w.lower() for w in _WORD.findall(name)) in self.page_names for name in names
        )

    def _fields(
        self, model: FileModel, class_def: cst.ClassDef, label: str, reported: set[cst.CSTNode]
    ) -> Iterator[Finding]:
        scope = model.classes[class_def]
        fields = model_fields(model, cst.Name(class_def.name.value), scope) or []
        validated = _validated_fields(model, class_def, scope)
        for field in fields:
            if field.model is not model or field.annotation in reported:
                continue
            words = tuple(w.lower() for w in _WORD.findall(field.name))
            if words not in self.page_names or field.name in validated:
                continue
            where = Where(field.model, field.scope, follow_imports=True)
            type_, type_where, metadata, opaque = unwrap_annotation(where, field.annotation)
            bounds = [item for item, _ in metadata] + [field.value]
            if opaque or any(_bounds(where, item) for item in bounds if item is not None):
                continue
            if _is_integer(type_where.model, type_, type_where.scope):
                reported.add(field.annotation)
                yield self.finding(field.annotation, _message(field.name, label))


def _candidates(model: FileModel) -> Iterator[_Candidate]:
    """The functions of this file whose parameters FastAPI reads from the request."""
    seen: set[cst.FunctionDef] = set()
    for route in model.routes:
        handler = route.handler
        if handler is None or handler in seen or is_method(model, handler):
            continue
        seen.add(handler)
        path_names = route_path_names(route)
        if path_names is None:
            continue  # the path is not a literal: any parameter may be in it
        label = f"route `{handler.name.value}` ({route.describe()})"
        yield _Candidate(handler, label, frozenset(path_names))
    for function in model.functions:
        if function in seen:
            continue
        if is_dependency(model, function) or _declares_markers(model, function):
            seen.add(function)
            info = model.function_info(function)
            name = scope_qualname(info.scope) if info is not None else function.name.value
            yield _Candidate(function, f"dependency `{name}`")


def _declares_markers(model: FileModel, function: cst.FunctionDef) -> bool:
    """A FastAPI marker (`Query()`, `Depends()`, ...) in a parameter: FastAPI reads it."""
    return any(
        param.marker is not None and param.marker.kind != UNKNOWN
        for param in parameters(model, function)
    )


def _model_dependencies(
    model: FileModel, candidates: list[_Candidate]
) -> Iterator[tuple[cst.ClassDef, str]]:
    """Models of this file used as dependency classes (`Depends(Pagination)`,
    `Annotated[Pagination, Depends()]`) or query models (`Annotated[Pagination, Query()]`)."""
    found: dict[cst.ClassDef, str] = {}
    for candidate in candidates:
        for param in parameters(model, candidate.function):
            marker = param.marker
            if marker is None or marker.kind not in (*DEPENDENCY, "Query"):
                continue
            target = marker.argument("dependency", 0) if marker.kind in DEPENDENCY else None
            where = marker.where if target is not None else param.type_where
            expr = target if target is not None else param.type
            local = where.model.local_class(expr, where.scope) if expr is not None else None
            if local is not None and where.model is model:
                found.setdefault(local, f"model `{local.name.value}`")
    yield from found.items()


def _from_query(param: Parameter) -> bool:
    """Read from the query string: `Query()`, or no marker (an integer that is not in the
    path is a query parameter)."""
    return param.marker is None or param.marker.kind == "Query"


def _has_upper_bound(model: FileModel, function: cst.FunctionDef, param: Parameter) -> bool:
    """`le=`/`lt=` in the marker or in any `Annotated` metadata, or a bounded `conint`."""
    marker = param.marker
    if marker is not None and any(marker.argument(bound) is not None for bound in _UPPER_BOUNDS):
        return True
    info = model.function_info(function)
    annotation = param.node.annotation
    if info is None or info.scope.parent is None or annotation is None:
        return False
    where = Where(model, info.scope.parent, follow_imports=True)
    _, type_where, metadata, _ = unwrap_annotation(where, annotation.annotation)
    return any(_bounds(at, item) for item, at in metadata) or _bounds(type_where, param.type)


def _bounds(where: Where, expr: cst.BaseExpression | None) -> bool:
    """A call that bounds a value from above: `Query(le=...)`, `Field(lt=...)`,
    `annotated_types.Le(...)`, `conint(le=...)`."""
    if not isinstance(expr, cst.Call):
        return False
    qualified = canonical(where.model.qualified_name(expr.func, where.scope) or "")
    if qualified in _BOUND_CONSTRAINTS:
        return qualified != "annotated_types.Interval" or _has_keyword(expr, _UPPER_BOUNDS)
    if qualified in _BOUNDING_CALLS or qualified in _CONINT:
        return _has_keyword(expr, _UPPER_BOUNDS) or any(arg.star == "**" for arg in expr.args)
    return False


def _has_keyword(call: cst.Call, keywords: frozenset[str]) -> bool:
    return any(arg.keyword is not None and arg.keyword.value in keywords for arg in call.args)


def _is_integer(model: FileModel, expr: cst.BaseExpression | None, scope: Scope) -> bool:
    """`int`, `Optional[int]`, `int | None`, `conint(...)` (bounds are checked apart)."""
    if expr is None:
        return False
    expr = unquoted(expr)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
        members = [m for m in (expr.left, expr.right) if not is_none(m)]
        return len(members) == 1 and _is_integer(model, members[0], scope)
    if isinstance(expr, cst.Subscript):
        origin = canonical(model.qualified_name(expr.value, scope) or "")
        items = [item for item in subscript_items(expr) if not is_none(item)]
        if origin in _OPTIONAL or origin in _UNION:
            return len(items) == 1 and _is_integer(model, items[0], scope)
        return False
    if isinstance(expr, cst.Call):
        return canonical(model.qualified_name(expr.func, scope) or "") in _CONINT
    return canonical(model.qualified_name(expr, scope) or "") in _INTEGERS


def _checked_in_body(function: cst.FunctionDef, name: str) -> bool:
    """The function clamps or checks the value: `min(limit, ...)`, or compares it with
    something other than a small constant (`limit > MAX`, `limit <= 500`)."""
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if _clamps(node, name):
            return True
        if isinstance(node, cst.Comparison) and _compares_with_ceiling(node, name):
            return True
        stack.extend(node.children)
    return False


def _reassigned(model: FileModel, function: cst.FunctionDef, name: str) -> bool:
    """The function rebinds the parameter (`limit = max(1, limit)`): it handles the value
    itself, in a way fastapi-lint does not follow."""
    info = model.function_info(function)
    bindings = info.scope.bindings.get(name, []) if info is not None else []
    return any(binding.kind is not BindingKind.PARAM for binding in bindings)


def _clamps(node: cst.CSTNode, name: str) -> bool:
    """`min(limit, ...)`, also `min(max(limit, 1), 100)`."""
    if not (isinstance(node, cst.Call) and _is_name(node.func, "min")):
        return False
    stack: list[cst.CSTNode] = [arg.value for arg in node.args]
    while stack:
        current = stack.pop()
        if _is_name(current, name):  # type: ignore[arg-type]
            return True
        stack.extend(current.children)
    return False


def _compares_with_ceiling(comparison: cst.Comparison, name: str) -> bool:
    left = comparison.left
    for target in comparison.comparisons:
        right = target.comparator
        if _is_ordering(target.operator):
            if _is_name(left, name) and not _small_constant(right):
                return True
            if _is_name(right, name) and not _small_constant(left):
                return True
        left = right
    return False


def _is_ordering(operator: cst.BaseCompOp) -> bool:
    """`<`, `<=`, `>`, `>=` (a tuple of LibCST classes at module level would load LibCST)."""
    return isinstance(
        operator, cst.GreaterThan | cst.GreaterThanEqual | cst.LessThan | cst.LessThanEqual
    )


def _small_constant(expr: cst.BaseExpression) -> bool:
    """`0`, `1`, `-1`: the constants of lower-bound checks."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        return isinstance(expr.expression, cst.Integer)
    return isinstance(expr, cst.Integer) and int(expr.evaluated_value) <= 1


def _is_name(expr: cst.BaseExpression, name: str) -> bool:
    return isinstance(expr, cst.Name) and expr.value == name


def _validated_fields(model: FileModel, class_def: cst.ClassDef, scope: Scope) -> set[str]:
    """The fields a validator of the class names (it may clamp them)."""
    found: set[str] = set()
    for statement in class_def.body.body:
        if not isinstance(statement, cst.FunctionDef):
            continue
        for decorator in statement.decorators:
            call = decorator.decorator
            if not isinstance(call, cst.Call):
                continue
            if canonical(model.qualified_name(call.func, scope) or "") in _VALIDATORS:
                found.update(string_value(arg.value) or "" for arg in call.args if not arg.keyword)
    return found


def _message(name: str, label: str) -> str:
    return (
        f"Query parameter `{name}` of {label} has no upper bound: a client can ask for "
        "every row in one request; add `le=` (`Query(le=100)`)"
    )

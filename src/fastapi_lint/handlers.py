"""What a route handler returns and takes: facts the route rules (FAPI101, FAPI102) share.

Everything is resolved through the semantic model: a `Response` is a class whose qualified
name is one of Starlette's or FastAPI's response classes, or a local subclass of one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeAlias

from fastapi_lint import names
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.semantic import Binding, BindingKind, FileModel, Scope, is_none, string_value

# Every class these modules define whose name ends in `Response` is a Starlette Response.
_RESPONSE_MODULES = frozenset(
    {"starlette.responses", "fastapi.responses", "sse_starlette", "sse_starlette.sse"}
)
_TEMPLATES = frozenset(
    {"starlette.templating.Jinja2Templates", "fastapi.templating.Jinja2Templates"}
)
_CONSTANT_NAMES = frozenset({"True", "False", "None"})
_DEPTH = 8

if TYPE_CHECKING:  # a runtime alias would load LibCST on a cache hit
    Returns: TypeAlias = dict[cst.FunctionDef, list[tuple[cst.BaseExpression | None, Scope]]]


def handler_returns(model: FileModel) -> Returns:
    """The value of each `return` (None when bare) of each function, by the function that
    executes it: a `return` in a nested function or lambda is not its parent's."""
    found: Returns = {}
    for statement, scope in model.returns:
        function = scope.executing_function()
        if function is not None and isinstance(function.node, cst.FunctionDef):
            found.setdefault(function.node, []).append((statement.value, scope))
    return found


def returned_values(
    values: list[tuple[cst.BaseExpression | None, Scope]],
) -> list[tuple[cst.BaseExpression, Scope]]:
    """The values the `return`s give: a bare `return` and `return None` give none."""
    return [(value, scope) for value, scope in values if value is not None and not is_none(value)]


def has_none_annotation(handler: cst.FunctionDef) -> bool:
    """No return annotation, or `-> None`."""
    return handler.returns is None or is_none(handler.returns.annotation)


def is_response_name(qualified_name: str | None) -> bool:
    if qualified_name is None:
        return False
    module, _, name = qualified_name.rpartition(".")
    return qualified_name == "fastapi.Response" or (
        module in _RESPONSE_MODULES and name.endswith("Response")
    )


def is_response_class(model: FileModel, expr: cst.BaseExpression, scope: Scope) -> bool:
    """`expr` names a Response class: Starlette's or FastAPI's, or a local subclass of one."""
    return any(is_response_name(name) for name in _class_names(model, expr, scope))


def gives_response(
    model: FileModel, expr: cst.BaseExpression, scope: Scope, depth: int = 0
) -> bool:
    """`expr` provably evaluates to a Response object: a Response class called, a
    `templates.TemplateResponse(...)`, a call to a function of this file annotated to return
    a Response, or a name bound only to such values (or a parameter annotated as one)."""
    if depth > _DEPTH:
        return False
    if isinstance(expr, cst.Await):
        return gives_response(model, expr.expression, scope, depth + 1)
    if isinstance(expr, cst.Call):
        return _call_gives_response(model, expr, scope)
    if not isinstance(expr, cst.Name):
        return False
    where = model.binding_scope(expr.value, scope)
    if where is None:
        return False
    return all(
        _binding_gives_response(model, binding, where, depth)
        for binding in where.bindings[expr.value]
    )


def is_constant(expr: cst.BaseExpression) -> bool:
    """A literal made of constants only: `"ok"`, `1`, `True`, `{"status": "ok"}`, `[1, 2]`."""
    if isinstance(expr, cst.Integer | cst.Float | cst.Imaginary):
        return True
    if isinstance(expr, cst.SimpleString | cst.ConcatenatedString):
        return string_value(expr) is not None or _is_bytes(expr)
    if isinstance(expr, cst.Name):
        return expr.value in _CONSTANT_NAMES
    if isinstance(expr, cst.UnaryOperation):
        return is_constant(expr.expression)
    if isinstance(expr, cst.Dict):
        return all(
            isinstance(element, cst.DictElement)
            and is_constant(element.key)
            and is_constant(element.value)
            for element in expr.elements
        )
    if isinstance(expr, cst.List | cst.Tuple | cst.Set):
        return all(
            isinstance(element, cst.Element) and is_constant(element.value)
            for element in expr.elements
        )
    return False


def parameter_classes(model: FileModel, handler: cst.FunctionDef) -> Iterator[str]:
    """Qualified names of the classes the handler's parameters are declared as (with the
    imported ancestors of a local class), through `Annotated[X, ...]` and `x = Depends(X)`."""
    info = model.function_info(handler)
    outer = info.scope.parent if info is not None else None
    if outer is None:
        return
    params = handler.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.annotation is not None:
            declared = _unwrap_annotated(model, param.annotation.annotation, outer)
            yield from _class_names(model, declared, outer)
        dependency = _dependency(model, param.default, outer)
        if dependency is not None:
            yield from _class_names(model, dependency, outer)


def _call_gives_response(model: FileModel, call: cst.Call, scope: Scope) -> bool:
    func = call.func
    if is_response_class(model, func, scope):
        return True
    if isinstance(func, cst.Attribute) and func.attr.value == "TemplateResponse":
        return model.object_kind(func.value, scope) in _TEMPLATES
    function = model.resolve_function(func, scope)
    if function is None or function.returns is None:
        return False
    info = model.function_info(function)
    # The return annotation is evaluated where the function is defined.
    defined_in = info.scope.parent if info is not None else None
    return defined_in is not None and is_response_class(
        model, function.returns.annotation, defined_in
    )


def _binding_gives_response(model: FileModel, binding: Binding, where: Scope, depth: int) -> bool:
    if binding.kind is BindingKind.ASSIGN and binding.value is not None:
        return gives_response(model, binding.value, where, depth + 1)
    if binding.kind is BindingKind.PARAM and binding.annotation is not None:
        # A parameter's annotation is evaluated where the function is defined.
        return where.parent is not None and is_response_class(
            model, binding.annotation, where.parent
        )
    return False


def _unwrap_annotated(
    model: FileModel, annotation: cst.BaseExpression, scope: Scope
) -> cst.BaseExpression:
    """`X` for `Annotated[X, ...]`, else the annotation itself."""
    if not isinstance(annotation, cst.Subscript) or not annotation.slice:
        return annotation
    first = annotation.slice[0].slice
    if isinstance(first, cst.Index) and (
        model.qualified_name(annotation.value, scope) == names.ANNOTATED
    ):
        return first.value
    return annotation


def _class_names(model: FileModel, expr: cst.BaseExpression, scope: Scope) -> set[str]:
    """The qualified name of the class `expr` names, or the imported ancestors of a local
    class; also when quoted (`-> "CsvResponse"`)."""
    expr = _unquoted(expr)
    local = model.local_class(expr, scope)
    if local is not None:
        return model.ancestors(local)
    name = model.qualified_name(expr, scope)
    return {name} if name is not None else set()


def _unquoted(expr: cst.BaseExpression) -> cst.BaseExpression:
    """The dotted name a string annotation holds, else `expr`."""
    text = string_value(expr)
    if text is None or not all(part.isidentifier() for part in text.split(".")):
        return expr
    try:
        return cst.parse_expression(text)
    except cst.ParserSyntaxError:  # a keyword, such as "lambda"
        return expr


def _dependency(
    model: FileModel, default: cst.BaseExpression | None, scope: Scope
) -> cst.BaseExpression | None:
    """`X` of a `Depends(X)` default."""
    if not isinstance(default, cst.Call) or not default.args:
        return None
    first = default.args[0]
    if first.keyword is not None or model.qualified_name(default.func, scope) != names.DEPENDS:
        return None
    return first.value


def _is_bytes(expr: cst.BaseExpression) -> bool:
    return isinstance(getattr(expr, "evaluated_value", None), bytes)

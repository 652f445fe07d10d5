"""Facts the security rules (FAPI302-FAPI308) share: arguments of a call, the values written
for an expression, where a node sits in the tree, and whether a file is a test file.

Everything that names a library object is resolved through the semantic model; only the
values are read from literals.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi_lint import names
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.rule import OptionError
from fastapi_lint.semantic import BindingKind, CallSite, FileModel, Scope, string_value

_DEPTH = 8  # names bound to names bound to ...
_TEST_DIRECTORIES = frozenset({"tests", "test"})


# -- arguments -----------------------------------------------------------------------


def argument(call: cst.Call, position: int | None, keyword: str) -> cst.BaseExpression | None:
    """The expression passed as `keyword=`, else as positional `position` (None: keyword
    only). Positions after a `*args` are unknown."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    if position is None:
        return None
    for index, arg in enumerate(call.args):
        if arg.keyword is not None or arg.star:
            return None
        if index == position:
            return arg.value
    return None


def has_unpacking(call: cst.Call) -> bool:
    """`*args` or `**kwargs` in the call: any argument may be in there."""
    return any(arg.star for arg in call.args)


def positional_count(call: cst.Call) -> int:
    return sum(1 for arg in call.args if arg.keyword is None and not arg.star)


def calls_of(model: FileModel, qualified_names: frozenset[str]) -> Iterator[CallSite]:
    """Calls of the given callables, however imported: unlike `FileModel.calls_to`, also
    through an alias (`from jwt import decode as jwt_decode`)."""
    for site in model.calls:
        if model.callee(site) in qualified_names:
            yield site


# -- values written in the code ------------------------------------------------------


def written_values(
    model: FileModel,
    value: cst.BaseExpression,
    scope: Scope,
    *,
    branches: bool = True,
    depth: int = 0,
) -> Iterator[cst.BaseExpression]:
    """The values an expression is written as: itself, the value of a name bound once (in
    its own scope), and with `branches` each branch of a conditional expression."""
    if depth > _DEPTH:
        return
    if isinstance(value, cst.IfExp):
        if branches:
            for branch in (value.body, value.orelse):
                yield from written_values(model, branch, scope, depth=depth + 1)
        return
    if isinstance(value, cst.Name) and value.value not in ("True", "False", "None"):
        where = model.binding_scope(value.value, scope)
        bindings = where.bindings[value.value] if where is not None else []
        if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN:
            assigned = bindings[0].value
            if assigned is not None and where is not None:
                yield from written_values(
                    model, assigned, where, branches=branches, depth=depth + 1
                )
        return
    yield value


def is_literal_true(value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Name) and value.value == "True"


def is_literal_false(value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Name) and value.value == "False"


def non_empty_string(value: cst.BaseExpression | None) -> str | None:
    """The value of a string literal that is not empty nor only whitespace."""
    text = string_value(value)
    return text if text is not None and text.strip() else None


# -- the tree around a node ----------------------------------------------------------

_parents_cache: list[tuple[cst.Module, dict[cst.CSTNode, cst.CSTNode]]] = []


def parents(module: cst.Module) -> dict[cst.CSTNode, cst.CSTNode]:
    """Each node's parent. Built on demand (only files with a candidate finding pay for
    it), and kept for the last module: the rules of one file share it."""
    if _parents_cache and _parents_cache[0][0] is module:
        return _parents_cache[0][1]
    found: dict[cst.CSTNode, cst.CSTNode] = {}
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        for child in node.children:
            found[child] = node
            stack.append(child)
    _parents_cache[:] = [(module, found)]
    return found


def ancestors(module: cst.Module, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The nodes holding `node`, innermost first."""
    parent_of = parents(module)
    current = parent_of.get(node)
    while current is not None:
        yield current
        current = parent_of.get(current)


def descendants(node: cst.CSTNode, *, into_functions: bool = False) -> Iterator[cst.CSTNode]:
    """Every node under `node` (not `node` itself); nested functions, lambdas and classes
    are skipped unless `into_functions`."""
    stack = list(node.children)
    while stack:
        current = stack.pop()
        yield current
        if into_functions or not isinstance(current, cst.FunctionDef | cst.Lambda | cst.ClassDef):
            stack.extend(current.children)


def contains(tree: cst.CSTNode, node: cst.CSTNode) -> bool:
    return tree is node or any(child is node for child in descendants(tree, into_functions=True))


def same_code(model: FileModel, first: cst.CSTNode, second: cst.CSTNode) -> bool:
    """The two expressions are written alike (`token`, `form.token`)."""
    return model.module.code_for_node(first).strip() == model.module.code_for_node(second).strip()


def is_main_guard(test: cst.BaseExpression) -> bool:
    """`__name__ == "__main__"`, either way round, possibly within `and`/`or`."""
    if isinstance(test, cst.BooleanOperation):
        return is_main_guard(test.left) or is_main_guard(test.right)
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    sides = (test.left, target.comparator)
    return any(isinstance(s, cst.Name) and s.value == "__name__" for s in sides) and any(
        string_value(s) == "__main__" for s in sides
    )


# -- middleware ------------------------------------------------------------------------


def middleware_call(model: FileModel, site: CallSite, class_names: frozenset[str]) -> bool:
    """Whether the call adds a middleware of `class_names`: `app.add_middleware(cls, ...)`,
    `Middleware(cls, ...)` or `cls(app, ...)`. In all three, the middleware's own first
    argument is the call's positional argument 1."""
    call, scope = site.call, site.scope
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "add_middleware":
        configured = argument(call, 0, "middleware_class")
    elif model.callee(site) == names.MIDDLEWARE:
        configured = argument(call, 0, "cls")
    else:
        configured = func
    return configured is not None and model.qualified_name(configured, scope) in class_names


# -- test files ------------------------------------------------------------------------


def is_test_file(model: FileModel) -> bool:
    """A file under a `tests/` or `test/` directory of the project, or named `test_*.py`,
    `*_test.py` or `conftest.py` (by its path relative to the project root)."""
    path = _path(model)
    if path is None:
        return False
    if path.name == "conftest.py" or path.stem.startswith("test_") or path.stem.endswith("_test"):
        return True
    return any(part in _TEST_DIRECTORIES for part in path.parts[:-1])


def _path(model: FileModel) -> Path | None:
    index = model.project.index
    if index is None or model.module_key is None:
        return None
    info = index.modules.get(model.module_key)
    if info is None:
        return None
    if index.root is not None and info.path.is_relative_to(index.root):
        return info.path.relative_to(index.root)
    return Path(info.path.name)


def boolean(value: Any) -> bool:
    """Option parser for a boolean."""
    if not isinstance(value, bool):
        raise OptionError("expected true or false")
    return value

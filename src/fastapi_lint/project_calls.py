"""Calls of the per-file model that run a function of the project (FAPI202, FAPI206).

The callee is resolved by the project index (`project/reach.py`), which summarises the
modules it goes through. A cheap look at the file's own bindings comes first: a call on a
name imported from outside the project (`requests.get`, `logger.info` through `logging`),
on a parameter or on a loop variable never costs a summary.
"""

from __future__ import annotations

from fastapi_lint.lazy import libcst as cst
from fastapi_lint.project.index import Func
from fastapi_lint.project.reach import Reach, expression
from fastapi_lint.semantic import (
    Binding,
    BindingKind,
    CallSite,
    FileModel,
    Scope,
    scope_qualname,
)

# Bindings whose value may be a project function, class or instance.
_MAY_NAME_PROJECT = frozenset({BindingKind.DEF, BindingKind.CLASS, BindingKind.ASSIGN})


def project_callee(analysis: Reach, model: FileModel, site: CallSite) -> Func | None:
    """The project function `site` calls, when the index resolves it."""
    module = model.module_key
    if module is None or not _may_call_project(analysis, model, site):
        return None
    expr = expression(site.call.func)
    return analysis.callee(expr, module, scope_qualname(site.scope))


def _may_call_project(analysis: Reach, model: FileModel, site: CallSite) -> bool:
    root = site.call.func
    while isinstance(root, cst.Attribute | cst.Call):  # `a.b.c`, `A().b`
        root = root.value if isinstance(root, cst.Attribute) else root.func
    if not isinstance(root, cst.Name):
        return False
    bindings = model.lookup(root.value, site.scope)
    if bindings is None:  # a builtin, or a name a star import may bind
        return bool(model.module_scope.star_imports)
    is_self = root is not site.call.func and _is_self(model, root.value, site.scope)
    return any(_may_name_project(analysis, b, is_self) for b in bindings)


def _is_self(model: FileModel, name: str, scope: Scope) -> bool:
    """Whether `name` is the first parameter of the method that binds it."""
    where = model.binding_scope(name, scope)
    if where is None or where.parent is None or where.parent.kind != "class":
        return False
    method = where.node
    params = method.params.params if isinstance(method, cst.FunctionDef) else ()
    return bool(params) and params[0].name.value == name


def _may_name_project(analysis: Reach, binding: Binding, is_self: bool) -> bool:
    if binding.kind in _MAY_NAME_PROJECT:
        return True
    if binding.kind is BindingKind.PARAM:
        return is_self  # `self.method()`, `cls.method()`
    if binding.kind is not BindingKind.IMPORT or binding.qualified_name is None:
        return False
    name = binding.qualified_name
    return name.startswith(".") or name.split(".", 1)[0] in analysis.index.top_level_names()

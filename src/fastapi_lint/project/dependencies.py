"""Which functions of the project FastAPI calls as dependencies, across modules (FAPI602,
FAPI701).

A function is a dependency when the per-file model sees it passed to `Depends(...)` or
`Security(...)` in its own module, or when the project index finds it passed to one in any
module that names fastapi: in default values, `dependencies=[...]` and module-level
`Annotated` aliases. The summaries do not record the calls inside parameter annotations, so
an `Annotated[Session, Depends(get_db)]` written in a signature of another module is not
seen. Computed once per run, on first need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_lint.names import DEPENDS, SECURITY
from fastapi_lint.project.index import Ext, Func, ProjectIndex
from fastapi_lint.semantic import scope_qualname

if TYPE_CHECKING:
    from fastapi_lint.lazy import libcst as cst
    from fastapi_lint.semantic import FileModel

_MAKERS = frozenset({DEPENDS, SECURITY})


def is_dependency(model: FileModel, function: cst.FunctionDef) -> bool:
    """Whether FastAPI calls `function` (a `def` of `model`) as a dependency."""
    info = model.function_info(function)
    if info is None:
        return False
    if info.is_dependency:
        return True
    index = model.project.index
    if index is None or model.module_key is None:
        return False
    return Func(model.module_key, scope_qualname(info.scope)) in project_dependencies(index)


def project_dependencies(index: ProjectIndex) -> frozenset[Func]:
    """The functions of the project passed to `Depends(...)` or `Security(...)`."""
    return index.analysis(_collected)


def _collected(index: ProjectIndex) -> frozenset[Func]:
    return frozenset(_collect(index))


def _collect(index: ProjectIndex) -> set[Func]:
    found = set()
    for info in index.modules.values():
        if not info.registers:
            continue  # `Depends` comes with an import of fastapi
        for data in info.summary["passes"]:
            func, args, scope = data["func"], data["args"], data["scope"]
            if func[0] not in ("name", "attr"):
                continue
            maker = index.evaluate(func, info.key, scope)
            target = args.get("0") or args.get("dependency")
            if not isinstance(maker, Ext) or maker.name not in _MAKERS or target is None:
                continue
            value = index.evaluate(target, info.key, scope)
            if isinstance(value, Func):
                found.add(value)
    return found

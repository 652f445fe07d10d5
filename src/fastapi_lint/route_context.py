"""What the routers, `include_router` calls and apps that serve a route declare, for the rules
that read one keyword of them (FAPI110 `dependencies=`, FAPI402 `responses=`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_lint.lazy import libcst as cst
from fastapi_lint.semantic import BindingKind

if TYPE_CHECKING:
    from fastapi_lint.project.index import ProjectIndex
    from fastapi_lint.semantic import FileModel, Route, Scope


def local_router(model: FileModel, route: Route) -> tuple[cst.Call, Scope] | None:
    """`APIRouter(...)` (or `FastAPI(...)`) of the route's receiver, when this file binds it
    once, to a call."""
    receiver = route.receiver
    if not isinstance(receiver, cst.Name):
        return None
    where = model.binding_scope(receiver.value, route.scope)
    bindings = where.bindings[receiver.value] if where is not None else []
    if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN:
        value = bindings[0].value
        if isinstance(value, cst.Call) and where is not None:
            return value, where
    return None


def context_sets(model: FileModel, route: Route, keyword: str, own_router_read: bool) -> bool:
    """Whether a router, an `include_router` call or an app serving the route passes
    `keyword=` (or `**options`) that the caller does not read: all of them but the route's
    own router when `own_router_read`. Unknown (no project index) counts as passed."""
    index = model.project.index
    if index is None:
        return True
    for row in route.rows:
        for position, site in enumerate(row.sites):
            is_own_router = position == len(row.sites) - 1
            info = index.objects.get(site.receiver)
            keywords = info.keywords if info is not None else {}
            if not (is_own_router and own_router_read) and keywords.keys() & {keyword, "**"}:
                return True
            if not is_own_router and _include_passes(index, site, keyword):
                return True
    return False


def _include_passes(index: ProjectIndex, site: object, keyword: str) -> bool:
    module = index.modules.get(site.module)  # type: ignore[attr-defined]
    if module is None:
        return True
    calls = [c for c in module.summary["includes"] if c["line"] == site.line]  # type: ignore[attr-defined]
    return not calls or any(c["kw"].keys() & {keyword, "**"} for c in calls)

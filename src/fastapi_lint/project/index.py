"""The project index: every app, router and route of the project, across its modules.

Built once per run from the module summaries (`summary.py`), on the name resolution of
`resolver.py`: it collects every route, `include_router` call and mount made on an app or
router object, and from them builds the route table, one row per app and full path, the
`include_router` prefixes composed in registration order. For each route the per-file model
sees, the table gives its full paths and whether an app serves it in the schema. Nothing
here is executed: what cannot be resolved is `{?}`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from fastapi_lint.project.resolver import (
    MAX_DEPTH,
    UNKNOWN_PART,
    Cls,
    Const,
    Ext,
    Func,
    Inst,
    Mod,
    ModuleInfo,
    Obj,
    ObjectInfo,
    Resolver,
    Value,
    expr_text,
    literal_flag,
)
from fastapi_lint.project.summary import Expr

# Re-exported: the rules take the values of the resolution from here.
__all__ = [
    "UNKNOWN_PART",
    "Cls",
    "Const",
    "Ext",
    "Func",
    "Inst",
    "Mod",
    "ModuleInfo",
    "Obj",
    "ProjectIndex",
    "Row",
    "Site",
    "Value",
]

_HTTP_STATUS = re.compile(r"HTTP_(\d{3})_\w+")
_TYPE_WRAPPERS = frozenset(
    {"typing.Optional", "typing.Union", "typing.Annotated", "typing_extensions.Annotated"}
)


_T = TypeVar("_T")


@dataclass(frozen=True)
class Site:
    """One registration on the way from an app to a route: an `include_router` call, a
    mount, or the route's own decorator or call."""

    file: Path
    line: int
    module: str  # the key of the module making it
    scope: str  # the function or class it is made in ("" for the module)
    receiver: str  # the object it is made on (its key)


@dataclass(frozen=True)
class Row:
    """One line of the route table."""

    app: str | None
    kind: str  # "route", "websocket" or "mount"
    methods: tuple[str, ...]
    path: str
    endpoint: str | None
    file: Path
    line: int
    status_code: int | None
    response_model: str | None
    in_schema: bool | None  # None: an expression decides it
    # Which route of the per-file model it is: (module, handler qualified name, "@N" for
    # its Nth decorator) or (module, scope, "verb:endpoint") for a call.
    route_key: tuple[str, str, str] | None = None
    order: tuple[int, ...] = ()  # registration order within its app
    # `operation_id=` when given: its value, or `{?}` when an expression decides it.
    operation_id: str | None = None
    # One site per level of `order`: the include_router calls (or mount) from the app down,
    # then the route's own registration. Rows no app serves have only their own.
    sites: tuple[Site, ...] = ()

    def as_json(self, root: Path) -> dict[str, Any]:
        return {
            "app": self.app,
            "kind": self.kind,
            "methods": list(self.methods),
            "path": self.path,
            "endpoint": self.endpoint,
            "file": _display(self.file, root),
            "line": self.line,
            "status_code": self.status_code,
            "response_model": self.response_model,
            "in_schema": self.in_schema,
        }


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


@dataclass
class _Registration:
    """A route, include or mount as recorded in a summary, with its module."""

    module: ModuleInfo
    data: dict[str, Any]
    receiver: str  # the object key
    order: int


class ProjectIndex(Resolver):
    def __init__(
        self,
        modules: dict[str, ModuleInfo],
        router_classes: tuple[str, ...] = (),
        root: Path | None = None,
    ) -> None:
        super().__init__(modules, router_classes)
        self.root = root
        self.by_path = {info.path: info for info in modules.values()}
        self._routes: dict[str, list[_Registration]] = {}
        self._includes: dict[str, list[_Registration]] = {}
        self._mounts: dict[str, list[_Registration]] = {}
        self._by_file: dict[Path, list[Row]] | None = None
        self.store: Any = None  # the SummaryStore the summaries came from, saved by `save`
        # True when the modules are every module under the project root (not only the
        # linted files): only then is a router no include reaches never included (FAPI112).
        self.covers_project = False
        self._by_app: dict[str, list[Row]] | None = None
        self._registering: frozenset[Path] | None = None
        self._all_stamps: str | None = None
        self._analyses: dict[Callable[[ProjectIndex], Any], Any] = {}
        self._imports_of: dict[str, tuple[str, ...]] = {}
        self._app_digests: dict[str, str] = {}
        self._closures: dict[str, str] | None = None
        self._importers: dict[str, str] | None = None
        self._collect()
        self.rows = self._table()
        self._rows_by_route: dict[tuple[str, str, str], list[Row]] = {}
        for row in self.rows:
            if row.route_key is not None:
                self._rows_by_route.setdefault(row.route_key, []).append(row)

    # -- the route table -------------------------------------------------------------------

    @property
    def apps(self) -> list[str]:
        return sorted({row.app for row in self.rows if row.app is not None})

    def rows_for_route(self, key: tuple[str, str, str]) -> list[Row]:
        """The rows of one route of the per-file model (see `Row.route_key`)."""
        return self._rows_by_route.get(key, [])

    def save(self) -> None:
        """Keep the summaries made this run for the next one (see `build.SummaryStore`)."""
        if self.store is not None:
            self.store.save(info.path for info in self.modules.values())

    def release_summaries(self, kept_bytes: int) -> None:
        """See `SummaryStore.release`."""
        if self.store is not None:
            self.store.release(kept_bytes)

    def analysis(self, make: Callable[[ProjectIndex], _T]) -> _T:
        """`make(self)`, made once: an analysis of the project that rules share (the reach
        of blocking calls, the app tables)."""
        if make not in self._analyses:
            self._analyses[make] = make(self)
        return self._analyses[make]

    def rows_in(self, path: Path) -> list[Row]:
        """The rows of the routes registered in a file (absolute path)."""
        return self._rows_by_file().get(path, [])

    def module_for(self, path: Path) -> ModuleInfo | None:
        return self.by_path.get(path)

    def file_digest(self, path: Path) -> str:
        """What the findings of a file depend on in the index, hashed: its rows and every row
        of the apps that serve them (prefixes, shadowing routes), and the stamps (size, mtime)
        of the project modules it imports and of those that import it, transitively."""
        info = self.module_for(path)
        if info is None:
            return ""
        rows = self._rows_by_file().get(path, [])
        apps = {row.app for row in rows if row.app is not None}
        parts = [f"covers project: {self.covers_project}", *(repr(row) for row in rows)]
        parts.extend(self._app_digest(app) for app in sorted(apps))
        # A router no app serves may be included by any module (FAPI112): all of them count.
        if any(row.app is None for row in rows):
            parts.append(self._every_stamp())
        else:
            parts.append(self._closure_digests()[info.key])
            parts.append(self._importer_digests()[info.key])
        return _digest(parts)

    def _app_digest(self, app: str) -> str:
        """Every row of an app, hashed once per run (each of its files needs them)."""
        found = self._app_digests.get(app)
        if found is None:
            rows = self._rows_by_app()[app]
            found = self._app_digests[app] = _digest([repr(row) for row in rows])
        return found

    def _every_stamp(self) -> str:
        """The stamps of every module, hashed once per run (many files may need them)."""
        if self._all_stamps is None:
            self._all_stamps = _digest(_stamps(self.modules.values()))
        return self._all_stamps

    def _rows_by_file(self) -> dict[Path, list[Row]]:
        if self._by_file is None:
            self._by_file = {}
            for row in self.rows:
                self._by_file.setdefault(row.file, []).append(row)
        return self._by_file

    def _rows_by_app(self) -> dict[str, list[Row]]:
        if self._by_app is None:
            self._by_app = {}
            for row in self.rows:
                if row.app is not None:
                    self._by_app.setdefault(row.app, []).append(row)
        return self._by_app

    def _closure_digests(self) -> dict[str, str]:
        """For each module, a digest of the stamps of the project modules it imports,
        directly or through others (itself included): it changes when any of them does."""
        if self._closures is None:
            self._closures = _reach_digests(self.modules, self._imported_keys)
        return self._closures

    def _importer_digests(self) -> dict[str, str]:
        """For each module, a digest of the stamps of the project modules that import it,
        directly or through others: what calls its functions. Whether a function serves
        requests (FAPI201, FAPI202) or is a dependency (FAPI602, FAPI701) is decided by the
        routes and `Depends(...)` of those modules."""
        if self._importers is None:
            importers: dict[str, list[str]] = {}
            for key in sorted(self.modules):
                for target in self._imported_keys(key):
                    importers.setdefault(target, []).append(key)
            self._importers = _reach_digests(self.modules, lambda key: importers.get(key, ()))
        return self._importers

    def _imported_keys(self, key: str) -> tuple[str, ...]:
        """The keys of the modules a module imports directly (memoised: every file's digest
        walks them)."""
        found = self._imports_of.get(key)
        if found is None:
            modules = self._imported_modules(self.modules[key])
            found = self._imports_of[key] = tuple(dict.fromkeys(m.key for m in modules))
        return found

    def _imported_modules(self, info: ModuleInfo) -> Iterator[ModuleInfo]:
        entries = self.store.imports(info) if self.store is not None else None
        if entries is None:
            entries = import_entries(info.summary)
        for target, name, level in entries:
            absolute = self._absolute(info, target, level)
            if absolute is None:
                continue
            for candidate in (f"{absolute}.{name}" if name else None, absolute):
                while candidate:
                    found = self.find_module(candidate, info)
                    if found is not None:
                        yield found
                    candidate = candidate.rpartition(".")[0]  # parents run first

    def app_file(self, app: str) -> Path | None:
        """The file an app is created in."""
        info = self.objects.get(app)
        return info.file if info is not None else None

    def registering_files(self) -> frozenset[Path]:
        """Files that register routes, include routers or mount apps on the project's apps
        and routers."""
        if self._registering is None:
            found = {row.file for row in self.rows}
            for registrations in (self._includes, self._mounts):
                for items in registrations.values():
                    found.update(r.module.path for r in items)
            self._registering = frozenset(found)
        return self._registering

    def _table(self) -> list[Row]:
        rows: list[Row] = []
        reached: set[tuple[str, int]] = set()  # (file, line) of the registrations an app serves
        for key in sorted(self.objects):
            info = self.objects[key]
            if info.kind != "app" or info.is_param or info.key in self._template_keys():
                continue
            hidden = self._hidden_by(info, "openapi_url", none_hides=True)
            rows.extend(self._walk(key, key, "", [hidden], (), set(), reached))
        for key in sorted(self.objects):  # routes no app serves
            info = self.objects[key]
            if info.kind is None or (info.key in self._template_keys() and not info.is_param):
                continue
            for registration in self._own(key, self._routes):
                where = (str(registration.module.path), registration.data["line"])
                if where in reached:
                    continue
                prefix = self._own_prefix(key)
                in_schema = self._hidden_by(info, "include_in_schema")
                rows.extend(self._route_rows(None, registration, prefix, [in_schema], ()))
        return rows

    def _template_keys(self) -> set[str]:
        cached = getattr(self, "_templates_cache", None)
        if cached is None:
            cached = {t for info in self.objects.values() for t in info.templates}
            self._templates_cache = cached
        return cached

    def _walk(
        self,
        app: str,
        key: str,
        prefix: str,
        schema: list[bool | None],
        order: tuple[int, ...],
        seen: set[str],
        reached: set[tuple[str, int]],
        sites: tuple[Site, ...] = (),
    ) -> Iterator[Row]:
        if key in seen or len(seen) > MAX_DEPTH:
            return
        seen = seen | {key}
        entries = [
            *(("route", r) for r in self._own(key, self._routes)),
            *(("include", r) for r in self._own(key, self._includes)),
            *(("mount", r) for r in self._own(key, self._mounts)),
        ]
        entries.sort(key=lambda entry: entry[1].order)
        for position, (kind, registration) in enumerate(entries):
            here = (*order, position)
            reached.add((str(registration.module.path), registration.data["line"]))
            if kind == "route":
                yield from self._route_rows(app, registration, prefix, schema, here, sites)
            elif kind == "mount":
                yield self._mount_row(app, registration, prefix, here, sites)
            else:
                yield from self._include(
                    app, registration, prefix, schema, here, seen, reached, sites
                )

    def _include(
        self,
        app: str,
        registration: _Registration,
        prefix: str,
        schema: list[bool | None],
        order: tuple[int, ...],
        seen: set[str],
        reached: set[tuple[str, int]],
        sites: tuple[Site, ...] = (),
    ) -> Iterator[Row]:
        data = registration.data
        module, scope = registration.module.key, data["scope"]
        child = self.evaluate(data["router"], module, scope, None)
        if not isinstance(child, Obj) or child.key not in self.objects:
            return
        keywords = data["kw"]
        include_prefix = self._string(keywords.get("prefix"), module, scope, default="")
        child_info = self.objects[child.key]
        child_prefix = self._own_prefix(child.key)
        flags = [
            *schema,
            literal_flag(self.evaluate(keywords["include_in_schema"], module, scope, None))
            if "include_in_schema" in keywords
            else True,
            self._hidden_by(child_info, "include_in_schema"),
        ]
        full = prefix + include_prefix + child_prefix
        sites = (*sites, _site(registration))
        yield from self._walk(app, child.key, full, flags, order, seen, reached, sites)

    def _own(self, key: str, table: dict[str, list[_Registration]]) -> list[_Registration]:
        """Registrations on an object and on the objects whose routes it shares."""
        found = list(table.get(key, []))
        info = self.objects.get(key)
        pending = list(info.templates) if info else []
        seen = {key}
        while pending:
            template = pending.pop()
            if template in seen:
                continue
            seen.add(template)
            found.extend(table.get(template, []))
            template_info = self.objects.get(template)
            if template_info is not None:
                pending.extend(template_info.templates)
        return found

    def _own_prefix(self, key: str) -> str:
        info = self.objects[key]
        for candidate in (info, *(self.objects.get(t) for t in info.templates)):
            if candidate is not None and "prefix" in candidate.keywords:
                return self._string(
                    candidate.keywords["prefix"], candidate.module, candidate.scope, default=""
                )
        return ""

    def _hidden_by(self, info: ObjectInfo, keyword: str, none_hides: bool = False) -> bool | None:
        """False when the constructor hides its routes (`include_in_schema=False`, or
        `openapi_url=None` for an app), None when an expression decides, else True."""
        candidates = [info, *(self.objects.get(t) for t in info.templates)]
        for candidate in candidates:
            if candidate is None or keyword not in candidate.keywords:
                continue
            value = self.evaluate(candidate.keywords[keyword], candidate.module, candidate.scope)
            if none_hides:
                if value == Const(None):
                    return False
                return True if isinstance(value, Const) else None
            return literal_flag(value)
        return True

    def _route_rows(
        self,
        app: str | None,
        registration: _Registration,
        prefix: str,
        schema: list[bool | None],
        order: tuple[int, ...],
        sites: tuple[Site, ...] = (),
    ) -> Iterator[Row]:
        data = registration.data
        module, scope = registration.module.key, data["scope"]
        keywords = data["kw"]
        verb = data["verb"]
        path = self._string(data["path"], module, scope, default=UNKNOWN_PART)
        flags = list(schema)
        if "include_in_schema" in keywords:
            flags.append(literal_flag(self.evaluate(keywords["include_in_schema"], module, scope)))
        if verb == "route":  # Starlette's `add_route`: never in the schema
            flags.append(False)
        endpoint = data["endpoint"]
        is_def = endpoint[0] == "def"
        if verb in ("websocket", "websocket_route"):
            kind, methods = "websocket", ("WEBSOCKET",)
            flags.append(False)
        else:
            kind, methods = "route", self._methods(verb, keywords, module, scope)
        if is_def:
            route_key = (module, endpoint[1], f"@{data['decorator']}")
        else:
            route_key = (module, scope, f"{verb}:{_last_name(endpoint)}")
        yield Row(
            app=app,
            kind=kind,
            methods=methods,
            path=prefix + path,
            endpoint=self._endpoint(endpoint, module, scope),
            file=registration.module.path,
            line=data["line"],
            status_code=self._status(keywords.get("status_code"), module, scope),
            response_model=self._response_model(keywords, endpoint, registration.module),
            in_schema=_combine(flags),
            route_key=route_key,
            order=order,
            operation_id=self._operation_id(keywords, module, scope),
            sites=(*sites, _site(registration)),
        )

    def _mount_row(
        self,
        app: str,
        registration: _Registration,
        prefix: str,
        order: tuple[int, ...],
        sites: tuple[Site, ...] = (),
    ) -> Row:
        data = registration.data
        module, scope = registration.module.key, data["scope"]
        path = self._string(data["path"], module, scope, default=UNKNOWN_PART)
        mounted = self.evaluate(data["app"], module, scope, None)
        endpoint = mounted.key if isinstance(mounted, Obj) else expr_text(data["app"])
        return Row(
            app=app,
            kind="mount",
            methods=(),
            path=prefix + path,
            endpoint=endpoint,
            file=registration.module.path,
            line=data["line"],
            status_code=None,
            response_model=None,
            in_schema=False,
            order=order,
            sites=(*sites, _site(registration)),
        )

    def _operation_id(self, keywords: dict[str, Expr], module: str, scope: str) -> str | None:
        if "operation_id" not in keywords:
            return None
        return self._string(keywords["operation_id"], module, scope, default=UNKNOWN_PART)

    def _methods(
        self, verb: str, keywords: dict[str, Expr], module: str, scope: str
    ) -> tuple[str, ...]:
        if verb not in ("api_route", "route"):
            return (verb.upper(),)
        if "methods" not in keywords:
            return ("GET",)
        methods = keywords["methods"]
        if methods[0] != "list":
            return (UNKNOWN_PART,)
        values = [self._string(item, module, scope, default=UNKNOWN_PART) for item in methods[1]]
        return tuple(sorted({value.upper() for value in values}))

    def _endpoint(self, endpoint: Expr, module: str, scope: str) -> str | None:
        if endpoint[0] == "def":
            return f"{module}:{endpoint[1]}"
        value = self.evaluate(endpoint, module, scope)
        if isinstance(value, Func):
            return f"{value.module}:{value.qualname}"
        return expr_text(endpoint) or None

    def _status(self, expr: Expr | None, module: str, scope: str) -> int | None:
        if expr is None:
            return None
        value = self.evaluate(expr, module, scope)
        if isinstance(value, Const) and type(value.value) is int:
            return value.value
        name = expr[2] if expr[0] == "attr" else expr[1] if expr[0] == "name" else None
        match = _HTTP_STATUS.fullmatch(name) if isinstance(name, str) else None
        return int(match.group(1)) if match else None

    def _response_model(
        self, keywords: dict[str, Expr], endpoint: Expr, module: ModuleInfo
    ) -> str | None:
        if "response_model" in keywords:
            text = expr_text(keywords["response_model"])
            return None if text == "None" else text or UNKNOWN_PART
        if endpoint[0] != "def":
            return None
        function = module.summary["functions"].get(endpoint[1])
        returns = function.get("returns") if function else None
        if returns is None:
            return None
        text = expr_text(returns)
        return None if text in ("None", "") else text

    # -- collecting objects and registrations ------------------------------------------------

    def _collect(self) -> None:
        for position, info in enumerate(sorted(self.modules.values(), key=lambda m: m.key)):
            if not info.registers:
                continue
            summary = info.summary
            for name, bindings in summary["scopes"][""]["names"].items():
                if any(kind == "assign" for kind, _ in bindings):
                    self.resolve_name(info.key, "", name)  # apps made here exist, used or not
            for data in summary["passes"]:
                self._bind_parameters(info, data)
            for table, items in (
                (self._routes, summary["routes"]),
                (self._includes, summary["includes"]),
                (self._mounts, summary["mounts"]),
            ):
                for data in items:
                    receiver = self.evaluate(data["receiver"], info.key, data["scope"], None)
                    if isinstance(receiver, Obj):
                        # Registration order: source order within a module.
                        order = position * 1_000_000 + data["line"]
                        registration = _Registration(info, data, receiver.key, order)
                        table.setdefault(receiver.key, []).append(registration)
        for _ in range(MAX_DEPTH):  # parameters passed on to other functions
            if not self._settle_parameters():
                break


def import_entries(summary: dict[str, Any]) -> list[list[Any]]:
    """What a module imports, anywhere in it, as `[module, name or None, level]` (the digest
    of a file follows them; the summary store keeps them beside the summary, so that it
    needs no summary loaded)."""
    entries = [*summary["imports"].values()]
    entries.extend([module, None, level] for module, level in summary["stars"])
    for scope in summary["scopes"].values():
        entries.extend(
            data for names in scope["names"].values() for kind, data in names if kind == "import"
        )
    return entries


def _site(registration: _Registration) -> Site:
    data = registration.data
    module = registration.module
    return Site(module.path, data["line"], module.key, data["scope"], registration.receiver)


def _combine(flags: list[bool | None]) -> bool | None:
    if False in flags:
        return False
    if None in flags:
        return None
    return True


def _last_name(expr: Expr) -> str:
    """`handler` for `handler` or `self.handler`: how the per-file model names an endpoint."""
    if expr[0] == "name":
        return expr[1]
    if expr[0] == "attr":
        return expr[2]
    return ""


def _reach_digests(
    modules: dict[str, ModuleInfo], edges: Callable[[str], Iterable[str]]
) -> dict[str, str]:
    """For each module, a digest of the stamps of the modules its edges reach, directly or
    through others (itself included). Made once per run for every module, as a hash tree
    over the graph: a group of modules that reach each other (a cycle) hashes their stamps
    together with the digests of the groups they reach. Following each file's edges on its
    own cost minutes on a large project, where most modules import most others."""
    digests: dict[str, str] = {}
    for group in _cycles_last_first(sorted(modules), edges):
        members = set(group)
        reached = {
            digests[target] for key in group for target in edges(key) if target not in members
        }
        stamps = _stamps(modules[key] for key in group)
        digest = _digest([*stamps, *sorted(reached)])
        digests.update(dict.fromkeys(group, digest))
    return digests


def _cycles_last_first(
    nodes: Iterable[str], edges: Callable[[str], Iterable[str]]
) -> Iterator[list[str]]:
    """The strongly connected components of a graph (Tarjan's algorithm, without
    recursion), each after every component it has an edge to."""
    counter = 0
    number: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in nodes:
        if root in number:
            continue
        work: list[tuple[str, Iterator[str]]] = []
        number[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work.append((root, iter(edges(root))))
        while work:
            node, successors = work[-1]
            for target in successors:
                if target not in number:
                    number[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(edges(target))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], number[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == number[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    yield group


def _stamps(modules: Iterable[ModuleInfo]) -> list[str]:
    return [f"{m.key}:{m.stamp}" for m in sorted(modules, key=lambda m: m.key)]


def _digest(parts: list[str]) -> str:
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()

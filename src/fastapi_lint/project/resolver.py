"""Name resolution across the project's modules, for the project index.

Evaluates the summaries' expressions (`summary.Expr`) just enough to know what a name is:
a project module, function or class, a name from outside the project, a string constant,
or an app or router object. Names are resolved as Python would: imports (relative too),
re-exports in `__init__.py`, star imports of project modules, module attributes
(`users.router`), aliases, `self.x` set in a method, and a function's parameters, which are
every object passed to them at call sites (`register(app)`), or the app a lifespan gets.

Objects are identified by where they are bound (`shop.main:app`, `shop.server:Server.app`
for `self.app = FastAPI()`, `shop.routes:register.app` for a parameter). Every lookup is
memoised, and cycles (of imports, star imports, recursive factories) resolve to unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi_lint.names import API_ROUTER, FASTAPI_APP, canonical
from fastapi_lint.project.summary import Expr

MAX_DEPTH = 24  # of nested lookups: deeper is unknown
UNKNOWN_PART = "{?}"  # a part of a path that cannot be resolved statically
_TYPE_WRAPPERS = frozenset(
    {"typing.Optional", "typing.Union", "typing.Annotated", "typing_extensions.Annotated"}
)


# -- values --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Obj:
    """An app or router (or a parameter that may receive one): `key` names where it is bound."""

    key: str


@dataclass(frozen=True)
class Cls:
    """A class: `kind` is "app" or "router" for FastAPI and APIRouter and their subclasses."""

    name: str  # `fastapi.FastAPI`, or `module.Class` for a project class
    kind: str | None
    project: bool


@dataclass(frozen=True)
class Func:
    module: str
    qualname: str


@dataclass(frozen=True)
class Mod:
    name: str


@dataclass(frozen=True)
class Inst:
    """An instance of a project class that is not an app or router (a server, a container)."""

    cls: str  # `module.Class`


@dataclass(frozen=True)
class Ext:
    """A name from outside the project, as `module.name`."""

    name: str


@dataclass(frozen=True)
class Const:
    value: Any  # a str, int, bool or None


Value = Obj | Cls | Func | Mod | Inst | Ext | Const | None


@dataclass
class ObjectInfo:
    key: str
    kind: str | None  # "app", "router", or None for a parameter until call sites tell
    module: str
    scope: str  # where the constructor's keywords are evaluated
    keywords: dict[str, Expr] = field(default_factory=dict)
    templates: list[str] = field(default_factory=list)  # objects whose routes it shares
    is_param: bool = False
    file: Path | None = None
    line: int = 0


class ModuleInfo:
    """A module of the project. Its summary is loaded when first needed: only modules that
    may register routes are summarised up front (`registers`), the others when a name is
    resolved through them."""

    def __init__(
        self,
        name: str,
        path: Path,
        is_package: bool,
        summary: dict[str, Any] | Callable[[], dict[str, Any]],
        registers: bool = True,
        stamp: tuple[int, int] = (0, 0),
        key: str | None = None,
    ) -> None:
        self.name = name  # the dotted name imports use
        # Unique in the project: the name, or `name@directory` for a second file that claims
        # the same name (several apps in one repository, test fixtures).
        self.key = key or name
        depth = name.count(".") + (1 if is_package else 0)
        self.base = path.parents[depth] if depth < len(path.parents) else path.parent
        self.stamp = stamp  # size and modification time of the file
        self.path = path
        self.is_package = is_package
        self.registers = registers
        self._summary = summary

    @property
    def summary(self) -> dict[str, Any]:
        if callable(self._summary):
            self._summary = self._summary()
        return self._summary


class Resolver:
    """What the names of the project's modules are (see the module docstring)."""

    def __init__(self, modules: dict[str, ModuleInfo], router_classes: tuple[str, ...]) -> None:
        self.modules = modules  # by key
        self._by_name: dict[str, list[ModuleInfo]] = {}
        for info in modules.values():
            self._by_name.setdefault(info.name, []).append(info)
        self.router_classes = frozenset(router_classes)
        self.objects: dict[str, ObjectInfo] = {}
        self._values: dict[tuple[str, str, str], Value] = {}
        self._resolving: set[tuple[str, str, str]] = set()
        self._class_kinds: dict[str, str | None] = {}
        self._bound: dict[str, set[str]] = {}  # parameter key -> objects passed to it
        self._top_level: frozenset[str] | None = None

    def star_exports(self, module: str, target: str, level: int, name: str) -> bool | None:
        """Whether `from <target> import *` in `module` binds `name`; None when the target
        is not a project module (then only the importer knows)."""
        info = self.modules.get(module)
        absolute = self._absolute(info, target, level) if info is not None else None
        source = self.find_module(absolute, info) if absolute else None
        if source is None:
            return None
        summary = source.summary
        if summary["all"] is not None:
            return name in summary["all"]
        if name.startswith("_"):
            return False
        if name in summary["scopes"][""]["names"] or name in summary["imports"]:
            return True
        return bool(summary["stars"])  # its own star imports may pass the name on

    def top_level_names(self) -> frozenset[str]:
        if self._top_level is None:
            self._top_level = frozenset(name.split(".", 1)[0] for name in self._by_name)
        return self._top_level

    def find_module(self, name: str, near: ModuleInfo | None = None) -> ModuleInfo | None:
        """The module an import of `name` from `near` reaches: when several files claim the
        name, the one beside `near` (under the same directory of packages), else the first."""
        candidates = self._by_name.get(name)
        if not candidates:
            return None
        if near is not None and len(candidates) > 1:
            for candidate in candidates:
                if candidate.base == near.base:
                    return candidate
        return candidates[0]

    def _bind_parameters(self, module: ModuleInfo, data: dict[str, Any]) -> None:
        """`register(app)`: the parameter receives the app (only objects matter here)."""
        function = self.evaluate(data["func"], module.key, data["scope"])
        if not isinstance(function, Func):
            return
        target = self.modules.get(function.module)
        summary = target.summary["functions"].get(function.qualname) if target else None
        if summary is None:
            return
        params = [name for name, _ in summary["params"]]
        if summary["self"] is not None:
            params = params[1:]
        for position, expr in data["args"].items():
            if position.isdigit():
                if int(position) >= len(params):
                    continue
                name = params[int(position)]
            elif position in params:
                name = position
            else:
                continue
            passed = self.evaluate(expr, module.key, data["scope"])
            if isinstance(passed, Obj):
                key = f"{function.module}:{function.qualname}.{name}"
                self._bound.setdefault(key, set()).add(passed.key)

    def _bind_lifespan(self, expr: Expr, module: str, scope: str, app: str) -> None:
        """`FastAPI(lifespan=start)`: FastAPI calls `start(app)`, so routes registered there
        (or in functions it hands the app to) are the app's."""
        function = self.evaluate(expr, module, scope)
        target = self.modules.get(function.module) if isinstance(function, Func) else None
        summary = target.summary["functions"].get(function.qualname) if target else None
        if summary is None or not summary["params"]:
            return
        assert isinstance(function, Func)
        first = summary["params"][0][0]
        self.resolve_name(function.module, function.qualname, first)  # the parameter's object
        key = f"{function.module}:{function.qualname}.{first}"
        self._bound.setdefault(key, set()).add(app)

    def _settle_parameters(self) -> bool:
        """A parameter's routes are its arguments' routes: each argument shares them, and an
        unannotated parameter is an app or router when what it receives is. True when
        something changed."""
        changed = False
        for param_key, passed in self._bound.items():
            param = self.objects.get(param_key)
            if param is None:
                continue
            for key in passed:
                target = self.objects.get(key)
                if target is not None and param_key not in target.templates:
                    target.templates.append(param_key)
                    changed = True
                if target is not None and param.kind is None and target.kind is not None:
                    param.kind = target.kind
                    changed = True
        return changed

    # -- evaluation ------------------------------------------------------------------------

    def evaluate(
        self, expr: Expr | None, module: str, scope: str, hint: str | None = None
    ) -> Value:
        """What an expression of `module` evaluated in `scope` (a function or class qualified
        name, "" for the module) is known to be; `hint` names an object it would create."""
        if expr is None:
            return None
        tag = expr[0]
        if tag == "name":
            return self.resolve_name(module, scope, expr[1])
        if tag == "attr":
            return self._attribute(self.evaluate(expr[1], module, scope), expr[2], module)
        if tag == "call":
            return self._call(expr, module, scope, hint)
        if tag == "str":
            return Const(expr[1])
        if tag == "const":
            return Const(expr[1])
        if tag == "concat":
            text = self._concat(expr, module, scope)
            return Const(text) if text is not None else None
        return None

    def _concat(self, expr: Expr, module: str, scope: str) -> str | None:
        parts = []
        for part in expr[1]:
            value = self.evaluate(part, module, scope)
            if not (isinstance(value, Const) and isinstance(value.value, str)):
                return None
            parts.append(value.value)
        return "".join(parts)

    def _string(self, expr: Expr | None, module: str, scope: str, *, default: str) -> str:
        """A path or prefix: unresolved parts become `{?}`."""
        if expr is None:
            return default
        if expr[0] == "concat":
            parts = expr[1]
            return "".join(self._string(p, module, scope, default=UNKNOWN_PART) for p in parts)
        value = self.evaluate(expr, module, scope)
        if isinstance(value, Const) and isinstance(value.value, str):
            return value.value
        return UNKNOWN_PART

    def resolve_name(self, module: str, scope: str, name: str) -> Value:
        """A name as seen from `scope` of `module`: Python's scoping, class bodies skipped
        for the code nested in them."""
        info = self.modules.get(module)
        if info is None:
            return None
        where = self.binding_scope(module, scope, name)
        if where is not None:
            return self._binding(module, where, name)
        return self._star_imported(info, name)

    def binding_scope(self, module: str, scope: str, name: str) -> str | None:
        """The scope of `module` that binds `name` as seen from `scope` (Python's scoping,
        class bodies skipped for the code nested in them); "" for a module-level import
        too; None when nothing binds it (a builtin, or a star import's)."""
        summary = self.modules[module].summary
        scopes = summary["scopes"]
        current: str | None = scope
        first = True
        while current is not None:
            entry = scopes.get(current)
            if entry is None:
                break
            if (first or entry["kind"] != "class") and name in entry["names"]:
                return current
            first = False
            current = entry.get("parent") if current else None
        return "" if name in summary["imports"] else None

    def _binding(self, module: str, scope: str, name: str) -> Value:
        memo = (module, scope, name)
        if memo in self._values:
            return self._values[memo]
        if memo in self._resolving or len(self._resolving) > MAX_DEPTH * 4:
            return None
        self._resolving.add(memo)
        try:
            value = self._binding_value(module, scope, name)
        finally:
            self._resolving.discard(memo)
        self._values[memo] = value
        return value

    def _binding_value(self, module: str, scope: str, name: str) -> Value:
        info = self.modules[module]
        entries = info.summary["scopes"][scope]["names"].get(name) or []
        if not scope and name in info.summary["imports"] and not entries:
            return self._import(info, info.summary["imports"][name])
        key = f"{module}:{f'{scope}.' if scope else ''}{name}"
        values: list[Value] = []
        for kind, data in entries:
            if kind == "def":
                values.append(Func(module, data))
            elif kind == "class":
                values.append(self._class(module, data))
            elif kind == "import":
                values.append(self._import(info, data))
            elif kind == "param":
                values.append(self._parameter(module, scope, name, key))
            elif kind == "assign":
                value_expr, annotation = data
                declared = self._annotation_kind(annotation, module, scope)
                if declared is not None:
                    values.append(self._object(key, declared, module, scope, {}))
                    continue
                value = self.evaluate(value_expr, module, scope, key)
                if value != Const(None) or len(entries) == 1:
                    values.append(value)
        if not scope and name in info.summary["imports"]:
            values.append(self._import(info, info.summary["imports"][name]))
        return _agree(values)

    def _parameter(self, module: str, scope: str, name: str, key: str) -> Value:
        function = self.modules[module].summary["functions"].get(scope)
        if function is None:
            return None
        if function["self"] == name and function["class"] is not None:
            return self._self_value(module, function["class"])
        annotation = next((a for n, a in function["params"] if n == name), None)
        kind = self._annotation_kind(annotation, module, function["parent"])
        if kind is not None:
            return self._object(key, kind, module, scope, {}, is_param=True)
        if annotation is None:  # maybe an app, if a call site passes one
            return self._object(key, None, module, scope, {}, is_param=True)
        return None

    def _self_value(self, module: str, class_qualname: str) -> Value:
        cls = self._class(module, class_qualname)
        if cls is not None and cls.kind is not None:
            return self._object(f"{module}:{class_qualname}", cls.kind, module, "", {})
        return Inst(f"{module}:{class_qualname}")

    def _object(
        self,
        key: str,
        kind: str | None,
        module: str,
        scope: str,
        keywords: dict[str, Expr],
        *,
        templates: list[str] | None = None,
        is_param: bool = False,
    ) -> Obj:
        info = self.objects.get(key)
        if info is None:
            module_info = self.modules.get(module)
            info = ObjectInfo(
                key,
                kind,
                module,
                scope,
                dict(keywords),
                list(templates or []),
                is_param,
                module_info.path if module_info else None,
            )
            self.objects[key] = info
        elif info.kind is None and kind is not None:
            info.kind = kind
        return Obj(key)

    def _import(self, info: ModuleInfo, entry: list[Any]) -> Value:
        target, name, level = entry
        absolute = self._absolute(info, target, level)
        if absolute is None:
            return None
        if name is None:
            found = self.find_module(absolute, info)
            if found is not None:
                return Mod(found.key)
            return None if level or self._is_project_package(absolute) else Ext(absolute)
        submodule = self.find_module(f"{absolute}.{name}" if absolute else name, info)
        if submodule is not None:
            return Mod(submodule.key)
        package = self.find_module(absolute, info)
        if package is not None:
            return self._module_attribute(package.key, name)
        if level or self._is_project_package(absolute):
            return None
        return Ext(canonical(f"{absolute}.{name}"))

    def _is_project_package(self, module: str) -> bool:
        top = module.split(".", 1)[0]
        return top in self.top_level_names()

    def _absolute(self, info: ModuleInfo, target: str, level: int) -> str | None:
        if not level:
            return target
        parts = info.name.split(".")
        if not info.is_package:
            parts = parts[:-1]
        if level > 1:
            if level - 1 > len(parts):
                return None
            parts = parts[: len(parts) - (level - 1)]
        base = ".".join(parts)
        return f"{base}.{target}" if base and target else base or target

    def _module_attribute(self, module: str, name: str) -> Value:
        info = self.modules.get(module)
        if info is None:
            return None
        if name in info.summary["scopes"][""]["names"] or name in info.summary["imports"]:
            return self._binding(module, "", name)
        submodule = self.find_module(f"{info.name}.{name}", info)
        if submodule is not None:
            return Mod(submodule.key)
        return self._star_imported(info, name)

    def _star_imported(self, info: ModuleInfo, name: str) -> Value:
        memo = (info.key, "*", name)
        if memo in self._resolving:  # star imports in a cycle
            return None
        self._resolving.add(memo)
        try:
            return self._star_lookup(info, name)
        finally:
            self._resolving.discard(memo)

    def _star_lookup(self, info: ModuleInfo, name: str) -> Value:
        for target, level in reversed(info.summary["stars"]):
            absolute = self._absolute(info, target, level)
            source = self.find_module(absolute, info) if absolute else None
            if source is None:
                continue
            exported = source.summary["all"]
            if exported is not None and name not in exported:
                continue
            if exported is None and name.startswith("_"):
                continue
            value = self._module_attribute(source.key, name)
            if value is not None:
                return value
        return None

    def _attribute(self, base: Value, name: str, module: str) -> Value:
        if isinstance(base, Mod):
            return self._module_attribute(base.name, name)
        if isinstance(base, Ext):
            return Ext(canonical(f"{base.name}.{name}"))
        if isinstance(base, Obj):
            info = self.objects.get(base.key)
            if info is not None and info.kind == "app" and name == "router":
                return base  # `app.router` is the app's own router
            return self._class_attribute(self._object_class(base), name)
        if isinstance(base, Inst):
            return self._class_attribute(base.cls, name)
        return None

    def _object_class(self, obj: Obj) -> str | None:
        """The project class an object is `self` of (`module:Class` keys)."""
        module, _, qualname = obj.key.partition(":")
        info = self.modules.get(module)
        if info is not None and qualname in info.summary["classes"]:
            return f"{module}:{qualname}"
        return None

    def _class_attribute(self, cls: str | None, name: str, depth: int = 0) -> Value:
        """`self.name` set in a method of the class (or of a project base class)."""
        if cls is None or depth > MAX_DEPTH:
            return None
        module, qualname = self._split_class(cls)
        info = self.modules.get(module) if module else None
        if info is None:
            return None
        data = info.summary["classes"][qualname]
        assigned = data["attrs"].get(name)
        if assigned:
            key = f"{module}:{qualname}.{name}"
            memo = (module, qualname, f"self.{name}")
            if memo in self._values:
                return self._values[memo]
            if memo in self._resolving:
                return None
            self._resolving.add(memo)
            try:
                values = []
                for value_expr, annotation, method in assigned:
                    declared = self._annotation_kind(annotation, module, method)
                    if declared is not None:
                        values.append(self._object(key, declared, module, method, {}))
                        continue
                    value = self.evaluate(value_expr, module, method, key)
                    if value != Const(None) or len(assigned) == 1:
                        values.append(value)
                result = _agree(values)
            finally:
                self._resolving.discard(memo)
            self._values[memo] = result
            return result
        for base in data["bases"]:
            base_value = self.evaluate(base, module, data["parent"])
            if isinstance(base_value, Cls) and base_value.project:
                found = self._class_attribute(base_value.name, name, depth + 1)
                if found is not None:
                    return found
        return None

    def _split_class(self, cls: str) -> tuple[str | None, str]:
        """`pkg.mod:Outer.Inner` into the module's key and the class's qualified name."""
        module, _, qualname = cls.partition(":")
        info = self.modules.get(module)
        if info is not None and qualname in info.summary["classes"]:
            return module, qualname
        return None, cls

    def _class(self, module: str, qualname: str) -> Cls:
        name = f"{module}:{qualname}"
        if name not in self._class_kinds:
            self._class_kinds[name] = None  # a cycle of bases proves nothing
            self._class_kinds[name] = self._class_kind(module, qualname)
        return Cls(name, self._class_kinds[name], True)

    def _class_kind(self, module: str, qualname: str) -> str | None:
        info = self.modules[module]
        # FastAPI's own sources are a project too (and vendored copies of it).
        own = _kind_of(Ext(canonical(f"{info.name}.{qualname}")), self.router_classes)
        if own is not None:
            return own
        data = info.summary["classes"][qualname]
        kinds = set()
        for base in data["bases"]:
            kinds.add(_kind_of(self.evaluate(base, module, data["parent"]), self.router_classes))
        kinds.discard(None)
        return kinds.pop() if len(kinds) == 1 else None

    def _call(self, expr: Expr, module: str, scope: str, hint: str | None) -> Value:
        _, func_expr, _, keywords = expr
        func = self.evaluate(func_expr, module, scope)
        kind = _kind_of(func, self.router_classes)
        key = hint or f"{module}:{scope}<{expr_text(func_expr)}()>"
        if kind is not None:
            templates = []
            if isinstance(func, Cls) and func.project:
                templates = self._class_templates(func.name)
            made = self._object(key, kind, module, scope, keywords, templates=templates)
            if kind == "app" and "lifespan" in keywords:
                self._bind_lifespan(keywords["lifespan"], module, scope, key)
            return made
        if isinstance(func, Cls) and func.project:
            return Inst(func.name)
        if isinstance(func, Func):
            return self._call_result(func, key)
        return None

    def _class_templates(self, cls: str, depth: int = 0) -> list[str]:
        """The `self` objects of a class and of its project bases: their routes are the
        instance's."""
        module, qualname = self._split_class(cls)
        if module is None or depth > MAX_DEPTH:
            return []
        found = [f"{module}:{qualname}"]
        data = self.modules[module].summary["classes"][qualname]
        for base in data["bases"]:
            value = self.evaluate(base, module, data["parent"])
            if isinstance(value, Cls) and value.project:
                found.extend(self._class_templates(value.name, depth + 1))
        for template in found:  # they exist before any method is evaluated
            template_module, _, template_class = template.partition(":")
            kind = self._class(template_module, template_class).kind
            self._object(template, kind, template_module, "", {})
        return found

    def _call_result(self, func: Func, key: str) -> Value:
        """What calling a project function gives: an object when it is a factory (it returns
        an app or router it builds, or is annotated to return one)."""
        memo = (func.module, func.qualname, "()")
        if memo in self._resolving:  # recursion
            return None
        self._resolving.add(memo)
        try:
            return self._returned(func, key)
        finally:
            self._resolving.discard(memo)

    def _returned(self, func: Func, key: str) -> Value:
        info = self.modules.get(func.module)
        data = info.summary["functions"].get(func.qualname) if info else None
        if data is None:
            return None
        declared = self._annotation_kind(data["returns"], func.module, data["parent"])
        returned: list[Value] = [
            self.evaluate(value, func.module, func.qualname)
            for value in data.get("returns_values", [])
        ]
        objects = [value for value in returned if isinstance(value, Obj)]
        if objects and len(objects) == len(returned):
            kinds = {self.objects[o.key].kind for o in objects if o.key in self.objects}
            kind = kinds.pop() if len(kinds) == 1 else declared
            return self._object(
                key, kind, func.module, func.qualname, {}, templates=[o.key for o in objects]
            )
        if declared is not None:
            return self._object(key, declared, func.module, func.qualname, {})
        if returned and all(isinstance(v, Inst) for v in returned) and len(set(returned)) == 1:
            return returned[0]
        return None

    def _annotation_kind(self, annotation: Expr | None, module: str, scope: str) -> str | None:
        """ "app" or "router" when an annotation names FastAPI, APIRouter or a subclass, also
        inside `Optional[...]`, `Annotated[...]` and `X | None`."""
        if annotation is None or annotation[0] == "opaque":
            return None
        tag = annotation[0]
        if tag == "str":
            name = annotation[1]
            if not all(part.isidentifier() for part in name.split(".")):
                return None
            parts = name.split(".")
            expr: Expr = ["name", parts[0]]
            for part in parts[1:]:
                expr = ["attr", expr, part]
            return self._annotation_kind(expr, module, scope)
        if tag == "union":
            kinds = {self._annotation_kind(a, module, scope) for a in annotation[1]} - {None}
            return kinds.pop() if len(kinds) == 1 else None
        if tag == "subscript":
            wrapper = self.evaluate(annotation[1], module, scope)
            if isinstance(wrapper, Ext) and wrapper.name in _TYPE_WRAPPERS:
                inner = annotation[2]
                items = inner[1] if inner[0] == "list" else [inner]
                if wrapper.name.endswith("Annotated"):
                    items = items[:1]
                kinds = {self._annotation_kind(a, module, scope) for a in items} - {None}
                return kinds.pop() if len(kinds) == 1 else None
            return None
        return _kind_of(self.evaluate(annotation, module, scope), self.router_classes)


def _kind_of(value: Value, router_classes: frozenset[str]) -> str | None:
    if isinstance(value, Cls):
        return value.kind
    if isinstance(value, Ext):
        if value.name == FASTAPI_APP:
            return "app"
        if value.name == API_ROUTER or value.name in router_classes:
            return "router"
    return None


def _agree(values: list[Value]) -> Value:
    """The value of a name bound several times: known only when every binding agrees."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def literal_flag(value: Value) -> bool | None:
    if isinstance(value, Const) and isinstance(value.value, bool):
        return value.value
    return None


def expr_text(expr: Expr | None) -> str:
    """Source-like text of an expression, for the table's response model and endpoints."""
    if expr is None:
        return ""
    tag = expr[0]
    if tag == "name":
        return expr[1]
    if tag == "attr":
        return f"{expr_text(expr[1])}.{expr[2]}"
    if tag == "subscript":
        inner = expr[2]
        inside = (
            ", ".join(expr_text(i) for i in inner[1]) if inner[0] == "list" else expr_text(inner)
        )
        return f"{expr_text(expr[1])}[{inside}]"
    if tag == "union":
        return " | ".join(expr_text(part) for part in expr[1])
    if tag == "const":
        return repr(expr[1])
    if tag == "str":
        return expr[1]
    if tag == "call":
        return f"{expr_text(expr[1])}(...)"
    return ""

"""Which routers no app ever includes (FAPI112 router-never-included), decided once per index.

A router's routes are unserved when the route table gives them no app. That proves the
router is never included only if the index sees every way it could be:

- the whole project is indexed (`ProjectIndex.covers_project`);
- the router is a plain one: built in a module body, not a parameter, not shared with
  another object, not mounted;
- no `include_router` call of its package, or of a module importing its module, takes an
  argument the index cannot resolve (a loop variable, `importlib.import_module(...)`);
- the router does not leave the code the index understands: every mention of its name, in
  its module and in the modules that import it, is its creation, an import, a route or an
  `include_router` registered on it, or an `include_router` of it. Any other mention
  (`__all__`, a return, a list, a call argument, `router.routes` for OpenAPI callbacks, a
  re-export from a package's `__init__`) means it may be included elsewhere, by code the
  index does not follow or by the users of a library. Comments and docstrings do not count;
  other strings do;
- an app is created in its package or in a module importing its module (else it is a
  library's router, for its users to include).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi_lint.project.index import Mod, ModuleInfo, Obj, ProjectIndex, Row, Value


@dataclass(frozen=True)
class Unserved:
    """The first route (by file and line) of a router no app includes."""

    root: str  # the router that nothing includes
    router: str  # the router the route is registered on (`root` or a router it includes)
    routes: int  # the registrations under the root, none of them served


@dataclass
class _Registrations:
    """Every include and mount of the project's registering modules, evaluated."""

    parents: dict[str, set[str | None]] = field(default_factory=dict)  # None: unknown
    mounted: set[str] = field(default_factory=set)
    dynamic: set[str] = field(default_factory=set)  # modules with an unresolved include
    # object key -> module key -> mentions of it that the module's registrations explain
    expected: dict[str, dict[str, int]] = field(default_factory=dict)

    def expect(self, key: str, module: str) -> None:
        counts = self.expected.setdefault(key, {})
        counts[module] = counts.get(module, 0) + 1


@dataclass
class _Importer:
    """A module that imports a router's module (or the router, or a package above it)."""

    module: ModuleInfo
    direct: bool  # imports the module itself or the router, not only a package above it
    patterns: list[str] = field(default_factory=list)  # how it can spell the router
    imports: int = 0  # import statements among those spellings
    reexports: bool = False  # a package's `__init__` importing the router itself


def unserved_first_rows(index: ProjectIndex) -> dict[Row, Unserved]:
    """For each router no app includes, its first route's row (see `Unserved`)."""
    return index.analysis(_unserved_first_rows)


def _unserved_first_rows(index: ProjectIndex) -> dict[Row, Unserved]:
    return _Analysis(index).first_rows() if index.covers_project else {}


def display_key(key: str) -> str:
    """`shop.routers.users:router` as written in messages (without the `@directory` that
    tells apart two modules of one name)."""
    module, _, name = key.partition(":")
    return f"{module.partition('@')[0]}:{name}"


class _Analysis:
    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.registrations = _registrations(index)
        self.templates = {t for info in index.objects.values() for t in info.templates}
        self._texts: dict[Path, str] = {}
        self._names: dict[Path, str] = {}
        self._words: dict[Path, frozenset[str]] = {}
        self._importers: dict[tuple[str, str], list[_Importer]] = {}

    def first_rows(self) -> dict[Row, Unserved]:
        if not any(info.kind == "app" for info in self.index.objects.values()):
            return {}  # a library: its routers are for its users to include
        by_root: dict[str, list[tuple[Row, str]]] = {}
        verdicts: dict[str, str | None] = {}
        for row in self.index.rows:
            if row.app is not None or row.kind == "mount" or not row.sites:
                continue
            router = row.sites[-1].receiver
            if router not in verdicts:
                verdicts[router] = self.unserved_root(router)
            root = verdicts[router]
            if root is not None:
                by_root.setdefault(root, []).append((row, router))
        found = {}
        for root, rows in by_root.items():
            first, router = min(rows, key=lambda item: self._position(root, item[0]))
            found[first] = Unserved(root, router, len({(r.file, r.line) for r, _ in rows}))
        return found

    def unserved_root(self, router: str) -> str | None:
        """The router no app includes that serves `router`'s routes, when that is certain."""
        chain = self._chain(router)
        if chain is None or not all(self._plain_router(key) for key in chain):
            return None
        if not self._app_nearby(chain[-1]):
            return None
        if any(self._dynamic_nearby(key) or self._escapes(key) for key in chain):
            return None
        return chain[-1]

    def _chain(self, router: str) -> list[str] | None:
        """`router`, the router that includes it, and so on up to one nothing includes."""
        chain = [router]
        while parents := self.registrations.parents.get(chain[-1]):
            parent = next(iter(parents))
            if len(parents) != 1 or parent is None or parent in chain:
                return None
            info = self.index.objects.get(parent)
            if info is None or info.kind != "router":
                return None
            chain.append(parent)
        return chain

    def _plain_router(self, key: str) -> bool:
        """A router built in a module body, shared with no other object, never mounted."""
        info = self.index.objects.get(key)
        if info is None or info.kind != "router" or info.is_param or info.scope:
            return False
        if key in self.templates or key in self.registrations.mounted:
            return False
        return not any(
            self.index.objects[t].is_param for t in info.templates if t in self.index.objects
        )

    def _app_nearby(self, key: str) -> bool:
        """An app is created in the router's package or in a module importing its module."""
        home = self._home(key)
        nearby = {m.key for m in self._package(home)}
        nearby.update(i.module.key for i in self.importers(key) if i.direct)
        return any(
            info.kind == "app" and not info.is_param and info.module in nearby
            for info in self.index.objects.values()
        )

    def _dynamic_nearby(self, key: str) -> bool:
        modules = [*self._package(self._home(key)), *(i.module for i in self.importers(key))]
        return any(module.key in self.registrations.dynamic for module in modules)

    def _escapes(self, key: str) -> bool:
        """Whether a module names the router in a way the index does not account for."""
        home, name = self._home(key), key.partition(":")[2]
        expected = self.registrations.expected.get(key, {})
        mentions = _count(rf"\b{re.escape(name)}\b", self._code(home))
        if mentions > expected.get(home.key, 0) + _creations(home, name):
            return True
        for importer in self.importers(key):
            if importer.reexports:
                return True
            code = self._code(importer.module)
            mentions = sum(_count(pattern, code) for pattern in importer.patterns)
            if mentions > expected.get(importer.module.key, 0) + importer.imports:
                return True
        return False

    def importers(self, key: str) -> list[_Importer]:
        """The modules importing the router's module, the router, or a package above it."""
        home, name = self._home(key), key.partition(":")[2]
        memo = (home.key, name)
        if memo not in self._importers:
            last = home.name.rpartition(".")[2]
            self._importers[memo] = [
                importer
                for module in self.index.modules.values()
                if module is not home and last in self._words_of(module)
                for importer in [self._importer(module, key, home, name)]
                if importer is not None
            ]
        return self._importers[memo]

    def _importer(
        self, module: ModuleInfo, key: str, home: ModuleInfo, name: str
    ) -> _Importer | None:
        found = _Importer(module, direct=False)
        for scope, local in _imported_names(module):
            value = self.index.resolve_name(module.key, scope, local)
            self._add_spelling(found, value, local, key, home, name)
        if any(self._star_source(module, star) is home for star in module.summary["stars"]):
            found.direct = True
            found.patterns.append(rf"\b{re.escape(name)}\b")
            found.reexports = found.reexports or module.is_package
        return found if found.patterns else None

    def _add_spelling(
        self, found: _Importer, value: Value, local: str, key: str, home: ModuleInfo, name: str
    ) -> None:
        if value == Obj(key):
            found.direct = True
            found.patterns.append(rf"\b{re.escape(local)}\b")
            found.imports += 1
            found.reexports = found.reexports or found.module.is_package
            return
        if not isinstance(value, Mod):
            return
        package = self.index.modules.get(value.name)
        if package is None or not (
            home.key == package.key or home.name.startswith(package.name + ".")
        ):
            return
        found.direct = found.direct or home.key == package.key
        rest = home.name[len(package.name) :].lstrip(".").split(".") if home is not package else []
        parts = [local, *(part for part in rest if part), name]
        found.patterns.append(r"\b" + r"\s*\.\s*".join(re.escape(p) for p in parts) + r"\b")

    def _star_source(self, module: ModuleInfo, star: list[Any]) -> ModuleInfo | None:
        target, level = star
        if level:
            parts = module.name.split(".")
            parts = parts if module.is_package else parts[:-1]
            parts = parts[: len(parts) - (level - 1)]
            target = ".".join([*parts, target] if target else parts)
        return self.index.find_module(target, module)

    def _home(self, key: str) -> ModuleInfo:
        return self.index.modules[self.index.objects[key].module]

    def _package(self, home: ModuleInfo) -> list[ModuleInfo]:
        package = _package(home)
        return [m for m in self.index.modules.values() if _package(m) == package]

    def _position(self, root: str, row: Row) -> tuple[bool, str, int]:
        """The root's own file first, then by path and line."""
        return (row.file != self.index.objects[root].file, str(row.file), row.line)

    def _text(self, module: ModuleInfo) -> str:
        text = self._texts.get(module.path)
        if text is None:
            text = self._texts[module.path] = _read(module.path)
        return text

    def _words_of(self, module: ModuleInfo) -> frozenset[str]:
        """The words of the module's text: a module that imports another names it."""
        words = self._words.get(module.path)
        if words is None:
            text = self._texts.get(module.path) or _read(module.path)
            words = self._words[module.path] = frozenset(re.findall(r"\w+", text))
        return words

    def _code(self, module: ModuleInfo) -> str:
        """The module's tokens without comments and docstrings, joined by spaces."""
        code = self._names.get(module.path)
        if code is None:
            code = self._names[module.path] = _code(self._text(module))
        return code


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (OSError, UnicodeError, SyntaxError, LookupError):
        return ""


def _code(text: str) -> str:
    """The names of the code, comments and docstrings left out. A string stays only when it
    spells a name (`__all__ = ["router"]`, `getattr(module, "router")`): a path such as
    `"/users"` names nothing."""
    docstrings = _docstring_lines(text)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text  # every mention counts: the cautious side
    kept = []
    for token in tokens:
        if token.type == tokenize.COMMENT:
            continue
        if token.type == tokenize.STRING:
            if token.start[0] not in docstrings:
                kept.append(_named(token.string))
            continue
        kept.append(token.string)
    return " ".join(kept)


def _named(literal: str) -> str:
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return literal
    return value if isinstance(value, str) and value.isidentifier() else ""


def _docstring_lines(text: str) -> set[int]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    lines: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        first = body[0] if body else None
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            lines.add(first.lineno)
    return lines


def _imported_names(module: ModuleInfo) -> list[tuple[str, str]]:
    summary = module.summary
    names = [("", local) for local in summary["imports"]]
    for scope, data in summary["scopes"].items():
        for local, entries in data["names"].items():
            if scope and any(kind == "import" for kind, _ in entries):
                names.append((scope, local))
    return names


def _registrations(index: ProjectIndex) -> _Registrations:
    found = _Registrations()
    for module in index.modules.values():
        if not module.registers:
            continue
        summary = module.summary
        for data in [*summary["routes"], *summary["includes"], *summary["mounts"]]:
            receiver = index.evaluate(data["receiver"], module.key, data["scope"])
            if isinstance(receiver, Obj):
                found.expect(receiver.key, module.key)
        for data in summary["includes"]:
            _include(index, found, module, data)
        for data in summary["mounts"]:
            mounted = index.evaluate(data["app"], module.key, data["scope"])
            if isinstance(mounted, Obj):
                found.mounted.add(mounted.key)
    return found


def _include(
    index: ProjectIndex, found: _Registrations, module: ModuleInfo, data: dict[str, Any]
) -> None:
    child = index.evaluate(data["router"], module.key, data["scope"])
    if not isinstance(child, Obj):
        found.dynamic.add(module.key)
        return
    receiver = index.evaluate(data["receiver"], module.key, data["scope"])
    found.parents.setdefault(child.key, set()).add(
        receiver.key if isinstance(receiver, Obj) else None
    )
    found.expect(child.key, module.key)


def _creations(module: ModuleInfo, name: str) -> int:
    """The assignments binding `name` in the module body."""
    entries = module.summary["scopes"][""]["names"].get(name, [])
    return sum(1 for kind, _ in entries if kind == "assign")


def _package(module: ModuleInfo) -> tuple[Path, str]:
    """The project package a module belongs to: its outermost package (with the directory
    it is imported from); the plain modules of one directory count as one package."""
    top = module.name.partition(".")[0] if "." in module.name or module.is_package else ""
    return module.base, top


def _count(pattern: str, text: str) -> int:
    return sum(1 for _ in re.finditer(pattern, text))

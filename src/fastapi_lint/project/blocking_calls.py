"""Which calls recorded in a module summary block: the knowledge of FAPI201, FAPI203 and
FAPI205 (`blocking.py`) applied to the summary's expressions (`summary.Expr`), for FAPI202.

A recorded call blocks when its callee is

- a function of the knowledge base, resolved through the project index: `requests.get`,
  `time.sleep`, `subprocess.run`, `shutil.rmtree`, `bcrypt.hashpw`, the builtin `input()`;
- a blocking method of an object whose type the module shows: a name or `self.<attribute>`
  bound only to a known constructor (`pwd_context = CryptContext(...)`,
  `self.client = httpx.Client()`, `db = SessionLocal()` for a `sessionmaker`), or annotated
  with a known class (`db: Session`, `Optional[Session]`, `Annotated[Session, ...]`).

File reads and writes, single-directory listings and `pbkdf2_hmac` are left out
(`SMALL_CALLS`). The typing is narrower than the per-file typing of `receivers.py`: no
dependencies (`Depends`), no return annotations of helpers, no type aliases, no
`p / "name"` paths, and an object imported from another module is unknown. Unknown is
never blocking. Nothing here imports LibCST.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import Any

from fastapi_lint import blocking
from fastapi_lint.blocking import BLOCKING_CALLS, CPU_BOUND_CALLS, TYPES, SyncType
from fastapi_lint.project.index import Ext, ProjectIndex
from fastapi_lint.project.summary import Expr

_BUILTINS = frozenset(dir(builtins))
_RULES = frozenset({blocking.FAPI201, blocking.FAPI203, blocking.FAPI205})
# Left to FAPI201 and FAPI205, where the call is in view: through a helper, a file read or
# write and a listing of one directory are mostly a small configuration file or template,
# and the cost of `pbkdf2_hmac` is its iteration count, which the chain does not show.
SMALL_CALLS = frozenset(
    {"builtins.open", "io.open", "io.open_code", "os.fdopen", "os.listdir", "os.scandir",
     "glob.glob", "glob.iglob", "hashlib.pbkdf2_hmac"}
)  # fmt: skip
# Of paths and files, only the walks of a whole directory tree count.
_TREE_WALKS = {blocking.PATH: frozenset({"rglob", "walk"}), blocking.FILE: frozenset()}
_MAX_DEPTH = 12  # nesting of the expressions and bindings followed
_OPTIONAL = frozenset({"typing.Optional", "typing_extensions.Optional"})
_UNION = frozenset({"typing.Union", "typing_extensions.Union"})
_ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
_NONE: Expr = ["const", None]
_NEUTRAL = object()  # `x = None`: a placeholder binding, no evidence either way
_PENDING = object()  # being typed: a cycle of bindings gives up


class SummaryBlocking:
    """Blocking calls of summaries (see the module docstring); memoised per name."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self._names: dict[tuple[str, str, str], object] = {}

    def blocking_name(self, callee: Expr, module: str, scope: str) -> str | None:
        """`requests.get` or `CryptContext.verify` when calling `callee` from `scope` of
        `module` blocks, else None."""
        qualified = self.qualified_name(callee, module, scope)
        if qualified is not None:
            if qualified in SMALL_CALLS:
                return None
            if qualified in BLOCKING_CALLS or qualified in CPU_BOUND_CALLS:
                return qualified.removeprefix("builtins.")
            return None  # a function, not a method of a typed receiver
        if callee[0] != "attr":
            return None
        kind = self.type_of(callee[1], module, scope)
        if kind is None or kind.rule not in _RULES or not kind.blocks(callee[2]):
            return None
        if kind.name in _TREE_WALKS and callee[2] not in _TREE_WALKS[kind.name]:
            return None
        return f"{kind.name}.{callee[2]}"

    def qualified_name(self, expr: Expr, module: str, scope: str) -> str | None:
        """The name of what `expr` names outside the project (`requests.get`,
        `builtins.open`), else None. Parameters are unknown (not evaluated: the index
        would record them as objects)."""
        if expr[0] == "name":
            where = self.index.binding_scope(module, scope, expr[1])
            if where is None:
                return f"builtins.{expr[1]}" if self._builtin(module, expr[1]) else None
            if _kinds(self.index, module, where, expr[1]) & {"param"}:
                return None
        elif expr[0] == "attr":
            if self.unknown_base(expr, module, scope):
                return None
        else:
            return None
        value = self.index.evaluate(expr, module, scope)
        return value.name if isinstance(value, Ext) else None

    def unknown_base(self, expr: Expr, module: str, scope: str) -> bool:
        """Whether a dotted name starts at a parameter, or is no dotted name at all."""
        while expr[0] == "attr":
            expr = expr[1]
        if expr[0] != "name":
            return True  # `f().x`, `a[0].x`: not a plain dotted name
        where = self.index.binding_scope(module, scope, expr[1])
        return where is not None and "param" in _kinds(self.index, module, where, expr[1])

    def _builtin(self, module: str, name: str) -> bool:
        """An unbound name of the builtins, which no star import of the module may bind."""
        if name not in _BUILTINS:
            return False
        for target, level in self.index.modules[module].summary["stars"]:
            if self.index.star_exports(module, target, level, name) is not False:
                return False  # bound there, or an outside module that may bind anything
        return True

    # -- receiver types ------------------------------------------------------------------

    def type_of(self, expr: Expr, module: str, scope: str, depth: int = 0) -> SyncType | None:
        if depth > _MAX_DEPTH:
            return None
        tag = expr[0]
        if tag == "name":
            return self._name(expr[1], module, scope, depth)
        if tag == "attr":
            return self._attribute(expr, module, scope, depth)
        if tag == "call":
            return self._call(expr, module, scope, depth)
        if tag == "subscript":
            base = self.type_of(expr[1], module, scope, depth + 1)
            return _type(base.items) if base is not None else None
        return None

    def _name(self, name: str, module: str, scope: str, depth: int) -> SyncType | None:
        where = self.index.binding_scope(module, scope, name)
        if where is None:
            return None
        key = (module, where, name)
        if key not in self._names:
            self._names[key] = _PENDING
            self._names[key] = _agree(self._bindings(name, module, where, depth))
        found = self._names[key]
        return found if isinstance(found, SyncType) else None

    def _bindings(self, name: str, module: str, where: str, depth: int) -> Iterator[object]:
        summary = self.index.modules[module].summary
        if not where and name in summary["imports"]:
            yield None  # imported: unknown
        for kind, data in summary["scopes"][where]["names"].get(name, []):
            if kind == "assign":
                yield self._assigned(data[0], data[1], module, where, depth)
            elif kind == "param":
                yield self._parameter(name, module, where)
            else:
                yield None

    def _assigned(
        self, value: Expr | None, annotation: Expr | None, module: str, scope: str, depth: int
    ) -> object:
        declared = self.annotation_type(annotation, module, scope)
        if declared is not None:
            return declared
        if value is None:
            return None  # unpacking: unknown
        if value == _NONE:
            return _NEUTRAL
        return self.type_of(value, module, scope, depth + 1)

    def _parameter(self, name: str, module: str, function: str) -> object:
        data = self.index.modules[module].summary["functions"].get(function)
        if data is None or data["self"] == name:
            return None
        annotation = next((a for n, a in data["params"] if n == name), None)
        return self.annotation_type(annotation, module, data["parent"])

    def _attribute(self, expr: Expr, module: str, scope: str, depth: int) -> SyncType | None:
        attr = expr[2]
        owner = self.self_class(expr[1], module, scope)
        if owner is not None:
            return self._member(owner, attr, module, depth)
        base = self.type_of(expr[1], module, scope, depth + 1)
        if base is None or attr.startswith("_"):
            return None
        if attr in base.attributes:
            return _type(base.attributes[attr])
        if attr in base.not_other_attributes or attr in base.methods or attr in base.returns:
            return None
        return _type(base.other_attributes)

    def self_class(self, expr: Expr, module: str, scope: str) -> str | None:
        """The class whose method binds `expr` as its first parameter (`self`)."""
        if expr[0] != "name":
            return None
        where = self.index.binding_scope(module, scope, expr[1])
        data = self.index.modules[module].summary["functions"].get(where or "")
        if data is None or data["self"] != expr[1] or data["class"] is None:
            return None
        return data["class"]

    def _member(self, cls: str, attr: str, module: str, depth: int) -> SyncType | None:
        """`self.<attr>`: what its assignments in the class body and methods agree on."""
        key = (module, f"{cls}.<self>", attr)
        if key not in self._names:
            self._names[key] = _PENDING
            summary = self.index.modules[module].summary
            evidence = list(self._bindings(attr, module, cls, depth))
            for value, annotation, method in summary["classes"][cls]["attrs"].get(attr, []):
                evidence.append(self._assigned(value, annotation, module, method, depth))
            self._names[key] = _agree(evidence)
        found = self._names[key]
        return found if isinstance(found, SyncType) else None

    def _call(self, expr: Expr, module: str, scope: str, depth: int) -> SyncType | None:
        _, func, _, keywords = expr
        qualified = self.qualified_name(func, module, scope)
        if qualified is not None:
            kind = blocking.CONSTRUCTORS.get(qualified)
            if kind == blocking.SESSION_FACTORY:
                kind = self._session_factory(keywords, module, scope)
            return _type(kind)
        if func[0] == "attr":  # `boto3.Session().client("s3")`, `path.open()`
            base = self.type_of(func[1], module, scope, depth + 1)
            if base is not None:
                if func[2][:1].isupper() and base.subresources is not None:
                    return _type(base.subresources)
                return _type(base.returns.get(func[2]))
        factory = self.type_of(func, module, scope, depth + 1)  # `SessionLocal()`
        return _type(factory.call_result) if factory is not None else None

    def _session_factory(self, keywords: dict[str, Expr], module: str, scope: str) -> str | None:
        """`sessionmaker(...)` makes sync sessions unless `class_=` says otherwise."""
        if "**" in keywords:
            return None
        if "class_" not in keywords:
            return blocking.SESSION_FACTORY
        made = blocking.ANNOTATIONS.get(
            self.qualified_name(keywords["class_"], module, scope) or ""
        )
        return blocking.SESSION_FACTORY if made == blocking.SESSION else None

    # -- annotations ---------------------------------------------------------------------

    def annotation_type(
        self, annotation: Expr | None, module: str, scope: str, depth: int = 0
    ) -> SyncType | None:
        """The known type an annotation names, also inside `Optional[...]`, `X | None`,
        `Union[X, None]` and `Annotated[X, ...]`."""
        if annotation is None or depth > 8:
            return None
        tag = annotation[0]
        if tag == "str":
            return self.annotation_type(_dotted(annotation[1]), module, scope, depth + 1)
        if tag == "union":
            return self._union(annotation[1], module, scope, depth)
        if tag == "subscript":
            origin = self.qualified_name(annotation[1], module, scope)
            inner = annotation[2]
            items = inner[1] if inner[0] == "list" else [inner]
            if origin in _UNION:
                return self._union(items, module, scope, depth)
            if (origin in _OPTIONAL or origin in _ANNOTATED) and items:
                return self.annotation_type(items[0], module, scope, depth + 1)
            return None
        if tag not in ("name", "attr"):
            return None
        kind = blocking.ANNOTATIONS.get(self.qualified_name(annotation, module, scope) or "")
        return _type(kind)

    def _union(self, members: list[Expr], module: str, scope: str, depth: int) -> SyncType | None:
        """`X | None`: the one member that is not None."""
        flat = []
        pending = list(members)
        while pending:
            member = pending.pop()
            if member[0] == "union":
                pending.extend(member[1])
            elif member != _NONE:
                flat.append(member)
        return self.annotation_type(flat[0], module, scope, depth + 1) if len(flat) == 1 else None


def _kinds(index: ProjectIndex, module: str, scope: str, name: str) -> set[str]:
    entries = index.modules[module].summary["scopes"][scope]["names"].get(name, [])
    return {kind for kind, _ in entries}


def _agree(evidence: Iterator[object] | list[object]) -> object:
    """One type when every piece of evidence names it (placeholders aside), else None."""
    found: list[Any] = []
    for item in evidence:
        if item is _NEUTRAL:
            continue
        if not isinstance(item, SyncType):
            return None
        found.append(item)
    if not found or any(item is not found[0] for item in found):
        return None
    return found[0]


def _type(kind: str | None) -> SyncType | None:
    return TYPES[kind] if kind is not None else None


def _dotted(text: str) -> Expr | None:
    """`"sqlalchemy.orm.Session"` (a string annotation) as a name expression."""
    parts = text.strip().split(".")
    if not all(part.isidentifier() for part in parts):
        return None
    expr: Expr = ["name", parts[0]]
    for part in parts[1:]:
        expr = ["attr", expr, part]
    return expr

"""What FastAPI makes of a route handler's parameters, read statically (FAPI108-FAPI110).

FastAPI decides where each parameter comes from (`fastapi/dependencies/utils.py`,
`analyze_param`): a FastAPI marker (`Query()`, `Path()`, `Body()`, `Depends()`, ...) in the
default or in `Annotated[...]` metadata decides; otherwise a name of the path is a path
parameter, `Request` and a few other classes are injected, `UploadFile` is a file, a type
that is not a scalar (a Pydantic model, a dict, a list, set or tuple) is read from the
**body**, and anything else from the query string.

Everything is resolved through the semantic model and, for names imported from other modules
of the project, the project index (which tells a class from an alias). With `follow_imports`
an alias or a dependency of another module is read from that module, parsed on demand (once
per run and process); without it, and whenever it cannot be seen through (a marker built by
a helper, a module outside the project), it is *opaque*: rules never report on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from fastapi_lint import names
from fastapi_lint.handlers import is_response_name
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.semantic import BindingKind, is_none, scope_qualname, string_value, union_members

if TYPE_CHECKING:
    from fastapi_lint.semantic import FileModel, Route, Scope

# The parameter regex of Starlette's router: only these are path parameters (no spaces, ASCII).
PATH_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(:[a-zA-Z_][a-zA-Z0-9_]*)?}")

DEPENDENCY = frozenset({"Depends", "Security"})
BODY = frozenset({"Body", "Form", "File"})
REQUEST_PARAMS = frozenset({"Query", "Path", "Header", "Cookie"})
UNKNOWN = "?"  # the kind of a marker that may be hidden behind a name we cannot see through
_MARKERS = {
    f"fastapi.{module}{kind}": kind
    for kind in (*DEPENDENCY, *BODY, *REQUEST_PARAMS)
    for module in ("", "param_functions.", "params.")
}
_MARKERS["fastapi.Depends"] = "Depends"
_MARKERS["fastapi.Security"] = "Security"
# Libraries whose names are never FastAPI markers, nor `Annotated` aliases that hide one.
_PLAIN_LIBRARIES = frozenset(
    {
        "builtins", "typing", "typing_extensions", "collections", "uuid", "datetime",
        "decimal", "enum", "pathlib", "ipaddress", "pydantic", "pydantic_settings",
        "fastapi", "starlette", "sqlalchemy", "sqlmodel", "annotated_types",
    }
)  # fmt: skip
_SCALARS = frozenset(
    {
        "builtins.str", "builtins.int", "builtins.float", "builtins.bool", "builtins.bytes",
        "typing.Any", "uuid.UUID", "datetime.datetime", "datetime.date", "datetime.time",
        "datetime.timedelta", "decimal.Decimal", "pydantic.EmailStr", "pydantic.UUID4",
        "pydantic.UUID1", "pydantic.HttpUrl", "pydantic.AnyUrl", "pydantic.AnyHttpUrl",
        "pydantic.SecretStr", "pydantic.StrictStr", "pydantic.StrictInt", "pydantic.StrictBool",
        "pydantic.PositiveInt", "pydantic.NonNegativeInt",
    }
)  # fmt: skip
_ENUMS = frozenset({"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag"})
_SEQUENCES = frozenset(
    {
        "builtins.list", "builtins.set", "builtins.tuple", "builtins.frozenset",
        "typing.List", "typing.Set", "typing.Tuple", "typing.FrozenSet", "typing.Sequence",
        "typing.Deque", "collections.deque", "collections.abc.Sequence",
    }
)  # fmt: skip
_MAPPINGS = frozenset(
    {
        "builtins.dict", "typing.Dict", "typing.Mapping", "typing.DefaultDict",
        "typing.OrderedDict", "collections.abc.Mapping", "collections.defaultdict",
        "collections.OrderedDict",
    }
)  # fmt: skip
_UNIONS = frozenset({"typing.Optional", "typing.Union"})
_MODELS = frozenset({"pydantic.BaseModel", "pydantic_settings.BaseSettings", "sqlmodel.SQLModel"})
_DATACLASSES = frozenset({"dataclasses.dataclass", "pydantic.dataclasses.dataclass"})
_UPLOAD_FILES = frozenset(
    {
        "fastapi.UploadFile",
        "fastapi.datastructures.UploadFile",
        "starlette.datastructures.UploadFile",
    }
)
# Classes FastAPI injects itself, never read from the request's fields.
_INJECTED = frozenset(
    {
        "fastapi.Request", "fastapi.requests.Request", "starlette.requests.Request",
        "fastapi.WebSocket", "fastapi.websockets.WebSocket", "starlette.websockets.WebSocket",
        "starlette.requests.HTTPConnection", "fastapi.requests.HTTPConnection",
        "fastapi.BackgroundTasks", "fastapi.background.BackgroundTasks",
        "starlette.background.BackgroundTasks", "fastapi.security.SecurityScopes",
        "fastapi.security.oauth2.SecurityScopes",
    }
)  # fmt: skip
_DEPTH = 8


@dataclass(frozen=True)
class Where:
    """Where an expression is evaluated: a module (maybe another of the project) and a scope."""

    model: FileModel
    scope: Scope
    # Read aliases imported from other modules of the project (parsing them on demand);
    # otherwise such an alias is opaque.
    follow_imports: bool = False


@dataclass(frozen=True)
class Marker:
    """A FastAPI marker: `Query(...)`, `Depends(get_db)`, ... (`call` None when opaque)."""

    kind: str
    call: cst.Call | None
    where: Where

    def argument(self, keyword: str, position: int | None = None) -> cst.BaseExpression | None:
        """The expression passed as `keyword=` (or at `position`) to the marker."""
        if self.call is None:
            return None
        positional = [arg for arg in self.call.args if arg.keyword is None and not arg.star]
        for arg in self.call.args:
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg.value
        if position is not None and len(positional) > position:
            return positional[position].value
        return None


@dataclass(frozen=True, eq=False)
class Parameter:
    """One parameter of a handler or dependency, as FastAPI sees it."""

    node: cst.Param
    name: str
    type: cst.BaseExpression | None  # the annotation, `Annotated` and aliases unwrapped
    type_where: Where  # where the type is evaluated (an alias may live in another module)
    marker: Marker | None  # the marker that decides, from the default or the metadata
    opaque: bool  # a marker may hide where we cannot see (an alias of an unreadable module)

    @property
    def is_dependency(self) -> bool:
        return self.marker is not None and self.marker.kind in DEPENDENCY

    def type_kind(self) -> str:
        return type_kind(self.type_where.model, self.type, self.type_where.scope)


def path_parameters(path: str) -> list[str]:
    """The names of a path's parameters, as Starlette finds them (`{id}`, `{id:int}`)."""
    return [match.group(1) for match in PATH_PARAM.finditer(path)]


BODYLESS_METHODS = frozenset({"GET", "HEAD"})  # a body has no meaning on these (RFC 9110)
_CALLBACK = "{$"  # `{$request.body.url}`: an OpenAPI callback, a request the API sends


def bodyless_route_parameters(model: FileModel) -> Iterator[tuple[Route, Parameter]]:
    """The parameters of `GET` and `HEAD` routes (and only those methods) that are not
    path parameters, once per parameter, for the handlers of this file that are not
    methods (class-based views inject more than the signature shows). Routes that document
    an OpenAPI callback (`{$request.body.url}` in the path) are left out: never served."""
    seen: set[cst.Param] = set()
    for route in model.routes:
        handler = route.handler
        if not route.methods or not route.methods <= BODYLESS_METHODS or handler is None:
            continue
        in_path = route_path_names(route)
        if in_path is None or _CALLBACK in route.path or is_method(model, handler):  # type: ignore[operator]
            continue
        for param in parameters(model, handler):
            if param.node not in seen and param.name not in in_path:
                seen.add(param.node)
                yield route, param


def route_path_names(route: Route) -> set[str] | None:
    """The path parameters of every path the route is served at; None when its own path is
    not a literal."""
    if route.path is None:
        return None
    found = set(path_parameters(route.prefix + route.path))
    for path in route.full_paths:
        found.update(path_parameters(path))
    return found


def parameters(
    model: FileModel, function: cst.FunctionDef, *, follow_imports: bool = False
) -> list[Parameter]:
    """The parameters FastAPI analyses (not `*args`, `**kwargs`); `follow_imports` reads
    the aliases they import from other modules of the project (slower: it parses them)."""
    info = model.function_info(function)
    outer = info.scope.parent if info is not None else None
    if outer is None:
        return []
    params = function.params
    return [
        _parameter(Where(model, outer, follow_imports), param)
        for param in (*params.posonly_params, *params.params, *params.kwonly_params)
    ]


def has_var_keyword(function: cst.FunctionDef) -> bool:
    return isinstance(function.params.star_kwarg, cst.Param)


def is_method(model: FileModel, function: cst.FunctionDef) -> bool:
    """Defined in a class body: class-based views inject more than the signature shows."""
    info = model.function_info(function)
    return info is not None and info.scope.parent is not None and info.scope.parent.kind == "class"


def _parameter(where: Where, param: cst.Param) -> Parameter:
    annotation = param.annotation.annotation if param.annotation is not None else None
    type_, type_where, metadata, opaque = unwrap_annotation(where, annotation)
    markers = [m for m in (marker_of(at, item) for item, at in metadata) if m is not None]
    default = marker_of(where, param.default)
    # FastAPI takes the default's marker, else the last marker of the metadata.
    decisive = default if default is not None else (markers[-1] if markers else None)
    # With a marker as the default, the annotation holds none (FastAPI would refuse both).
    opaque = (opaque and default is None) or any(
        m.kind == UNKNOWN for m in (*markers, default) if m is not None
    )
    return Parameter(param, param.name.value, type_, type_where, decisive, opaque)


Metadata: TypeAlias = "list[tuple[cst.BaseExpression, Where]]"


def unwrap_annotation(
    where: Where, annotation: cst.BaseExpression | None, depth: int = 0
) -> tuple[cst.BaseExpression | None, Where, Metadata, bool]:
    """The type (and where it is evaluated), the `Annotated` metadata, and whether the
    annotation is opaque (a name that may be an `Annotated` alias we cannot see into).
    Follows aliases of this module and of the project's (`ItemId = Annotated[int, Path()]`)."""
    if annotation is None or depth > _DEPTH:
        return annotation, where, [], depth > _DEPTH
    annotation = unquoted(annotation)
    model, scope = where.model, where.scope
    if isinstance(annotation, cst.Subscript):
        items = subscript_items(annotation)
        if model.qualified_name(annotation.value, scope) != names.ANNOTATED or not items:
            return annotation, where, [], False
        inner, inner_where, metadata, opaque = unwrap_annotation(where, items[0], depth + 1)
        return inner, inner_where, [*metadata, *((item, where) for item in items[1:])], opaque
    if isinstance(annotation, cst.Name):
        value = _local_alias(model, annotation, scope)
        if value is not None:
            inner, inner_where, metadata, opaque = unwrap_annotation(where, value, depth + 1)
            if metadata or opaque:
                return inner, inner_where, metadata, opaque
            return annotation, where, [], False  # keep the alias's name for messages
    if isinstance(annotation, cst.Name | cst.Attribute) and _may_be_alias(model, annotation, scope):
        imported = imported_value(model, annotation, scope) if where.follow_imports else None
        if imported is None:
            return annotation, where, [], True
        return unwrap_annotation(imported[1], imported[0], depth + 1)
    return annotation, where, [], False


def subscript_items(expr: cst.Subscript) -> list[cst.BaseExpression]:
    """`[A, B]` of `X[A, B]`."""
    return [element.slice.value for element in expr.slice if isinstance(element.slice, cst.Index)]


def _local_alias(model: FileModel, name: cst.Name, scope: Scope) -> cst.BaseExpression | None:
    """The value of a name assigned once (`Tags = Annotated[...]`), else None."""
    bindings = model.lookup(name.value, scope)
    if bindings and len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN:
        return bindings[0].value
    return None


def _may_be_alias(model: FileModel, annotation: cst.BaseExpression, scope: Scope) -> bool:
    """A name that may stand for `Annotated[..., marker]`: not a class, a function or a
    name of a library."""
    if model.local_class(annotation, scope) is not None:
        return False
    bindings = model.lookup(annotation.value, scope) if isinstance(annotation, cst.Name) else None
    if bindings and all(b.kind in (BindingKind.CLASS, BindingKind.DEF) for b in bindings):
        return False
    qualified = model.qualified_name(annotation, scope)
    if qualified is not None and qualified.split(".", 1)[0] in _PLAIN_LIBRARIES:
        return False
    return not _known_to_index(model, annotation, scope)


def marker_of(where: Where, expr: cst.BaseExpression | None, depth: int = 0) -> Marker | None:
    """The FastAPI marker an `Annotated` metadata item or a default is; an UNKNOWN marker
    when it may be one we cannot see; None when it is none."""
    if expr is None or depth > _DEPTH:
        return None
    model, scope = where.model, where.scope
    if isinstance(expr, cst.Call):
        qualified = model.qualified_name(expr.func, scope)
        kind = _MARKERS.get(qualified or "")
        if kind is not None:
            return Marker(kind, expr, where)
        if _never_a_marker(model, expr.func, scope, qualified):
            return None
        return Marker(UNKNOWN, None, where)
    if not isinstance(expr, cst.Name | cst.Attribute):
        return None  # a literal, a lambda, ...
    root = _root_name(expr)
    bindings = model.lookup(root.value, scope) if root is not None else None
    if bindings and all(b.kind is not BindingKind.IMPORT for b in bindings):
        # A name of this module: follow `FindItem = Depends(...)`; an attribute of a
        # local object (`Color.RED`, `settings.default`) is no marker.
        value = _local_alias(model, expr, scope) if isinstance(expr, cst.Name) else None
        return marker_of(where, value, depth + 1) if value is not None else None
    qualified = model.qualified_name(expr, scope)
    if qualified is not None and qualified.split(".", 1)[0] in _PLAIN_LIBRARIES:
        return None
    imported = imported_value(model, expr, scope) if where.follow_imports else None
    if imported is not None:  # `FindItem = Depends(find_item)` in another module
        return marker_of(imported[1], imported[0], depth + 1)
    return Marker(UNKNOWN, None, where)


def _root_name(expr: cst.BaseExpression) -> cst.Name | None:
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return expr if isinstance(expr, cst.Name) else None


def _never_a_marker(
    model: FileModel, func: cst.BaseExpression, scope: Scope, qualified: str | None
) -> bool:
    """A call that cannot build a FastAPI marker: of a library that has none, or of a class
    of this module that does not derive from FastAPI's (`Model()`, `Color("red")`)."""
    if qualified is not None and qualified.split(".", 1)[0] in _PLAIN_LIBRARIES:
        return True
    local = model.local_class(func, scope)
    return local is not None and not any(
        name.startswith("fastapi.") for name in model.ancestors(local)
    )


def unquoted(expr: cst.BaseExpression) -> cst.BaseExpression:
    """The expression a string annotation holds (short ones only), else `expr`."""
    text = string_value(expr)
    if text is None or len(text) > 200 or text.count("[") > 8:
        return expr
    try:
        return cst.parse_expression(text)
    except cst.ParserSyntaxError:
        return expr


# -- what a type is to FastAPI ---------------------------------------------------------------

SCALAR = "scalar"  # read from the query string
SCALAR_SEQUENCE = "scalar-sequence"  # a list of scalars: the body, unless `Query()` says
BODY_TYPE = "body"  # a model, a dict, a sequence of non-scalars: the body
UPLOAD = "upload"  # an `UploadFile`: a file of the body
INJECTED = "injected"  # `Request`, `Response`, `BackgroundTasks`, ...
UNKNOWN_TYPE = "unknown"


def type_kind(
    model: FileModel, expr: cst.BaseExpression | None, scope: Scope, depth: int = 0
) -> str:
    """What FastAPI makes of a parameter of this type when no marker decides."""
    if expr is None:
        return SCALAR  # no annotation: Any
    if depth > _DEPTH:
        return UNKNOWN_TYPE
    expr = unquoted(expr)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
        return _union_kind([_member_kind(model, e, scope, depth) for e in union_members(expr)])
    if isinstance(expr, cst.Subscript):
        return _generic_kind(model, expr, scope, depth)
    if isinstance(expr, cst.Name | cst.Attribute):
        return _named_kind(model, expr, scope, depth)
    return UNKNOWN_TYPE


def _member_kind(model: FileModel, expr: cst.BaseExpression, scope: Scope, depth: int) -> str:
    if is_none(expr):
        return SCALAR
    return type_kind(model, expr, scope, depth + 1)


def _union_kind(kinds: list[str]) -> str:
    """FastAPI's reading of `Optional[X]`, `X | None`, `Union[...]`."""
    for kind in (UNKNOWN_TYPE, UPLOAD, INJECTED, BODY_TYPE, SCALAR_SEQUENCE):
        if kind in kinds:
            return kind
    return SCALAR


def _generic_kind(model: FileModel, expr: cst.Subscript, scope: Scope, depth: int) -> str:
    origin = model.qualified_name(expr.value, scope)
    items = subscript_items(expr)
    if origin in _UNIONS:
        return _union_kind([_member_kind(model, item, scope, depth) for item in items])
    if origin == names.ANNOTATED and items:
        return type_kind(model, items[0], scope, depth + 1)
    if origin == "typing.Literal":
        return SCALAR
    if origin in _MAPPINGS:
        return BODY_TYPE
    if origin in _SEQUENCES:
        kinds = {
            SCALAR if isinstance(item, cst.Ellipsis) else _member_kind(model, item, scope, depth)
            for item in items
        }
        if UPLOAD in kinds:
            return UPLOAD
        if kinds <= {SCALAR}:
            return SCALAR_SEQUENCE
        return BODY_TYPE  # a sequence is never a scalar: the body, whatever it holds
    return UNKNOWN_TYPE


def _named_kind(model: FileModel, expr: cst.Name | cst.Attribute, scope: Scope, depth: int) -> str:
    if isinstance(expr, cst.Name):
        alias = _local_alias(model, expr, scope)
        if alias is not None:
            return type_kind(model, alias, scope, depth + 1)
    qualified = model.qualified_name(expr, scope)
    known = _kind_of_name(qualified)
    if known is not None:
        return known
    ancestors = class_ancestors(model, expr, scope)
    if ancestors is None:
        return UNKNOWN_TYPE
    if ancestors & _MODELS or "dataclass" in ancestors:
        return BODY_TYPE
    if ancestors & _ENUMS:
        return SCALAR
    kinds = {_kind_of_name(name) for name in ancestors} - {None, SCALAR_SEQUENCE}
    return kinds.pop() if len(kinds) == 1 else UNKNOWN_TYPE  # type: ignore[return-value]


def _kind_of_name(qualified: str | None) -> str | None:
    if qualified is None:
        return None
    if qualified in _SCALARS:
        return SCALAR
    if qualified in _SEQUENCES:
        return SCALAR_SEQUENCE  # bare `list`: a sequence of anything, read like `list[str]`
    if qualified in _MAPPINGS or qualified in _MODELS:
        return BODY_TYPE
    if qualified in _UPLOAD_FILES:
        return UPLOAD
    if qualified in _INJECTED or is_response_name(qualified):
        return INJECTED
    return None


def class_ancestors(model: FileModel, expr: cst.BaseExpression, scope: Scope) -> set[str] | None:
    """The qualified names a class derives from (with `"dataclass"` for a dataclass of this
    file), for a class of this file or of the project; None when `expr` is not known to
    name a class."""
    local = model.local_class(expr, scope)
    if local is not None:
        found = model.ancestors(local)
        if any(_is_dataclass_decorator(model, d.decorator, scope) for d in local.decorators):
            found.add("dataclass")
        return found
    return _project_class_ancestors(model, expr, scope)


def _is_dataclass_decorator(model: FileModel, expr: cst.BaseExpression, scope: Scope) -> bool:
    target = expr.func if isinstance(expr, cst.Call) else expr
    return model.qualified_name(target, scope) in _DATACLASSES


# -- the project index: classes of other modules ---------------------------------------------


def _index_value(model: FileModel, expr: cst.BaseExpression, scope: Scope) -> object:
    index = model.project.index
    tree = _expr_tree(expr)
    if index is None or model.module_key is None or tree is None:
        return None
    return index.evaluate(tree, model.module_key, scope_qualname(scope))


def _expr_tree(expr: cst.BaseExpression) -> list | None:
    """A dotted name in the project summaries' form (`["attr", ["name", "m"], "x"]`)."""
    if isinstance(expr, cst.Name):
        return ["name", expr.value]
    if isinstance(expr, cst.Attribute):
        base = _expr_tree(expr.value)
        return ["attr", base, expr.attr.value] if base is not None else None
    return None


def _known_to_index(model: FileModel, expr: cst.BaseExpression, scope: Scope) -> bool:
    """The project index knows the name as a class, a function, a module, or a name of a
    library (outside the project): not an alias of the project."""
    from fastapi_lint.project.index import Cls, Ext, Func, Mod

    return isinstance(_index_value(model, expr, scope), Cls | Ext | Func | Mod)


def _project_class_ancestors(
    model: FileModel, expr: cst.BaseExpression, scope: Scope
) -> set[str] | None:
    from fastapi_lint.project.index import Cls, Ext

    value = _index_value(model, expr, scope)
    if isinstance(value, Ext):
        return {value.name}
    if not isinstance(value, Cls) or not value.project:
        return None
    index = model.project.index
    found: set[str] = set()
    pending, seen = [value.name], set()
    while pending and len(seen) < _DEPTH * 4:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        module, _, qualname = name.partition(":")
        info = index.modules.get(module) if index is not None else None
        data = info.summary["classes"].get(qualname) if info is not None else None
        if data is None:
            continue
        for base in data["bases"]:
            base_value = index.evaluate(base, module, data["parent"])
            if isinstance(base_value, Cls) and base_value.project:
                pending.append(base_value.name)
            elif isinstance(base_value, Ext):
                found.add(base_value.name)
            elif base == ["name", "str"] or base == ["name", "int"]:
                found.add(f"builtins.{base[1]}")
    return found


# -- definitions in other modules of the project ---------------------------------------------

_MODELS_CACHE: dict[object, FileModel | None] = {}
_MODELS_CACHE_SIZE = 16


def project_definition(
    model: FileModel, expr: cst.BaseExpression, scope: Scope
) -> tuple[FileModel, cst.FunctionDef | cst.ClassDef] | None:
    """The `def` or `class` a name imported from another module of the project refers to,
    with the semantic model of that module (parsed on demand); None when unknown."""
    from fastapi_lint.project.index import Cls, Func

    value = _index_value(model, expr, scope)
    if isinstance(value, Func):
        module, qualname = value.module, value.qualname
    elif isinstance(value, Cls) and value.project:
        module, _, qualname = value.name.partition(":")
    else:
        return None
    other = _module_model(model, module)
    if other is None:
        return None
    found = _definition(other, qualname)
    return (other, found) if found is not None else None


def _definition(model: FileModel, qualname: str) -> cst.FunctionDef | cst.ClassDef | None:
    for function, info in model.functions.items():
        if scope_qualname(info.scope) == qualname:
            return function
    for cls, scope in model.classes.items():
        outer = scope_qualname(scope)
        if (f"{outer}.{cls.name.value}" if outer else cls.name.value) == qualname:
            return cls
    return None


def _module_model(model: FileModel, module: str) -> FileModel | None:
    """The semantic model of another module of the project, parsed once per run."""
    from fastapi_lint.nesting import nested_too_deeply
    from fastapi_lint.semantic import FileModel

    index = model.project.index
    info = index.modules.get(module) if index is not None else None
    if info is None:
        return None
    if module == model.module_key:
        return model
    key = (info.path, info.stamp)
    if key in _MODELS_CACHE:
        return _MODELS_CACHE[key]
    other = None
    try:
        data = info.path.read_bytes()
        if not nested_too_deeply(data):
            other = FileModel(cst.parse_module(data.decode("utf-8")), model.project, info.path)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, cst.ParserSyntaxError):
        other = None
    if len(_MODELS_CACHE) >= _MODELS_CACHE_SIZE:
        _MODELS_CACHE.pop(next(iter(_MODELS_CACHE)))
    _MODELS_CACHE[key] = other
    return other


def imported_value(
    model: FileModel, expr: cst.BaseExpression, scope: Scope, depth: int = 0
) -> tuple[cst.BaseExpression, Where] | None:
    """The value a name imported from another module of the project is assigned there
    (`SessionDep = Annotated[...]` in `deps.py`), following re-exports; None when unknown."""
    index = model.project.index
    qualified = model.qualified_name(expr, scope) if depth <= _DEPTH else None
    absolute = _absolute(model, qualified) if qualified and index is not None else None
    if absolute is None or index is None:
        return None
    module_name, _, name = absolute.rpartition(".")
    found = index.find_module(module_name, index.modules.get(model.module_key or ""))
    other = _module_model(model, found.key) if found is not None else None
    bindings = other.module_scope.bindings.get(name, []) if other is not None else []
    if other is None or len(bindings) != 1:
        return None
    binding = bindings[0]
    if binding.kind is BindingKind.ASSIGN and binding.value is not None:
        return binding.value, Where(other, other.module_scope, follow_imports=True)
    if binding.kind is BindingKind.IMPORT:
        return imported_value(other, cst.Name(name), other.module_scope, depth + 1)
    return None


def _absolute(model: FileModel, qualified: str) -> str | None:
    """`pkg.mod.Name` for `.mod.Name` as seen from the module `model` is."""
    level = len(qualified) - len(qualified.lstrip("."))
    if not level:
        return qualified
    index = model.project.index
    info = index.modules.get(model.module_key or "") if index is not None else None
    if info is None:
        return None
    parts = info.name.split(".")
    if not info.is_package:
        parts = parts[:-1]
    if level - 1 > len(parts):
        return None
    parts = parts[: len(parts) - (level - 1)]
    rest = qualified[level:]
    return ".".join([*parts, rest]) if parts else rest

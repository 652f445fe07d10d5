"""Pydantic facts the FAPI5xx rules share: when to stay silent, and which expressions are
provably Pydantic model classes or instances.

A class is a model when it derives from `BaseModel` (or `SQLModel`, `BaseSettings`,
`RootModel`), directly or through classes of the project, in this file or another (the
project index resolves those). Every base on the way must be known: a base from a library
we cannot see might define `dict()` itself. An instance is a name annotated with a model
(`item: Item`, also `Optional[Item]`, `Annotated[Item, Body()]`, quoted), assigned a model's
construction (`Item(...)`, `Item.parse_obj(...)`), the result of a function annotated to
return a model, or `self` in a method of a model.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi_lint.lazy import libcst as cst
from fastapi_lint.names import canonical
from fastapi_lint.route_params import project_definition
from fastapi_lint.semantic import (
    BindingKind,
    FileModel,
    Scope,
    children,
    is_none,
    scope_qualname,
    string_value,
)

if TYPE_CHECKING:
    from fastapi_lint.project.index import ProjectIndex

MODEL_BASES = frozenset(
    {
        "pydantic.BaseModel",
        "pydantic.RootModel",
        "pydantic.root_model.RootModel",
        "pydantic.generics.GenericModel",
        "pydantic_settings.BaseSettings",
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
        "sqlmodel.SQLModel",
        "sqlmodel.main.SQLModel",
    }
)
# Bases that define none of the v1 methods: a class may add them beside a model base.
NEUTRAL_BASES = frozenset(
    {"typing.Generic", "typing_extensions.Generic", "abc.ABC", "builtins.object"}
)
_WRAPPERS = frozenset({"typing.Optional", "typing_extensions.Optional"})
_UNIONS = frozenset({"typing.Union", "typing_extensions.Union"})
_ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
_CLASS_VARS = frozenset({"typing.ClassVar", "typing_extensions.ClassVar"})
# Class methods that return an instance of their class (v1 and v2 names).
INSTANCE_FACTORIES = frozenset(
    {
        "parse_obj", "parse_raw", "parse_file", "from_orm", "construct", "model_validate",
        "model_validate_json", "model_validate_strings", "model_construct",
    }
)  # fmt: skip
_COPIES = frozenset({"copy", "model_copy"})
_DEPTH = 12


@dataclass(frozen=True)
class ModelClass:
    """A Pydantic model class: its name, and the attributes the project's classes on its
    way to `BaseModel` define (a `dict` defined there is not Pydantic's)."""

    name: str
    defined: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _ClassFacts:
    """What is known of a class: whether every base is known, whether one is a model."""

    known: bool
    is_model: bool
    name: str = ""
    defined: frozenset[str] = frozenset()

    def as_model(self) -> ModelClass | None:
        return ModelClass(self.name, self.defined) if self.known and self.is_model else None


_UNKNOWN = _ClassFacts(known=False, is_model=False)


# -- when the rules stay silent --------------------------------------------------------------


def is_pydantic_v1_code(model: FileModel) -> bool:
    """Code that deliberately uses Pydantic 1: the project declares it (or `pydantic-version
    = 1`), or the file imports from `pydantic.v1` (the v1 API kept inside Pydantic 2)."""
    return model.project.pydantic_version == 1 or _imports_pydantic_v1(model)


def in_version_branch(model: FileModel, node: cst.CSTNode) -> bool:
    """Whether `node` is in code that supports both Pydantic versions: a branch of an
    `if` (or `x if ... else y`) whose test is about the version (`if PYDANTIC_V2:`,
    `if is_v2_model(m):`, `if hasattr(m, "model_dump"):`), or an `except AttributeError` /
    `except ImportError` handler (`try: m.model_dump() except AttributeError: m.dict()`)."""
    memo = _memo(model)
    if isinstance(node, cst.BaseStatement):  # never inside an expression: the statements tell
        if memo.guarded_statements is None:
            found = _guarded_nodes(_statements(model.module))
            memo.guarded_statements = frozenset(id(inner) for inner in found)
        return id(node) in memo.guarded_statements
    if memo.guarded is None:
        memo.guarded = frozenset(id(inner) for inner in _guarded_nodes(walk(model.module)))
    return id(node) in memo.guarded


_VERSION_WORDS = frozenset({"pydantic", "version", "v1", "v2"})
_FALLBACK_ERRORS = frozenset({"AttributeError", "ImportError", "ModuleNotFoundError"})


def _guarded_nodes(nodes: Iterable[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """What lies in the version branches among `nodes` (and everything under them)."""
    for node in nodes:
        if isinstance(node, cst.If | cst.IfExp) and _mentions_version(node.test):
            branches = [node.body, node.orelse]
        elif isinstance(node, cst.ExceptHandler) and _catches_fallback(node):
            branches = [node.body]
        else:
            continue
        for branch in branches:
            if branch is not None:
                yield from walk(branch)


def _mentions_version(test: cst.BaseExpression) -> bool:
    for node in walk(test):
        if isinstance(node, cst.Name):
            words = set(node.value.lower().split("_"))
            if words & _VERSION_WORDS:
                return True
        text = string_value(node) if isinstance(node, cst.SimpleString) else None
        if text is not None and (text.startswith("model_") or text in _V1_NAMES):
            return True
    return False


_V1_NAMES = frozenset({"dict", "json", "parse_obj", "from_orm", "__fields__", "validator"})


def _catches_fallback(handler: cst.ExceptHandler) -> bool:
    if handler.type is None:
        return False
    names = {n.value for n in walk(handler.type) if isinstance(n, cst.Name)}
    return bool(names & _FALLBACK_ERRORS)


def _imports_pydantic_v1(model: FileModel) -> bool:
    return any(
        name == "pydantic.v1" or name.startswith("pydantic.v1.") for name in imported_names(model)
    )


def imported_names(model: FileModel) -> Iterator[str]:
    """The qualified names the file imports, in any scope."""
    scopes = [model.module_scope, *(info.scope for info in model.functions.values())]
    for scope in scopes:
        for bindings in scope.bindings.values():
            for binding in bindings:
                if binding.kind is BindingKind.IMPORT and binding.qualified_name:
                    yield binding.qualified_name


# -- classes ----------------------------------------------------------------------------------


@dataclass(eq=False)
class _Memo:
    local: dict[cst.ClassDef, _ClassFacts] = field(default_factory=dict)
    project: dict[str, _ClassFacts] = field(default_factory=dict)
    guarded: frozenset[int] | None = None  # ids of the nodes in version branches
    guarded_statements: frozenset[int] | None = None  # the same, found from statements alone


def _memo(model: FileModel) -> _Memo:
    return model.analysis(_new_memo)


def _new_memo(_model: FileModel) -> _Memo:
    return _Memo()


def model_class(model: FileModel, expr: cst.BaseExpression, scope: Scope) -> ModelClass | None:
    """The model class `expr` names (`Item`, `schemas.Item`), when provable."""
    return _class_facts(model, expr, scope, 0).as_model()


def local_model(model: FileModel, class_def: cst.ClassDef) -> ModelClass | None:
    """The model a `class` statement of this file defines, when provably one."""
    return _local_facts(model, class_def, 0).as_model()


def _class_facts(
    model: FileModel, expr: cst.BaseExpression, scope: Scope, depth: int
) -> _ClassFacts:
    if depth > _DEPTH:
        return _UNKNOWN
    if isinstance(expr, cst.Subscript):  # `Generic[T]`, `BaseModel` generics
        expr = expr.value
    local = model.local_class(expr, scope)
    if local is not None:
        return _local_facts(model, local, depth + 1)
    qualified = model.qualified_name(expr, scope)
    if qualified is not None:
        known = _known_external(canonical(qualified))
        if known is not None:
            return known
    value = _index_value(model, expr, scope)
    return _value_facts(model, value, depth + 1)


def _known_external(name: str) -> _ClassFacts | None:
    if name in MODEL_BASES:
        return _ClassFacts(known=True, is_model=True, name=name)
    if name in NEUTRAL_BASES:
        return _ClassFacts(known=True, is_model=False, name=name)
    return None


def _local_facts(model: FileModel, class_def: cst.ClassDef, depth: int) -> _ClassFacts:
    memo = _memo(model).local
    if class_def not in memo:
        memo[class_def] = _UNKNOWN  # a cycle proves nothing
        scope = model.classes[class_def]
        bases = [
            _class_facts(model, b.value, scope, depth + 1) for b in class_def.bases if not b.keyword
        ]
        memo[class_def] = _combine(class_def.name.value, _class_body_names(class_def), bases)
    return memo[class_def]


def _combine(name: str, defined: frozenset[str], bases: list[_ClassFacts]) -> _ClassFacts:
    known = all(base.known for base in bases)
    for base in bases:
        defined |= base.defined
    return _ClassFacts(known, any(base.is_model for base in bases), name, defined)


def _class_body_names(class_def: cst.ClassDef) -> frozenset[str]:
    """The names a class body binds: methods, nested classes, assignments (also inside
    `if`, `try` and other blocks of the body)."""
    names: set[str] = set()
    pending: list[cst.CSTNode] = [class_def.body]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            names.add(node.name.value)
        elif isinstance(node, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            for small in node.body:
                names.update(_assigned_names(small))
        elif not isinstance(node, cst.BaseExpression):
            pending.extend(children(node))
    return frozenset(names)


def _assigned_names(statement: cst.BaseSmallStatement) -> Iterator[str]:
    if isinstance(statement, cst.Assign):
        for target in statement.targets:
            if isinstance(target.target, cst.Name):
                yield target.target.value
    elif isinstance(statement, cst.AnnAssign) and isinstance(statement.target, cst.Name):
        yield statement.target.value


# -- the project index -------------------------------------------------------------------------


def _index_value(model: FileModel, expr: cst.BaseExpression, scope: Scope) -> Any:
    """What the project index knows of an imported name (or an attribute of one)."""
    index = model.project.index
    if index is None or model.module_key is None:
        return None
    head = expr
    while isinstance(head, cst.Attribute):
        head = head.value
    if not isinstance(head, cst.Name):
        return None
    bindings = model.lookup(head.value, scope)
    if bindings is None or any(b.kind is not BindingKind.IMPORT for b in bindings):
        return None  # only names imported from elsewhere need the index
    index_expr = _to_index_expr(expr)
    if index_expr is None:
        return None
    return index.evaluate(index_expr, model.module_key, scope_qualname(scope))


def _to_index_expr(expr: cst.BaseExpression) -> list[Any] | None:
    if isinstance(expr, cst.Name):
        return ["name", expr.value]
    if isinstance(expr, cst.Attribute):
        inner = _to_index_expr(expr.value)
        return ["attr", inner, expr.attr.value] if inner is not None else None
    return None


def _value_facts(model: FileModel, value: Any, depth: int) -> _ClassFacts:
    from fastapi_lint.project.resolver import Cls, Ext

    if isinstance(value, Ext):
        return _known_external(canonical(value.name)) or _UNKNOWN
    if isinstance(value, Cls) and value.project and model.project.index is not None:
        return _project_facts(model, model.project.index, value.name, depth)
    return _UNKNOWN


def _project_facts(model: FileModel, index: ProjectIndex, name: str, depth: int) -> _ClassFacts:
    """A class of the project (`module:Qual.Name`), from its module's summary."""
    memo = _memo(model).project
    if name in memo:
        return memo[name]
    memo[name] = _UNKNOWN
    module, _, qualname = name.partition(":")
    info = index.modules.get(module)
    data = info.summary["classes"].get(qualname) if info is not None else None
    if data is None or depth > _DEPTH:
        return _UNKNOWN
    bases = []
    for base in data["bases"]:
        if base and base[0] == "subscript":
            base = base[1]
        value = index.evaluate(base, module, data["parent"])
        bases.append(_value_facts(model, value, depth + 1))
    scope = info.summary["scopes"].get(qualname, {})
    defined = frozenset(scope.get("names", {}))
    memo[name] = _combine(qualname.rsplit(".", 1)[-1], defined, bases)
    return memo[name]


def _index_annotation(
    model: FileModel, annotation: Any, module: str, scope: str
) -> ModelClass | None:
    """The model an annotation of the index's summaries names (another module's function)."""
    index = model.project.index
    if index is None or not annotation or annotation[0] == "opaque":
        return None
    tag = annotation[0]
    if tag == "str":
        parts = annotation[1].split(".")
        if not all(part.isidentifier() for part in parts):
            return None
        annotation = ["name", parts[0]]
        for part in parts[1:]:
            annotation = ["attr", annotation, part]
        tag = "name" if len(parts) == 1 else "attr"
    if tag == "union":
        return _only_model(
            [
                _index_annotation(model, a, module, scope)
                for a in annotation[1]
                if a != ["const", None]
            ]
        )
    if tag == "subscript":
        wrapper = index.evaluate(annotation[1], module, scope)
        name = canonical(getattr(wrapper, "name", "") or "")
        inner = annotation[2]
        items = inner[1] if inner[0] == "list" else [inner]
        if name in _ANNOTATED:
            items = items[:1]
        elif name in _UNIONS:
            items = [item for item in items if item != ["const", None]]
        elif name not in _WRAPPERS:
            return None
        return _only_model([_index_annotation(model, item, module, scope) for item in items])
    value = index.evaluate(annotation, module, scope)
    return _value_facts(model, value, 0).as_model()


def _only_model(found: list[ModelClass | None]) -> ModelClass | None:
    """The one model a union names (`Item | None`), else None."""
    return found[0] if len(found) == 1 else None


# -- fields ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ModelField:
    """A field a model class declares (`name: annotation = value`), with the module and the
    scope its annotation and value are evaluated in, and the class that declares it."""

    name: str
    annotation: cst.BaseExpression
    value: cst.BaseExpression | None
    model: FileModel
    scope: Scope
    owner: cst.ClassDef


def model_fields(
    model: FileModel, expr: cst.BaseExpression, scope: Scope
) -> list[ModelField] | None:
    """The fields of the model class `expr` names, in this file or another module of the
    project, with those its bases of the project declare (a field redeclared by a subclass
    counts once, as the subclass declares it); None when `expr` is not provably a model
    whose `class` statement fastapi-lint can read."""
    if model_class(model, expr, scope) is None:
        return None
    found = _class_definition(model, expr, scope)
    if found is None:
        return None
    fields: dict[str, ModelField] = {}
    _collect_fields(found[0], found[1], fields, 0)
    return list(fields.values())


def _class_definition(
    model: FileModel, expr: cst.BaseExpression, scope: Scope
) -> tuple[FileModel, cst.ClassDef] | None:
    if isinstance(expr, cst.Subscript):  # `Page[Item]`: the generic class
        expr = expr.value
    local = model.local_class(expr, scope)
    if local is not None:
        return model, local
    found = project_definition(model, expr, scope)
    if found is None or not isinstance(found[1], cst.ClassDef):
        return None
    return found  # type: ignore[return-value]


def _collect_fields(
    model: FileModel, class_def: cst.ClassDef, fields: dict[str, ModelField], depth: int
) -> None:
    scope = model.classes[class_def]
    if depth > _DEPTH:
        return
    for base in reversed(class_def.bases):  # the first base wins, as in the MRO
        if base.keyword is None:
            found = _class_definition(model, base.value, scope)
            if found is not None:
                _collect_fields(found[0], found[1], fields, depth + 1)
    for statement in class_def.body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for item in statement.body:
            if isinstance(item, cst.AnnAssign) and isinstance(item.target, cst.Name):
                name = item.target.value
                annotation = item.annotation.annotation
                if name.startswith("_") or _is_class_var(model, annotation, scope):
                    continue  # private attributes and class variables are no fields
                fields.pop(name, None)  # keep the declaration order of the subclass
                fields[name] = ModelField(name, annotation, item.value, model, scope, class_def)


def _is_class_var(model: FileModel, annotation: cst.BaseExpression, scope: Scope) -> bool:
    head = annotation.value if isinstance(annotation, cst.Subscript) else annotation
    return canonical(model.qualified_name(head, scope) or "") in _CLASS_VARS


# -- annotations and instances ------------------------------------------------------------------


def annotation_model(
    model: FileModel, annotation: cst.BaseExpression | None, scope: Scope
) -> ModelClass | None:
    """The model an annotation names: `Item`, `"Item"`, `Item | None`, `Optional[Item]`,
    `Union[Item, None]`, `Annotated[Item, ...]`."""
    if annotation is None:
        return None
    text = string_value(annotation)
    if text is not None:
        if not all(part.isidentifier() for part in text.split(".")):
            return None
        try:
            annotation = cst.parse_expression(text)
        except cst.ParserSyntaxError:
            return None
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        parts = [p for p in (annotation.left, annotation.right) if not is_none(p)]
        return annotation_model(model, parts[0], scope) if len(parts) == 1 else None
    if isinstance(annotation, cst.Subscript):
        return _subscript_model(model, annotation, scope)
    return model_class(model, annotation, scope)


def _subscript_model(
    model: FileModel, annotation: cst.Subscript, scope: Scope
) -> ModelClass | None:
    wrapper = canonical(model.qualified_name(annotation.value, scope) or "")
    items = [
        element.slice.value for element in annotation.slice if isinstance(element.slice, cst.Index)
    ]
    if wrapper in _ANNOTATED:
        items = items[:1]
    elif wrapper in _UNIONS:
        items = [item for item in items if not is_none(item)]
    elif wrapper not in _WRAPPERS:
        return None
    return annotation_model(model, items[0], scope) if len(items) == 1 else None


def instance_model(
    model: FileModel, expr: cst.BaseExpression, scope: Scope, depth: int = 0
) -> ModelClass | None:
    """The model class `expr` is provably an instance of."""
    if depth > _DEPTH:
        return None
    if isinstance(expr, cst.Await) and isinstance(expr.expression, cst.Call):
        return _call_result(model, expr.expression, scope, depth, awaited=True)
    if isinstance(expr, cst.Call):
        return _call_result(model, expr, scope, depth, awaited=False)
    if isinstance(expr, cst.Name):
        return _name_instance(model, expr, scope, depth)
    return None


def _call_result(
    model: FileModel, call: cst.Call, scope: Scope, depth: int, *, awaited: bool
) -> ModelClass | None:
    func = call.func
    if not awaited:
        constructed = model_class(model, func, scope)
        if constructed is not None:
            return constructed
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in INSTANCE_FACTORIES:
                owner = class_receiver(model, func.value, scope)
                return owner if owner is not None and method not in owner.defined else None
            if method in _COPIES:
                owner = instance_model(model, func.value, scope, depth + 1)
                return owner if owner is not None and method not in owner.defined else None
    return _returned_model(model, func, scope, awaited=awaited)


def _returned_model(
    model: FileModel, func: cst.BaseExpression, scope: Scope, *, awaited: bool
) -> ModelClass | None:
    """A call of a function annotated to return a model (awaited when it is async)."""
    local = model.resolve_function(func, scope) if isinstance(func, cst.Name) else None
    if local is not None:
        if (local.asynchronous is not None) != awaited or local.returns is None:
            return None
        info = model.function_info(local)
        outer = info.scope.parent if info is not None else None
        return annotation_model(model, local.returns.annotation, outer or scope)
    from fastapi_lint.project.resolver import Func

    value = _index_value(model, func, scope)
    index = model.project.index
    if not isinstance(value, Func) or index is None:
        return None
    data = index.modules[value.module].summary["functions"].get(value.qualname)
    if data is None or data["async"] != awaited:
        return None
    return _index_annotation(model, data["returns"], value.module, data["parent"])


def _name_instance(model: FileModel, name: cst.Name, scope: Scope, depth: int) -> ModelClass | None:
    where = model.binding_scope(name.value, scope)
    if where is None:
        return None
    bindings = where.bindings[name.value]
    found = [_binding_instance(model, name, b, where, depth) for b in bindings]
    if not found or any(item is None for item in found) or len(set(found)) != 1:
        return None
    return found[0]


def _binding_instance(
    model: FileModel, name: cst.Name, binding: Any, where: Scope, depth: int
) -> ModelClass | None:
    if binding.kind is BindingKind.PARAM:
        if binding.annotation is not None:
            return annotation_model(model, binding.annotation, where.parent or where)
        method = _method_of_model(model, name.value, where)
        return method[0] if method is not None and method[1] == "self" else None
    if binding.kind is BindingKind.ASSIGN:
        if binding.annotation is not None:
            return annotation_model(model, binding.annotation, where)
        return instance_model(model, binding.value, where, depth + 1) if binding.value else None
    if binding.kind is BindingKind.IMPORT:
        from fastapi_lint.project.resolver import Inst

        value = _index_value(model, name, where)
        if isinstance(value, Inst) and model.project.index is not None:
            return _project_facts(model, model.project.index, value.cls, 0).as_model()
    return None


def class_receiver(model: FileModel, expr: cst.BaseExpression, scope: Scope) -> ModelClass | None:
    """The model class `expr` is: a name of one, or `cls` in a class method of one."""
    found = model_class(model, expr, scope)
    if found is not None or not isinstance(expr, cst.Name):
        return found
    where = model.binding_scope(expr.value, scope)
    bindings = where.bindings[expr.value] if where is not None else []
    if len(bindings) != 1 or bindings[0].kind is not BindingKind.PARAM or bindings[0].annotation:
        return None
    method = _method_of_model(model, expr.value, where)  # type: ignore[arg-type]
    return method[0] if method is not None and method[1] == "cls" else None


def _method_of_model(model: FileModel, param: str, where: Scope) -> tuple[ModelClass, str] | None:
    """(the model, "self" or "cls") when `param` is the first parameter of a method of a
    model class: an instance, or the class in a `@classmethod`."""
    function = where.node
    owner = where.parent
    if not isinstance(function, cst.FunctionDef) or owner is None or owner.kind != "class":
        return None
    params = function.params.params
    if not params or params[0].name.value != param:
        return None
    decorators = {model.qualified_name(d.decorator, owner) for d in function.decorators}
    if decorators - {"builtins.classmethod"}:
        return None  # a static method, a property, a validator: not plain `self`
    assert isinstance(owner.node, cst.ClassDef)
    found = local_model(model, owner.node)
    if found is None:
        return None
    return found, "cls" if "builtins.classmethod" in decorators else "self"


def may_mention(model: FileModel, text: bytes) -> bool:
    """False when the file, as the project index read it from disk, does not contain
    `text`: a cheap test before walking the whole tree for it. True when unknown (no
    index, or code that is not a project file). Fixes never add such text, so the file on
    disk holds it whenever the code being fixed does."""
    index = model.project.index
    info = index.modules.get(model.module_key) if index and model.module_key else None
    if info is None:
        return True
    try:
        return text in info.path.read_bytes()
    except OSError:
        return True


# -- walking the tree ----------------------------------------------------------------------------


def walk(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under `root`, `root` first."""
    pending = [root]
    while pending:
        node = pending.pop()
        yield node
        pending.extend(children(node))


def _statements(module: cst.Module) -> Iterator[cst.CSTNode]:
    """Every statement of the module, with what holds statements (blocks, `else`, `except`,
    `finally`, `case`): `walk` without expressions."""
    holders = (
        cst.BaseCompoundStatement,
        cst.SimpleStatementLine,
        cst.IndentedBlock,
        cst.Else,
        cst.ExceptHandler,
        cst.ExceptStarHandler,
        cst.Finally,
        cst.MatchCase,
    )
    pending: list[cst.CSTNode] = [module]
    while pending:
        node = pending.pop()
        yield node
        pending.extend(child for child in children(node) if isinstance(child, holders))


def walk_with_scopes(
    model: FileModel,
) -> Iterator[tuple[cst.CSTNode, Scope, frozenset[str]]]:
    """Every node in a module or function body, with the scope its names resolve in and the
    names a lambda or comprehension around it binds (they shadow that scope's). Class
    bodies are skipped, except their methods: their names are not in a scope the model
    exposes."""
    pending: list[tuple[cst.CSTNode, Scope, frozenset[str]]] = [
        (model.module, model.module_scope, frozenset())
    ]
    while pending:
        node, scope, shadowed = pending.pop()
        yield node, scope, shadowed
        if isinstance(node, cst.FunctionDef):
            info = model.function_info(node)
            if info is not None:
                pending.append((node.body, info.scope, frozenset()))
            continue
        if isinstance(node, cst.ClassDef):
            pending.extend((inner, scope, shadowed) for inner in _definitions(node.body))
            continue
        if isinstance(node, cst.Lambda | cst.BaseComp):
            shadowed = shadowed | _bound_by(node)
        pending.extend((child, scope, shadowed) for child in children(node))


def _definitions(body: cst.CSTNode) -> Iterator[cst.FunctionDef | cst.ClassDef]:
    """The functions and classes a class body defines (in `if` blocks too), not those
    nested in them."""
    pending = [body]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            yield node
        elif not isinstance(node, cst.BaseExpression | cst.SimpleStatementLine):
            pending.extend(children(node))


def _bound_by(node: cst.CSTNode) -> frozenset[str]:
    """The names a lambda's parameters or a comprehension's `for` targets bind."""
    if isinstance(node, cst.Lambda):
        params = node.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        every += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
        return frozenset(param.name.value for param in every)
    targets = [n for n in walk(node) if isinstance(n, cst.CompFor)]
    return frozenset(
        name.value
        for target in targets
        for name in walk(target.target)
        if isinstance(name, cst.Name)
    )

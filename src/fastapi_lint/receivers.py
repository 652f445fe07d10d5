"""Receiver typing: which known type of `blocking.TYPES` an expression evaluates to.

File-local and flow-insensitive, built on the public `FileModel` API. A name has a type when
every binding of it in its scope agrees (`x = None` placeholders aside): an annotation
naming a known class (also `Optional[X]`, `X | None`, `Annotated[X, ...]` and aliases of
those), a value built by a known constructor (`httpx.Client()`, `with requests.Session() as
s`, `SessionLocal()` for a `sessionmaker`), a call of a function of this file whose return
annotation is known, or a FastAPI dependency of this file (`Depends(get_db)`) that yields or
returns one. `self.x` has a type when every assignment to it in the class agrees. Anything
else is unknown, and unknown is never reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi_lint import blocking, names
from fastapi_lint.blocking import TYPES, SyncType
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.semantic import (
    Binding,
    BindingKind,
    CallSite,
    FileModel,
    Scope,
    is_none,
    string_value,
    union_members,
)

_MAX_DEPTH = 40  # expression nesting we follow (`p / "a" / "b"`, `client.db.users`)
_OPTIONAL = frozenset({"typing.Optional", "typing_extensions.Optional"})
_UNION = frozenset({"typing.Union", "typing_extensions.Union"})
# What a dependency's return annotation wraps around the value it provides.
_ITERATORS = frozenset(
    f"{module}.{name}"
    for module in ("typing", "typing_extensions", "collections.abc")
    for name in ("Generator", "Iterator", "AsyncGenerator", "AsyncIterator")
)


@dataclass(frozen=True)
class Typed:
    type: SyncType
    # The function whose code made the value with a call (None: at module level, or declared
    # by an annotation). FAPI201 reports `open()` once, not again per `f.read()` after it.
    made_in: Scope | None = None


_NEUTRAL = object()  # `x = None`: a placeholder binding, no evidence either way
_PENDING = object()  # being computed: a cycle (`a = b; b = a`) gives up


def receivers(model: FileModel) -> Receivers:
    """The receiver typing of a file, shared by the rules that check it."""
    return model.analysis(Receivers)


def executing_async_function(scope: Scope) -> Scope | None:
    """The `async def` whose frame runs code in `scope`; None in a sync def, lambda or module."""
    function = scope.executing_function()
    return function if function is not None and function.is_async_function else None


def async_method_calls(model: FileModel, rule: str) -> Iterator[tuple[CallSite, Scope, str]]:
    """`(call, async function, method)` for each call, run by an `async def`, of a method
    that `rule` reports on a receiver of a known type (`session.execute(...)` on a sync
    SQLAlchemy session). Awaited calls are left to the rule."""
    typing = receivers(model)
    methods = reported_methods(rule)
    for site in model.calls:
        func = site.call.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in methods:
            continue
        function = executing_async_function(site.scope)
        found = typing.method_call(site.call, site.scope) if function is not None else None
        if found is not None and found[0].type.rule == rule and found[0].type.blocks(found[1]):
            yield site, function, found[1]  # type: ignore[misc]


def reported_methods(rule: str) -> frozenset[str]:
    """The method names a rule reports (a cheap check before any typing); only for rules
    whose types list their methods."""
    kinds = [kind for kind in TYPES.values() if kind.rule == rule]
    assert all(kind.all_methods_except is None for kind in kinds), "no name to check first"
    return frozenset().union(*(kind.methods for kind in kinds))


class Receivers:
    def __init__(self, model: FileModel) -> None:
        self.model = model
        self._names: dict[tuple[Scope, str], object] = {}
        self._members: dict[tuple[cst.ClassDef, str, bool], object] = {}
        self._provided: dict[cst.FunctionDef, object] = {}

    def method_call(self, call: cst.Call, scope: Scope) -> tuple[Typed, str] | None:
        """`(receiver type, method)` for `receiver.method(...)` on a typed receiver."""
        func = call.func
        if not isinstance(func, cst.Attribute):
            return None
        typed = self.type_of(func.value, scope)
        return (typed, func.attr.value) if typed is not None else None

    def type_of(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> Typed | None:
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, cst.Name):
            return self._name(expr.value, scope)
        if isinstance(expr, cst.Attribute):
            return self._attribute(expr, scope, depth)
        if isinstance(expr, cst.Subscript):
            base = self.type_of(expr.value, scope, depth + 1)
            return _member(base, base.type.items) if base is not None else None
        if isinstance(expr, cst.Call):
            return self._call(expr, scope, depth)
        if isinstance(expr, cst.Await) and isinstance(expr.expression, cst.Call):
            return self._local_function_result(expr.expression, scope, awaited=True)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
            left = self.type_of(expr.left, scope, depth + 1)  # `base_dir / "file.txt"`
            return left if left is not None and left.type.name == blocking.PATH else None
        return None

    # -- names -------------------------------------------------------------------------

    def _name(self, name: str, scope: Scope) -> Typed | None:
        where = self.model.binding_scope(name, scope)
        if where is None:
            return None
        key = (where, name)
        if key not in self._names:
            self._names[key] = _PENDING
            self._names[key] = self._name_type(name, where)
        found = self._names[key]
        return found if isinstance(found, Typed) else None

    def _name_type(self, name: str, where: Scope) -> object:
        """What the bindings agree on. A binding built from the name itself (`p = p / "x"`)
        is checked against what the others give, once they agree."""
        bindings = where.bindings[name]
        derived = [b for b in bindings if len(bindings) > 1 and _mentions(b.value, name)]
        evidence = [self._binding(b, name, where) for b in bindings if b not in derived]
        base = _agree(evidence)
        if not derived or not isinstance(base, Typed):
            return base
        self._names[(where, name)] = base  # provisionally, while the derived ones are typed
        return _agree([*evidence, *(self._binding(b, name, where) for b in derived)])

    def _binding(self, binding: Binding, name: str, where: Scope) -> object:
        if binding.kind is BindingKind.PARAM:
            return self._parameter(name, where)
        if binding.kind is not BindingKind.ASSIGN:
            return None  # imports, loop targets, unpacking: unknown
        declared = self.annotation_type(binding.annotation, where)
        if declared is not None:
            return Typed(declared)
        if is_none(binding.value):
            return _NEUTRAL
        return self.type_of(binding.value, where, 1) if binding.value is not None else None

    def _parameter(self, name: str, where: Scope) -> object:
        function = where.node
        if not isinstance(function, cst.FunctionDef) or where.parent is None:
            return None
        param = next((p for p in _parameters(function) if p.name.value == name), None)
        if param is None:
            return None
        annotation = param.annotation.annotation if param.annotation is not None else None
        declared = self.annotation_type(annotation, where.parent)
        if declared is not None:
            return Typed(declared)
        dependency = self._dependency_function(param, where.parent)
        return self._provided_by(dependency) if dependency is not None else None

    # -- attributes --------------------------------------------------------------------

    def _attribute(self, expr: cst.Attribute, scope: Scope, depth: int) -> Typed | None:
        attr = expr.attr.value
        if isinstance(expr.value, cst.Name):
            owner = self._self_class(expr.value.value, scope)
            if owner is not None:
                class_scope, instance = owner
                return self._class_member(class_scope, attr, instance)
        base = self.type_of(expr.value, scope, depth + 1)
        if base is None or attr.startswith("_"):
            return None
        kind = base.type
        if attr in kind.attributes:
            return _member(base, kind.attributes[attr])
        if attr in kind.not_other_attributes or attr in kind.methods or attr in kind.returns:
            return None
        return _member(base, kind.other_attributes)

    def _self_class(self, name: str, scope: Scope) -> tuple[Scope, bool] | None:
        """(class scope, instance?) when `name` is the first parameter of a method."""
        where = self.model.binding_scope(name, scope)
        method = where.node if where is not None else None
        if where is None or not isinstance(method, cst.FunctionDef):
            return None
        if where.parent is None or where.parent.kind != "class":
            return None
        params = _positional(method)
        if not params or params[0].name.value != name or len(where.bindings[name]) != 1:
            return None
        decorators = {_dotted(d.decorator) for d in method.decorators}
        if "staticmethod" in decorators:
            return None
        return where.parent, "classmethod" not in decorators

    def _class_member(self, class_scope: Scope, attr: str, instance: bool) -> Typed | None:
        class_def = class_scope.node
        assert isinstance(class_def, cst.ClassDef)
        key = (class_def, attr, instance)
        if key not in self._members:
            self._members[key] = _PENDING
            evidence = [
                self._binding(b, attr, class_scope) for b in class_scope.bindings.get(attr, [])
            ]
            if instance:
                evidence.extend(self._self_assignments(class_def, attr))
            self._members[key] = _agree(evidence)
        found = self._members[key]
        return found if isinstance(found, Typed) else None

    def _self_assignments(self, class_def: cst.ClassDef, attr: str) -> Iterator[object]:
        """The type of each `self.<attr> = value` in the methods of the class."""
        for statement in class_def.body.body:
            info = (
                self.model.function_info(statement)
                if isinstance(statement, cst.FunctionDef)
                else None
            )
            params = _positional(statement) if info is not None else []
            if info is None or not params:
                continue
            this = params[0].name.value
            for small in _small_statements(statement.body):
                yield from self._assignment_evidence(small, this, attr, info.scope)

    def _assignment_evidence(
        self, statement: cst.BaseSmallStatement, this: str, attr: str, scope: Scope
    ) -> Iterator[object]:
        if isinstance(statement, cst.Assign):
            for target in statement.targets:
                if _is_self_attribute(target.target, this, attr):
                    yield (
                        _NEUTRAL
                        if is_none(statement.value)
                        else self.type_of(statement.value, scope, 1)
                    )
                elif _mentions_self_attribute(target.target, this, attr):
                    yield None  # `self.a, self.b = ...`: unknown
        elif isinstance(statement, cst.AnnAssign) and _is_self_attribute(
            statement.target, this, attr
        ):
            declared = self.annotation_type(statement.annotation.annotation, scope)
            if declared is not None:
                yield Typed(declared)
            elif statement.value is not None:
                yield self.type_of(statement.value, scope, 1)
        elif isinstance(statement, cst.AugAssign) and _is_self_attribute(
            statement.target, this, attr
        ):
            yield None

    # -- calls -------------------------------------------------------------------------

    def _call(self, call: cst.Call, scope: Scope, depth: int) -> Typed | None:
        made_in = scope.executing_function()
        qualified = self.model.qualified_name(call.func, scope)
        if qualified is not None:
            kind = blocking.CONSTRUCTORS.get(qualified)
            if kind is None:
                return None
            kind = self._session_factory(call, scope) if kind == blocking.SESSION_FACTORY else kind
            return Typed(TYPES[kind], made_in) if kind is not None else None
        if isinstance(call.func, cst.Attribute):  # `boto3.Session().client("s3")`, `p.open()`
            base = self.type_of(call.func.value, scope, depth + 1)
            if base is not None:
                kind = _method_result(base.type, call.func.attr.value)
                return Typed(TYPES[kind], made_in) if kind is not None else None
        factory = self.type_of(call.func, scope, depth + 1)  # `SessionLocal()`
        if factory is not None:
            kind = factory.type.call_result
            return Typed(TYPES[kind], made_in) if kind is not None else None
        return self._local_function_result(call, scope, awaited=False)

    def _session_factory(self, call: cst.Call, scope: Scope) -> str | None:
        """`sessionmaker(...)` makes sync sessions unless `class_=` says otherwise."""
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "class_":
                kind = blocking.ANNOTATIONS.get(self.model.qualified_name(arg.value, scope) or "")
                if kind == blocking.ASYNC_SESSION:
                    return blocking.ASYNC_SESSION_FACTORY
                return blocking.SESSION_FACTORY if kind == blocking.SESSION else None
            if arg.star == "**":
                return None
        return blocking.SESSION_FACTORY

    def _local_function_result(
        self, call: cst.Call, scope: Scope, *, awaited: bool
    ) -> Typed | None:
        """`tmp()` for `def tmp() -> Path` in this file; `await f()` for an `async def f`."""
        function = self.model.resolve_function(call.func, scope)
        if function is None or (function.asynchronous is not None) != awaited:
            return None
        info = self.model.function_info(function)
        if info is None or info.scope.parent is None or function.returns is None:
            return None
        declared = self.annotation_type(function.returns.annotation, info.scope.parent)
        return Typed(declared) if declared is not None else None

    # -- dependencies ------------------------------------------------------------------

    def _dependency_function(self, param: cst.Param, outer: Scope) -> cst.FunctionDef | None:
        """`get_db` for `db=Depends(get_db)` or `db: Annotated[X, Depends(get_db)]`."""
        candidates = [param.default] if param.default is not None else []
        annotation = param.annotation.annotation if param.annotation is not None else None
        annotated = isinstance(annotation, cst.Subscript) and (
            self.model.qualified_name(annotation.value, outer) == names.ANNOTATED
        )
        if annotated:
            candidates.extend(_subscript_items(annotation)[1:])  # type: ignore[arg-type]
        for candidate in candidates:
            if not isinstance(candidate, cst.Call):
                continue
            if self.model.qualified_name(candidate.func, outer) not in (
                names.DEPENDS,
                names.SECURITY,
            ):
                continue
            target = _first_argument(candidate, "dependency")
            return self.model.resolve_function(target, outer) if target is not None else None
        return None

    def _provided_by(self, function: cst.FunctionDef) -> object:
        """The type of what a dependency provides: its return annotation (unwrapping
        `Generator[X, ...]`), else what all its `yield`s (or `return`s) agree on."""
        if function not in self._provided:
            self._provided[function] = _PENDING
            self._provided[function] = self._provided_type(function)
        return self._provided[function]

    def _provided_type(self, function: cst.FunctionDef) -> object:
        info = self.model.function_info(function)
        if info is None or info.scope.parent is None:
            return None
        if function.returns is not None:
            annotation = function.returns.annotation
            declared = self.annotation_type(annotation, info.scope.parent, provided=True)
            if declared is not None:
                return Typed(declared)
        generator = function in self.model.generators
        values = [
            value
            for statement in _small_statements(function.body)
            if (value := _provided_value(statement, generator)) is not None
        ]
        return _agree(self.type_of(value, info.scope, 1) for value in values) if values else None

    # -- annotations -------------------------------------------------------------------

    def annotation_type(
        self,
        annotation: cst.BaseExpression | None,
        scope: Scope,
        depth: int = 0,
        *,
        provided: bool = False,
    ) -> SyncType | None:
        """The known type an annotation names; `provided`: also unwrap `Iterator[X]` and the
        like, as FastAPI does for a dependency's return annotation."""
        if annotation is None or depth > 8:
            return None
        text = string_value(annotation)
        if text is not None:
            annotation = _parse_annotation(text)
            if annotation is None:
                return None
        if isinstance(annotation, cst.BinaryOperation) and isinstance(
            annotation.operator, cst.BitOr
        ):
            return self._union([annotation.left, annotation.right], scope, depth)
        if isinstance(annotation, cst.Subscript):
            return self._generic(annotation, scope, depth, provided)
        qualified = self.model.qualified_name(annotation, scope)
        if qualified is None:
            return self._alias(annotation, scope, depth)
        kind = blocking.ANNOTATIONS.get(qualified) or _boto3_stub(qualified)
        return TYPES[kind] if kind is not None else None

    def _generic(
        self, annotation: cst.Subscript, scope: Scope, depth: int, provided: bool
    ) -> SyncType | None:
        origin = self.model.qualified_name(annotation.value, scope)
        items = _subscript_items(annotation)
        if not items:
            return None
        if origin in _UNION:
            return self._union(items, scope, depth)
        if origin in _OPTIONAL or origin == names.ANNOTATED or (provided and origin in _ITERATORS):
            return self.annotation_type(items[0], scope, depth + 1)
        return None

    def _union(
        self, members: list[cst.BaseExpression], scope: Scope, depth: int
    ) -> SyncType | None:
        """`X | None`: the one member that is not None (nested `|` are flattened)."""
        flat = [member for item in members for member in union_members(item) if not is_none(member)]
        return self.annotation_type(flat[0], scope, depth + 1) if len(flat) == 1 else None

    def _alias(self, annotation: cst.BaseExpression, scope: Scope, depth: int) -> SyncType | None:
        """`SessionDep = Annotated[Session, Depends(get_db)]`, then `db: SessionDep`."""
        if not isinstance(annotation, cst.Name):
            return None
        where = self.model.binding_scope(annotation.value, scope)
        bindings = where.bindings[annotation.value] if where is not None else []
        if len(bindings) != 1 or bindings[0].kind is not BindingKind.ASSIGN:
            return None
        value = bindings[0].value
        if not isinstance(value, cst.Subscript | cst.Name | cst.Attribute):
            return None
        return self.annotation_type(value, where, depth + 1)  # type: ignore[arg-type]


# -- helpers -----------------------------------------------------------------------------


def _agree(evidence: Iterator[object] | list[object]) -> object:
    """One type when every piece of evidence names it (placeholders aside), else None."""
    found: list[Typed] = []
    for item in evidence:
        if item is _NEUTRAL:
            continue
        if not isinstance(item, Typed):
            return None
        found.append(item)
    if not found or any(item.type is not found[0].type for item in found):
        return None
    made_in = {item.made_in for item in found}
    return Typed(found[0].type, made_in.pop() if len(made_in) == 1 else None)


def _method_result(kind: SyncType, method: str) -> str | None:
    if method[:1].isupper() and kind.subresources is not None:
        return kind.subresources
    return kind.returns.get(method)


def _member(base: Typed, kind: str | None) -> Typed | None:
    return Typed(TYPES[kind], base.made_in) if kind is not None else None


def _boto3_stub(qualified: str) -> str | None:
    """`mypy_boto3_s3.S3Client` is a boto3 client, `...S3ServiceResource` a resource."""
    if not qualified.startswith(blocking.BOTO3_STUBS_PREFIX):
        return None
    last = qualified.rsplit(".", 1)[-1]
    if last.endswith("ServiceResource"):
        return blocking.BOTO3_RESOURCE
    return blocking.BOTO3_CLIENT if last.endswith("Client") else None


def _mentions(expr: cst.BaseExpression | None, name: str) -> bool:
    """Whether `name` appears in the expression (a binding's value, typically small)."""
    stack: list[cst.CSTNode] = [expr] if expr is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name) and node.value == name:
            return True
        stack.extend(node.children)
    return False


def _parse_annotation(text: str) -> cst.BaseExpression | None:
    """A quoted annotation; short ones only (deeply nested text would crash the parser)."""
    if len(text) > 200 or "\n" in text:
        return None
    try:
        return cst.parse_expression(text)
    except cst.ParserSyntaxError:
        return None


def _subscript_items(subscript: cst.Subscript) -> list[cst.BaseExpression]:
    return [
        element.slice.value for element in subscript.slice if isinstance(element.slice, cst.Index)
    ]


def _first_argument(call: cst.Call, keyword: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    return positional[0].value if positional else None


def _parameters(function: cst.FunctionDef) -> list[cst.Param]:
    params = function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    every.extend(p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param))
    return every


def _positional(function: cst.FunctionDef) -> list[cst.Param]:
    return [*function.params.posonly_params, *function.params.params]


def _dotted(expr: cst.BaseExpression) -> str:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return f"{_dotted(expr.value)}.{expr.attr.value}"
    return ""


def _is_self_attribute(target: cst.BaseExpression, this: str, attr: str) -> bool:
    return (
        isinstance(target, cst.Attribute)
        and target.attr.value == attr
        and isinstance(target.value, cst.Name)
        and target.value.value == this
    )


def _mentions_self_attribute(target: cst.BaseExpression, this: str, attr: str) -> bool:
    if isinstance(target, cst.Tuple | cst.List):
        return any(_mentions_self_attribute(e.value, this, attr) for e in target.elements)
    if isinstance(target, cst.StarredElement):
        return _mentions_self_attribute(target.value, this, attr)
    return _is_self_attribute(target, this, attr)


def _provided_value(
    statement: cst.BaseSmallStatement, generator: bool
) -> cst.BaseExpression | None:
    """What a dependency hands out: `yield value` in a generator, else `return value`."""
    if generator:
        if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Yield):
            value = statement.value.value
            return value if isinstance(value, cst.BaseExpression) else None
        return None
    return statement.value if isinstance(statement, cst.Return) else None


def _small_statements(body: cst.BaseSuite) -> Iterator[cst.BaseSmallStatement]:
    """The simple statements of a function body, through `if`/`with`/`try`/loops, but not
    into nested functions or classes (their code runs elsewhere)."""
    stack: list[cst.CSTNode] = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            yield from node.body
        elif isinstance(node, cst.IndentedBlock):
            stack.extend(reversed(node.body))
        elif isinstance(node, cst.FunctionDef | cst.ClassDef):
            continue
        elif isinstance(node, cst.BaseCompoundStatement | cst.BaseSuite):
            stack.extend(reversed(list(_blocks(node))))
        elif isinstance(node, _clauses()):
            stack.append(node.body)


def _clauses() -> tuple[type, ...]:
    return (cst.ExceptHandler, cst.ExceptStarHandler, cst.Else, cst.Finally, cst.MatchCase)


def _blocks(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The nested suites and clauses of a compound statement."""
    for name in ("body", "handlers", "orelse", "finalbody", "cases"):
        value = getattr(node, name, None)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, tuple | list):
            yield from (item for item in value if isinstance(item, cst.CSTNode))

from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint import names
from fastapi_lint.diagnostics import Severity
from fastapi_lint.fixes import Applicability, Fix
from fastapi_lint.handlers import handler_returns, is_constant, returned_values
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.names import canonical
from fastapi_lint.route_params import project_definition
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import BindingKind, CallSite, FileModel, Scope

# Decorators that leave what a call of the function returns as it is.
_TRANSPARENT = frozenset(
    {"functools.lru_cache", "functools.cache", "builtins.staticmethod", "builtins.classmethod"}
)
# Builtins whose call gives a value that cannot be called.
_VALUE_BUILTINS = frozenset(
    f"builtins.{name}"
    for name in (
        "dict", "list", "set", "tuple", "frozenset", "str", "int", "float", "bool", "bytes",
        "len", "sorted", "repr", "format",
    )
)  # fmt: skip
# Classes whose instances cannot be called (nor those of subclasses without `__call__`).
_VALUE_CLASSES = frozenset(
    {
        "pydantic.BaseModel", "pydantic_settings.BaseSettings", "sqlmodel.SQLModel",
        "builtins.object", "builtins.Exception", "builtins.dict", "builtins.str",
        "enum.Enum", "typing.NamedTuple",
    }
)  # fmt: skip
_DEPTH = 8
_MARKERS = frozenset({"Depends", "Security"})
_MARKER_NAMES = frozenset({names.DEPENDS, names.SECURITY})


class DependsCalled(Rule):
    """`Depends(get_db())`: the dependency is called where it should be passed.

    ## What it does
    Checks for `Depends(f())` and `Security(f())` (FastAPI's, however imported) where `f` is
    provably the dependency itself, not a factory that builds one. `f` is a function of
    this module or of another module of the project, undecorated (or only cached with
    `@lru_cache`/`@cache`), and either:

    - a generator function (a dependency with `yield`): its call gives a generator;
    - a function whose every `return` gives a value that cannot be called: a literal, `None`
      (also when it has no `return`), a collection display, an f-string, a comparison, a
      call of `dict`, `list`, `str` and the like, or an instance of a class defined beside
      the function that has no `__call__` and derives only from `object`, Pydantic's `BaseModel` or
      `BaseSettings`, `SQLModel`, `Enum` or builtin value types. An `async def` of that
      kind gives a coroutine.

    ## Why is this bad?
    `Depends` takes the callable FastAPI should call for each request. Calling it in the
    route's signature runs it once, when the module is imported, and hands FastAPI what it
    returns: a generator or a value cannot be called, so the app fails at startup with
    `TypeError: ... is not a callable object`; `None` makes FastAPI fall back to the
    parameter's annotation and silently inject something else. Either way the dependency
    never runs per request: a database session is never opened nor closed, an
    authentication check never happens.

    Factories stay silent: `Depends(require_role("admin"))` where `require_role` returns a
    nested function, a lambda, an instance of a class with `__call__`, or anything that
    cannot be proven not callable (`functools.partial(...)`, an instance of a library
    class, a name bound elsewhere). So do calls of classes (`Depends(Pagination())`),
    methods other than the class's own through `self`, functions with any other decorator,
    and functions that cannot be read. On the pinned corpus every `Depends(f(...))` (338
    outside tests and docs, nearly all in Airflow) calls a factory, and none is reported.

    ## Example
    ```python
    from fastapi import Depends, FastAPI

    app = FastAPI()


    def get_db():
        db = {"items": []}
        try:
            yield db
        finally:
            db.clear()


    @app.get("/items")
    async def list_items(db: dict = Depends(get_db())) -> list:
        \"\"\"List the items.\"\"\"
        return db["items"]
    ```

    Use instead:
    ```python
    from fastapi import Depends, FastAPI

    app = FastAPI()


    def get_db():
        db = {"items": []}
        try:
            yield db
        finally:
            db.clear()


    @app.get("/items")
    async def list_items(db: dict = Depends(get_db)) -> list:
        \"\"\"List the items.\"\"\"
        return db["items"]
    ```

    ## Fix safety
    The fix removes the call's parentheses (`Depends(get_db())` becomes `Depends(get_db)`)
    and is safe: the code as written either fails at startup or never runs the dependency,
    and passing the function is what `Depends` expects. It is offered only when the call
    has no arguments: `Depends(get_user(db))` is reported without a fix, since FastAPI
    would then fill the parameters itself.

    ## Options
    None.
    """

    code = "FAPI601"
    name = "depends-called"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.ERROR
    fixable = True
    fix_safety = "safe"
    triggers = (b"Depends", b"Security")

    def screen(self, facts: Facts) -> bool:
        return bool(facts.calls & _MARKERS)

    def check(self, model: FileModel) -> Iterator[Finding]:
        for site in _marker_calls(model):
            target = _dependency_argument(site.call)
            if not isinstance(target, cst.Call) or any(arg.star for arg in site.call.args):
                continue
            kind = _what_the_call_gives(model, target, site.scope)
            if kind is None:
                continue
            yield self.finding(target, _message(model, site, target, kind), fix=_fix(target))


def _marker_calls(model: FileModel) -> Iterator[CallSite]:
    """Calls of `Depends` and `Security`, also imported under another name (`calls_to`
    only looks at calls of those names)."""
    spellings = set(_MARKERS) | {
        name
        for name, bindings in model.module_scope.bindings.items()
        if any(canonical(b.qualified_name or "") in _MARKER_NAMES for b in bindings)
    }
    for site in model.calls:
        func = site.call.func
        last = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
        if last in spellings and model.callee(site) in _MARKER_NAMES:
            yield site


def _dependency_argument(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "dependency":
            return arg.value
    positional = [arg for arg in call.args if arg.keyword is None]
    return positional[0].value if positional else None


def _what_the_call_gives(model: FileModel, call: cst.Call, scope: Scope) -> str | None:
    """What FastAPI receives (`a generator`, `a coroutine`, `a value`, `None`) when `call`
    provably calls the dependency itself rather than a factory that returns one; None
    otherwise."""
    found = _called_function(model, call.func, scope)
    if found is None:
        return None
    where, function = found
    if not _plainly_called(where, function):
        return None
    if function in where.generators:
        return "an async generator" if function.asynchronous else "a generator"
    returns = handler_returns(where).get(function, [])
    if not all(value is None or _not_callable(where, value, at) for value, at in returns):
        return None  # maybe a factory: what it returns may be the dependency
    if function.asynchronous:
        return "a coroutine"
    return "a value" if returned_values(returns) else "None"


def _called_function(
    model: FileModel, func: cst.BaseExpression, scope: Scope
) -> tuple[FileModel, cst.FunctionDef] | None:
    """The `def` a call runs, in this module or in another module of the project."""
    local = model.resolve_function(func, scope)
    if local is not None:
        return model, local
    if isinstance(func, cst.Name) and _bound_here(model, func, scope):
        return None  # a local name that is no function (an instance, a parameter)
    found = project_definition(model, func, scope)
    if found is None or not isinstance(found[1], cst.FunctionDef):
        return None
    return found  # type: ignore[return-value]


def _bound_here(model: FileModel, name: cst.Name, scope: Scope) -> bool:
    bindings = model.lookup(name.value, scope)
    return bool(bindings) and any(b.kind is not BindingKind.IMPORT for b in bindings)


def _plainly_called(model: FileModel, function: cst.FunctionDef) -> bool:
    """Undecorated, or only with decorators that keep what a call returns."""
    info = model.function_info(function)
    outer = info.scope.parent if info is not None else None
    if outer is None:
        return False
    for decorator in function.decorators:
        expr = decorator.decorator
        target = expr.func if isinstance(expr, cst.Call) else expr
        if model.qualified_name(target, outer) not in _TRANSPARENT:
            return False
    return True


def _not_callable(model: FileModel, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> bool:
    """`expr` provably gives a value that cannot be called."""
    if depth > _DEPTH:
        return False
    if is_constant(expr):
        return True
    if isinstance(
        expr,
        cst.SimpleString
        | cst.ConcatenatedString
        | cst.FormattedString
        | cst.Integer
        | cst.Float
        | cst.Dict
        | cst.List
        | cst.Tuple
        | cst.Set
        | cst.ListComp
        | cst.SetComp
        | cst.DictComp
        | cst.Comparison,
    ):
        return True
    if isinstance(expr, cst.UnaryOperation):
        return isinstance(expr.operator, cst.Not) or _not_callable(
            model, expr.expression, scope, depth + 1
        )
    if isinstance(expr, cst.BinaryOperation):
        return _not_callable(model, expr.left, scope, depth + 1) and _not_callable(
            model, expr.right, scope, depth + 1
        )
    if isinstance(expr, cst.Call):
        return _constructs_value(model, expr, scope)
    if isinstance(expr, cst.Name):
        bindings = model.lookup(expr.value, scope)
        where = model.binding_scope(expr.value, scope)
        return (
            bool(bindings)
            and where is not None
            and all(
                b.kind is BindingKind.ASSIGN
                and b.value is not None
                and _not_callable(model, b.value, where, depth + 1)
                for b in bindings
            )
        )
    return False


def _constructs_value(model: FileModel, call: cst.Call, scope: Scope) -> bool:
    if model.qualified_name(call.func, scope) in _VALUE_BUILTINS:
        return True
    cls = model.local_class(call.func, scope)
    return cls is not None and _value_class(model, cls)


def _value_class(model: FileModel, cls: cst.ClassDef, depth: int = 0) -> bool:
    """A class of the module whose instances cannot be called: no `__call__`, no
    metaclass, and every base known to make values."""
    if depth > _DEPTH or any(base.keyword is not None for base in cls.bases):
        return False
    if "__call__" in _class_attributes(cls):
        return False
    scope = model.classes[cls]
    for base in cls.bases:
        local = model.local_class(base.value, scope)
        if local is not None:
            if not _value_class(model, local, depth + 1):
                return False
        elif model.qualified_name(base.value, scope) not in _VALUE_CLASSES:
            return False
    return True


def _class_attributes(cls: cst.ClassDef) -> set[str]:
    """The names a class body defines or assigns."""
    found = set()
    for statement in cls.body.body:
        if isinstance(statement, cst.FunctionDef | cst.ClassDef):
            found.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                found.update(_assigned_names(small))
    return found


def _assigned_names(statement: cst.BaseSmallStatement) -> Iterator[str]:
    if isinstance(statement, cst.Assign):
        targets = [target.target for target in statement.targets]
    elif isinstance(statement, cst.AnnAssign):
        targets = [statement.target]
    else:
        return
    yield from (target.value for target in targets if isinstance(target, cst.Name))


def _message(model: FileModel, site: CallSite, call: cst.Call, kind: str) -> str:
    marker = "Security" if model.callee(site) == names.SECURITY else "Depends"
    called = model.module.code_for_node(call.func)
    if kind == "None":
        outcome = "`None`, and falls back to the parameter's annotation"
    else:
        outcome = f"{kind} it cannot call, and fails at startup"
    return (
        f"`{called}()` is called inside `{marker}(...)`: FastAPI receives {outcome}; "
        f"pass `{called}` itself"
    )


def _fix(call: cst.Call) -> Fix | None:
    if call.args or not isinstance(call.func, cst.Name | cst.Attribute):
        return None
    replacement = call.func.with_changes(lpar=call.lpar, rpar=call.rpar)
    return Fix(
        f"Pass `{cst.Module([]).code_for_node(call.func)}` instead of calling it",
        Applicability.SAFE,
        {call: replacement},
    )

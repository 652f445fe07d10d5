from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi_lint import names
from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.project.index import Cls, Const, Obj
from fastapi_lint.project.reach import expression
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.semantic import (
    BindingKind,
    FileModel,
    Scope,
    is_none,
    scope_qualname,
    string_value,
)

EVENT_METHODS = frozenset({"on_event", "add_event_handler"})
EVENT_KEYWORDS = {"on_startup": "startup", "on_shutdown": "shutdown"}
EVENT_TRIGGERS = (b"on_event", b"add_event_handler", b"on_startup", b"on_shutdown")
_KINDS = {names.FASTAPI_APP: "app", names.API_ROUTER: "router"}


@dataclass(frozen=True)
class EventRegistration:
    """A startup or shutdown handler registered the deprecated way, on an app or router."""

    node: cst.CSTNode  # the `x.on_event(...)` call, or the `on_startup=` argument
    how: str  # `@app.on_event("startup")`, `on_startup=`, ...
    event: str  # "startup" or "shutdown" (any literal `on_event` is given)
    kind: str  # "app" or "router"
    # The app is built with a lifespan, so the handler never runs; None when unknown.
    ignored: bool | None


def screens_events(facts: Facts) -> bool:
    return bool(facts.calls & EVENT_METHODS or facts.keywords & EVENT_KEYWORDS.keys())


def event_registrations(model: FileModel) -> Iterator[EventRegistration]:
    """Every `on_event`/`add_event_handler` call and `on_startup=`/`on_shutdown=` argument
    of this file made on an object proven to be an app or a router."""
    for site in model.calls:
        func = site.call.func
        if isinstance(func, cst.Attribute) and func.attr.value in EVENT_METHODS:
            registration = _method_registration(model, site.call, func, site.scope)
            if registration is not None:
                yield registration
        else:
            yield from _constructor_registrations(model, site.call, site.scope)


def _method_registration(
    model: FileModel, call: cst.Call, func: cst.Attribute, scope: Scope
) -> EventRegistration | None:
    event = string_value(call.args[0].value) if call.args and not call.args[0].star else None
    if event is None or _is_own_method_call(model, func.value, scope):
        return None  # a wrapper passing the event on, or the framework's own methods
    receiver = _receiver(model, func.value, scope)
    if receiver is None:
        return None
    kind, ignored = receiver
    how = f'`{model.module.code_for_node(func)}("{event}")`'
    return EventRegistration(call, how, event, kind, ignored)


def _is_own_method_call(model: FileModel, receiver: cst.BaseExpression, scope: Scope) -> bool:
    """`self.add_event_handler(...)`, `self.router.on_event(...)` in a method: the class is
    the app or router, implementing or wrapping the event API itself (`self.app.on_event`
    of a class holding an app is not)."""
    if isinstance(receiver, cst.Attribute) and receiver.attr.value == "router":
        receiver = receiver.value
    if not isinstance(receiver, cst.Name):
        return False
    where = model.binding_scope(receiver.value, scope)
    method = where.node if where is not None else None
    if not isinstance(method, cst.FunctionDef) or where.parent is None:
        return False
    params = method.params.params
    return where.parent.kind == "class" and bool(params) and params[0].name.value == receiver.value


def _constructor_registrations(
    model: FileModel, call: cst.Call, scope: Scope
) -> Iterator[EventRegistration]:
    keywords = [
        arg
        for arg in call.args
        if arg.keyword is not None
        and arg.keyword.value in EVENT_KEYWORDS
        and not _registers_nothing(arg.value)
        and not _is_parameter(model, arg.value, scope)
    ]
    kind = _constructed_kind(model, call, scope) if keywords else None
    if kind is None:
        return
    lifespan = next(
        (arg.value for arg in call.args if arg.keyword and arg.keyword.value == "lifespan"), None
    )
    ignored = kind == "app" and lifespan is not None and _gives_lifespan(model, lifespan, scope)
    for arg in keywords:
        assert arg.keyword is not None
        event = EVENT_KEYWORDS[arg.keyword.value]
        yield EventRegistration(arg, f"`{arg.keyword.value}=`", event, kind, ignored)


def _is_parameter(model: FileModel, value: cst.BaseExpression, scope: Scope) -> bool:
    """`on_startup=on_startup` in a function that takes it: the caller's choice, passed on."""
    bindings = model.lookup(value.value, scope) if isinstance(value, cst.Name) else None
    return bool(bindings) and all(b.kind is BindingKind.PARAM for b in bindings)


def _registers_nothing(value: cst.BaseExpression) -> bool:
    """`on_startup=None`, `on_startup=[]`."""
    if isinstance(value, cst.Name):
        return value.value == "None"
    return isinstance(value, cst.List | cst.Tuple) and not value.elements


def _constructed_kind(model: FileModel, call: cst.Call, scope: Scope) -> str | None:
    """The kind ("app" or "router") of what `call` builds: a FastAPI app or an APIRouter,
    or a subclass of one, in this module or, through the project index, in another."""
    kind = _KINDS.get(model.class_name(call.func, scope) or "")
    if kind is not None:
        return kind
    value = _indexed(model, call.func, scope)
    return value.kind if isinstance(value, Cls) and value.kind in _KINDS.values() else None


def _receiver(
    model: FileModel, expr: cst.BaseExpression, scope: Scope
) -> tuple[str, bool | None] | None:
    """What `expr` is: ("app" or "router", whether the app is built with a lifespan), for an
    app (also `app.router`, whose handlers are the app's) or a router; None when unproven."""
    if isinstance(expr, cst.Attribute) and expr.attr.value == "router":
        owner = _receiver(model, expr.value, scope)
        return owner if owner is not None and owner[0] == "app" else None
    indexed = _indexed_object(model, expr, scope)
    if indexed is not None:
        return indexed
    kind = _KINDS.get(model.object_kind(expr, scope) or "")
    if kind is None:
        return None
    return kind, _local_lifespan(model, expr, scope) if kind == "app" else False


def _indexed(model: FileModel, expr: cst.BaseExpression, scope: Scope) -> object:
    index = model.project.index
    tree = expression(expr)
    if index is None or model.module_key is None or tree is None:
        return None
    return index.evaluate(tree, model.module_key, scope_qualname(scope))


def _indexed_object(
    model: FileModel, expr: cst.BaseExpression, scope: Scope
) -> tuple[str, bool | None] | None:
    """An app or router the project index knows, and whether it is built with a lifespan
    (unknown for a parameter: any app may be passed)."""
    value = _indexed(model, expr, scope)
    index = model.project.index
    info = index.objects.get(value.key) if isinstance(value, Obj) and index else None
    if info is None or info.kind is None:
        return None
    if info.kind != "app" or info.is_param:
        return info.kind, None if info.kind == "app" else False
    keywords = info.keywords
    if "lifespan" not in keywords:
        return info.kind, None if "**" in keywords else False
    assert index is not None
    lifespan = index.evaluate(keywords["lifespan"], info.module, info.scope)
    if isinstance(lifespan, Const):
        return info.kind, lifespan.value is not None
    if lifespan is None:  # unresolved: a call builds one, anything else may be None
        return info.kind, True if keywords["lifespan"][0] == "call" else None
    return info.kind, True


def _local_lifespan(model: FileModel, expr: cst.BaseExpression, scope: Scope) -> bool | None:
    """Whether the app a name of this module is bound to (once) is built with a lifespan."""
    bindings = model.lookup(expr.value, scope) if isinstance(expr, cst.Name) else None
    where = model.binding_scope(expr.value, scope) if isinstance(expr, cst.Name) else None
    if not bindings or len(bindings) != 1 or where is None:
        return None
    call = bindings[0].value
    if bindings[0].kind is not BindingKind.ASSIGN or not isinstance(call, cst.Call):
        return None
    if any(arg.star == "**" for arg in call.args):
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "lifespan":
            return _gives_lifespan(model, arg.value, where)
    return False


def _gives_lifespan(model: FileModel, value: cst.BaseExpression, scope: Scope) -> bool:
    """A `lifespan=` value that is surely not None: a function, a name imported from a
    library, a call that builds one."""
    if isinstance(value, cst.Call | cst.Lambda):
        return True
    if is_none(value):
        return False
    if isinstance(value, cst.Name | cst.Attribute):
        if model.resolve_function(value, scope) is not None:
            return True
        if model.qualified_name(value, scope) is not None:
            return True  # imported
    return False


class OnEventIgnoredWithLifespan(Rule):
    """Startup or shutdown handler of an app built with `lifespan=`: it never runs.

    ## What it does
    Checks apps built with `FastAPI(lifespan=...)` that also register their own startup or
    shutdown handlers: `@app.on_event("startup")`, `app.on_event(...)(handler)`,
    `app.add_event_handler(...)`, the same through `app.router`, and `on_startup=` or
    `on_shutdown=` in the constructor itself. The app is followed across modules with the
    project index (`from .main import app`, then `@app.on_event(...)` elsewhere), and also
    inside factories (`def create_app(): app = FastAPI(lifespan=...)`).

    ## Why is this bad?
    Once an app has a lifespan, FastAPI runs the lifespan instead of the app's startup and
    shutdown handlers: they are kept in a list nobody reads, without an error or a warning.
    The connection pool, cache warm-up or scheduler they start never starts, and resources
    they release on shutdown leak, yet the code reads as if they ran.

    Handlers registered on a **router** included in the app are not reported: today's
    FastAPI (checked on 0.115 and 0.165) merges each included router's own lifespan into
    the app's on `include_router` (fastapi/fastapi#9630), and a router without `lifespan=`
    gets a default one that runs its `on_event` handlers, so they do run even when the app
    has a lifespan (FAPI605 still reports them as deprecated). Not reported either: an app
    whose `lifespan=` may be `None` (a conditional, a name bound to `None`, `**options`), an
    app received as a parameter (any app may be passed), a subclass of `FastAPI` that
    sets the lifespan in its own `__init__`, and the wrappers FAPI605 leaves alone too (a
    non-literal event, calls on `self` in a method, a forwarded `on_startup=` parameter).

    ## Example
    ```python
    from contextlib import asynccontextmanager

    from fastapi import FastAPI


    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield


    app = FastAPI(lifespan=lifespan)


    @app.on_event("startup")
    async def connect() -> None:
        print("connecting")
    ```

    Use instead:
    ```python
    from contextlib import asynccontextmanager

    from fastapi import FastAPI


    @asynccontextmanager
    async def lifespan(app: FastAPI):
        print("connecting")
        yield


    app = FastAPI(lifespan=lifespan)
    ```

    ## Fix safety
    There is no fix: where the handler's code belongs in the lifespan (before the `yield`
    for startup, after it for shutdown, inside `try`/`finally` or not) is the author's call.

    ## Options
    None.
    """

    code = "FAPI604"
    name = "on-event-ignored-with-lifespan"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.ERROR
    triggers = EVENT_TRIGGERS

    def screen(self, facts: Facts) -> bool:
        return screens_events(facts)

    def check(self, model: FileModel) -> Iterator[Finding]:
        for registration in event_registrations(model):
            if registration.kind == "app" and registration.ignored:
                yield self.finding(registration.node, _message(registration))


def _message(registration: EventRegistration) -> str:
    return (
        f"{registration.event} handler registered with {registration.how} never runs: the "
        "app is built with `lifespan=`, and FastAPI then runs only the lifespan; move the "
        "code into it"
    )

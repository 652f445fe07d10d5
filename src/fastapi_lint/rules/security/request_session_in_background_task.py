from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fastapi_lint import blocking
from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.names import canonical
from fastapi_lint.receivers import receivers
from fastapi_lint.route_params import Parameter, Where, parameters, project_definition
from fastapi_lint.rule import Finding, Option, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.security_facts import boolean, descendants
from fastapi_lint.semantic import (
    BindingKind,
    CallSite,
    FileModel,
    FunctionInfo,
    Scope,
    string_value,
)

# Connections that are not in `blocking.ANNOTATIONS` (those give the SQLAlchemy sessions).
_CONNECTIONS = frozenset(
    {
        "sqlalchemy.engine.Connection", "sqlalchemy.Connection",
        "sqlalchemy.ext.asyncio.AsyncConnection", "asyncpg.Connection",
        "asyncpg.connection.Connection", "asyncpg.pool.PoolConnectionProxy",
        "psycopg.Connection", "psycopg.AsyncConnection", "aiosqlite.Connection",
        "sqlite3.Connection", "motor.motor_asyncio.AsyncIOMotorClientSession",
        "pymongo.client_session.ClientSession",
    }
)  # fmt: skip
_SESSIONS = frozenset({blocking.SESSION, blocking.ASYNC_SESSION, blocking.SCOPED_SESSION})
_BACKGROUND_TASKS = frozenset(
    {
        "fastapi.BackgroundTasks", "fastapi.background.BackgroundTasks",
        "starlette.background.BackgroundTasks",
    }
)  # fmt: skip
_BACKGROUND_TASK = frozenset({"starlette.background.BackgroundTask"})
_SPAWNERS = frozenset({"asyncio.create_task", "asyncio.ensure_future"})
_LOOPS = frozenset({"asyncio.get_event_loop", "asyncio.get_running_loop"})
_PARTIAL = frozenset({"functools.partial"})
_OPTION = "exit-before-background-tasks"
_SCHEDULERS = frozenset({"add_task", "BackgroundTask", "create_task", "ensure_future"})


@dataclass(frozen=True)
class _Resource:
    dependency: str  # the dependency's name, for messages
    function_scope: bool  # `Depends(..., scope="function")`: closed before the response


class RequestSessionInBackgroundTask(Rule):
    """Database session of a `yield` dependency handed to a task that outlives it.

    ## What it does
    Checks route handlers and dependencies for a database session or connection they
    receive from a dependency with `yield` (`db: Session = Depends(get_db)`, also through
    `Annotated` aliases and dependencies of other modules) handed to work that runs after
    the dependency has closed it:

    - `asyncio.create_task(...)` or `asyncio.ensure_future(...)` (also
      `asyncio.get_running_loop().create_task(...)`) given a coroutine that takes the
      session, and not awaited in the function: the task runs on after the response,
      while the dependency's exit code closes the session, in every FastAPI version;
    - `background_tasks.add_task(fn, db)`, or `BackgroundTask(fn, db)`, when the
      dependency is declared `Depends(get_db, scope="function")`: its exit code runs
      before the response is sent, so before the background task.

    The session is handed over when it is an argument (also inside `functools.partial`,
    a `lambda`, a list, dict or tuple), or when a function defined in the handler that uses
    it is passed. A session is a value the dependency provides (its return annotation, or
    what it `yield`s) or the parameter is annotated with: a SQLAlchemy or SQLModel
    `Session` or `AsyncSession` (also from a `sessionmaker`), or a SQLAlchemy, asyncpg,
    psycopg, aiosqlite or sqlite3 connection. The dependency must have exit code: the
    `yield` in a `with` or `try` block, or statements after it.

    ## Why is this bad?
    The dependency closes the session (or returns the connection to its pool) when the
    request is done with it. A task that uses it afterwards fails with "session is closed"
    or "connection is closed" errors, or, worse, works on a connection that another
    request has meanwhile taken from the pool. Give the task what it needs to open its own
    session (ids, not ORM objects bound to the request's session).

    When FastAPI runs the exit code depends on its version: before 0.106 and since 0.118,
    a dependency of the default scope (`"request"`) exits after the response has been sent,
    background tasks included, so handing its session to `BackgroundTasks` works; from
    0.106 to 0.117 it exits before the response is sent, and the background task gets a
    closed session. Set `exit-before-background-tasks` for a project that runs one of
    those versions.

    Not reported: attributes of the session (`db.bind`), values computed from it before the
    task is scheduled (`add_task(send, db.get(User, 1).email)`), tasks that the function
    awaits (`task = asyncio.create_task(work(db)); await task`), tasks created inside a
    comprehension or collected in a list, and dependencies whose code fastapi-lint cannot
    read (of a library, or built by a factory).

    ## Example
    ```python
    import asyncio

    from fastapi import Depends, FastAPI
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

    engine = create_async_engine("postgresql+asyncpg://localhost/shop")
    SessionLocal = async_sessionmaker(engine)
    app = FastAPI()


    async def get_db():
        async with SessionLocal() as session:
            yield session


    async def rebuild_index(db: AsyncSession) -> None: ...


    @app.post("/index/rebuild", status_code=202)
    async def rebuild(db: AsyncSession = Depends(get_db)) -> None:
        \"\"\"Rebuild the search index.\"\"\"
        asyncio.create_task(rebuild_index(db))
    ```

    Use instead:
    ```python
    from fastapi import BackgroundTasks, FastAPI
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine("postgresql+asyncpg://localhost/shop")
    SessionLocal = async_sessionmaker(engine)
    app = FastAPI()


    async def rebuild_index() -> None:
        async with SessionLocal() as db:
            ...


    @app.post("/index/rebuild", status_code=202)
    async def rebuild(background_tasks: BackgroundTasks) -> None:
        \"\"\"Rebuild the search index.\"\"\"
        background_tasks.add_task(rebuild_index)
    ```

    ## Fix safety
    There is no fix: the task has to open its own session.

    ## Options
    - `exit-before-background-tasks` (default `false`): the project runs FastAPI 0.106 to
      0.117, whose dependencies with `yield` exit before background tasks run: report
      sessions handed to `BackgroundTasks` from dependencies of any scope.
    """

    code = "FAPI312"
    name = "request-session-in-background-task"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.ERROR
    triggers = tuple(sorted(name.encode() for name in _SCHEDULERS))
    options = (
        Option(
            _OPTION,
            False,
            "Dependencies with `yield` exit before background tasks (FastAPI 0.106-0.117).",
            boolean,
        ),
    )

    def screen(self, facts: Facts) -> bool:
        return bool(facts.calls & _SCHEDULERS)

    def check(self, model: FileModel) -> Iterator[Finding]:
        by_function: dict[Scope, list[CallSite]] = {}
        for site in model.calls:
            function = site.scope.executing_function()
            if function is not None and _schedules(site.call):
                by_function.setdefault(function, []).append(site)
        for scope, sites in by_function.items():
            info = (
                model.function_info(scope.node) if isinstance(scope.node, cst.FunctionDef) else None
            )
            resources = _resources(model, info) if info is not None else {}
            if not resources:
                continue
            for site in sites:
                yield from self._handed_over(model, info, site, resources)  # type: ignore[arg-type]

    def _handed_over(
        self, model: FileModel, info: FunctionInfo, site: CallSite, resources: dict[str, _Resource]
    ) -> Iterator[Finding]:
        kind, handed = _scheduled(model, info, site)
        for name, resource in resources.items():
            if not any(_hands_over(model, info, expr, name) for expr in handed):
                continue
            if kind == "task":
                yield self.finding(site.call, _task_message(name, resource))
            elif kind == "background" and (resource.function_scope or self.settings[_OPTION]):
                yield self.finding(site.call, _background_message(name, resource))


def _schedules(call: cst.Call) -> bool:
    """A cheap test on the callee's last name."""
    func = call.func
    last = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
    return last in _SCHEDULERS


def _scheduled(
    model: FileModel, info: FunctionInfo, site: CallSite
) -> tuple[str | None, Sequence[cst.BaseExpression]]:
    """("task", [the coroutine]) for a task left running, ("background", [the function and
    its arguments]) for a background task; (None, []) otherwise."""
    call, scope = site.call, site.scope
    func = call.func
    qualified = canonical(model.qualified_name(func, scope) or "")
    arguments = [arg.value for arg in call.args]
    if qualified in _SPAWNERS or _is_loop_create_task(model, func, scope):
        if not arguments or _awaited_later(model, info, call):
            return None, []
        coroutine = arguments[0]  # `work(db)`: the coroutine keeps its arguments
        if isinstance(coroutine, cst.Call):
            return "task", [arg.value for arg in coroutine.args]
        return "task", [coroutine]
    if qualified in _BACKGROUND_TASK:
        return "background", arguments
    is_add_task = isinstance(func, cst.Attribute) and func.attr.value == "add_task"
    if is_add_task and _is_background_tasks(model, func.value, scope):  # type: ignore[union-attr]
        return "background", arguments
    return None, []


def _is_loop_create_task(model: FileModel, func: cst.BaseExpression, scope: Scope) -> bool:
    """`asyncio.get_running_loop().create_task`, also through a name bound once to it."""
    if not (isinstance(func, cst.Attribute) and func.attr.value == "create_task"):
        return False
    receiver = func.value
    if isinstance(receiver, cst.Name):
        bindings = model.lookup(receiver.value, scope) or []
        if len(bindings) != 1 or bindings[0].kind is not BindingKind.ASSIGN:
            return False
        receiver = bindings[0].value  # type: ignore[assignment]
    return isinstance(receiver, cst.Call) and model.qualified_name(receiver.func, scope) in _LOOPS


def _is_background_tasks(model: FileModel, receiver: cst.BaseExpression, scope: Scope) -> bool:
    """A parameter annotated `BackgroundTasks`, or a name bound to `BackgroundTasks()`."""
    if not isinstance(receiver, cst.Name):
        return False
    where = model.binding_scope(receiver.value, scope)
    bindings = where.bindings[receiver.value] if where is not None else []
    if len(bindings) != 1 or where is None:
        return False
    binding = bindings[0]
    if binding.kind is BindingKind.PARAM and binding.annotation is not None:
        outer = where.parent or where
        declared = _unwrapped_name(model, binding.annotation, outer)
        return declared in _BACKGROUND_TASKS
    value = binding.value
    return isinstance(value, cst.Call) and (
        canonical(model.qualified_name(value.func, where) or "") in _BACKGROUND_TASKS
    )


def _unwrapped_name(model: FileModel, annotation: cst.BaseExpression, scope: Scope) -> str:
    """The qualified name of `X` in `X` or `Annotated[X, ...]`."""
    if isinstance(annotation, cst.Subscript) and annotation.slice:
        first = annotation.slice[0].slice
        if isinstance(first, cst.Index):
            annotation = first.value
    return canonical(model.annotation_name(annotation, scope) or "")


def _awaited_later(model: FileModel, info: FunctionInfo, call: cst.Call) -> bool:
    """The task is awaited in the function (`task = create_task(...); await task`), or its
    fate is unknown (created inside a larger expression: a list, a comprehension)."""
    if call in model.awaited:
        return True
    if call in model.expression_statements:
        return False
    target = _assigned_name(info, call)
    if target is None:
        return True
    return any(
        isinstance(node, cst.Await) and _mentions(node.expression, target)
        for node in descendants(info.node.body)
    )


def _assigned_name(info: FunctionInfo, call: cst.Call) -> str | None:
    """`task` of `task = asyncio.create_task(...)`, a statement of the function."""
    for name, bindings in info.scope.bindings.items():
        if any(b.kind is BindingKind.ASSIGN and b.value is call for b in bindings):
            return name
    return None


def _resources(model: FileModel, info: FunctionInfo) -> dict[str, _Resource]:
    """The function's parameters that receive a session from a dependency with `yield`
    and exit code."""
    found = {}
    for param in parameters(model, info.node, follow_imports=True):
        if not param.is_dependency or param.marker is None:
            continue
        target = param.marker.argument("dependency", 0)
        dependency = _function(param.marker.where, target) if target is not None else None
        if dependency is None or not _closes_after_yield(*dependency):
            continue
        if not (_declared_session(param) or _provides_session(*dependency)):
            continue
        scope = string_value(param.marker.argument("scope")) == "function"
        found[param.name] = _Resource(dependency[1].name.value, scope)
    return found


def _function(where: Where, target: cst.BaseExpression) -> tuple[FileModel, cst.FunctionDef] | None:
    """The `def` a dependency names, in this module or another of the project."""
    local = where.model.resolve_function(target, where.scope)
    if local is not None:
        return where.model, local
    found = project_definition(where.model, target, where.scope)
    if found is None or not isinstance(found[1], cst.FunctionDef):
        return None
    return found  # type: ignore[return-value]


def _closes_after_yield(model: FileModel, function: cst.FunctionDef) -> bool:
    """A generator whose `yield` sits in a `with` or `try` block, or has statements after
    it: code that runs when FastAPI finishes with the dependency."""
    return function in model.generators and _exit_code(function.body.body)


def _exit_code(statements: Sequence[cst.CSTNode]) -> bool:
    for position, statement in enumerate(statements):
        if not _contains_yield(statement):
            continue
        if position < len(statements) - 1 or isinstance(
            statement, cst.With | cst.Try | cst.TryStar
        ):
            return True
        return any(_exit_code(block) for block in _inner_blocks(statement))
    return False


def _inner_blocks(statement: cst.CSTNode) -> list[Sequence[cst.CSTNode]]:
    """The statement lists of an `if`, `for` or `while` (with their `else`)."""
    blocks: list[Sequence[cst.CSTNode]] = []
    for attribute in ("body", "orelse"):
        part = getattr(statement, attribute, None)
        if isinstance(part, cst.If):  # `elif`
            blocks.append([part])
        elif isinstance(part, cst.Else):
            blocks.append(part.body.body)
        elif isinstance(part, cst.IndentedBlock):
            blocks.append(part.body)
    return blocks


def _contains_yield(node: cst.CSTNode) -> bool:
    return any(isinstance(inner, cst.Yield) for inner in (node, *descendants(node)))


def _declared_session(param: Parameter) -> bool:
    """The parameter is annotated with a session or connection class."""
    where = param.type_where
    if param.type is None:
        return False
    qualified = canonical(where.model.annotation_name(param.type, where.scope) or "")
    return qualified in _CONNECTIONS or blocking.ANNOTATIONS.get(qualified) in _SESSIONS


def _provides_session(model: FileModel, function: cst.FunctionDef) -> bool:
    """The dependency's return annotation (`Iterator[Session]`) or what it yields is a
    session."""
    info = model.function_info(function)
    if info is None or info.scope.parent is None:
        return False
    typing = receivers(model)
    if function.returns is not None:
        declared = typing.annotation_type(
            function.returns.annotation, info.scope.parent, provided=True
        )
        return declared is not None and declared.name in _SESSIONS
    for node in descendants(function.body):
        if isinstance(node, cst.Yield) and isinstance(node.value, cst.BaseExpression):
            typed = typing.type_of(node.value, info.scope)
            if typed is not None and typed.type.name in _SESSIONS:
                return True
    return False


def _hands_over(model: FileModel, info: FunctionInfo, expr: cst.BaseExpression, name: str) -> bool:
    """`expr`, evaluated now, keeps the session for later: the name itself, a container or
    `functools.partial` holding it, a lambda or a function of the handler using it."""
    if isinstance(expr, cst.Name):
        return expr.value == name or _local_function_uses(model, info, expr.value, name)
    if isinstance(expr, cst.Lambda):
        return _mentions(expr.body, name)
    if isinstance(expr, cst.List | cst.Tuple | cst.Set):
        return any(_hands_over(model, info, e.value, name) for e in expr.elements)
    if isinstance(expr, cst.Dict):
        return any(
            isinstance(e, cst.DictElement) and _hands_over(model, info, e.value, name)
            for e in expr.elements
        )
    if isinstance(expr, cst.Call) and model.qualified_name(expr.func, info.scope) in _PARTIAL:
        return any(_hands_over(model, info, arg.value, name) for arg in expr.args)
    return False


def _local_function_uses(model: FileModel, info: FunctionInfo, function: str, name: str) -> bool:
    bindings = info.scope.bindings.get(function, [])
    if len(bindings) != 1 or bindings[0].kind is not BindingKind.DEF:
        return False
    inner = bindings[0].node
    return isinstance(inner, cst.FunctionDef) and _mentions(inner.body, name)


def _mentions(node: cst.CSTNode, name: str) -> bool:
    """`name` is used in `node` as a name (not as an attribute: `x.db`)."""
    attributes = {
        inner.attr
        for inner in descendants(node, into_functions=True)
        if isinstance(inner, cst.Attribute)
    }
    return any(
        isinstance(inner, cst.Name) and inner.value == name and inner not in attributes
        for inner in (node, *descendants(node, into_functions=True))
    )


def _task_message(name: str, resource: _Resource) -> str:
    return (
        f"`{name}` (a session of the dependency `{resource.dependency}`, closed when the "
        "request ends) is handed to a task left running: the task may use it after it is "
        "closed; let the task open its own session"
    )


def _background_message(name: str, resource: _Resource) -> str:
    when = (
        'declared with `scope="function"`'
        if resource.function_scope
        else "on FastAPI 0.106 to 0.117"
    )
    return (
        f"`{name}` (a session of the dependency `{resource.dependency}`, {when}) is handed to a "
        "background task, which runs after the dependency has closed it; let the task open "
        "its own session"
    )

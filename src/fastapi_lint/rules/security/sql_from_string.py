from __future__ import annotations

from collections.abc import Iterator

from fastapi_lint import blocking, names
from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.receivers import receivers
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts, QualifiedNames
from fastapi_lint.security_facts import argument, written_values
from fastapi_lint.semantic import BindingKind, CallSite, FileModel, Scope, is_none, string_value

_DEPTH = 8
_TEXT = frozenset(
    {"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text", "sqlmodel.text"}
)
# What a call builds, by the qualified name of the callable.
_CONSTRUCTORS = {
    "sqlite3.connect": "dbapi",
    "psycopg2.connect": "dbapi",
    "psycopg.connect": "dbapi",
    "psycopg.AsyncConnection.connect": "dbapi",
    "pymysql.connect": "dbapi",
    "MySQLdb.connect": "dbapi",
    "mysql.connector.connect": "dbapi",
    "aiosqlite.connect": "dbapi",
    "aiomysql.connect": "dbapi",
    "asyncpg.connect": "asyncpg",
    "asyncpg.create_pool": "asyncpg",
    "databases.Database": "databases",
    "sqlalchemy.create_engine": "engine",
    "sqlalchemy.ext.asyncio.create_async_engine": "engine",
}
# What a parameter annotated with the class holds.
_ANNOTATIONS = {
    "sqlite3.Connection": "dbapi",
    "sqlite3.Cursor": "dbapi",
    "psycopg.Connection": "dbapi",
    "psycopg.Cursor": "dbapi",
    "psycopg.AsyncConnection": "dbapi",
    "asyncpg.Connection": "asyncpg",
    "asyncpg.Pool": "asyncpg",
    "asyncpg.pool.Pool": "asyncpg",
    "databases.Database": "databases",
    "sqlalchemy.Engine": "engine",
    "sqlalchemy.engine.Engine": "engine",
    "sqlalchemy.Connection": "connection",
    "sqlalchemy.engine.Connection": "connection",
    "sqlalchemy.ext.asyncio.AsyncEngine": "engine",
    "sqlalchemy.ext.asyncio.AsyncConnection": "connection",
}
# What a method returns, by the kind of its receiver.
_RESULTS = {
    ("dbapi", "cursor"): "dbapi",
    ("asyncpg", "acquire"): "asyncpg",
    ("engine", "connect"): "connection",
    ("engine", "begin"): "connection",
    ("engine", "raw_connection"): "dbapi",
}
# The methods that run the SQL they are given, by the kind of their receiver.
_RUNS_SQL = {
    "dbapi": frozenset({"execute", "executemany", "executescript"}),
    "asyncpg": frozenset({"execute", "executemany", "fetch", "fetchrow", "fetchval"}),
    "databases": frozenset({"execute", "execute_many", "fetch_all", "fetch_one", "fetch_val"}),
    "engine": frozenset({"execute"}),  # SQLAlchemy 1.x
    "connection": frozenset({"execute", "exec_driver_sql"}),
    "session": frozenset({"execute"}),
}
_SQL_METHODS = frozenset().union(*_RUNS_SQL.values())
_SESSION_TYPES = frozenset({blocking.SESSION, blocking.SCOPED_SESSION, blocking.ASYNC_SESSION})
# Calls whose result cannot carry SQL: converting a value to a number or a truth value.
_SANITIZERS = frozenset(
    {"builtins.int", "builtins.float", "builtins.bool", "builtins.len", "builtins.abs"}
)
# Parameters of these types cannot carry SQL.
_SAFE_TYPES = frozenset(
    {
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "uuid.UUID",
        "datetime.date",
        "datetime.datetime",
        "datetime.time",
        "datetime.timedelta",
        "decimal.Decimal",
    }
)
_WRAPPERS = frozenset({"typing.Optional", "typing_extensions.Optional", names.ANNOTATED})


_TEXT_NAMES = QualifiedNames(_TEXT)


class SqlFromString(Rule):
    """SQL built from request data with string formatting: SQL injection.

    ## What it does
    Checks the SQL given to SQLAlchemy's `text()`, to `execute` of a `Session`,
    `AsyncSession`, `Connection` or (SQLAlchemy 1.x) `Engine`, to `exec_driver_sql`, to a
    DB-API cursor or connection (`sqlite3`, `psycopg`, `psycopg2`, `pymysql`, `aiosqlite`,
    ...: `execute`, `executemany`, `executescript`), to asyncpg (`fetch`, `fetchrow`,
    `fetchval`, `execute`) and to `databases` (`fetch_all`, `execute`, ...), for an f-string,
    `%` formatting, `+` concatenation or `.format()` that puts request data into it.

    The library objects are recognised through the imports, never by the method name alone:
    `text` must be SQLAlchemy's (or SQLModel's), and the receiver of `execute` must be
    provably one of those objects in the file (built by `sqlite3.connect(...)`,
    `engine.connect()`, `conn.cursor()`, `await asyncpg.connect(...)`, `Session(engine)`,
    or a parameter annotated with its class, `Depends(get_db)` of a session dependency of
    the file).

    Request data is a parameter of the route or dependency that runs the query (a path,
    query, body or header parameter, a `Request`), or a name of that function bound to a
    value made from one. A parameter declared `int`, `float`, `bool`, `UUID`, `date`,
    `datetime` or `Decimal` cannot carry SQL, nor can a value passed through `int()`,
    `float()`, `bool()` or `len()`; dependencies (`Depends(...)`) are not request data.

    ## Why is this bad?
    Formatting request data into SQL lets the client write the query: `' OR '1'='1` in a
    search box reads every row, `; DROP TABLE` destroys data, and identifiers such as a sort
    column (`ORDER BY {sort}`) are as open as values. Bound parameters (`:name` in `text()`,
    `?`/`%s` for DB-API drivers, `$1` for asyncpg) send the values apart from the SQL, so the
    database never parses them as code; identifiers come from an allow-list.

    Not reported, because the rule cannot tell the values come from a client:

    - values that are not request data of the same function: constants, settings, ORM
      metadata (`Model.__tablename__`), table names computed by the code, and parameters
      of helper functions (a route that passes its parameter to a helper which builds the
      SQL is missed: precision first);
    - a receiver whose type the file does not show, or a `text` that is not SQLAlchemy's;
    - SQL built with `+=` or in a loop.

    ## Example
    ```python
    from fastapi import Depends, FastAPI
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from shop.database import get_db

    app = FastAPI()


    @app.get("/users")
    def find_users(name: str, db: Session = Depends(get_db)) -> list[str]:
        \"\"\"Users with this name.\"\"\"
        rows = db.execute(text(f"SELECT email FROM users WHERE name = '{name}'"))
        return [row.email for row in rows]
    ```

    Use instead:
    ```python
    from fastapi import Depends, FastAPI
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from shop.database import get_db

    app = FastAPI()


    @app.get("/users")
    def find_users(name: str, db: Session = Depends(get_db)) -> list[str]:
        \"\"\"Users with this name.\"\"\"
        rows = db.execute(text("SELECT email FROM users WHERE name = :name"), {"name": name})
        return [row.email for row in rows]
    ```

    ## Fix safety
    There is no fix: the placeholder syntax depends on the driver, and identifiers need an
    allow-list.

    ## Options
    None.
    """

    code = "FAPI303"
    name = "sql-from-string"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.ERROR
    # The SQL runs through SQLAlchemy, SQLModel or a driver the file imports (or names in
    # an annotation): nothing else is recognised.
    triggers = (
        b"sqlalchemy",
        b"sqlmodel",
        b"sqlite",
        b"psycopg",
        b"mysql",
        b"MySQLdb",
        b"asyncpg",
        b"databases",
    )

    def screen(self, facts: Facts) -> bool:
        # `_may_run_sql`: a method named like one that runs SQL, or `text(...)`.
        return bool(facts.calls & _SQL_METHODS) or _TEXT_NAMES.named(facts)

    def check(self, model: FileModel) -> Iterator[Finding]:
        inputs_of: dict[Scope | None, set[str]] = {}  # by the function that runs the call
        for site in model.calls:
            if not _may_run_sql(model, site):
                continue
            function = site.scope.executing_function()
            if function not in inputs_of:
                inputs_of[function] = _request_inputs(model, site.scope)
            inputs = inputs_of[function]
            sql = _sql_argument(model, site) if inputs else None
            if sql is None:
                continue
            culprit = _interpolated_input(model, sql, site.scope, inputs)
            if culprit is not None:
                code = " ".join(model.module.code_for_node(culprit).split())
                yield self.finding(
                    culprit,
                    f"SQL built from request data (`{code}`): pass it as a bound parameter",
                )


# -- where SQL is run --------------------------------------------------------------------


def _may_run_sql(model: FileModel, site: CallSite) -> bool:
    """A cheap first look: `text(...)`, or a method named like one that runs SQL."""
    func = site.call.func
    if isinstance(func, cst.Attribute) and func.attr.value in _SQL_METHODS:
        return True
    return model.callee(site) in _TEXT


def _sql_argument(model: FileModel, site: CallSite) -> cst.BaseExpression | None:
    call, scope = site.call, site.scope
    if model.callee(site) in _TEXT:
        return argument(call, 0, "text")
    func = call.func
    if not isinstance(func, cst.Attribute):
        return None
    kind = _kind(model, func.value, scope)
    if kind is None or func.attr.value not in _RUNS_SQL[kind]:
        return None
    sql = argument(call, 0, "statement")
    for keyword in ("query", "sql", "operation"):
        if sql is None:
            sql = argument(call, None, keyword)
    return sql


def _kind(model: FileModel, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> str | None:
    """Which database object `expr` is, when the file shows it."""
    if depth > _DEPTH:
        return None
    if isinstance(expr, cst.Await):
        return _kind(model, expr.expression, scope, depth + 1)
    if isinstance(expr, cst.Call):
        if (made := _CONSTRUCTORS.get(model.qualified_name(expr.func, scope) or "")) is not None:
            return made
        func = expr.func
        if isinstance(func, cst.Attribute):
            receiver = _kind(model, func.value, scope, depth + 1)
            return _RESULTS.get((receiver or "", func.attr.value))
    if isinstance(expr, cst.Name):
        found = _name_kind(model, expr, scope, depth)
        if found is not None:
            return found
    typed = receivers(model).type_of(expr, scope)
    if typed is not None and typed.type.name in _SESSION_TYPES:
        return "session"
    return None


def _name_kind(model: FileModel, name: cst.Name, scope: Scope, depth: int) -> str | None:
    where = model.binding_scope(name.value, scope)
    bindings = where.bindings[name.value] if where is not None else []
    if len(bindings) != 1 or where is None:
        return None
    binding = bindings[0]
    if binding.kind is BindingKind.PARAM:
        declared = _declared_class(model, binding.annotation, where)
        return _ANNOTATIONS.get(declared or "")
    if binding.kind is BindingKind.ASSIGN and binding.value is not None:
        return _kind(model, binding.value, where, depth + 1)
    return None


def _declared_class(
    model: FileModel, annotation: cst.BaseExpression | None, scope: Scope
) -> str | None:
    """The class an annotation declares, through `Optional[X]` and `Annotated[X, ...]`."""
    for _ in range(_DEPTH):
        if not isinstance(annotation, cst.Subscript):
            break
        if model.qualified_name(annotation.value, scope) not in _WRAPPERS:
            return None
        first = annotation.slice[0].slice
        annotation = first.value if isinstance(first, cst.Index) else None
    if isinstance(annotation, cst.BinaryOperation):  # `X | None`
        sides = [annotation.left, annotation.right]
        real = [s for s in sides if not is_none(s)]
        annotation = real[0] if len(real) == 1 else None
    return model.annotation_name(annotation, scope) if annotation is not None else None


# -- request data ------------------------------------------------------------------------


def _request_inputs(model: FileModel, scope: Scope) -> set[str]:
    """Names of the running route's or dependency's parameters that carry request data,
    and of the names of that function bound to values made from them."""
    function = scope.executing_function()
    info = model.function_info(function.node) if function is not None else None  # type: ignore[arg-type]
    if function is None or info is None or not (info.routes or info.is_dependency):
        return set()
    tainted = {
        name
        for name, bindings in function.bindings.items()
        if len(bindings) == 1
        and bindings[0].kind is BindingKind.PARAM
        and _carries_request_data(model, info.node, name, function)
    }
    for _ in range(_DEPTH):
        grown = {
            name
            for name, bindings in function.bindings.items()
            if name not in tainted
            and any(
                b.kind is BindingKind.ASSIGN
                and b.value is not None
                and _uses(model, b.value, tainted, function)
                for b in bindings
            )
        }
        if not grown:
            break
        tainted |= grown
    return tainted


def _carries_request_data(model: FileModel, node: cst.FunctionDef, name: str, scope: Scope) -> bool:
    params = node.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.name.value != name:
            continue
        outer = scope.parent or scope
        if param.default is not None and _is_dependency(model, param.default, outer):
            return False
        annotation = param.annotation.annotation if param.annotation is not None else None
        if annotation is not None and _annotated_dependency(model, annotation, outer):
            return False
        return _declared_class(model, annotation, outer) not in _SAFE_TYPES
    return False


def _is_dependency(model: FileModel, expr: cst.BaseExpression, scope: Scope) -> bool:
    if not isinstance(expr, cst.Call):
        return False
    return model.qualified_name(expr.func, scope) in (names.DEPENDS, names.SECURITY)


def _annotated_dependency(model: FileModel, annotation: cst.BaseExpression, scope: Scope) -> bool:
    """`Annotated[Session, Depends(get_db)]`, also through an alias of it."""
    if isinstance(annotation, cst.Name):
        bindings = model.lookup(annotation.value, scope) or []
        if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN and bindings[0].value:
            return _annotated_dependency(model, bindings[0].value, scope)
        return False
    if not isinstance(annotation, cst.Subscript):
        return False
    if model.qualified_name(annotation.value, scope) != names.ANNOTATED:
        return False
    return any(
        isinstance(element.slice, cst.Index) and _is_dependency(model, element.slice.value, scope)
        for element in annotation.slice[1:]
    )


def _uses(model: FileModel, expr: cst.BaseExpression, tainted: set[str], scope: Scope) -> bool:
    """`expr` carries the value of a tainted name: not through `int()`, `len()` and other
    conversions to numbers, nor through a comparison or a conditional's test."""
    stack: list[cst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name) and node.value in tainted:
            return True
        if isinstance(node, cst.Comparison | cst.Lambda | cst.FunctionDef):
            continue
        if isinstance(node, cst.Call) and model.qualified_name(node.func, scope) in _SANITIZERS:
            continue
        if isinstance(node, cst.IfExp):
            stack.extend((node.body, node.orelse))
            continue
        if isinstance(node, cst.Attribute):
            stack.append(node.value)  # `item.name`, not the attribute's own name
            continue
        stack.extend(node.children)
    return False


# -- the SQL text --------------------------------------------------------------------------


def _interpolated_input(
    model: FileModel, sql: cst.BaseExpression, scope: Scope, tainted: set[str]
) -> cst.CSTNode | None:
    """The part of the SQL that formats request data into it."""
    for value in written_values(model, sql, scope):
        culprit = _formatted_input(model, value, scope, tainted)
        if culprit is not None:
            return culprit
    if isinstance(sql, cst.Name) and sql.value in tainted:
        return sql  # the whole SQL is request data
    return None


def _formatted_input(
    model: FileModel, value: cst.BaseExpression, scope: Scope, tainted: set[str]
) -> cst.CSTNode | None:
    if isinstance(value, cst.FormattedString):
        for part in value.parts:
            if isinstance(part, cst.FormattedStringExpression) and _uses(
                model, part.expression, tainted, scope
            ):
                return part
        return None
    if isinstance(value, cst.BinaryOperation):
        if isinstance(value.operator, cst.Modulo) and _is_text(value.left):
            return value.right if _uses(model, value.right, tainted, scope) else None
        if isinstance(value.operator, cst.Add):
            operands = _added(value)
            if any(_is_text(o) for o in operands):
                return next((o for o in operands if _uses(model, o, tainted, scope)), None)
        return None
    if isinstance(value, cst.Call) and _is_format(value):
        return next((a.value for a in value.args if _uses(model, a.value, tainted, scope)), None)
    return None


def _added(value: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add):
        return [*_added(value.left), *_added(value.right)]
    return [value]


def _is_text(value: cst.BaseExpression) -> bool:
    return string_value(value) is not None or isinstance(value, cst.FormattedString)


def _is_format(call: cst.Call) -> bool:
    func = call.func
    return isinstance(func, cst.Attribute) and func.attr.value == "format" and _is_text(func.value)

"""What the project index keeps of one module: a summary built with CPython's `ast`.

A summary is plain JSON-ready data (it is cached between runs): the module's imports, its
module-level and function-level assignments, functions, classes and the attributes their
methods set on `self`, and every call that may register a route, include a router, mount an
app or hand an object to a function. Expressions are kept in a small tree form (`Expr`) that
the index evaluates later, when every module is known.

`ast` is about eight times cheaper than LibCST. A file whose syntax the running interpreter
rejects (newer syntax) is parsed with LibCST and converted to `ast` first (see `parse`), so a
summary never depends on the Python version; a file neither accepts gets an empty summary.
"""

from __future__ import annotations

import ast
import warnings
from typing import Any, NamedTuple

from fastapi_lint.nesting import nested_too_deeply

# An expression, as nested lists (JSON-ready):
#   ["name", id] | ["attr", expr, attr] | ["call", func, [args], {kw: expr}]
#   ["str", value] | ["concat", [parts]] | ["const", value] | ["cond", a, b]
#   ["list", [items]] | ["subscript", expr, expr]
#   ["union", [exprs]] | ["opaque"]
Expr = list[Any]
OPAQUE: Expr = ["opaque"]
_MAX_ITEMS = 32

# Calls whose receiver may be an app or a router, by method name.
ROUTE_VERBS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "trace", "api_route"}
)
WEBSOCKET_VERBS = frozenset({"websocket", "websocket_route"})
_VERBS = ROUTE_VERBS | WEBSOCKET_VERBS
ADD_ROUTE = frozenset({"add_api_route", "add_route"})
ADD_WEBSOCKET = frozenset({"add_api_websocket_route", "add_websocket_route"})
INCLUDE = "include_router"
MOUNT = "mount"
HOST = "host"
SUMMARY_VERSION = 3  # part of the summary cache's key


def parse(text: str) -> ast.Module | None:
    """The module's `ast`; through LibCST when this interpreter rejects newer syntax."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    return _parse_with_libcst(text)


def _parse_with_libcst(text: str) -> ast.Module | None:
    """LibCST accepts syntax of newer Pythons; the summary only needs names, calls and
    strings, so the newer constructs are blanked out and the rest re-parsed with `ast`."""
    if nested_too_deeply(text.encode("utf-8", "surrogatepass")):
        return None  # LibCST would overflow its stack: no summary
    from fastapi_lint.project.newer_syntax import downgrade  # imports LibCST

    downgraded = downgrade(text)
    if downgraded is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(downgraded)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def summarize(tree: ast.Module | None) -> dict[str, Any]:
    """The summary of one module (see the module docstring)."""
    summary = _Summary()
    if tree is not None:
        summary.block(tree.body, "", None)
    return summary.data


def to_expr(node: ast.expr | None, depth: int = 0) -> Expr:
    """`node` in the summary's expression form; what the index cannot use is opaque."""
    if node is None or depth > 40:
        return OPAQUE
    depth += 1
    kind = type(node)  # `ast.parse` makes no subclasses; exact types test fastest
    if kind is ast.Name:
        return ["name", node.id]  # type: ignore[attr-defined]
    if kind is ast.Attribute:
        return ["attr", to_expr(node.value, depth), node.attr]  # type: ignore[attr-defined]
    if kind is ast.Call:
        return _call_expr(node, depth)  # type: ignore[arg-type]
    if kind is ast.Constant:
        value = node.value  # type: ignore[attr-defined]
        if type(value) is str:
            return ["str", value]
        if value is None or isinstance(value, bool | int):
            return ["const", value]
        return OPAQUE
    if kind is ast.JoinedStr:
        parts = []
        for value in node.values:  # type: ignore[attr-defined]
            if type(value) is ast.FormattedValue:
                if value.conversion != -1 or value.format_spec is not None:
                    return ["concat", [OPAQUE]]
                parts.append(to_expr(value.value, depth))
            else:
                parts.append(to_expr(value, depth))
        return ["concat", parts]
    if kind is ast.BinOp:
        op = type(node.op)  # type: ignore[attr-defined]
        if op is ast.Add:
            return ["concat", [to_expr(node.left, depth), to_expr(node.right, depth)]]  # type: ignore[attr-defined]
        if op is ast.BitOr:
            return ["union", [to_expr(node.left, depth), to_expr(node.right, depth)]]  # type: ignore[attr-defined]
        return OPAQUE
    if kind is ast.IfExp:
        return ["cond", to_expr(node.body, depth), to_expr(node.orelse, depth)]  # type: ignore[attr-defined]
    if kind is ast.List or kind is ast.Tuple or kind is ast.Set:
        elts = node.elts  # type: ignore[attr-defined]
        if len(elts) > _MAX_ITEMS:  # a data table, not a list of methods or types
            return OPAQUE
        return ["list", [to_expr(item, depth) for item in elts]]
    if kind is ast.Subscript:
        return ["subscript", to_expr(node.value, depth), to_expr(node.slice, depth)]  # type: ignore[attr-defined]
    if kind is ast.Await:
        return to_expr(node.value, depth)  # type: ignore[attr-defined]
    return OPAQUE


def _call_expr(node: ast.Call, depth: int) -> Expr:
    args: list[Expr] = []
    for arg in node.args:
        if type(arg) is ast.Starred:
            args = [OPAQUE]
            break
        args.append(to_expr(arg, depth))
    keywords = {}
    unpacked = False
    for keyword in node.keywords:
        if keyword.arg:
            keywords[keyword.arg] = to_expr(keyword.value, depth)
        else:
            unpacked = True
    if unpacked:
        keywords["**"] = OPAQUE
    return ["call", to_expr(node.func, depth), args, keywords]


def _interesting_call(call: ast.Call) -> str | None:
    """What a call may be, from its shape alone: a route, an include, a mount, a call that
    hands objects to a function (`register(app)`), or nothing the index needs."""
    func = call.func
    kind = type(func)
    if kind is ast.Call and type(func.func) is ast.Attribute and func.func.attr in _VERBS:  # type: ignore[attr-defined]
        return "route-call"  # `app.get("/ping")(ping)`
    if kind is ast.Attribute:
        attr = func.attr  # type: ignore[attr-defined]
        if attr in ADD_ROUTE:
            return "add-route"
        if attr in ADD_WEBSOCKET:
            return "add-websocket"
        if attr == INCLUDE:
            return "include"
        if attr in (MOUNT, HOST):
            return "mount"
    for arg in call.args:
        if type(arg) is ast.Name or type(arg) is ast.Attribute:
            return "pass"
    for keyword in call.keywords:
        if type(keyword.value) is ast.Name or type(keyword.value) is ast.Attribute:
            return "pass"
    return None


# Fields that hold no node to walk: names, numbers, flags, contexts and operators.
_NO_NODES = frozenset(
    {"id", "attr", "arg", "name", "module", "level", "is_async", "simple", "type_comment"}
    | {"kind", "conversion", "ctx", "op", "ops", "kwd_attrs", "rest"}
)
NODE_FIELDS: dict[type, tuple[str, ...]] = {}  # see `node_fields`


def node_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node type that may hold nodes, in their order (none for values that
    are no nodes: None, strings). Walks look them up in `NODE_FIELDS` first."""
    found = NODE_FIELDS.get(kind)
    if found is None:
        names = getattr(kind, "_fields", ()) if issubclass(kind, ast.AST) else ()
        found = NODE_FIELDS[kind] = tuple(name for name in names if name not in _NO_NODES)
    return found


class _Fields(NamedTuple):
    own: tuple[str, ...]  # fields that may hold expressions (or other nodes, not statements)
    blocks: tuple[str, ...]  # of a statement: fields that hold statements, handlers, cases


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")
_FIELDS: dict[type, _Fields] = {}


def _fields(kind: type) -> _Fields:
    """`node_fields`, a statement's blocks apart."""
    found = _FIELDS.get(kind)
    if found is None:
        names = node_fields(kind)
        # `body` and `orelse` of an expression (`a if b else c`) are expressions.
        block_names = _BLOCKS if issubclass(kind, ast.stmt) else ()
        own = tuple(name for name in names if name not in block_names)
        blocks = tuple(name for name in block_names if name in names)  # handlers last
        found = _FIELDS[kind] = _Fields(own, blocks)
    return found


class _Summary:
    def __init__(self) -> None:
        self.data: dict[str, Any] = {
            "imports": {},  # local name -> [module, name or None, level]
            "stars": [],  # [module, level]
            "all": None,
            "scopes": {"": {"kind": "module", "names": {}}},
            "functions": {},
            "classes": {},
            "routes": [],
            "includes": [],
            "mounts": [],
            "passes": [],
            "mentions_fastapi": False,
        }

    # -- statements ------------------------------------------------------------------------

    def block(self, body: list[ast.stmt], scope: str, class_name: str | None) -> None:
        for statement in body:
            self.statement(statement, scope, class_name)

    def statement(self, node: ast.stmt, scope: str, class_name: str | None) -> None:
        kind = type(node)
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            self.function(node, scope, class_name)  # type: ignore[arg-type]
            return
        if kind is ast.ClassDef:
            self.class_def(node, scope)  # type: ignore[arg-type]
            return
        if kind is ast.Import or kind is ast.ImportFrom:
            self.import_(node, scope)  # type: ignore[arg-type]
            return
        if kind is ast.Assign:
            for target in node.targets:  # type: ignore[attr-defined]
                self.assign(target, node.value, None, scope, class_name)  # type: ignore[attr-defined]
        elif kind is ast.AnnAssign:
            self.assign(node.target, node.value, node.annotation, scope, class_name)  # type: ignore[attr-defined]
        elif kind is ast.With or kind is ast.AsyncWith:
            for item in node.items:  # type: ignore[attr-defined]
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, item.context_expr, None, scope, class_name)
        elif kind is ast.Return and node.value is not None and scope:  # type: ignore[attr-defined]
            self.data["functions"].get(scope, {}).setdefault("returns_values", []).append(
                to_expr(node.value)  # type: ignore[attr-defined]
            )
        fields = _fields(kind)
        self._expressions_of(node, fields.own, scope)
        for field in fields.blocks:
            for child in getattr(node, field):
                if isinstance(child, ast.stmt):
                    self.statement(child, scope, class_name)
                else:  # except handlers and match cases hold statements
                    self.block(child.body, scope, class_name)

    def import_(self, node: ast.Import | ast.ImportFrom, scope: str) -> None:
        names = self.data["scopes"][scope]["names"] if scope else None
        imports = self.data["imports"]
        if isinstance(node, ast.Import):
            for alias in node.names:
                self._mention(alias.name)
                if alias.asname:
                    entry = [alias.name, None, 0]
                    local = alias.asname
                else:
                    local = alias.name.split(".", 1)[0]
                    entry = [local, None, 0]
                if names is None:
                    imports[local] = entry
                else:
                    names.setdefault(local, []).append(["import", entry])
            return
        module = node.module or ""
        self._mention(module)
        for alias in node.names:
            if alias.name == "*":
                if names is None:
                    self.data["stars"].append([module, node.level])
                continue
            entry = [module, alias.name, node.level]
            local = alias.asname or alias.name
            if names is None:
                imports[local] = entry
            else:
                names.setdefault(local, []).append(["import", entry])

    def _mention(self, module: str) -> None:
        if module.split(".", 1)[0] in ("fastapi", "starlette"):
            self.data["mentions_fastapi"] = True

    def assign(
        self,
        target: ast.expr,
        value: ast.expr | None,
        annotation: ast.expr | None,
        scope: str,
        class_name: str | None,
    ) -> None:
        entry = [to_expr(value) if value is not None else None, to_expr(annotation)]
        if isinstance(target, ast.Name):
            if target.id == "__all__" and not scope and value is not None:
                self.data["all"] = _string_list(value)
            names = self.data["scopes"][scope]["names"]
            names.setdefault(target.id, []).append(["assign", entry])
        elif (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and class_name is not None
            and scope
            and target.value.id == self.data["functions"][scope]["self"]
        ):
            attrs = self.data["classes"][class_name]["attrs"]
            attrs.setdefault(target.attr, []).append([*entry, scope])
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                if isinstance(element, ast.Name):
                    names = self.data["scopes"][scope]["names"]
                    names.setdefault(element.id, []).append(["assign", [None, OPAQUE]])

    def function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: str, class_name: str | None
    ) -> None:
        qualname = f"{scope}.{node.name}" if scope else node.name
        args = node.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                every.append(extra)
        is_method = class_name is not None and scope == class_name
        decorators = [to_expr(d) for d in node.decorator_list]
        static = any(d == ["name", "staticmethod"] for d in decorators)
        self_name = every[0].arg if is_method and every and not static else None
        self.data["functions"][qualname] = {
            "line": node.lineno,
            "async": isinstance(node, ast.AsyncFunctionDef),
            "params": [[a.arg, to_expr(a.annotation) if a.annotation else None] for a in every],
            "returns": to_expr(node.returns) if node.returns is not None else None,
            "class": class_name if is_method else None,
            "self": self_name,
            "parent": scope,
            "decorators": decorators,
            "calls": [],  # [callee, line, column] of every call in its body (not nested defs)
            "generator": False,  # a `yield` in its body (not in nested defs and lambdas)
        }
        names: dict[str, list] = {}
        for arg in every:
            names.setdefault(arg.arg, []).append(["param", None])
        self.data["scopes"][qualname] = {"kind": "function", "names": names, "parent": scope}
        self.data["scopes"][scope]["names"].setdefault(node.name, []).append(["def", qualname])
        for position, decorator in enumerate(node.decorator_list):
            self.expressions(decorator, scope)
            self.decorator_route(decorator, qualname, scope, position)
        for default in [*args.defaults, *args.kw_defaults]:
            if default is not None:
                self.expressions(default, scope)
        self.block(node.body, qualname, class_name if is_method else None)

    def class_def(self, node: ast.ClassDef, scope: str) -> None:
        qualname = f"{scope}.{node.name}" if scope else node.name
        self.data["classes"][qualname] = {
            "line": node.lineno,
            "bases": [to_expr(base) for base in node.bases],
            "attrs": {},
            "parent": scope,
        }
        self.data["scopes"][scope]["names"].setdefault(node.name, []).append(["class", qualname])
        self.data["scopes"][qualname] = {"kind": "class", "names": {}, "parent": scope}
        for decorator in node.decorator_list:
            self.expressions(decorator, scope)
        for base in node.bases:
            self.expressions(base, scope)
        for statement in node.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                self.function(statement, qualname, qualname)
            else:
                self.statement(statement, qualname, None)

    # -- calls -----------------------------------------------------------------------------

    def expressions(self, node: ast.expr, scope: str) -> None:
        """Every call in an expression."""
        self._walk([node], scope)

    def _expressions_of(self, node: ast.stmt, fields: tuple[str, ...], scope: str) -> None:
        """Every call in the statement's own expressions (not in nested statements)."""
        self._walk([getattr(node, field) for field in fields], scope)

    def _walk(self, stack: list[Any], scope: str) -> None:
        """Every call under the nodes on `stack` (or in lists of nodes on it)."""
        while stack:
            current = stack.pop()
            kind = type(current)
            if kind is ast.Name or kind is ast.Constant or kind is ast.Lambda:
                continue
            if kind is ast.Attribute:
                stack.append(current.value)
            elif kind is ast.Call:
                self.call(current, scope)
                stack.append(current.func)
                stack.extend(current.args)
                stack.extend(k.value for k in current.keywords)
            elif kind is list:
                stack.extend(current)
            else:
                if kind is ast.Yield or kind is ast.YieldFrom:
                    function = self.data["functions"].get(scope)
                    if function is not None:
                        function["generator"] = True
                # Nothing for None, strings and other values that are no nodes.
                stack.extend([getattr(current, field) for field in _fields(kind).own])

    def call(self, node: ast.Call, scope: str) -> None:
        function = self.data["functions"].get(scope)
        if function is not None:  # what each function calls (blocking work through helpers)
            function["calls"].append([to_expr(node.func), node.lineno, node.col_offset + 1])
        kind = _interesting_call(node)
        if kind is None:
            return
        where = {"scope": scope, "line": node.lineno}
        func = node.func
        if kind == "route-call":
            assert isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute)
            endpoint = to_expr(node.args[0]) if node.args else OPAQUE
            self.route(func, func.func.attr, endpoint, where)
        elif kind in ("add-route", "add-websocket"):
            assert isinstance(func, ast.Attribute)
            self.added_route(node, func, where)
        elif kind == "include":
            assert isinstance(func, ast.Attribute)
            router = node.args[0] if node.args else _keyword(node, "router")
            self.data["includes"].append(
                {
                    "receiver": to_expr(func.value),
                    "router": to_expr(router),
                    "kw": _keywords(node),
                    **where,
                }
            )
        elif kind == "mount":
            assert isinstance(func, ast.Attribute)
            path = node.args[0] if node.args else _keyword(node, "path")
            app = node.args[1] if len(node.args) > 1 else _keyword(node, "app")
            self.data["mounts"].append(
                {
                    "receiver": to_expr(func.value),
                    "path": to_expr(path),
                    "app": to_expr(app),
                    "host": func.attr == HOST,
                    **where,
                }
            )
        if kind == "pass":  # `register(app)`: the objects a function's parameters receive
            passed = {
                str(index): to_expr(arg)
                for index, arg in enumerate(node.args)
                if isinstance(arg, ast.Name | ast.Attribute)
            }
            passed.update(
                (kw.arg, to_expr(kw.value))
                for kw in node.keywords
                if kw.arg and isinstance(kw.value, ast.Name | ast.Attribute)
            )
            self.data["passes"].append({"func": to_expr(func), "args": passed, **where})

    def decorator_route(
        self, decorator: ast.expr, qualname: str, scope: str, position: int
    ) -> None:
        if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
            return
        verb = decorator.func.attr
        if verb not in _VERBS:
            return
        where = {"scope": scope, "line": decorator.lineno, "decorator": position}
        self.route(decorator, verb, ["def", qualname], where)

    def route(self, call: ast.Call, verb: str, endpoint: Expr, where: dict[str, Any]) -> None:
        assert isinstance(call.func, ast.Attribute)
        path = call.args[0] if call.args else _keyword(call, "path")
        self.data["routes"].append(
            {
                "receiver": to_expr(call.func.value),
                "verb": verb,
                "path": to_expr(path),
                "kw": _keywords(call),
                "endpoint": endpoint,
                **where,
            }
        )

    def added_route(self, node: ast.Call, func: ast.Attribute, where: dict[str, Any]) -> None:
        path = node.args[0] if node.args else _keyword(node, "path")
        endpoint = node.args[1] if len(node.args) > 1 else _keyword(node, "endpoint")
        verb = {
            "add_api_route": "api_route",
            "add_route": "route",
            "add_api_websocket_route": "websocket",
            "add_websocket_route": "websocket",
        }[func.attr]
        self.data["routes"].append(
            {
                "receiver": to_expr(func.value),
                "verb": verb,
                "path": to_expr(path),
                "kw": _keywords(node),
                "endpoint": to_expr(endpoint),
                **where,
            }
        )


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _keywords(call: ast.Call) -> dict[str, Expr]:
    keywords = {kw.arg: to_expr(kw.value) for kw in call.keywords if kw.arg}
    if any(kw.arg is None for kw in call.keywords):
        keywords["**"] = OPAQUE
    return keywords


def _string_list(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.List | ast.Tuple):
        values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
        if len(values) == len(node.elts) and all(isinstance(v, str) for v in values):
            return values
    return None

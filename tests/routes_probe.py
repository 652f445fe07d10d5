"""Ground truth for `fastapi-lint routes`: what FastAPI itself builds from a module's apps.

fastapi-lint never imports the code it lints. The tests and `bench/docs_src_routes.py` do,
to check its route table: this module imports modules in a *subprocess* (run as a script),
finds the `FastAPI` objects in them, and prints, for each app, the `(METHOD, path)` pairs of
`app.openapi()["paths"]` and every route of the app's own route list (included routers
walked with `fastapi.routing.iter_route_contexts`, which FastAPI 0.165 needs: it keeps an
included router as one lazy `_IncludedRouter` entry in `app.routes`, not as copied routes).

As a script::

    python tests/routes_probe.py [--sys-path DIR]... MODULE...

prints one line per module, `@@routes-probe@@ {json}`, and nothing else on stdout (what a
module prints while it imports goes to stderr). The JSON is `{"module", "ok", "error",
"apps": [...]}`; each app is `{"names", "origin_module", "origin_line", "openapi_url",
"openapi_paths", "openapi_error", "webhooks", "routes": [...]}` and each route
`{"kind", "methods", "path", "path_format", "include_in_schema", "endpoint",
"status_code", "framework", "mounted"}`, `kind` one of `api`, `plain` (a Starlette
`Route`: never in OpenAPI), `websocket`, `mount`, `host`, `frontend`, `other`.

In-process, the helpers below run that script (`probe`), turn one app's probe into the
tables `fastapi-lint routes` must reproduce (`expected_tables`), turn the linter's JSON rows
into the same tables (`linter_tables`) and diff the two (`compare`). They import nothing
from FastAPI, so the test and the bench can use them with any interpreter.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

MARKER = "@@routes-probe@@ "
SCRIPT = Path(__file__).resolve()
_CONVERTOR = re.compile(r"\{(\w+):[^{}]*\}")


# --------------------------------------------------------------------------------------
# In-process helpers (no FastAPI import)
# --------------------------------------------------------------------------------------


def probe(
    modules: Sequence[str],
    *,
    sys_path: Sequence[str | Path] = (),
    cwd: str | Path | None = None,
    timeout: float = 120,
    python: str = sys.executable,
    chdir: bool = False,
) -> dict[str, dict]:
    """Import `modules` in one child interpreter and return its report, by module name.

    A module the child did not reach (it hung past `timeout`, or the child died) gets
    `{"ok": False, "reported": False, "error": "...", "apps": []}`; the ones reported
    before that keep their report.
    """
    command = [python, str(SCRIPT)]
    for entry in sys_path:
        command += ["--sys-path", str(entry)]
    if chdir:
        command.append("--chdir")
    command += list(modules)
    error = None
    try:
        completed = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
        stdout, stderr = completed.stdout, completed.stderr
        if completed.returncode != 0:
            error = f"probe exited {completed.returncode}: {stderr.strip()[-2000:]}"
    except subprocess.TimeoutExpired as expired:
        stdout = _text(expired.stdout)
        error = f"probe timed out after {timeout:g} s"
    results = parse_output(stdout)
    for module in modules:
        if module not in results:
            results[module] = {
                "module": module,
                "ok": False,
                "reported": False,
                "error": error or "no report",
                "apps": [],
            }
    return results


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def parse_output(stdout: str) -> dict[str, dict]:
    """The module reports in a probe's stdout, by module name."""
    results = {}
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            report = json.loads(line[len(MARKER) :])
            results[report["module"]] = report
    return results


def normalize_path(path: str) -> str:
    """`/files/{name:path}` -> `/files/{name}`: OpenAPI and `path_format` drop convertors."""
    return _CONVERTOR.sub(r"{\1}", path)


def _plain_methods(methods: Iterable[str]) -> list[str]:
    """A Starlette `Route` adds HEAD to GET by itself; compare the methods as declared."""
    methods = {m.upper() for m in methods}
    if "GET" in methods:
        methods.discard("HEAD")
    return sorted(methods)


def expected_tables(app: dict) -> dict[str, set]:
    """What `fastapi-lint routes` must report for one probed app, as comparable sets.

    - `schema`: `(METHOD, path)` of `app.openapi()["paths"]`, empty when `openapi_url` is
      None (nothing is in the schema then);
    - `hidden`: the API routes that are served but not in the schema: `include_in_schema`
      false on the route, its router or the `include_router` call, or every API route of an
      app whose `openapi_url` is None;
    - `plain`: Starlette routes (`add_route`, `@app.route`), never in OpenAPI;
    - `websocket`: paths of websocket routes; `mount`: paths of mounts (`host`s and
      `frontend`s are listed in the probe but the linter's table does not promise them).

    FastAPI's own documentation routes (`/openapi.json`, `/docs`, `/redoc`, ...) are left
    out: they are not in the code the linter reads.
    """
    routes = [r for r in app["routes"] if not r["framework"]]
    served = app["openapi_url"] is not None
    schema = set()
    if served:
        for path, operations in app["openapi_paths"].items():
            schema.update((method, normalize_path(path)) for method in operations)
    hidden = set()
    plain = set()
    for route in routes:
        path = normalize_path(route["path_format"] or route["path"])
        if route["kind"] == "api" and not (served and route["include_in_schema"]):
            hidden |= {(m, path) for m in route["methods"]}
        elif route["kind"] == "plain":
            plain |= {(m, path) for m in _plain_methods(route["methods"])}
    return {
        "schema": schema,
        "hidden": hidden,
        "plain": plain,
        "websocket": {normalize_path(r["path"]) for r in routes if r["kind"] == "websocket"},
        "mount": {_mount_path(r["path"]) for r in routes if r["kind"] == "mount"},
    }


def declared_schema(app: dict) -> set[tuple[str, str]]:
    """The in-schema pairs from the route list alone (to spot a customised `openapi()`)."""
    if app["openapi_url"] is None:
        return set()
    return {
        (m, normalize_path(r["path_format"] or r["path"]))
        for r in app["routes"]
        if r["kind"] == "api" and r["include_in_schema"] and not r["framework"]
        for m in r["methods"]
    }


def _mount_path(path: str) -> str:
    return path.rstrip("/") or "/"


def row_kind(row: dict) -> str:
    """`route`, `websocket` or `mount`: the row's `kind`, else guessed from its methods."""
    kind = row.get("kind")
    if kind:
        return kind
    methods = row.get("methods") or []
    if not methods:
        return "mount"
    return "websocket" if methods == ["WEBSOCKET"] else "route"


def linter_tables(rows: Iterable[dict], app_id: str, plain: set | frozenset = frozenset()):
    """The rows of `fastapi-lint routes --output-format json` for `app_id`, as in
    `expected_tables`. Route rows whose `(METHOD, path)` is one of the app's `plain`
    Starlette routes go to `plain` whatever their `in_schema` says (FastAPI never puts
    those in OpenAPI, and the spec does not say how the linter must mark them)."""
    tables: dict[str, set] = {k: set() for k in ("schema", "hidden", "plain", "websocket", "mount")}
    for row in rows:
        if row.get("app") != app_id:
            continue
        kind = row_kind(row)
        path = normalize_path(row["path"])
        if kind == "mount":
            tables["mount"].add(_mount_path(path))
        elif kind == "websocket":
            tables["websocket"].add(path)
        else:
            methods = [m.upper() for m in row["methods"]]
            declared = {(m, path) for m in _plain_methods(methods)}
            if declared and declared <= plain:
                tables["plain"] |= declared
            else:
                tables["schema" if row.get("in_schema") else "hidden"] |= {
                    (m, path) for m in methods
                }
    return tables


def compare(expected: dict[str, set], actual: dict[str, set]) -> dict[str, list]:
    """`{"<table>: missing" | "<table>: extra": sorted items}`; empty when they agree."""
    diff = {}
    for table in ("schema", "hidden", "plain", "websocket", "mount"):
        missing = expected.get(table, set()) - actual.get(table, set())
        extra = actual.get(table, set()) - expected.get(table, set())
        if missing:
            diff[f"{table}: missing"] = sorted(missing)
        if extra:
            diff[f"{table}: extra"] = sorted(extra)
    return diff


def app_ids(report: dict) -> list[tuple[str, dict]]:
    """`(module:name, app)` for the apps a module defines itself (not the ones it imports).

    An app counts for the module whose code called `FastAPI(...)`; if that module does not
    bind it at module level (a factory), for the module that does.
    """
    found = []
    for app in report.get("apps", []):
        origin = app.get("origin_module")
        if origin in (report["module"], None) or not app.get("origin_binds"):
            found.append((f"{report['module']}:{app['names'][0]}", app))
    return found


# --------------------------------------------------------------------------------------
# The child side: runs inside the probed interpreter, imports FastAPI
# --------------------------------------------------------------------------------------


def _install_origin_hook() -> None:
    """Record, on every FastAPI object, the module and line of the `FastAPI(...)` call."""
    from fastapi import FastAPI

    original = FastAPI.__init__
    if getattr(original, "_routes_probe", False):
        return

    def __init__(self, *args, **kwargs):
        frame = sys._getframe(1)
        # Skip the __init__ of subclasses calling super().__init__().
        while frame is not None and frame.f_code.co_name == "__init__":
            if frame.f_locals.get("self") is not self:
                break
            frame = frame.f_back
        if frame is not None:
            self._routes_probe_origin = (frame.f_globals.get("__name__"), frame.f_lineno)
        original(self, *args, **kwargs)

    __init__._routes_probe = True
    FastAPI.__init__ = __init__


def _endpoint_name(endpoint) -> str | None:
    if endpoint is None:
        return None
    module = getattr(endpoint, "__module__", None)
    name = getattr(endpoint, "__qualname__", None) or getattr(endpoint, "__name__", None)
    if module is None or name is None:
        return repr(endpoint)
    return f"{module}:{name}"


def _is_framework_route(app, route) -> bool:
    """FastAPI's own docs routes, added by `FastAPI.setup()` (OpenAPI JSON, Swagger, ReDoc)."""
    endpoint = getattr(route, "endpoint", None)
    qualname = getattr(endpoint, "__qualname__", "")
    return getattr(endpoint, "__module__", None) == "fastapi.applications" and (
        qualname.startswith("FastAPI.setup.")
    )


def _describe_route(app, context) -> dict:
    from fastapi import routing
    from starlette import routing as starlette_routing

    original = context.original_route
    if isinstance(original, routing.APIRoute):
        kind = "api"
    elif isinstance(original, (routing.APIWebSocketRoute, starlette_routing.WebSocketRoute)):
        kind = "websocket"
    elif isinstance(original, starlette_routing.Route):
        kind = "plain"
    elif isinstance(original, starlette_routing.Mount):
        kind = "mount"
    elif isinstance(original, starlette_routing.Host):
        kind = "host"
    else:
        kind = "other"
    methods = context.methods if kind in ("api", "plain") else None
    if kind == "websocket":
        methods = {"WEBSOCKET"}
    path = context.path
    mounted = None
    if kind == "mount":
        inner = getattr(original, "app", None)
        mounted = type(inner).__name__ if inner is not None else None
    return {
        "kind": kind,
        "methods": sorted(methods or []),
        "path": path,
        "path_format": context.path_format,
        "include_in_schema": bool(getattr(context, "include_in_schema", True)),
        "endpoint": _endpoint_name(context.endpoint),
        "status_code": getattr(context, "status_code", None) if kind == "api" else None,
        "framework": kind == "plain" and _is_framework_route(app, original),
        "mounted": mounted,
        "host": getattr(original, "host", None) if kind == "host" else None,
    }


def _frontend_routes(app) -> list[dict]:
    """`app.frontend(...)` routes: low-priority, outside `app.routes` (FastAPI 0.165)."""
    from fastapi import routing

    iterate = getattr(app.router, "_iter_low_priority_routes", None)
    group_class = getattr(routing, "_FrontendRouteGroup", None)
    join = getattr(routing, "_join_frontend_paths", None)
    if iterate is None or group_class is None:
        return []
    found = []
    for candidate in iterate():
        group, prefix = candidate, ""
        if not isinstance(group, group_class):
            group = getattr(candidate, "original_route", None)
            prefix = getattr(candidate, "frontend_prefix", "")
        if not isinstance(group, group_class):
            continue
        for route in group.routes:
            path = join(prefix, route.path) if (join and prefix) else prefix + route.path
            found.append(
                {
                    "kind": "frontend",
                    "methods": sorted(route.methods),
                    "path": path,
                    "path_format": path,
                    "include_in_schema": False,
                    "endpoint": None,
                    "status_code": None,
                    "framework": False,
                    "mounted": None,
                    "host": None,
                }
            )
    return found


def _openapi_paths(app) -> tuple[dict, str | None]:
    try:
        paths = app.openapi().get("paths") or {}
    except Exception as error:  # the schema of a broken app: still compare its routes
        return {}, f"{type(error).__name__}: {error}"
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return {
        path: sorted(key.upper() for key in item if key in methods) for path, item in paths.items()
    }, None


def _describe_app(module, app, names: list[str]) -> dict:
    from fastapi.routing import iter_route_contexts

    origin_module, origin_line = getattr(app, "_routes_probe_origin", (None, None))
    origin = sys.modules.get(origin_module) if origin_module else None
    origin_binds = origin is not None and any(v is app for v in vars(origin).values())
    routes = [_describe_route(app, c) for c in iter_route_contexts(app.routes)]
    routes += _frontend_routes(app)
    openapi_paths, openapi_error = _openapi_paths(app)
    webhooks = []
    if getattr(app, "webhooks", None) is not None:
        for context in iter_route_contexts(app.webhooks.routes):
            for method in sorted(context.methods or []):
                webhooks.append([method, context.path])
    return {
        "names": names,
        "origin_module": origin_module,
        "origin_line": origin_line,
        "origin_binds": origin_binds,
        "openapi_url": app.openapi_url,
        "openapi_paths": openapi_paths,
        "openapi_error": openapi_error,
        "webhooks": webhooks,
        "routes": routes,
    }


def _probe_module(name: str, chdir: bool = False) -> dict:
    import importlib
    import importlib.util
    import os

    from fastapi import FastAPI

    if chdir:
        # Code that opens `static/` or `templates/` relative to the working directory
        # finds them beside its own file, as its docs tell you to run it.
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            os.chdir(os.path.dirname(spec.origin))
    module = importlib.import_module(name)
    apps: dict[int, tuple[object, list[str]]] = {}
    for attribute, value in list(vars(module).items()):
        if isinstance(value, FastAPI):
            apps.setdefault(id(value), (value, []))[1].append(attribute)
    return {
        "module": name,
        "ok": True,
        "error": None,
        "apps": [_describe_app_guarded(module, app, names) for app, names in apps.values()],
    }


def _describe_app_guarded(module, app, names: list[str]) -> dict:
    try:
        return _describe_app(module, app, names)
    except Exception as error:
        return {"names": names, "error": f"{type(error).__name__}: {error}", "routes": []}


def main(argv: Sequence[str] | None = None) -> int:
    import argparse
    import os
    import traceback
    import warnings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sys-path", action="append", default=[], help="prepend to sys.path")
    parser.add_argument(
        "--chdir", action="store_true", help="import each module from its own directory"
    )
    parser.add_argument("modules", nargs="+")
    args = parser.parse_args(argv)
    # Run as a script, this file's directory (tests/) leads sys.path: its modules must not
    # shadow the probed ones.
    if sys.path and Path(sys.path[0] or ".").resolve() == SCRIPT.parent:
        sys.path.pop(0)
    for entry in reversed(args.sys_path):
        sys.path.insert(0, os.path.abspath(entry))
    # Only the reports go to the real stdout; whatever the modules print goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    warnings.simplefilter("ignore")
    _install_origin_hook()
    start = os.getcwd()
    for name in args.modules:
        try:
            report = _probe_module(name, args.chdir)
        except BaseException as error:  # SystemExit and KeyboardInterrupt at import too
            if isinstance(error, KeyboardInterrupt):
                raise
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            report = {"module": name, "ok": False, "error": detail, "apps": []}
        finally:
            os.chdir(start)
        try:
            line = json.dumps(report, default=repr)
        except (TypeError, ValueError) as error:
            line = json.dumps({"module": name, "ok": False, "error": f"unserialisable: {error}"})
        out.write(MARKER + line + "\n")
        out.flush()
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

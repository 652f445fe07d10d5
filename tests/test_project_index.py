"""The project index: every route of every app, across modules, through `fastapi-lint routes`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import project

PYPROJECT = '[project]\nname = "shop"\n[tool.fastapi-lint]\n'

# One app spread over many modules, in every form the index recognises.
SHOP = {
    "pyproject.toml": PYPROJECT,
    "shop/__init__.py": "",
    "shop/consts.py": 'API = "/api"\nAPI_PREFIX = API + "/v1"\nFILES = f"{API}/files"\n',
    # A project router class, and a module that never names fastapi uses it.
    "shop/base.py": (
        "from fastapi import APIRouter\n\n\n"
        "class ShopRouter(APIRouter):\n    pass\n\n\n"
        "class AdminRouter(ShopRouter):\n    pass\n"
    ),
    "shop/users.py": (
        "from .base import ShopRouter\n\n"
        'router = ShopRouter(prefix="/users")\n\n\n'
        '@router.get("/{user_id}")\n'
        "async def read_user(user_id: int) -> dict:\n    return {}\n"
    ),
    "shop/admin.py": (
        "from shop.base import AdminRouter\n\n"
        "router = AdminRouter()\n\n\n"
        '@router.post("/purge", status_code=204)\n'
        "async def purge() -> None:\n    pass\n"
    ),
    # A factory in another module, and a router it builds.
    "shop/factories.py": (
        "from fastapi import APIRouter\n\n\n"
        "def make_router() -> APIRouter:\n"
        '    built = APIRouter(prefix="/made")\n\n'
        '    @built.get("/here")\n'
        "    async def made_here() -> dict:\n        return {}\n\n"
        "    return built\n"
    ),
    # Registration through a function's parameter.
    "shop/register.py": (
        "from fastapi import FastAPI\n\n\n"
        "def register(app: FastAPI) -> None:\n"
        '    @app.get("/registered")\n'
        "    async def registered() -> dict:\n        return {}\n\n\n"
        "def untyped(target):\n"
        '    target.add_api_route("/untyped", lambda: None)\n'
    ),
    "shop/tracing.py": (
        "class Tracer:\n    def trace(self, name):\n        return lambda f: f\n\n\n"
        "tracer = Tracer()\n"
    ),
    "shop/routers/__init__.py": "from .items import router as items_router\n",
    "shop/routers/items.py": (
        "from fastapi import APIRouter\n\nfrom ..tracing import tracer\n\n"
        'router = APIRouter(prefix="/items")\n'
        'sub = APIRouter(prefix="/sub")\n\n\n'
        '@router.get("")\n'
        "async def list_items() -> list:\n    return []\n\n\n"
        '@sub.get("/deep")\n'
        "async def deep() -> dict:\n    return {}\n\n\n"
        "router.include_router(sub)\n\n\n"
        '@tracer.trace("span")\n'
        "def traced():\n    pass\n"
    ),
    "shop/main.py": (
        "from typing import Optional\n\n"
        "from fastapi import FastAPI\n\n"
        "from shop import admin, users\n"
        "from shop.consts import API_PREFIX, FILES\n"
        "from shop.factories import make_router\n"
        "from shop.register import register, untyped\n"
        "from shop.routers import items_router\n"
        "from .settings import settings\n\n"
        "app = FastAPI()\n"
        "app.include_router(users.router, prefix=API_PREFIX)\n"
        'app.include_router(admin.router, prefix="/admin", include_in_schema=False)\n'
        "app.include_router(items_router)\n"
        "app.include_router(make_router())\n"
        "app.include_router(users.router, prefix=settings.PREFIX)\n"
        "register(app)\n"
        "untyped(app)\n\n\n"
        "async def ping() -> dict:\n    return {}\n\n\n"
        'app.get("/ping")(ping)\n\n\n'
        "@app.get(FILES)\n"
        "async def files() -> dict:\n    return {}\n\n\n"
        "class Server:\n"
        "    def __init__(self) -> None:\n"
        "        self.app = FastAPI(openapi_url=None)\n\n"
        '        @self.app.get("/status")\n'
        "        async def status() -> dict:\n            return {}\n\n\n"
        "server = Server()\n"
        "register(server.app)\n\n\n"
        "class MyApp(FastAPI):\n"
        "    def __init__(self) -> None:\n"
        "        super().__init__()\n"
        '        self.add_api_route("/health", self.health)\n\n'
        "    async def health(self) -> dict:\n        return {}\n\n\n"
        "custom = MyApp()\n"
        "maybe: Optional[FastAPI] = None\n"
        "other: FastAPI | None = None\n\n\n"
        '@maybe.get("/maybe")\n'
        "async def maybe_route() -> dict:\n    return {}\n\n\n"
        '@other.get("/other")\n'
        "async def other_route() -> dict:\n    return {}\n"
    ),
}


def _routes(run_cli, root: Path, *args: str) -> list[dict]:
    result = run_cli("routes", "--output-format", "json", "--no-cache", *args, cwd=root)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _table(rows: list[dict]) -> set[tuple]:
    return {(r["app"], tuple(r["methods"]), r["path"], r["in_schema"]) for r in rows}


@pytest.fixture
def shop_rows(run_cli, tmp_path, isolated) -> set[tuple]:
    project(tmp_path, SHOP)
    return _table(_routes(run_cli, tmp_path))


def test_every_recognition_form_gives_the_routes_the_app_serves(shop_rows):
    app = "shop.main:app"
    assert shop_rows == {
        # A project router class; its module never names fastapi; an imported prefix.
        (app, ("GET",), "/api/v1/users/{user_id}", True),
        # The same router included again under a prefix read from settings.
        (app, ("GET",), "{?}/users/{user_id}", True),
        # A subclass of a subclass, hidden by the include_router call.
        (app, ("POST",), "/admin/purge", False),
        # A re-export in __init__.py, and a nested router.
        (app, ("GET",), "/items", True),
        (app, ("GET",), "/items/sub/deep", True),
        # A factory in another module.
        (app, ("GET",), "/made/here", True),
        # A function's parameter: every app passed to it.
        (app, ("GET",), "/registered", True),
        ("shop.main:Server.app", ("GET",), "/registered", False),
        # An unannotated parameter that receives an app.
        (app, ("GET",), "/untyped", True),
        # The call form, and a path built from constants (an f-string).
        (app, ("GET",), "/ping", True),
        (app, ("GET",), "/api/files", True),
        # `self.app = FastAPI(openapi_url=None)`: every route hidden.
        ("shop.main:Server.app", ("GET",), "/status", False),
        # `self.add_api_route(...)` in a FastAPI subclass.
        ("shop.main:custom", ("GET",), "/health", True),
        # Apps annotated `Optional[FastAPI]` and `FastAPI | None`.
        ("shop.main:maybe", ("GET",), "/maybe", True),
        ("shop.main:other", ("GET",), "/other", True),
    }


def test_a_decorator_on_an_object_that_is_no_router_is_no_route(shop_rows):
    assert not any("span" in path for _, _, path, _ in shop_rows)


def test_rows_name_endpoint_file_line_status_and_model(run_cli, tmp_path, isolated):
    project(tmp_path, SHOP)
    rows = _routes(run_cli, tmp_path)
    purge = next(r for r in rows if r["path"] == "/admin/purge")
    assert purge == {
        "app": "shop.main:app",
        "kind": "route",
        "methods": ["POST"],
        "path": "/admin/purge",
        "endpoint": "shop.admin:purge",
        "file": "shop/admin.py",
        "line": 6,
        "status_code": 204,
        "response_model": None,
        "in_schema": False,
    }
    user = next(r for r in rows if r["path"] == "/api/v1/users/{user_id}")
    assert user["response_model"] == "dict"


def test_routes_of_a_subdirectory_still_see_the_whole_project(run_cli, tmp_path, isolated):
    project(tmp_path, SHOP)
    rows = _routes(run_cli, tmp_path, "shop/users.py")
    assert {(r["app"], r["path"]) for r in rows} == {
        ("shop.main:app", "/api/v1/users/{user_id}"),
        ("shop.main:app", "{?}/users/{user_id}"),
    }


def test_a_router_no_app_includes_has_no_app(run_cli, tmp_path, isolated):
    project(
        tmp_path,
        {
            "pyproject.toml": PYPROJECT,
            "lib/__init__.py": "",
            "lib/routes.py": (
                'from fastapi import APIRouter\n\nrouter = APIRouter(prefix="/lib")\n\n\n'
                '@router.websocket("/ws")\nasync def ws(socket) -> None:\n    pass\n'
            ),
        },
    )
    rows = _routes(run_cli, tmp_path)
    assert [(r["app"], r["methods"], r["path"], r["kind"]) for r in rows] == [
        (None, ["WEBSOCKET"], "/lib/ws", "websocket")
    ]


def test_mounts_and_third_party_router_classes(run_cli, tmp_path, isolated):
    project(
        tmp_path,
        {
            "pyproject.toml": PYPROJECT + 'router-classes = ["fastapi_utils.InferringRouter"]\n',
            "main.py": (
                "from fastapi import FastAPI\nfrom fastapi_utils import InferringRouter\n"
                "from starlette.staticfiles import StaticFiles\n\n"
                "app = FastAPI()\nrouter = InferringRouter()\n\n\n"
                '@router.get("/inferred")\ndef inferred() -> dict:\n    return {}\n\n\n'
                "app.include_router(router)\n"
                'app.mount("/static", StaticFiles(directory="static"))\n'
            ),
        },
    )
    rows = _routes(run_cli, tmp_path)
    assert [(r["methods"], r["path"], r["kind"]) for r in rows] == [
        (["GET"], "/inferred", "route"),
        ([], "/static", "mount"),
    ]


def test_modules_with_the_same_name_in_two_apps_stay_apart(run_cli, tmp_path, isolated):
    app = (
        "from fastapi import FastAPI\n\nfrom .routes import router\n\n"
        "app = FastAPI()\napp.include_router(router)\n"
    )
    routes = 'from fastapi import APIRouter\n\nrouter = APIRouter(prefix="/{name}")\n'
    files = {"pyproject.toml": PYPROJECT}
    for name in ("one", "two"):
        files[f"{name}/api/__init__.py"] = ""
        files[f"{name}/api/main.py"] = app
        files[f"{name}/api/routes.py"] = routes.format(name=name) + (
            f'\n\n@router.get("/x")\ndef {name}() -> dict:\n    return {{}}\n'
        )
    project(tmp_path, files)
    rows = _routes(run_cli, tmp_path)
    assert sorted((r["file"], r["path"]) for r in rows) == [
        ("one/api/routes.py", "/one/x"),
        ("two/api/routes.py", "/two/x"),
    ]


def test_a_directory_named_routes_is_linted_with_check(run_cli, tmp_path, isolated):
    project(tmp_path, {"routes/app.py": "import fastapi\n\napp = fastapi.FastAPI()\n"})
    assert run_cli("check", "--no-cache", "routes", cwd=tmp_path).exit_code == 0
    assert run_cli("./routes", "--no-cache", cwd=tmp_path).exit_code == 0


WARM = {
    "pyproject.toml": PYPROJECT,
    "app/__init__.py": "",
    "app/consts.py": 'PREFIX = "/v1"\n',
    "app/users.py": (
        "from fastapi import APIRouter\n\nfrom .consts import PREFIX\nfrom .store import load\n\n"
        "router = APIRouter(prefix=PREFIX)\n\n\n"
        '@router.get("/me")\nasync def me():\n    return load()\n'
    ),
    "app/main.py": (
        "from fastapi import FastAPI\n\nfrom .users import router\n\n"
        'app = FastAPI()\napp.include_router(router, prefix="/api")\n'
    ),
}


def _messages(run_cli, root: Path) -> str:
    result = run_cli("check", "--select", "FAPI101", "--output-format", "concise", cwd=root)
    assert result.exit_code == 1, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("changed", "text", "path"),
    [
        ("app/consts.py", 'PREFIX = "/v22"\n', "/api/v22/me"),  # a module users.py imports
        ("app/main.py", WARM["app/main.py"].replace('"/api"', '"/apis"'), "/apis/v1/me"),
    ],
    ids=["imported-constant", "including-module"],
)
def test_a_change_in_another_module_changes_the_findings_on_a_warm_run(
    run_cli, tmp_path, isolated, changed, text, path
):
    project(tmp_path, WARM)
    assert "GET /api/v1/me" in _messages(run_cli, tmp_path)
    assert "GET /api/v1/me" in _messages(run_cli, tmp_path)  # warm: from the cache
    (tmp_path / changed).write_text(text)
    assert f"GET {path}" in _messages(run_cli, tmp_path)


CALLERS = {
    "pyproject.toml": PYPROJECT,
    "app/__init__.py": "",
    "app/helpers.py": 'import subprocess\n\n\nasync def refresh():\n    subprocess.run(["sync"])\n',
    "app/main.py": (
        "from fastapi import FastAPI\n\nfrom .helpers import refresh\n\napp = FastAPI()\n\n\n"
        '@app.get("/refresh")\nasync def do_refresh():\n    await refresh()\n'
    ),
}


def test_a_change_in_a_calling_module_changes_the_findings_on_a_warm_run(
    run_cli, tmp_path, isolated
):
    """helpers.py imports nothing of main.py, yet its FAPI201 finding holds only while a
    route of main.py calls `refresh`: the modules that import a file count too."""
    project(tmp_path, CALLERS)
    command = ("check", "--select", "FAPI201", "--output-format", "concise")
    for _ in range(2):  # cold, then warm from the cache
        result = run_cli(*command, cwd=tmp_path)
        assert "app/helpers.py:5:5: FAPI201" in result.stdout, result.stderr
    main = CALLERS["app/main.py"].replace("await refresh()", "return None")
    (tmp_path / "app/main.py").write_text(main)
    result = run_cli(*command, cwd=tmp_path)
    assert (result.exit_code, "FAPI201" in result.stdout) == (0, False), result.stdout


def test_a_warm_run_reads_only_what_changed(tmp_path, monkeypatch):
    from fastapi_lint.api import lint_paths
    from fastapi_lint.config import load_settings

    project(tmp_path, WARM)
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, paths=["."])
    cache = settings.effective_cache_dir
    lint_paths(["."], settings, cache_dir=cache)
    (tmp_path / "app/users.py").write_text(WARM["app/users.py"] + "\n")
    warm = lint_paths(["app/users.py"], settings, cache_dir=cache)
    # Checked again: parsed, or answered by the parse screen (no enabled rule can report).
    assert warm.timings.files_parsed + warm.screened == 1
    # main.py imports users.py, so its findings may have changed: checked again, alone.
    again = lint_paths(["."], settings, cache_dir=cache)
    assert (again.timings.files_parsed + again.screened, again.cache_hits) == (1, 1)
    settled = lint_paths(["."], settings, cache_dir=cache)
    assert (settled.timings.files_parsed, settled.cache_hits) == (0, 2)

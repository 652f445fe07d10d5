"""The rules that need the whole app (FAPI103, FAPI104, FAPI111, FAPI112): Starlette's path
matching, the certainty of registration order, related locations in every output and in
the cache, and what makes FAPI112 stay silent."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import fastapi_lint.api as api
from fastapi_lint.cache import _decode, _encode
from fastapi_lint.diagnostics import Diagnostic, Position, Related, Severity
from fastapi_lint.project.build import build_index
from fastapi_lint.project.inclusion import unserved_first_rows
from fastapi_lint.project.matching import covers, mount_pattern, parse_path

from .conftest import project

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text("utf-8"))
pytestmark = pytest.mark.usefixtures("isolated")


@pytest.fixture
def whole_project(monkeypatch):
    """The run is in a project (as with a pyproject.toml or .git at the root): the index
    covers every module under the root, so a router no include reaches is never included."""
    monkeypatch.setattr(api, "_is_project", lambda settings: True)


def _findings(run_cli, root: Path, codes: str) -> list[dict]:
    run = run_cli("check", "--no-cache", "--select", codes, "--output-format", "json", cwd=root)
    assert run.exit_code in (0, 1), run.stderr
    return run.diagnostics


def _where(findings: list[dict]) -> set[tuple[str, int, str]]:
    return {(Path(d["filename"]).name, d["location"]["row"], d["code"]) for d in findings}


# -- Starlette's matching ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("earlier", "later", "expected"),
    [
        ("/items/{id}", "/items/me", True),
        ("/items/{id:str}", "/items/me", True),
        ("/items/{id:int}", "/items/me", False),
        ("/items/{id:int}", "/items/42", True),
        ("/items/{id}", "/items/{id:int}", True),
        ("/items/{id:int}", "/items/{id}", False),
        ("/items/{x:float}", "/items/{y:int}", True),
        ("/items/{x:float}", "/items/1.5", True),
        ("/items/{x:int}", "/items/1.5", False),
        ("/keys/{k:uuid}", "/keys/0b7a6a7e-5e4f-4a0c-9d7e-2f3c4b5a6d7e", True),
        ("/keys/{k:uuid}", "/keys/current", False),
        ("/keys/{k}", "/keys/{u:uuid}", True),
        ("/files/{p:path}", "/files/a/b/c", True),
        ("/files/{p:path}", "/files/", True),
        ("/files/{p:path}", "/files", False),
        ("/files/{p:path}", "/files/{q:path}", True),
        ("/files/{p:path}", "/files/{name}/raw", True),
        ("/{p:path}", "/anything/at/all", True),
        ("/files/{name}", "/files/{p:path}", False),
        ("/a/{x}", "/a/b/c", False),
        ("/a/{x}", "/a/", False),
        ("/a/{x}/c", "/a/b/c", True),
        ("/a/b", "/a/b", True),
        ("/a/b", "/a/B", False),
    ],
)
def test_covers_follows_starlette(earlier, later, expected):
    assert covers(parse_path(earlier), parse_path(later)) is expected


@pytest.mark.parametrize(
    "path", ["/files/{name}.txt", "/x/{a}{b}", "/x/{id:custom}", "/x/{p:path}/raw", "x", "/{?}"]
)
def test_paths_made_of_other_than_whole_segments_are_not_understood(path):
    assert parse_path(path) is None


def test_parameter_names_do_not_matter():
    assert parse_path("/items/{id}") == parse_path("/items/{item_id:str}")
    assert parse_path("/items/{id}") != parse_path("/items/{id:int}")


@pytest.mark.parametrize(
    ("mount", "path", "expected"),
    [
        ("/static", "/static/app.js", True),
        ("/static/", "/static/css/app.css", True),
        ("/static", "/static", False),
        ("/static", "/statics/x", False),
        ("/", "/api/items", True),
        ("", "/api/items", True),
    ],
)
def test_a_mount_takes_every_path_under_it(mount, path, expected):
    assert covers(mount_pattern(mount), parse_path(path)) is expected


# -- registration order ----------------------------------------------------------------------


SHADOWED = """from fastapi import FastAPI

app = FastAPI()


@app.get("/users/{user_id}")
async def read_user(user_id: str):
    return {}


@app.get("/users/me")
async def read_me():
    return {}
"""


def test_shadowed_route_names_the_earlier_one_with_a_related_location(run_cli, tmp_path):
    project(tmp_path, {"main.py": SHADOWED})
    [finding] = _findings(run_cli, tmp_path, "FAPI103")
    assert finding["location"] == {"row": 11, "column": 1}
    assert "`GET /users/{user_id}` (`read_user`, main.py:6)" in finding["message"]
    assert finding["related"] == [
        {
            "filename": str(tmp_path / "main.py"),
            "location": {"row": 6, "column": 1},
            "message": "`GET /users/{user_id}` is registered here, before it",
        }
    ]


GUARDED = """from fastapi import FastAPI

app = FastAPI()
DEBUG = True

{guard}
    @app.get("/users/{{user_id}}")
    async def read_user(user_id: str):
        return {{}}
{after}

@app.get("/users/me")
async def read_me():
    return {{}}
"""


@pytest.mark.parametrize(
    ("guard", "after"),
    [
        ("if DEBUG:", ""),
        ("for _ in range(1):", ""),
        ("try:", "except ImportError:\n    pass"),
        ("while not DEBUG:", ""),
        ("with pytest.raises(AssertionError):", ""),  # the registration may raise
    ],
)
def test_a_conditional_earlier_registration_shadows_nothing(run_cli, tmp_path, guard, after):
    project(tmp_path, {"main.py": GUARDED.format(guard=guard, after=after)})
    assert _findings(run_cli, tmp_path, "FAPI103") == []


def test_an_early_return_makes_later_registrations_conditional(run_cli, tmp_path):
    project(
        tmp_path,
        {
            "main.py": """from fastapi import APIRouter, FastAPI


def make_app(flag: bool) -> FastAPI:
    app = FastAPI()
    router = APIRouter()
    if flag:
        return app

    @router.get("/{name}")
    async def named(name: str):
        return {}

    app.include_router(router, prefix="/x")

    @app.get("/x/fixed")
    async def fixed():
        return {}

    return app
"""
        },
    )
    assert _findings(run_cli, tmp_path, "FAPI103") == []


def test_routes_of_a_router_built_in_the_app_factory_are_in_order(run_cli, tmp_path):
    project(
        tmp_path,
        {
            "main.py": """from fastapi import APIRouter, FastAPI


def make_app() -> FastAPI:
    app = FastAPI()
    router = APIRouter()

    @router.get("/{name}")
    async def named(name: str):
        return {}

    app.include_router(router, prefix="/x")

    @app.get("/x/fixed")
    async def fixed():
        return {}

    return app
"""
        },
    )
    assert _where(_findings(run_cli, tmp_path, "FAPI103")) == {("main.py", 14, "FAPI103")}


def test_stacked_decorators_register_from_the_bottom_up(run_cli, tmp_path):
    source = """from fastapi import FastAPI

app = FastAPI()


@app.get("/users/{user_id}")
@app.get("/users/me")
async def read_user(user_id: str = "me"):
    return {}
"""
    project(tmp_path, {"main.py": source})
    assert _findings(run_cli, tmp_path, "FAPI103,FAPI104") == []


def test_registrations_made_from_two_modules_have_no_certain_order(run_cli, tmp_path):
    project(
        tmp_path,
        {
            "main.py": SHADOWED.split('\n\n@app.get("/users/me")')[0] + "\n",
            "views.py": 'from main import app\n\n\n@app.get("/users/me")\nasync def me():\n'
            "    return {}\n",
        },
    )
    assert _findings(run_cli, tmp_path, "FAPI103,FAPI104") == []


def test_a_router_with_a_custom_route_class_may_match_otherwise(run_cli, tmp_path):
    source = SHADOWED.replace(
        "app = FastAPI()\n",
        "app = FastAPI()\nrouter = APIRouter(route_class=Custom)\n",
    ).replace("@app.get", "@router.get")
    source = "from fastapi import APIRouter\nfrom x import Custom\n" + source
    source += "\n\napp.include_router(router)\n"
    project(tmp_path, {"main.py": source})
    assert _findings(run_cli, tmp_path, "FAPI103") == []


# -- FAPI104 and FAPI111 -----------------------------------------------------------------------


INCLUDED_TWICE = """from fastapi import APIRouter, FastAPI

app = FastAPI()
router = APIRouter()


@router.get("/items", operation_id="list_items")
async def list_items():
    return []


app.include_router(router, prefix="{first}")
app.include_router(router, prefix="{second}")
"""


def test_a_router_included_twice_with_one_prefix_is_a_duplicate_of_each_route(run_cli, tmp_path):
    source = INCLUDED_TWICE.replace("{first}", "/api").replace("{second}", "/api")
    project(tmp_path, {"main.py": source})
    [finding] = _findings(run_cli, tmp_path, "FAPI104,FAPI111")
    assert finding["code"] == "FAPI104"
    assert "included twice with the same prefix (main.py:12 and main.py:13)" in (finding["message"])
    assert [r["location"]["row"] for r in finding["related"]] == [12, 13]


def test_a_router_included_under_two_prefixes_duplicates_its_operation_ids(run_cli, tmp_path):
    source = INCLUDED_TWICE.replace("{first}", "/v1").replace("{second}", "/v2")
    project(tmp_path, {"main.py": source})
    [finding] = _findings(run_cli, tmp_path, "FAPI104,FAPI111")
    assert finding["code"] == "FAPI111"
    assert finding["location"]["row"] == 7


# -- related locations in the outputs and the cache -----------------------------------------------


def test_sarif_carries_related_locations_and_stays_valid(run_cli, tmp_path):
    project(tmp_path, {"main.py": SHADOWED})
    run = run_cli("check", "--no-cache", "--select", "FAPI103", "--output-format", "sarif")
    log = json.loads(run.stdout)
    jsonschema.validate(log, SCHEMA)
    [result] = log["runs"][0]["results"]
    assert result["relatedLocations"] == [
        {
            "id": 0,
            "physicalLocation": {
                "artifactLocation": {"uri": "main.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 6, "startColumn": 1},
            },
            "message": {"text": "`GET /users/{user_id}` is registered here, before it"},
        }
    ]


def test_sarif_leaves_out_related_locations_when_there_are_none(run_cli, tmp_path):
    project(tmp_path, {"main.py": SHADOWED})
    run = run_cli("check", "--no-cache", "--select", "FAPI401", "--output-format", "sarif")
    results = json.loads(run.stdout)["runs"][0]["results"]
    assert results and all("relatedLocations" not in result for result in results)


def test_the_cache_keeps_related_locations(run_cli, tmp_path):
    project(tmp_path, {"main.py": SHADOWED})
    args = ("check", "--select", "FAPI103", "--output-format", "json")
    cold = run_cli(*args, cwd=tmp_path).diagnostics
    warm = run_cli(*args, cwd=tmp_path).diagnostics
    assert cold == warm and warm[0]["related"]


def test_cache_entries_round_trip_related_locations():
    related = (Related(Path("/p/a.py"), Position(3, 5), "here"),)
    diagnostic = Diagnostic(
        Path("/p/b.py"),
        Position(1, 1),
        Position(1, 4),
        "FAPI103",
        "route-shadowed",
        "m",
        Severity.ERROR,
        related=related,
    )
    assert _decode(Path("/p/b.py"), _encode(diagnostic), False).related == related
    old_entry = _encode(diagnostic)[:11]  # written before related locations existed
    assert _decode(Path("/p/b.py"), old_entry, False).related == ()


# -- FAPI112 ---------------------------------------------------------------------------------------


MAIN = """from fastapi import FastAPI

from . import items, users

app = FastAPI()
app.include_router(items.router)
"""
ITEMS = """from fastapi import APIRouter

router = APIRouter()


@router.get("/items")
async def list_items():
    return []
"""
USERS = ITEMS.replace("/items", "/users").replace("list_items", "list_users")
FACTORY = "def make():\n    return APIRouter()\n\n\nrouter = make()"


def _shop(tmp_path: Path, **changes: str) -> Path:
    files = {
        "shop/__init__.py": "",
        "shop/main.py": MAIN,
        "shop/items.py": ITEMS,
        "shop/users.py": USERS,
    }
    files.update({f"shop/{name}.py": text for name, text in changes.items()})
    return project(tmp_path, files)


@pytest.mark.usefixtures("whole_project")
def test_a_router_imported_but_never_included_is_reported_once(run_cli, tmp_path):
    _shop(tmp_path, users=USERS + '\n\n@router.post("/users")\nasync def add():\n    pass\n')
    [finding] = _findings(run_cli, tmp_path, "FAPI112")
    assert _where([finding]) == {("users.py", 6, "FAPI112")}
    assert finding["message"] == (
        "Router `shop.users:router` is never included in an app: none of its 2 routes is served"
    )


@pytest.mark.usefixtures("whole_project")
@pytest.mark.parametrize(
    "users",
    [
        USERS + '\n__all__ = ["router"]\n',  # exported
        USERS + "\nROUTES = router.routes\n",  # OpenAPI callbacks, or anything else
        USERS + "\nregister(router)\n",  # handed to a function
        USERS.replace("router = APIRouter()", FACTORY),  # built by a function
    ],
)
def test_a_router_used_otherwise_may_be_included_elsewhere(run_cli, tmp_path, users):
    _shop(tmp_path, users=users)
    assert _findings(run_cli, tmp_path, "FAPI112") == []


@pytest.mark.usefixtures("whole_project")
def test_comments_docstrings_and_paths_naming_the_router_do_not_count(run_cli, tmp_path):
    users = '"""The users router."""\n\n' + USERS.replace(
        "router = APIRouter()", 'router = APIRouter(prefix="/router")  # the router'
    )
    _shop(tmp_path, users=users)
    assert _where(_findings(run_cli, tmp_path, "FAPI112")) == {("users.py", 8, "FAPI112")}


@pytest.mark.usefixtures("whole_project")
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("main", MAIN + "for module in (users,):\n    app.include_router(module.router)\n"),
        ("main", MAIN + "print(users.router)\n"),
        ("__init__", "from .users import router as users_router\n"),
    ],
)
def test_includes_the_index_cannot_follow_keep_it_silent(run_cli, tmp_path, name, text):
    _shop(tmp_path, **{name: text})
    assert _findings(run_cli, tmp_path, "FAPI112") == []


@pytest.mark.usefixtures("whole_project")
def test_a_library_without_an_app_ships_routers_for_its_users(run_cli, tmp_path):
    _shop(tmp_path, main="from . import items, users\n")
    assert _findings(run_cli, tmp_path, "FAPI112") == []


def test_nothing_is_reported_when_the_index_may_miss_part_of_the_project(tmp_path):
    root = _shop(tmp_path)
    index = build_index(sorted(root.rglob("*.py")), root)
    assert index.covers_project is False
    assert unserved_first_rows(index) == {}
    index.covers_project = True
    assert len(unserved_first_rows(index)) == 0  # cached per index: still the first answer
    fresh = build_index(sorted(root.rglob("*.py")), root)
    fresh.covers_project = True
    [unserved] = unserved_first_rows(fresh).values()
    assert unserved.root.endswith("users:router")


def test_rows_record_operation_ids_and_registration_sites(tmp_path):
    source = INCLUDED_TWICE.replace("{first}", "/v1").replace("{second}", "/v2")
    root = project(tmp_path, {"main.py": source})
    index = build_index([root / "main.py"], root)
    rows = [row for row in index.rows if row.app is not None]
    assert [row.operation_id for row in rows] == ["list_items", "list_items"]
    assert [[(site.line, site.receiver) for site in row.sites] for row in rows] == [
        [(12, "main:app"), (7, "main:router")],
        [(13, "main:app"), (7, "main:router")],
    ]

"""`fastapi-lint routes` on the example app agrees with the routes FastAPI itself builds.

The linter reads the code; this test *imports* it (in a subprocess, through
`tests/routes_probe.py`) to get the ground truth: the in-schema `(METHOD, path)` pairs are
those of `app.openapi()["paths"]`, the hidden ones come from the app's route list (with the
included routers walked as FastAPI 0.165 resolves them), and websockets and mounts from
that same list. The example app covers what is easy to get wrong statically: a router
subclass defined in another module (`shop/routing.py`) and used in a file that never
names FastAPI (`shop/routers/reviews.py`), a route hidden by itself, a router hidden by its
`include_router(..., include_in_schema=False)` call, a sub-application without OpenAPI
(`openapi_url=None`), a websocket and a mount.

The example's modules are named as the linter names them: `examples/` has no
`__init__.py`, so `examples/shop/main.py` is `shop.main` and the app is `shop.main:app`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .routes_probe import (
    app_ids,
    compare,
    expected_tables,
    linter_tables,
    normalize_path,
    probe,
    row_kind,
)

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"
MODULE = "shop.main"
APPS = ("shop.main:app", "shop.main:back_office")


def _entry_point() -> str:
    script = Path(sys.executable).with_name("fastapi-lint")
    return str(script) if script.exists() else shutil.which("fastapi-lint") or "fastapi-lint"


@pytest.fixture(scope="module")
def fastapi_apps() -> dict[str, dict]:
    """The example's apps as FastAPI builds them, by `module:name`."""
    report = probe([MODULE], sys_path=[EXAMPLES], cwd=EXAMPLES, timeout=120)[MODULE]
    assert report["ok"], (
        f"`import {MODULE}` failed under the installed FastAPI: {report['error']} "
        "(the example app needs fastapi, pydantic 2, httpx and requests)"
    )
    return dict(app_ids(report))


@pytest.fixture(scope="module")
def linter_rows() -> list[dict]:
    """`fastapi-lint routes examples/ --output-format json`, through the entry point."""
    completed = subprocess.run(
        [_entry_point(), "routes", "examples/", "--output-format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    rows = json.loads(completed.stdout)
    assert isinstance(rows, list)
    return rows


def test_example_app_imports_and_has_the_cases_it_is_for(fastapi_apps):
    """The probe side on its own: the example still exercises every case above."""
    assert set(fastapi_apps) == set(APPS)
    app = expected_tables(fastapi_apps["shop.main:app"])
    back_office = expected_tables(fastapi_apps["shop.main:back_office"])
    # Routes of the router subclass, declared in a module that never names FastAPI.
    assert {("GET", "/reviews/{item_id}"), ("POST", "/reviews/{item_id}")} <= app["schema"]
    # Hidden by the route itself, and by the include_router call (with its prefix).
    assert app["hidden"] == {
        ("DELETE", "/reviews/{item_id}/{review_id}"),
        ("GET", "/internal/stats"),
        ("POST", "/internal/orders/purge"),
    }
    assert app["websocket"] == {"/reviews/live"}
    assert app["mount"] == {"/admin"}
    # Hidden because the app publishes no schema at all.
    assert back_office["schema"] == set()
    assert back_office["hidden"] == {("GET", "/orders/pending")}


@pytest.mark.parametrize("app_id", APPS)
def test_in_schema_routes_match_openapi(app_id, fastapi_apps, linter_rows):
    expected = expected_tables(fastapi_apps[app_id])
    actual = linter_tables(linter_rows, app_id, expected["plain"])
    assert sorted(actual["schema"]) == sorted(expected["schema"])


@pytest.mark.parametrize("app_id", APPS)
def test_hidden_routes_match_the_route_list(app_id, fastapi_apps, linter_rows):
    expected = expected_tables(fastapi_apps[app_id])
    actual = linter_tables(linter_rows, app_id, expected["plain"])
    assert sorted(actual["hidden"]) == sorted(expected["hidden"])


@pytest.mark.parametrize("app_id", APPS)
def test_whole_table_matches(app_id, fastapi_apps, linter_rows):
    """In-schema and hidden routes, plain Starlette routes, websockets and mounts."""
    expected = expected_tables(fastapi_apps[app_id])
    actual = linter_tables(linter_rows, app_id, expected["plain"])
    assert compare(expected, actual) == {}


def test_every_route_belongs_to_a_probed_app(linter_rows):
    """Every example router is included somewhere, but the one FAPI112's example never
    includes (its rows have `app: null`), and no row names an app that FastAPI does not
    know."""
    assert {row["app"] for row in linter_rows} - {None} <= set(APPS)
    unserved = {row["file"] for row in linter_rows if row["app"] is None}
    assert unserved == {"examples/shop/routers/promotions.py"}


def test_endpoints_and_status_codes_match(fastapi_apps, linter_rows):
    """Each row names the function FastAPI calls, as `module:function`; a status code the
    linter resolves is the one FastAPI uses."""
    expected_endpoints: dict[tuple, set] = {}
    status_codes: dict[tuple, set] = {}
    for app_id, app in fastapi_apps.items():
        for route in app["routes"]:
            if route["framework"] or route["kind"] not in ("api", "websocket"):
                continue
            path = normalize_path(route["path_format"] or route["path"])
            for method in route["methods"]:
                key = (app_id, method, path)
                expected_endpoints.setdefault(key, set()).add(route["endpoint"])
                status_codes.setdefault(key, set()).add(route["status_code"])
    mismatches = []
    for row in linter_rows:
        if row_kind(row) == "mount" or row["app"] is None:  # FAPI112's unserved router
            continue
        for method in row["methods"]:
            key = (row["app"], method.upper(), normalize_path(row["path"]))
            if row["endpoint"] not in expected_endpoints.get(key, set()):
                mismatches.append((key, "endpoint", row["endpoint"], expected_endpoints.get(key)))
            if row.get("status_code") is not None and row["status_code"] not in status_codes.get(
                key, set()
            ):
                mismatches.append((key, "status_code", row["status_code"], status_codes.get(key)))
    assert mismatches == []

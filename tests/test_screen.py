"""The parse screen (`fastapi_lint.screen`): it only saves work. With it or without it
(`--no-screen`, `FASTAPI_LINT_NO_SCREEN=1`), every fixture and the example app give the same
findings, finding for finding; and the facts it decides on are supersets of what the rules
see."""

from __future__ import annotations

import ast
import marshal
import re
import shutil
from pathlib import Path

import pytest

from fastapi_lint.api import lint_paths
from fastapi_lint.config import Selection, load_settings
from fastapi_lint.rule import Rule
from fastapi_lint.rules import ALL_RULES
from fastapi_lint.screen import ENVIRONMENT_SWITCH, Facts, file_facts, parse_facts

from .conftest import FIXTURES, project

pytestmark = pytest.mark.usefixtures("isolated")

EXAMPLES = Path(__file__).parents[1] / "examples"
_OPTION = re.compile(r"^#\s*option:\s*(?P<toml>.+)$", re.MULTILINE)


def _fixtures() -> list[Path]:
    found = FIXTURES.iterdir()
    return sorted(p for p in found if re.match(r"FAPI\d{3}(_\w+)?(\.py)?$", p.name))


def _options(fixture: Path) -> list[str]:
    first = sorted(fixture.rglob("*.py"))[0] if fixture.is_dir() else fixture
    return _OPTION.findall(first.read_text())


def _lint(paths: list[Path], root: Path, *, screen: bool, cache: Path | None = None, **kw):
    """Every rule, preview ones included, as `--select ALL --preview` runs them."""
    config = kw.pop("config", None)
    settings = load_settings(
        config, Selection(select=kw.pop("select", ["ALL"])), preview=True, paths=[str(root)]
    )
    return lint_paths(
        paths, settings, with_edits=True, jobs=1, cache_dir=cache, screen=screen, **kw
    )


def _same_findings(paths: list[Path], root: Path, **kw) -> int:
    """Lint with and without the screen; the findings must match. Returns the files the
    screen answered."""
    screened = _lint(paths, root, screen=True, **kw)
    plain = _lint(paths, root, screen=False, **kw)
    assert plain.screened == 0
    assert screened.internal_errors == plain.internal_errors == []
    assert screened.diagnostics == plain.diagnostics
    assert screened.files_checked == plain.files_checked
    return screened.screened


@pytest.fixture(scope="module")
def every_fixture(tmp_path_factory) -> Path:
    """The fixtures without options, as one project (with a pyproject.toml, so that the
    index covers it whole), and the example app."""
    root = project(tmp_path_factory.mktemp("all"), {"pyproject.toml": "[tool.fastapi-lint]\n"})
    for fixture in _fixtures():
        if _options(fixture):
            continue
        if fixture.is_dir():
            shutil.copytree(fixture, root / fixture.name)
        else:
            shutil.copy(fixture, root / fixture.name)
    shutil.copytree(EXAMPLES, root / "examples")
    return root


SCREENED = [rule for rule in ALL_RULES if rule.screen is not Rule.screen]


def test_fixtures_and_examples_give_the_same_findings_with_and_without_the_screen(
    every_fixture,
):
    """Every rule on: a rule without a screen has every file parsed."""
    _same_findings([every_fixture], every_fixture)


def test_the_rules_with_a_screen_together_give_the_same_findings(every_fixture):
    screened = _same_findings(
        [every_fixture], every_fixture, select=[rule.code for rule in SCREENED]
    )
    assert screened > 0, "the screen answered no file: this test checks nothing"


@pytest.mark.parametrize("rule", SCREENED, ids=lambda rule: rule.code)
def test_each_rule_alone_gives_the_same_findings_with_and_without_the_screen(rule, every_fixture):
    """With every rule on, a file one rule wants is checked by all: each screen is only
    tested alone."""
    _same_findings([every_fixture], every_fixture, select=[rule.code])


@pytest.mark.parametrize("fixture", [f for f in _fixtures() if _options(f)], ids=lambda p: p.name)
def test_fixtures_with_options_give_the_same_findings_with_and_without_the_screen(
    fixture, tmp_path
):
    """Options may widen what a rule reports, and its screen with it."""
    code = fixture.name[:7]
    config = tmp_path / "fastapi-lint.toml"
    config.write_text(f"[rules.{code}]\n" + "\n".join(_options(fixture)) + "\n")
    _same_findings([fixture], fixture.parent, config=config)


def test_facts_from_the_index_store_give_the_same_findings(tmp_path):
    """A warm project index (facts kept with the summaries) and a cold result cache: the
    second run selects other rules, so that every file is checked again."""
    root = project(tmp_path / "shop", {"pyproject.toml": "[tool.fastapi-lint]\n"})
    shutil.copytree(EXAMPLES / "shop", root / "shop")
    for name in ("FAPI201.py", "FAPI105.py", "FAPI501.py", "FAPI103.py"):
        shutil.copy(FIXTURES / name, root / name)
    cache = tmp_path / "cache"
    _lint([root], root, screen=True, cache=cache, select=["FAPI1"])
    assert any(cache.rglob("project-index-*"))
    screened = _lint([root], root, screen=True, cache=cache, select=["FAPI2", "FAPI5"])
    plain = _lint([root], root, screen=False, select=["FAPI2", "FAPI5"])
    assert screened.cache_hits == 0 and screened.screened > 0
    assert screened.diagnostics == plain.diagnostics


def test_the_environment_switch_turns_the_screen_off(tmp_path, monkeypatch):
    root = project(tmp_path, {"a.py": "from fastapi import HTTPException\n\nx = 1\n"})
    assert _lint([root], root, screen=True, select=["FAPI105"]).screened == 1
    monkeypatch.setenv(ENVIRONMENT_SWITCH, "1")
    assert _lint([root], root, screen=True, select=["FAPI105"]).screened == 0


def test_a_file_ast_rejects_is_parsed_and_reported(tmp_path):
    """No facts: the engine reports the syntax error, as without the screen."""
    root = project(tmp_path, {"broken.py": "from fastapi import FastAPI\ndef f(:\n"})
    run = _lint([root], root, screen=True)
    assert run.screened == 0
    assert [d.code for d in run.diagnostics] == ["FAPI001"]


def _facts(source: str) -> Facts:
    facts = parse_facts(source.encode())
    assert facts is not None
    return facts


def test_facts_resolve_calls_through_every_import_spelling():
    facts = _facts(
        "import time as t\n"
        "from requests import get as fetch\n"
        "import os.path\n"
        "async def handler():\n"
        "    t.sleep(1)\n"
        "    fetch('x')\n"
        "    os.path.exists('p')\n"
        "    open('f')\n"
        "def sync():\n"
        "    import subprocess\n"
        "    subprocess.run([])\n"
    )
    assert {"time.sleep", "requests.get", "os.path.exists", "builtins.open"} <= (
        facts.async_targets
    )
    assert "subprocess.run" not in facts.async_targets  # not inside an `async def`
    assert {"sleep", "get", "fetch", "run"} <= facts.calls
    assert {"time", "requests", "os.path", "subprocess"} <= facts.modules
    assert facts.has_async and facts.statement_calls


def test_facts_put_calls_in_the_frame_that_runs_them():
    """A sync `def` nested in an `async def` runs in its own frame, as the rules see it; its
    decorators and defaults, a class body, a comprehension and a lambda run in the async
    frame (a lambda's body does not, but counts as inside: a superset)."""
    facts = _facts(
        "import socket, time, subprocess, os\n"
        "async def handler():\n"
        "    @decorate(time.sleep(1))\n"
        "    def resolve(port=os.getcwd()):\n"
        "        return socket.getaddrinfo('h', port)\n"
        "    class Local:\n"
        "        x = subprocess.run([])\n"
        "    [open(p) for p in ()]\n"
        "    later = lambda: os.system('x')\n"
        "    return await to_thread(resolve)\n"
    )
    assert "socket.getaddrinfo" not in facts.async_targets
    assert "getaddrinfo" not in facts.async_calls
    assert {"time.sleep", "os.getcwd", "subprocess.run", "builtins.open", "os.system"} <= (
        facts.async_targets
    )
    scopes = {scope for _, scope in facts.async_sites}
    assert scopes == {"handler", "handler.Local"}


def test_awaited_calls_are_no_sites_for_blocking_helpers():
    """FAPI202 reports no awaited call: only the others are resolved through the index."""
    facts = _facts(
        "async def handler(db):\n"
        "    await db.fetch()\n"
        "    await (helper())\n"
        "    rows = compute(await db.fetch())\n"
    )
    assert [callee for callee, _ in facts.async_sites] == [["name", "compute"]]
    assert {"fetch", "helper", "compute"} <= facts.async_calls  # other rules see them all


def test_facts_keep_names_of_quoted_annotations_and_short_strings():
    facts = _facts(
        "def f(app: 'Optional[FastAPI]', s: \"sqlalchemy.orm.Session\") -> 'Response':\n"
        "    x: 'Annotated[Redis, Depends(get)]' = cast('Client', y)\n"
    )
    assert {"FastAPI", "Optional", "Session", "orm", "Response", "Redis", "Client"} <= (facts.names)


def test_facts_record_route_shaped_registrations_and_nested_classes():
    facts = _facts(
        "@router.get('/a', status_code=201)\n"
        "def a(): ...\n"
        "app.add_api_route('/b', b, **options)\n"
        "app.post('/c')(c)\n"
        "class Item(BaseModel):\n"
        "    if True:\n"
        "        class Config: ...\n"
        "def f():\n"
        "    class Config: ...\n"
    )
    assert sorted((route.verb, sorted(route.keywords)) for route in facts.routes) == [
        ("api_route", ["**"]),
        ("get", ["status_code"]),
        ("post", []),
    ]
    assert facts.any_route("get", keyword="status_code")
    assert not facts.any_route("post", keyword="status_code")
    assert facts.nested_classes == {"Config"}  # the one in a function is not a model's


def test_facts_survive_the_summary_store():
    facts = file_facts(ast.parse("import a\nasync def f():\n    a.b()\n@x.get('/')\ndef g(): ..."))
    assert Facts.from_data(marshal.loads(marshal.dumps(facts.to_data()))) == facts
    assert Facts.from_data(None) is None

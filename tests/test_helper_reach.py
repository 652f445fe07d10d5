"""FAPI202 and FAPI206 beyond the fixtures: chains, their limits, the cache, the trigger."""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi_lint.project.build import build_index
from fastapi_lint.project.index import Func
from fastapi_lint.project.reach import MAX_CHAIN, reach
from fastapi_lint.project.summary import summarize

from .conftest import project

ROUTE = """
from fastapi import FastAPI

from .helpers import start

app = FastAPI()


@app.get("/")
async def home() -> None:
    start()
"""


def _helpers(depth: int) -> str:
    """`start -> step1 -> ... -> time.sleep`, `depth` functions in all."""
    names = ["start", *(f"step{n}" for n in range(1, depth))]
    lines = ["import time", ""]
    for name, callee in zip(names, [*names[1:], None], strict=True):
        body = f"{callee}()" if callee else "time.sleep(1)"
        lines += ["", f"def {name}() -> None:", f"    {body}", ""]
    return "\n".join(lines)


def _check(run_cli, root: Path, *args: str) -> list[dict]:
    result = run_cli(
        "check", "--preview", "--output-format", "json", "--no-cache", *args, str(root)
    )
    assert result.exit_code in (0, 1), result.stderr
    return result.diagnostics


def test_message_shows_the_chain_and_the_blocking_call_as_related(run_cli, tmp_path):
    root = project(
        tmp_path, {"app/__init__.py": "", "app/main.py": ROUTE, "app/helpers.py": _helpers(2)}
    )
    [found] = _check(run_cli, root, "--select", "FAPI202")
    assert found["message"].endswith(
        "blocks the event loop: start -> step1 -> time.sleep (app/helpers.py:9)"
    )
    [related] = found["related"]
    assert Path(related["filename"]).name == "helpers.py"
    assert related["location"] == {"row": 9, "column": 5}


def test_chains_longer_than_the_limit_are_not_followed(run_cli, tmp_path):
    files = {"app/__init__.py": "", "app/main.py": ROUTE}
    longest = project(tmp_path / "a", {**files, "app/helpers.py": _helpers(MAX_CHAIN)})
    too_long = project(tmp_path / "b", {**files, "app/helpers.py": _helpers(MAX_CHAIN + 1)})
    assert len(_check(run_cli, longest, "--select", "FAPI202")) == 1
    assert _check(run_cli, too_long, "--select", "FAPI202") == []


def test_cycles_end_and_still_reach_the_blocking_call(run_cli, tmp_path):
    helpers = """
import time


def start() -> None:
    again()


def again() -> None:
    start()
    time.sleep(1)
"""
    root = project(
        tmp_path, {"app/__init__.py": "", "app/main.py": ROUTE, "app/helpers.py": helpers}
    )
    [found] = _check(run_cli, root, "--select", "FAPI202")
    assert "start -> again -> time.sleep" in found["message"]


def test_a_generator_on_the_way_ends_the_chain(run_cli, tmp_path):
    helpers = """
import time


def start() -> None:
    return rows()


def rows():
    time.sleep(1)
    yield 1
"""
    root = project(
        tmp_path, {"app/__init__.py": "", "app/main.py": ROUTE, "app/helpers.py": helpers}
    )
    assert _check(run_cli, root, "--select", "FAPI202") == []


def test_the_summary_knows_which_functions_are_generators():
    """`yield` in a function's own body makes it a generator; in a nested function, a class
    body or a lambda it does not."""
    summary = summarize(
        ast.parse(
            "def rows():\n"
            "    x = yield 1\n"
            "def more():\n"
            "    if True:\n"
            "        return (yield from rows())\n"
            "def outer():\n"
            "    def inner():\n"
            "        yield\n"
            "    f = lambda: (yield)\n"
            "    class C:\n"
            "        def gen(self):\n"
            "            yield self\n"
            "    return inner\n"
            "async def stream():\n"
            "    yield b''\n"
        )
    )
    generators = {name for name, data in summary["functions"].items() if data["generator"]}
    assert generators == {"rows", "more", "outer.inner", "outer.C.gen", "stream"}


def test_reach_is_computed_once_per_index(tmp_path):
    root = project(
        tmp_path, {"app/__init__.py": "", "app/main.py": ROUTE, "app/helpers.py": _helpers(3)}
    )
    index = build_index(sorted(root.rglob("*.py")), root)
    analysis = reach(index)
    assert reach(index) is analysis
    chain = analysis.chain(Func("app.helpers", "start"))
    assert chain is not None and [f.qualname for f in chain.functions] == [
        "start",
        "step1",
        "step2",
    ]
    assert analysis.chain(Func("app.helpers", "start")) is chain
    assert reach(build_index(sorted(root.rglob("*.py")), root)) is not analysis


def test_a_changed_helper_module_invalidates_the_cached_result(run_cli, tmp_path):
    root = project(
        tmp_path, {"app/__init__.py": "", "app/main.py": ROUTE, "app/helpers.py": _helpers(2)}
    )
    cache = [
        "--preview",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--select",
        "FAPI202",
        "--output-format",
        "json",
    ]
    first = run_cli("check", *cache, str(root))
    assert len(first.diagnostics) == 1
    (root / "app/helpers.py").write_text("def start() -> None:\n    pass\n")
    second = run_cli("check", *cache, str(root))
    assert second.diagnostics == []


def test_coroutine_rule_reports_the_same_whatever_else_is_enabled(run_cli, tmp_path):
    """A file without `async` in it is never read for FAPI206 alone; when another rule has
    it read (here FAPI401, for `fastapi`), FAPI206 must not report there either."""
    seed = "from .mail import send\n\n\ndef seed() -> None:\n    send('a')\n"
    files = {
        "app/__init__.py": "",
        "app/mail.py": "async def send(to: str) -> None:\n    print(to)\n",
        "app/plain.py": f"import fastapi\n\n{seed}",
        "app/tools.py": f"import asyncio\n\n{seed}",
    }
    root = project(tmp_path, files)
    alone = _check(run_cli, root, "--select", "FAPI206")
    together = [
        d for d in _check(run_cli, root, "--select", "FAPI206,FAPI401") if d["code"] == "FAPI206"
    ]
    assert [Path(d["filename"]).name for d in alone] == ["tools.py"]
    assert together == alone

"""The linter never imports or executes the code it lints, and no configuration makes it.

The project linted here has code that would leave a sentinel file behind if it ran: at module
level in its app and routers, in a package `__init__.py`, a `conftest.py`, a `setup.py`, a
module named by the configuration, and modules at the project root named like what the linter
imports itself (`json.py`, `click.py`, `libcst.py`, ...), which `python -m`
would put first on `sys.path`. Every command runs on it (check with every rule, in one
process and in a pool of workers, fix, routes, config, baseline, noqa), through the installed
script and through `python -m fastapi_lint`, with the project index; no sentinel may appear.

Configuration holds data only: rule selectors, globs, qualified names that are matched, never
imported (`router-classes`, `extend-blocking-calls`), and paths of data files (`baseline`,
`cache-dir`) or of source roots that name modules (`src`). Every key and every rule option is
set, in turn, to names and paths of the sentinel modules: the run either rejects the value
or goes on, and nothing runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from fastapi_lint.api import lint_paths, route_table
from fastapi_lint.config import KNOWN_KEYS, ConfigError, Selection, load_settings
from fastapi_lint.rules import ALL_RULES

from .conftest import TOOL_ENVIRONMENT

# Modules the linter imports, some late (LibCST, difflib for a fix): shadowed at the root.
SHADOWS = ("json", "click", "libcst", "tomllib", "difflib", "tokenize", "ast", "multiprocessing")
ROUTERS = 8  # enough files that `--jobs 2` checks them in worker processes


def tripwire(sentinels: Path, name: str) -> str:
    """Code that leaves `sentinels/name` behind when it runs."""
    return f"open({str(sentinels / name)!r}, 'w').close()\n"


def booby_trapped_project(root: Path, sentinels: Path) -> Path:
    """A FastAPI project every part of which writes a sentinel if imported or executed."""
    files = {
        "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["fastapi", "pydantic>=2"]\n',
        "setup.py": tripwire(sentinels, "setup.py") + "from setuptools import setup\nsetup()\n",
        "conftest.py": tripwire(sentinels, "conftest.py") + "import pytest\n",
        "evil.py": tripwire(sentinels, "evil.py") + "def block():\n    pass\nRouter = object\n",
        "lib/evil.py": tripwire(sentinels, "lib-evil.py"),
        "shop/__init__.py": tripwire(sentinels, "shop-init"),
        "shop/main.py": tripwire(sentinels, "shop-main")
        + "import time\n"
        + "import evil\n"
        + "from fastapi import FastAPI\n"
        + "from fastapi.middleware.cors import CORSMiddleware\n"
        + "".join(f"from shop.routers.r{n} import router as r{n}\n" for n in range(ROUTERS))
        + "app = FastAPI(debug=True)\n"
        + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)\n'
        + "".join(f"app.include_router(r{n})\n" for n in range(ROUTERS))
        + '@app.get("/")\n'
        + "async def home():\n"
        + "    time.sleep(1)\n"
        + "    evil.block()\n"
        + "    return {}\n"
        + 'if __name__ == "__main__":\n'
        + "    "
        + tripwire(sentinels, "shop-main-__main__"),
        "shop/routers/__init__.py": tripwire(sentinels, "routers-init"),
        "tests/conftest.py": tripwire(sentinels, "tests-conftest.py"),
        "tests/test_app.py": tripwire(sentinels, "test_app.py") + "def test_x():\n    pass\n",
    }
    for n in range(ROUTERS):
        files[f"shop/routers/r{n}.py"] = (
            tripwire(sentinels, f"router-{n}")
            + "import requests\n"
            + "from fastapi import APIRouter, HTTPException\n"
            + "from pydantic import BaseModel\n"
            + "router = APIRouter()\n"
            + "class Item(BaseModel):\n"
            + "    name: str\n"
            + "    class Config:\n"
            + "        orm_mode = True\n"
            + f'@router.post("/items{n}")\n'
            + f"async def create_{n}(item: Item):\n"
            + "    requests.get('https://example.com')  # noqa: FAPI999\n"
            + "    return HTTPException(status_code=404)\n"
        )
    for name in SHADOWS:
        files[f"{name}.py"] = tripwire(sentinels, f"shadow-{name}")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def trap(tmp_path: Path) -> tuple[Path, Path]:
    """The project and its (empty) sentinel directory, outside the project."""
    sentinels = tmp_path / "sentinels"
    sentinels.mkdir()
    return booby_trapped_project(tmp_path / "project", sentinels), sentinels


def fastapi_lint_script() -> list[str]:
    for directory in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        script = directory / "fastapi-lint"
        if script.is_file():
            return [str(script)]
    pytest.skip("no installed fastapi-lint script")


COMMANDS = (
    ("check", "--select", "ALL", "--preview", "--no-cache", "--jobs", "2", "."),
    (
        "check",
        "--select",
        "ALL",
        "--preview",
        "--cache-dir",
        "../cache",
        "--output-format",
        "sarif",
    ),
    ("check", "--select", "ALL", "--preview", "--diff", "."),
    ("check", "--select", "ALL", "--preview", "--write-baseline", "../baseline.json", "."),
    ("check", "--select", "ALL", "--preview", "--fix", "--unsafe-fixes", "."),
    ("check", "--select", "ALL", "--preview", "--add-noqa", "."),
    ("routes", "--no-cache", "."),
    ("config",),
)
# `python -m` differs from the script only in `sys.path`: one command that imports everything.
MODULE_COMMANDS = (
    ("check", "--select", "ALL", "--preview", "--no-cache", "--fix", "--unsafe-fixes", "."),
)


@pytest.mark.parametrize(
    "launcher, commands",
    [("script", COMMANDS), ("module", MODULE_COMMANDS)],
)
def test_no_command_runs_the_linted_code(trap, launcher: str, commands) -> None:
    """Every command, from the project root, through the script and `python -m`."""
    root, sentinels = trap
    argv = fastapi_lint_script() if launcher == "script" else [sys.executable, "-m", "fastapi_lint"]
    environment = {key: value for key, value in os.environ.items() if key not in TOOL_ENVIRONMENT}
    for command in commands:
        done = subprocess.run(
            [*argv, *command],
            cwd=root,
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert done.returncode in (0, 1), (command, done.stderr)
        assert "Traceback" not in done.stderr, (command, done.stderr)
        assert sorted(p.name for p in sentinels.iterdir()) == [], command


def test_the_findings_prove_the_project_was_linted(trap, run_cli) -> None:
    """The trap is not vacuous: the linter did read every part of it."""
    root, _ = trap
    result = run_cli(
        "check",
        "--select",
        "ALL",
        "--preview",
        "--no-cache",
        "--output-format",
        "json",
        ".",
        cwd=root,
    )
    codes = {(Path(d["filename"]).name, d["code"]) for d in result.diagnostics}
    assert ("main.py", "FAPI201") in codes  # time.sleep in an async route
    assert ("main.py", "FAPI301") in codes  # the CORS wildcard with credentials
    assert ("r0.py", "FAPI105") in codes  # the HTTPException returned
    routes = run_cli("routes", "--no-cache", "--output-format", "json", ".", cwd=root)
    assert len(routes.diagnostics) == ROUTERS + 1


def _configurations() -> list[tuple[str, str]]:
    """(label, pyproject.toml text): every top-level key and every rule option set to values
    that name the sentinel modules and files, as a string, a list and a table."""
    values = (
        '"evil.py"',
        '["evil.block", "evil.Router"]',
        '["evil", "evil.block", "evil.Router", "lib", "lib/evil.py"]',
        '{ "evil.py" = ["FAPI201"], "lib/evil.py" = ["FAPI3"] }',
    )
    header = '[project]\nname = "shop"\n[tool.fastapi-lint]\n'
    configurations = [
        (f"{key} = {value}", f"{header}{key} = {value}\n")
        for key in sorted(KNOWN_KEYS - {"rules"})
        for value in values
    ]
    for rule in ALL_RULES:
        for option in rule.options:
            configurations += [
                (
                    f"{rule.code}.{option.name} = {value}",
                    f"{header}[tool.fastapi-lint.rules.{rule.code}]\n{option.name} = {value}\n",
                )
                for value in values
            ]
    return configurations


def test_no_configuration_loads_code(tmp_path: Path) -> None:
    """Each configuration is rejected or used; either way no module of the project is
    imported (the sentinels, and `sys.modules`, tell). A small project: ~130 runs."""
    sentinels = tmp_path / "sentinels"
    sentinels.mkdir()
    root = tmp_path / "project"
    (root / "lib").mkdir(parents=True)
    (root / "evil.py").write_text(tripwire(sentinels, "evil.py") + "def block():\n    pass\n")
    (root / "lib" / "evil.py").write_text(tripwire(sentinels, "lib-evil.py"))
    (root / "app.py").write_text(
        tripwire(sentinels, "app.py")
        + "import evil\nfrom fastapi import APIRouter, FastAPI\n"
        + "app = FastAPI()\nrouter = evil.Router()\napp.include_router(router)\n"
        + '@app.get("/")\nasync def home():\n    evil.block()\n'
    )
    before = set(sys.modules)
    accepted = set()
    for label, text in _configurations():
        (root / "pyproject.toml").write_text(text, encoding="utf-8")
        try:
            settings = load_settings(
                None, Selection(select=("ALL",)), cwd=root, preview=True, paths=[root]
            )
        except ConfigError:
            continue
        accepted.add(label.split(" = ")[0])
        run = lint_paths([root], settings, jobs=1)
        assert run.files_checked >= 1, label
        route_table([root], settings)
        assert sorted(p.name for p in sentinels.iterdir()) == [], label
    # The options that name modules or paths were valid in some run, which used them.
    assert {
        "src",
        "router-classes",
        "FAPI201.extend-blocking-calls",
        "per-file-ignores",
        "baseline",
        "cache-dir",
    } <= accepted
    imported = {name for name in set(sys.modules) - before if _is_under(sys.modules[name], root)}
    assert imported == set()


def _is_under(module: object, root: Path) -> bool:
    file = getattr(module, "__file__", None)
    return file is not None and Path(file).resolve().is_relative_to(root.resolve())


def test_a_python_file_given_as_configuration_is_read_as_toml_not_run(trap, run_cli) -> None:
    root, sentinels = trap
    result = run_cli("check", "--config", "evil.py", ".", cwd=root)
    assert result.exit_code == 2
    assert "invalid TOML" in result.stderr
    assert sorted(p.name for p in sentinels.iterdir()) == []

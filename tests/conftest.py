from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fastapi_lint.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"
# A project whose included router repeats a route of the app (FAPI104 in items.py): the
# editor server and stdin tests change one module and watch the other's findings.
DUPLICATED_MAIN = """\
from fastapi import FastAPI

from app import items

app = FastAPI()


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict:
    return {}


app.include_router(items.router)
"""
DUPLICATED_ITEMS = """\
from fastapi import APIRouter

router = APIRouter()


@router.get("/items/{item_id}")
async def read_item_again(item_id: int) -> dict:
    return {}
"""
# Environment variables that change what the CLI does; tests start without them.
TOOL_ENVIRONMENT = (
    "FASTAPI_LINT_OUTPUT_FORMAT",
    "FASTAPI_LINT_OUTPUT_FILE",
    "FASTAPI_LINT_CACHE_DIR",
)


def project(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (relative path -> text) under `root` and return `root`."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """Run the test in its own directory, without the tool's environment variables."""
    monkeypatch.chdir(tmp_path)
    for name in TOOL_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


class Run:
    """The result of one `fastapi-lint` invocation through Click's runner."""

    def __init__(self, exit_code: int, stdout: str, stderr: str) -> None:
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr

    @property
    def diagnostics(self) -> list[dict]:
        return json.loads(self.stdout)


@pytest.fixture
def run_cli(monkeypatch):
    """Run the CLI in-process, from a chosen working directory, and return a `Run`."""

    def run(*args: str, cwd: Path | None = None) -> Run:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        result = CliRunner().invoke(cli, list(args), prog_name="fastapi-lint")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Run(result.exit_code, result.stdout, result.stderr)

    return run

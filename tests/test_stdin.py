"""`fastapi-lint check --stdin-filename PATH -`, through the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DUPLICATED_ITEMS, DUPLICATED_MAIN, TOOL_ENVIRONMENT, project

ROUTE = """\
import time

from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict:
    time.sleep(1)
    if item_id < 0:
        return HTTPException(status_code=404)
    return {}
"""
CONFIG = """\
[tool.fastapi-lint]
extend-exclude = ["generated"]

[tool.fastapi-lint.per-file-ignores]
"legacy/*" = ["FAPI201"]
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return project(tmp_path, {"pyproject.toml": CONFIG})


def run(cwd: Path, source: str | bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    environment = {k: v for k, v in os.environ.items() if k not in TOOL_ENVIRONMENT}
    data = source.encode() if isinstance(source, str) else source
    return subprocess.run(
        [sys.executable, "-m", "fastapi_lint", "check", "--no-cache", *args],
        input=data,
        capture_output=True,
        cwd=cwd,
        env=environment,
        timeout=120,
        check=False,
    )


def reported(result: subprocess.CompletedProcess[bytes]) -> list[tuple[str, int, str]]:
    return sorted(
        (Path(d["filename"]).name, d["location"]["row"], d["code"])
        for d in json.loads(result.stdout)
    )


def test_source_checked_as_the_named_file(root: Path):
    result = run(root, ROUTE, "--output-format", "json", "--stdin-filename", "app/main.py", "-")
    assert result.returncode == 1
    assert reported(result) == [("main.py", 10, "FAPI201"), ("main.py", 12, "FAPI105")]
    (first, _) = json.loads(result.stdout)
    assert first["filename"] == str(root / "app" / "main.py")


def test_filename_alone_reads_stdin(root: Path):
    result = run(root, ROUTE, "--output-format", "concise", "--stdin-filename", "app/main.py")
    assert result.returncode == 1
    assert b"app/main.py:12:9: FAPI105" in result.stdout


def test_per_file_ignores_follow_the_filename(root: Path):
    args = ("--output-format", "json", "--stdin-filename", "legacy/old.py", "-")
    assert [code for _, _, code in reported(run(root, ROUTE, *args))] == ["FAPI105"]


def test_configuration_found_from_a_filename_outside_the_current_directory(tmp_path: Path):
    """As for a path named on the command line: run elsewhere, the file's project counts."""
    service = project(tmp_path / "service", {"pyproject.toml": CONFIG})
    elsewhere = project(tmp_path / "elsewhere", {"pyproject.toml": '[project]\nname = "x"\n'})
    filename = str(service / "legacy" / "old.py")
    args = ("--output-format", "json", "--stdin-filename", filename, "-")
    assert [code for _, _, code in reported(run(elsewhere, ROUTE, *args))] == ["FAPI105"]


def test_fix_writes_the_fixed_source_to_stdout(root: Path):
    result = run(root, ROUTE, "--fix", "--stdin-filename", "app/main.py", "-")
    assert result.returncode == 1  # FAPI201 remains (its fix is unsafe)
    assert result.stdout.decode() == ROUTE.replace("return HTTPException", "raise HTTPException")
    assert b"FAPI201" in result.stderr
    assert not (root / "app" / "main.py").exists()  # nothing written


def test_fix_only_with_nothing_to_fix_echoes_the_source(root: Path):
    clean = ROUTE.replace("return HTTPException", "raise HTTPException")
    result = run(root, clean, "--fix-only", "--stdin-filename", "app/main.py", "-")
    assert (result.returncode, result.stdout.decode()) == (0, clean)


def test_excluded_file_is_echoed_unchanged(root: Path):
    result = run(root, ROUTE, "--fix", "--stdin-filename", "generated/api.py", "-")
    assert (result.returncode, result.stdout.decode()) == (0, ROUTE)
    plain = run(root, ROUTE, "--output-format", "json", "--stdin-filename", "generated/api.py")
    assert (plain.returncode, json.loads(plain.stdout)) == (0, [])


def test_unparsable_source_is_echoed_unchanged(root: Path):
    broken = ROUTE.replace("async def read_item(", "async def read_item((")
    result = run(root, broken, "--fix", "--stdin-filename", "app/main.py", "-")
    assert result.stdout.decode() == broken
    assert result.returncode == 1
    assert b"FAPI001" in result.stderr


def test_encoding_and_bytes_kept(root: Path):
    source = b"# -*- coding: latin-1 -*-\n" + ROUTE.replace("404", "404)  # caf\xe9 (").encode(
        "latin-1"
    )
    result = run(root, source, "--fix", "--stdin-filename", "app/main.py", "-")
    assert result.stdout == source.replace(b"return HTTPException", b"raise HTTPException")


def test_diff_shows_the_fix(root: Path):
    result = run(root, ROUTE, "--diff", "--stdin-filename", "app/main.py", "-")
    assert result.returncode == 1
    assert b"-        return HTTPException(status_code=404)" in result.stdout
    assert b"+        raise HTTPException(status_code=404)" in result.stdout


def test_project_index_sees_the_source_not_the_disk(tmp_path: Path):
    root = project(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "demo"\n',
            "app/__init__.py": "",
            "app/main.py": DUPLICATED_MAIN,
            "app/items.py": DUPLICATED_ITEMS,
        },
    )
    args = ("--output-format", "json", "--stdin-filename", "app/items.py", "-")
    assert [code for _, _, code in reported(run(root, DUPLICATED_ITEMS, *args))] == ["FAPI104"]
    moved = DUPLICATED_ITEMS.replace("/items/", "/products/")
    assert reported(run(root, moved, *args)) == []


def test_stdin_with_other_paths_is_an_error(root: Path):
    result = run(root, ROUTE, "--stdin-filename", "app/main.py", "app")
    assert result.returncode == 2
    assert b"`--stdin-filename` takes no paths but `-`" in result.stderr

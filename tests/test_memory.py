"""What checking a file leaves behind in memory."""

from __future__ import annotations

import gc

import pytest

from fastapi_lint.api import build_project, lint_paths
from fastapi_lint.config import load_settings
from fastapi_lint.engine import Engine
from fastapi_lint.semantic import FileModel

from .conftest import FIXTURES


def test_no_model_outlives_its_check_without_the_collector(tmp_path):
    """The analyses rules share on a file refer back to its model. Kept once the rules have
    run, that cycle would hold the model and its whole tree until the collector runs: in a
    worker, the tree of each file it checked."""
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.fastapi-lint]\nselect = ["ALL"]\npreview = true\n')
    settings = load_settings(config, cwd=tmp_path)
    files = sorted(FIXTURES.glob("FAPI*.py"))
    engine = Engine(settings.rules, build_project(files, settings, None), settings.ignored_codes)
    gc.collect()
    before = _models()  # other tests may keep some alive
    gc.disable()
    try:
        found = sum(len(engine.check_file(path).diagnostics) for path in files)
        after = _models()
    finally:
        gc.enable()
    assert found > 100  # the rules did run
    assert after == before


def _models() -> int:
    return sum(isinstance(thing, FileModel) for thing in gc.get_objects())


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_run_leaves_the_collector_on_and_nothing_frozen(tmp_path, jobs):
    """A run pauses the collector and freezes what its index and screen made (see
    `fastapi_lint.memory`); a program that lints in process gets the collector back as it
    was, with nothing kept out of its reach."""
    for number in range(20):  # enough files for workers
        (tmp_path / f"m{number}.py").write_text(
            f'import time\nfrom fastapi import FastAPI\napp = FastAPI()\n@app.get("/{number}")\n'
            "async def read():\n    time.sleep(1)\n"
        )
    settings = load_settings(None, cwd=tmp_path, paths=[tmp_path])
    run = lint_paths([tmp_path], settings, jobs=jobs)
    assert run.workers == jobs
    assert run.diagnostics  # the files were checked, not all screened out
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0

"""The Pydantic rules (FAPI501-FAPI505) together: the project's Pydantic version (declared
or configured), silence in v1 code, the cache, and fixed v1 code running under Pydantic 2
without a deprecation warning."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fastapi_lint.config import ConfigError, load_settings
from fastapi_lint.pydantic_version import declared_pydantic_major

from .conftest import project

pytestmark = pytest.mark.usefixtures("isolated")
CODES = "FAPI501,FAPI502,FAPI503,FAPI504,FAPI505"
SELECT = ("--preview", "--select", CODES)  # FAPI502-FAPI505 are preview rules for now

# Trips each of FAPI501-FAPI505 once.
V1_CODE = """\
from pydantic import BaseModel, Field, validator


class Item(BaseModel):
    name: str = Field(regex="^[a-z]+$")

    class Config:
        orm_mode = True

    @validator("name", pre=True)
    def strip(cls, value):
        return value.strip()


def dump(item: Item) -> dict:
    return item.dict()
"""

# A module written for Pydantic 1 that runs under Pydantic 2 with deprecation warnings.
LEGACY_APP = """\
from typing import List, Optional

from fastapi import FastAPI, Query
from pydantic import BaseModel, Field, parse_obj_as, root_validator, validator
from pydantic.error_wrappers import ValidationError

app = FastAPI()


class Tag(BaseModel):
    name: str = Field(regex="^[a-z]+$")


class Item(BaseModel):
    id: int = Field(allow_mutation=False)
    name: str
    tags: List[Tag] = Field(default_factory=list, max_items=5)
    parent: Optional["Item"] = None

    class Config:
        orm_mode = True

    @validator("name", pre=True)
    def strip(cls, value):
        return value.strip()

    @validator("tags")
    def check_tags(cls, tags, values):
        if values.get("name") == "untagged" and tags:
            raise ValueError("untagged items have no tags")
        return tags


class Signup(BaseModel):
    email: str
    name: str

    @root_validator(pre=True)
    def default_name(cls, values):
        values.setdefault("name", values.get("email", "").split("@")[0])
        return values


Item.update_forward_refs()


class Row:
    id = 1
    name = " row "
    tags: list = []
    parent = None


@app.get("/items")
async def search(q: str = Query("", regex="^[a-z]*$")) -> list:
    return [q]


def exercise() -> dict:
    item = Item.parse_obj({"id": 1, "name": " a ", "tags": [{"name": "x"}]})
    copied = item.copy(update={"name": "b"})
    try:
        Item.parse_obj({"id": "not a number"})
    except ValidationError:
        failed = True
    return {
        "data": item.dict(exclude_none=True),
        "text": copied.json(),
        "row": Item.from_orm(Row()),
        "built": Item.construct(id=2, name="c"),
        "schema": Item.schema(),
        "schema_text": Item.schema_json(),
        "fields": list(Item.__fields__),
        "fields_set": sorted(item.__fields_set__),
        "tags": parse_obj_as(List[Tag], [{"name": "y"}]),
        "failed": failed,
        "signup": Signup(email="ada@example.com"),
    }


RESULT = exercise()
"""


def _codes(run_cli, root: Path, *args: str) -> list[str]:
    run = run_cli("check", "--no-cache", *SELECT, "--output-format", "json", *args, cwd=root)
    assert run.exit_code in (0, 1), run.stderr
    return sorted(d["code"] for d in run.diagnostics)


# --- the declared version ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"requirements.txt": "fastapi\npydantic<2\n"}, (1, "requirements.txt")),
        ({"requirements-dev.txt": "pydantic[email]==1.10.13 \\\n"}, (1, "requirements-dev.txt")),
        ({"requirements.txt": "pydantic>=1.8,<2.0  # v1 only\n"}, (1, "requirements.txt")),
        ({"requirements.txt": "pydantic~=1.10\n"}, (1, "requirements.txt")),
        ({"requirements.txt": "pydantic==1.*; python_version > '3.7'\n"}, (1, "requirements.txt")),
        ({"requirements.txt": "fastapi==0.95.2\n"}, (1, "requirements.txt")),
        ({"requirements.txt": "pydantic>=2.5\n"}, (2, "requirements.txt")),
        ({"requirements.txt": "pydantic>=2.0b1\n"}, (2, "requirements.txt")),
        ({"requirements.txt": "pydantic\nfastapi>=0.100\n"}, (None, None)),
        ({"requirements.txt": "pydantic-settings<2\n"}, (None, None)),
        ({"requirements.txt": "pydantic>=1.8\n"}, (None, None)),
        (
            {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["pydantic<2"]\n'},
            (1, "pyproject.toml"),
        ),
        (
            {"pyproject.toml": '[tool.poetry.dependencies]\npydantic = "^1.10"\n'},
            (1, "pyproject.toml"),
        ),
        (
            {
                "pyproject.toml": "[tool.poetry.dependencies]\n"
                'pydantic = {version = "~1.10", extras = ["email"]}\n'
            },
            (1, "pyproject.toml"),
        ),
        (
            {"pyproject.toml": '[tool.poetry.dependencies]\npydantic = "^1.10 || ^2.0"\n'},
            (None, None),
        ),
        (
            {"poetry.lock": '[[package]]\nname = "pydantic"\nversion = "1.10.13"\n'},
            (1, "poetry.lock"),
        ),
        (
            {"uv.lock": '[[package]]\nname = "pydantic"\nversion = "2.7.1"\nsource = {}\n'},
            (2, "uv.lock"),
        ),
        (
            {"Pipfile.lock": json.dumps({"default": {"pydantic": {"version": "==1.10.2"}}})},
            (1, "Pipfile.lock"),
        ),
        (  # the declaration wins over the lock
            {
                "requirements.txt": "pydantic>=2\n",
                "poetry.lock": '[[package]]\nname = "pydantic"\nversion = "1.10.13"\n',
            },
            (2, "requirements.txt"),
        ),
        ({"pyproject.toml": "not toml ["}, (None, None)),
    ],
)
def test_declared_pydantic_major(tmp_path, files, expected):
    project(tmp_path, files)
    major, path = declared_pydantic_major(tmp_path)
    assert (major, path.name if path else None) == expected


def test_the_option_overrides_the_declaration(tmp_path):
    project(tmp_path, {"requirements.txt": "pydantic<2\n"})
    detected = load_settings(None, cwd=tmp_path)
    assert detected.pydantic_version == 1
    assert detected.sources["pydantic-version"] == str(tmp_path / "requirements.txt")
    (tmp_path / "pyproject.toml").write_text("[tool.fastapi-lint]\npydantic-version = 2\n")
    configured = load_settings(None, cwd=tmp_path)
    assert configured.pydantic_version == 2
    assert configured.sources["pydantic-version"] == str(tmp_path / "pyproject.toml")


@pytest.mark.parametrize("value", ["3", '"2"', "true", "1.5", "[1]"])
def test_the_option_must_be_1_or_2(tmp_path, value):
    (tmp_path / "pyproject.toml").write_text(f"[tool.fastapi-lint]\npydantic-version = {value}\n")
    with pytest.raises(ConfigError, match="`pydantic-version` must be 1 or 2"):
        load_settings(None, cwd=tmp_path)


def test_config_command_shows_where_the_version_comes_from(run_cli, tmp_path):
    project(tmp_path, {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["pydantic<2"]\n'})
    run = run_cli("config", cwd=tmp_path)
    assert f"pydantic-version = 1  # {tmp_path / 'pyproject.toml'}" in run.stdout.splitlines()


# --- silence in v1 code -----------------------------------------------------------------------


def test_each_rule_fires_on_v1_code_in_a_project_of_unknown_version(run_cli, tmp_path):
    project(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n', "app.py": V1_CODE})
    assert _codes(run_cli, tmp_path) == ["FAPI501", "FAPI502", "FAPI503", "FAPI504", "FAPI505"]


@pytest.mark.parametrize(
    "files",
    [
        {"requirements.txt": "pydantic==1.10.13\n"},
        {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["fastapi<0.100"]\n'},
        {"pyproject.toml": "[tool.fastapi-lint]\npydantic-version = 1\n"},
    ],
)
def test_a_project_on_pydantic_1_is_not_flagged(run_cli, tmp_path, files):
    project(tmp_path, {**files, "app.py": V1_CODE})
    assert _codes(run_cli, tmp_path) == []


def test_the_option_2_flags_a_project_that_declares_pydantic_1(run_cli, tmp_path):
    project(tmp_path, {"requirements.txt": "pydantic<2\n", "app.py": V1_CODE})
    config = project(tmp_path / "conf", {"lint.toml": "pydantic-version = 2\n"}) / "lint.toml"
    assert len(_codes(run_cli, tmp_path, "--config", str(config))) == 5


def test_a_file_importing_pydantic_v1_is_not_flagged(run_cli, tmp_path):
    legacy = V1_CODE.replace(
        "from pydantic import", "from pydantic.v1 import Json\nfrom pydantic import"
    )
    project(tmp_path, {"pyproject.toml": "[tool.fastapi-lint]\npydantic-version = 2\n"})
    project(tmp_path, {"legacy.py": legacy, "modern.py": V1_CODE})
    run = run_cli("check", "--no-cache", *SELECT, "--output-format", "json", cwd=tmp_path)
    assert {Path(d["filename"]).name for d in run.diagnostics} == {"modern.py"}


def test_the_declared_version_is_part_of_the_cache_key(run_cli, tmp_path):
    project(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n', "app.py": V1_CODE})

    def codes() -> list[str]:
        run = run_cli("check", *SELECT, "--output-format", "json", cwd=tmp_path)
        return [d["code"] for d in run.diagnostics]

    assert len(codes()) == 5
    (tmp_path / "requirements.txt").write_text("pydantic<2\n")
    assert codes() == []
    (tmp_path / "requirements.txt").write_text("pydantic>=2\n")
    assert len(codes()) == 5


# --- fixed code under Pydantic 2 ----------------------------------------------------------------

_IMPORT_WITH_WARNINGS_AS_ERRORS = textwrap.dedent(
    """
    import sys
    import warnings

    import fastapi  # the libraries' own import-time warnings are not the module's
    import pydantic

    sys.path.insert(0, sys.argv[1])
    warnings.simplefilter("error")
    import app

    print(app.RESULT["signup"], app.RESULT["row"])
    """
)


def _import_under_pydantic_2(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _IMPORT_WITH_WARNINGS_AS_ERRORS, str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_fixed_v1_module_runs_under_pydantic_2_without_a_deprecation_warning(run_cli, tmp_path):
    pytest.importorskip("pydantic", minversion="2")
    project(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n', "app.py": LEGACY_APP})
    before = _import_under_pydantic_2(tmp_path)
    assert before.returncode != 0
    assert "PydanticDeprecatedSince20" in before.stderr

    fix = ("check", "--no-cache", *SELECT, "--fix", "--unsafe-fixes")
    first = run_cli(*fix, cwd=tmp_path)
    assert first.exit_code == 0, first.stdout
    assert "remaining" in first.stdout and ", 0 remaining)" in first.stdout
    fixed = (tmp_path / "app.py").read_text()
    compile(fixed, "app.py", "exec")

    after = _import_under_pydantic_2(tmp_path)
    assert after.returncode == 0, after.stderr
    assert "email='ada@example.com' name='ada'" in after.stdout

    second = run_cli(*fix, cwd=tmp_path)
    assert "fixed" not in second.stdout
    assert (tmp_path / "app.py").read_text() == fixed

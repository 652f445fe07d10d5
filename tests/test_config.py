"""Configuration: discovery of `[tool.fastapi-lint]`, `--config`, every key, and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import project

# Triggers FAPI101, FAPI102 and FAPI401 at row 3.
ROUTE = (
    'from fastapi import FastAPI\napp = FastAPI()\n@app.post("/x")\n'
    "async def add(x: int):\n    return x\n"
)
# Triggers FAPI102 (returns nothing: 204) at row 3.
DELETE_ROUTE = (
    'from fastapi import FastAPI\napp = FastAPI()\n@app.delete("/x")\n'
    "async def remove(x: int):\n    print(x)\n"
)
ALL_ROUTE_CODES = ["FAPI101", "FAPI102", "FAPI401"]
# The three are off by default: the tests that need ROUTE's findings turn them on.
CHECKLIST = ("--extend-select", "FAPI101,FAPI102,FAPI401")


pytestmark = pytest.mark.usefixtures("isolated")


def lint(run_cli, *args: str, cwd: Path) -> list[tuple[str, str]]:
    """(path relative to cwd, code) of every diagnostic; asserts a normal run."""
    run = run_cli("check", *args, "--output-format", "json", cwd=cwd)
    assert run.exit_code in (0, 1), run.stderr
    assert run.stderr == ""
    base = cwd.resolve()
    return [
        (Path(d["filename"]).resolve().relative_to(base).as_posix(), d["code"])
        for d in run.diagnostics
    ]


def codes(run_cli, *args: str, cwd: Path) -> list[str]:
    return [code for _, code in lint(run_cli, *args, cwd=cwd)]


def config(body: str) -> str:
    return "[tool.fastapi-lint]\n" + body


# --- finding the configuration --------------------------------------------------------------


def test_nearest_pyproject_above_the_working_directory(run_cli, tmp_path):
    project(
        tmp_path,
        {"pyproject.toml": config('select = ["FAPI101"]\n'), "pkg/sub/a.py": ROUTE},
    )
    assert codes(run_cli, cwd=tmp_path / "pkg" / "sub") == ["FAPI101"]
    assert codes(run_cli, cwd=tmp_path) == ["FAPI101"]


def test_nearest_section_wins_over_one_further_up(run_cli, tmp_path):
    project(
        tmp_path,
        {
            "pyproject.toml": config('select = ["FAPI101"]\n'),
            "pkg/pyproject.toml": config('select = ["FAPI401"]\n'),
            "pkg/a.py": ROUTE,
        },
    )
    assert codes(run_cli, cwd=tmp_path / "pkg") == ["FAPI401"]


def test_pyproject_without_the_section_is_skipped(run_cli, tmp_path):
    project(
        tmp_path,
        {
            "pyproject.toml": config('select = ["FAPI101"]\n'),
            "pkg/pyproject.toml": '[project]\nname = "pkg"\n\n[tool.ruff]\nline-length = 88\n',
            "pkg/a.py": ROUTE,
        },
    )
    assert codes(run_cli, cwd=tmp_path / "pkg") == ["FAPI101"]


def test_no_configuration_means_the_defaults(run_cli, tmp_path):
    project(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n', "a.py": ROUTE})
    assert codes(run_cli, cwd=tmp_path) == []  # FAPI101, FAPI102 and FAPI401 are off by default


def test_config_flag_with_a_pyproject(run_cli, tmp_path):
    project(
        tmp_path,
        {
            "pyproject.toml": config('select = ["FAPI101"]\n'),  # discovered, but overridden
            "elsewhere/pyproject.toml": config('select = ["FAPI102"]\n'),
            "a.py": ROUTE,
        },
    )
    assert codes(run_cli, "--config", "elsewhere/pyproject.toml", cwd=tmp_path) == ["FAPI102"]


def test_config_flag_with_a_plain_toml_file(run_cli, tmp_path):
    project(
        tmp_path,
        {
            "lint.toml": 'select = ["FAPI1"]\nignore = ["FAPI101"]\n',
            "a.py": ROUTE,
            "b.py": DELETE_ROUTE,
        },
    )
    assert lint(run_cli, "--config", "lint.toml", cwd=tmp_path) == [
        ("a.py", "FAPI102"),
        ("b.py", "FAPI102"),
    ]
    (tmp_path / "lint.toml").write_text('[rules.FAPI102]\ncreate-words = ["enroll"]\n')
    assert ("a.py", "FAPI102") not in lint(run_cli, "--config", "lint.toml", cwd=tmp_path)


# --- each key -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('select = ["FAPI1"]\n', ["FAPI101", "FAPI102"]),
        ('select = ["FAPI101", "FAPI401"]\n', ["FAPI101", "FAPI401"]),
        ('extend-select = ["FAPI1", "FAPI4"]\n', ALL_ROUTE_CODES),
        ('extend-select = ["FAPI1", "FAPI4"]\nignore = ["FAPI401"]\n', ["FAPI101", "FAPI102"]),
        ('select = ["FAPI101"]\nextend-select = ["FAPI401"]\n', ["FAPI101", "FAPI401"]),
        ('ignore = ["FAPI1"]\nextend-select = ["FAPI102"]\n', ["FAPI102"]),
        ('select = ["FAPI101"]\nignore = ["FAPI1"]\n', ["FAPI101"]),  # the more specific wins
        ("select = []\n", []),
    ],
)
def test_selection_keys(run_cli, tmp_path, body, expected):
    project(tmp_path, {"pyproject.toml": config(body), "a.py": ROUTE})
    assert codes(run_cli, cwd=tmp_path) == expected


def test_cli_select_replaces_the_configured_selection(run_cli, tmp_path):
    project(
        tmp_path,
        {"pyproject.toml": config('select = ["FAPI101"]\nignore = ["FAPI4"]\n'), "a.py": ROUTE},
    )
    assert codes(run_cli, "--select", "FAPI401", cwd=tmp_path) == ["FAPI401"]
    assert codes(run_cli, "--extend-select", "FAPI102", cwd=tmp_path) == ["FAPI101", "FAPI102"]
    assert codes(run_cli, "--ignore", "FAPI101", cwd=tmp_path) == []


def test_default_excludes_skip_venv(run_cli, tmp_path):
    project(tmp_path, {"a.py": ROUTE, "venv/lib/v.py": ROUTE, "generated/g.py": ROUTE})
    assert {path for path, _ in lint(run_cli, *CHECKLIST, cwd=tmp_path)} == {
        "a.py",
        "generated/g.py",
    }


def test_exclude_replaces_the_default_excludes(run_cli, tmp_path):
    project(
        tmp_path,
        {
            "pyproject.toml": config('exclude = ["generated"]\n'),
            "a.py": ROUTE,
            "venv/lib/v.py": ROUTE,
            "generated/g.py": ROUTE,
        },
    )
    assert {path for path, _ in lint(run_cli, *CHECKLIST, cwd=tmp_path)} == {
        "a.py",
        "venv/lib/v.py",
    }


def test_empty_exclude_lints_venv(run_cli, tmp_path):
    project(tmp_path, {"pyproject.toml": config("exclude = []\n"), "venv/v.py": ROUTE})
    assert {path for path, _ in lint(run_cli, *CHECKLIST, cwd=tmp_path)} == {"venv/v.py"}


def test_extend_exclude_keeps_the_default_excludes(run_cli, tmp_path):
    project(
        tmp_path,
        {
            "pyproject.toml": config('extend-exclude = ["generated", "legacy/*.py"]\n'),
            "a.py": ROUTE,
            "legacy/old.py": ROUTE,
            "venv/lib/v.py": ROUTE,
            "generated/g.py": ROUTE,
        },
    )
    assert {path for path, _ in lint(run_cli, *CHECKLIST, cwd=tmp_path)} == {"a.py"}


def test_per_file_ignores(run_cli, tmp_path):
    table = (
        "[tool.fastapi-lint.per-file-ignores]\n"
        '"app/api/*.py" = ["FAPI401"]\n'  # relative to the configuration's directory
        '"models.py" = ["FAPI102"]\n'  # a basename: at any depth
        '"tests/**" = ["FAPI1"]\n'  # directly inside tests/ too
    )
    project(
        tmp_path,
        {
            "pyproject.toml": table,
            "app/api/users.py": ROUTE,
            "app/main.py": ROUTE,
            "app/deep/models.py": ROUTE,
            "tests/test_top.py": ROUTE,
            "tests/unit/test_deep.py": ROUTE,
        },
    )
    found = lint(run_cli, *CHECKLIST, cwd=tmp_path)
    assert found == [
        ("app/api/users.py", "FAPI101"),
        ("app/api/users.py", "FAPI102"),
        ("app/deep/models.py", "FAPI101"),
        ("app/deep/models.py", "FAPI401"),
        ("app/main.py", "FAPI101"),
        ("app/main.py", "FAPI102"),
        ("app/main.py", "FAPI401"),
        ("tests/test_top.py", "FAPI401"),
        ("tests/unit/test_deep.py", "FAPI401"),
    ]
    # From a subdirectory the globs stay relative to the configuration, not to the cwd.
    from_app = lint(run_cli, *CHECKLIST, ".", cwd=tmp_path / "app")
    assert ("api/users.py", "FAPI401") not in from_app
    assert ("main.py", "FAPI401") in from_app


def test_per_file_ignores_with_a_config_flag_are_relative_to_that_file(run_cli, tmp_path):
    project(
        tmp_path,
        {
            "conf/lint.toml": '[per-file-ignores]\n"app/*.py" = ["FAPI1"]\n',
            "conf/app/a.py": ROUTE,
            "app/a.py": ROUTE,  # `app/a.py` from the cwd, but not from the configuration
        },
    )
    assert lint(run_cli, *CHECKLIST, "--config", "conf/lint.toml", cwd=tmp_path) == [
        ("app/a.py", "FAPI101"),
        ("app/a.py", "FAPI102"),
        ("app/a.py", "FAPI401"),
        ("conf/app/a.py", "FAPI401"),
    ]


def test_per_file_ignores_and_excludes_through_dot_dot_paths(run_cli, tmp_path):
    project(
        tmp_path,
        {
            "pyproject.toml": config(
                'extend-exclude = ["app/skip.py"]\n'
                '[tool.fastapi-lint.per-file-ignores]\n"app/a.py" = ["FAPI1"]\n'
            ),
            "app/a.py": ROUTE,
            "app/skip.py": ROUTE,
        },
    )
    run = run_cli("check", *CHECKLIST, "../app", "--output-format", "json", cwd=tmp_path / "app")
    assert [(Path(d["filename"]).name, d["code"]) for d in run.diagnostics] == [("a.py", "FAPI401")]
    assert ".." not in run.diagnostics[0]["filename"]


def test_per_file_ignores_and_excludes_through_a_symlinked_project(run_cli, tmp_path):
    project(
        tmp_path / "real",
        {
            "pyproject.toml": config(
                'extend-exclude = ["app/skip.py"]\n'
                '[tool.fastapi-lint.per-file-ignores]\n"app/*.py" = ["FAPI1"]\n'
            ),
            "app/a.py": ROUTE,
            "app/skip.py": ROUTE,
        },
    )
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "elsewhere").mkdir()
    link = tmp_path / "link"
    run = run_cli(
        "check",
        *CHECKLIST,
        str(link / "app"),
        "--config",
        str(link / "pyproject.toml"),
        "--output-format",
        "json",
        cwd=tmp_path / "elsewhere",
    )
    assert run.exit_code == 1
    assert [(d["filename"], d["code"]) for d in run.diagnostics] == [
        (str(link / "app" / "a.py"), "FAPI401")
    ]


def test_rule_option_create_words(run_cli, tmp_path):
    project(tmp_path, {"post.py": ROUTE, "delete.py": DELETE_ROUTE})
    assert ("post.py", "FAPI102") in lint(run_cli, "--select", "FAPI102", cwd=tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.fastapi-lint.rules.FAPI102]\ncreate-words = ["remove"]\n'
    )
    # `add` is no longer a create word; a DELETE that returns nothing still answers 204.
    assert lint(run_cli, "--select", "FAPI102", cwd=tmp_path) == [("delete.py", "FAPI102")]


def test_rule_option_extend_blocking_calls(run_cli, tmp_path):
    source = (
        "import mylib\nfrom mylib import fetch\n\nasync def f():\n    mylib.fetch()\n    fetch()\n"
    )
    project(tmp_path, {"client.py": source})
    assert codes(run_cli, cwd=tmp_path) == []
    (tmp_path / "pyproject.toml").write_text(
        "[tool.fastapi-lint.rules.FAPI201]\n"
        'scope = "all"\nextend-blocking-calls = ["mylib.fetch"]\n'
    )
    run = run_cli("check", "--output-format", "json", cwd=tmp_path)
    rows = [(d["code"], d["location"]["row"], d["location"]["column"]) for d in run.diagnostics]
    assert rows == [("FAPI201", 5, 5), ("FAPI201", 6, 5)]
    # Options of a rule that is not selected are still read, and do no harm.
    assert codes(run_cli, "--select", "FAPI1", cwd=tmp_path) == []


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        (config("bogus = 1\n"), "unknown key `bogus`"),
        (config('select = ["FAPI999"]\n'), "`FAPI999`"),
        (config('ignore = ["NOPE"]\n'), "`NOPE`"),
        (config('extend-select = ["NOPE"]\n'), "`NOPE`"),
        ('[tool.fastapi-lint.rules.FAPI999]\nmethods = ["POST"]\n', "unknown rule code `FAPI999`"),
        ('[tool.fastapi-lint.rules.FAPI102]\nmethod = ["POST"]\n', "unknown option `method`"),
        ('[tool.fastapi-lint.rules.FAPI102]\nmethods = ["FETCH"]\n', "`FETCH` is not one of"),
        ('[tool.fastapi-lint.rules.FAPI102]\nmethods = "POST"\n', "FAPI102"),
        ('[tool.fastapi-lint.rules.FAPI102]\ncreate-words = "create"\n', "FAPI102"),
        (config("preview = 1\n"), "`preview` must be true or false"),
        ('[tool.fastapi-lint.rules.FAPI201]\nextend-blocking-calls = "x.y"\n', "FAPI201"),
        ("[tool.fastapi-lint.rules]\nFAPI102 = 1\n", "FAPI102 must be a table"),
        (config('select = "FAPI1"\n'), "`select` must be a list of strings"),
        (config("exclude = [1]\n"), "`exclude` must be a list of strings"),
        (config('per-file-ignores = {"a.py" = ["NOPE"]}\n'), "`NOPE`"),
        (config('per-file-ignores = {"a.py" = "FAPI1"}\n'), "`a.py` must map to a list"),
        ("[tool]\nfastapi-lint = 3\n", "must be a table"),
        ("[tool.fastapi-lint\nselect = []\n", "invalid TOML"),
    ],
)
def test_configuration_errors(run_cli, tmp_path, text, mentions):
    project(tmp_path, {"pyproject.toml": text, "a.py": ROUTE})
    run = run_cli("check", cwd=tmp_path)
    assert run.exit_code == 2
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    [line] = run.stderr.splitlines()
    assert line.startswith("fastapi-lint: error: ")
    assert mentions in line
    assert "pyproject.toml" in line


def test_errors_in_a_config_flag_file(run_cli, tmp_path):
    project(tmp_path, {"lint.toml": 'select = ["FAPI1"]\nbogus = true\n', "a.py": ROUTE})
    run = run_cli("check", "--config", "lint.toml", cwd=tmp_path)
    assert run.exit_code == 2
    assert run.stderr.splitlines() == [
        "fastapi-lint: error: lint.toml: unknown key `bogus` in [tool.fastapi-lint]"
    ]


def test_invalid_pyproject_on_the_way_up_is_an_error(run_cli, tmp_path):
    project(tmp_path, {"pyproject.toml": "not toml at all\n", "pkg/a.py": ROUTE})
    run = run_cli("check", cwd=tmp_path / "pkg")
    assert run.exit_code == 2
    assert "invalid TOML" in run.stderr
    assert run.stderr.count("\n") == 1

"""`fastapi-lint config`: the effective configuration, and where each value comes from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fastapi_lint.config import (
    CLI_SOURCE,
    DEFAULT_SOURCE,
    Selection,
    expand_selector,
    load_settings,
)
from fastapi_lint.discovery import DEFAULT_EXCLUDES
from fastapi_lint.rules import ALL_RULES

ALL_CODES = [rule.code for rule in ALL_RULES]
DEFAULT_CODES = [rule.code for rule in ALL_RULES if rule.default_enabled]
# What runs by default: preview rules stay off while preview mode is off.
DEFAULT_ON = [rule.code for rule in ALL_RULES if rule.default_enabled and not rule.preview]
PYPROJECT = """\
[project]
name = "shop"

[tool.fastapi-lint]
select = ["FAPI1", "FAPI4"]
ignore = ["FAPI401"]
extend-exclude = ["migrations"]
per-file-ignores = { "tests/**" = ["FAPI1"] }
fix = true

[tool.fastapi-lint.rules.FAPI102]
create-words = ["Create", "enroll"]
"""


@pytest.fixture(autouse=True)
def _in_tmp_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "src").mkdir()
    return tmp_path


def as_json(run) -> dict:
    assert run.exit_code == 0, run.stderr
    return json.loads(run.stdout)


def test_default_configuration_and_its_sources(run_cli, tmp_path: Path) -> None:
    run = run_cli("config", cwd=tmp_path)
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("config-file = none  # default")
    assert f'root = "{tmp_path}"  # default' in lines
    assert f"select = {json.dumps(DEFAULT_CODES)}  # default" in lines
    assert "ignore = []  # default" in lines
    assert "extend-select = []  # default" in lines
    assert f"enabled-rules = {json.dumps(DEFAULT_ON)}  # default" in lines
    assert "FAPI101" not in DEFAULT_ON  # FAPI101, FAPI102 and FAPI401 are opt-in
    assert f"exclude = {json.dumps(list(DEFAULT_EXCLUDES))}  # default" in lines
    assert "extend-exclude = []  # default" in lines
    assert "per-file-ignores = {}  # default" in lines
    for key in ("fix", "unsafe-fixes", "force-exclude", "preview"):
        assert f"{key} = false  # default" in lines
    assert "output-format = none  # default" in lines
    assert "baseline = none  # default" in lines
    assert "pydantic-version = none  # default" in lines
    for code in ALL_CODES:
        state = "enabled" if code in DEFAULT_ON else "disabled"
        assert f"[rules.{code}]  # {state}: default" in lines
    assert (
        'create-words = ["create", "add", "register", "new", "insert", "upload", "signup"]'
        "  # default"
    ) in lines
    assert "methods = none  # default" in lines
    assert "extend-blocking-calls = []  # default" in lines


def test_values_from_pyproject_name_the_file(run_cli, project: Path) -> None:
    run = run_cli("config", cwd=project / "src")  # found from a subdirectory
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    path = project / "pyproject.toml"
    assert f'config-file = "{path}"  # default' in lines[0]
    assert f'root = "{project}"  # {path}' in lines
    assert f'select = ["FAPI1", "FAPI4"]  # {path}' in lines
    assert f'ignore = ["FAPI401"]  # {path}' in lines
    assert "extend-select = []  # default" in lines
    # FAPI1 selects the rules of that family; the preview ones stay off (preview is).
    enabled = (
        '["FAPI101", "FAPI102", "FAPI103", "FAPI104", "FAPI105", "FAPI111", "FAPI112", "FAPI402"]'
    )
    assert f"enabled-rules = {enabled}  # default, {path}" in lines
    assert f"exclude = {json.dumps(list(DEFAULT_EXCLUDES))}  # default" in lines
    assert f'extend-exclude = ["migrations"]  # {path}' in lines
    family = json.dumps(sorted(expand_selector("FAPI1")))
    assert f'per-file-ignores = {{ "tests/**" = {family} }}  # {path}' in lines
    assert f"fix = true  # {path}" in lines
    assert "unsafe-fixes = false  # default" in lines
    assert f"[rules.FAPI102]  # enabled: {path}" in lines
    assert f'create-words = ["create", "enroll"]  # {path}' in lines  # as parsed: lower case
    assert f"[rules.FAPI201]  # disabled: {path}" in lines  # not selected
    assert f"[rules.FAPI401]  # disabled: {path}" in lines  # ignored
    assert "extend-blocking-calls = []  # default" in lines


def test_command_line_overrides_show_command_line(run_cli, project: Path) -> None:
    run = run_cli(
        "config",
        "--select",
        "FAPI1,FAPI2",
        "--ignore",
        "FAPI105",
        "--no-fix",
        "--force-exclude",
        cwd=project,
    )
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    path = project / "pyproject.toml"
    assert 'select = ["FAPI1", "FAPI2"]  # command line' in lines
    assert f'ignore = ["FAPI401", "FAPI105"]  # {path}, command line' in lines
    assert (
        'enabled-rules = ["FAPI101", "FAPI102", "FAPI103", "FAPI104", "FAPI111", "FAPI112", '
        '"FAPI201", "FAPI202"]  # default, command line'
    ) in lines
    assert "fix = false  # command line" in lines
    assert "force-exclude = true  # command line" in lines
    assert "unsafe-fixes = false  # default" in lines
    assert "[rules.FAPI201]  # enabled: command line" in lines
    assert "[rules.FAPI105]  # disabled: command line" in lines
    assert "[rules.FAPI401]  # disabled: command line" in lines  # the new select left it out
    assert f'create-words = ["create", "enroll"]  # {path}' in lines


def test_json_output(run_cli, project: Path) -> None:
    data = as_json(run_cli("config", "--output-format", "json", "--extend-select", "FAPI2"))
    path = str(project / "pyproject.toml")
    settings = {key: value for key, value in data.items() if key != "rules"}
    assert list(settings) == [
        "config-file",
        "root",
        "select",
        "ignore",
        "extend-select",
        "enabled-rules",
        "exclude",
        "extend-exclude",
        "per-file-ignores",
        "fix",
        "unsafe-fixes",
        "force-exclude",
        "preview",
        "output-format",
        "baseline",
        "cache-dir",
        "src",
        "router-classes",
        "pydantic-version",
        "max-file-size",
    ]
    assert all(set(entry) == {"value", "source"} for entry in settings.values())
    assert data["config-file"] == {"value": path, "source": DEFAULT_SOURCE}
    assert data["root"] == {"value": str(project), "source": path}
    assert data["select"] == {"value": ["FAPI1", "FAPI4"], "source": path}
    assert data["extend-select"] == {"value": ["FAPI2"], "source": CLI_SOURCE}
    assert data["enabled-rules"] == {
        "value": [
            "FAPI101",
            "FAPI102",
            "FAPI103",
            "FAPI104",
            "FAPI105",
            "FAPI111",
            "FAPI112",
            "FAPI201",
            "FAPI202",
            "FAPI402",
        ],
        "source": f"default, {path}, {CLI_SOURCE}",
    }
    assert data["exclude"] == {"value": list(DEFAULT_EXCLUDES), "source": DEFAULT_SOURCE}
    assert data["per-file-ignores"]["value"] == {"tests/**": sorted(expand_selector("FAPI1"))}
    assert data["fix"] == {"value": True, "source": path}
    assert list(data["rules"]) == ALL_CODES
    assert data["rules"]["FAPI201"] == {
        "enabled": {"value": True, "source": CLI_SOURCE},
        "options": {
            "scope": {"value": "request", "source": DEFAULT_SOURCE},
            "file-io": {"value": False, "source": DEFAULT_SOURCE},
            "extend-blocking-calls": {"value": [], "source": DEFAULT_SOURCE},
        },
    }
    assert data["rules"]["FAPI102"]["options"] == {
        "create-words": {"value": ["create", "enroll"], "source": path},
        "methods": {"value": None, "source": DEFAULT_SOURCE},
    }
    assert data["rules"]["FAPI401"]["enabled"] == {"value": False, "source": path}


def test_config_option_names_the_file_given(run_cli, tmp_path: Path) -> None:
    settings = tmp_path / "conf" / "lint.toml"  # a dedicated file: settings at top level
    settings.parent.mkdir()
    settings.write_text('unsafe-fixes = true\n[rules.FAPI201]\nextend-blocking-calls = ["a.b"]\n')
    data = as_json(run_cli("config", "--config", "conf/lint.toml", "--output-format", "json"))
    given = str(Path("conf/lint.toml"))
    assert data["config-file"] == {"value": given, "source": CLI_SOURCE}
    assert data["root"] == {"value": str(settings.parent), "source": given}
    assert data["unsafe-fixes"] == {"value": True, "source": given}
    assert data["select"] == {"value": DEFAULT_CODES, "source": DEFAULT_SOURCE}
    option = data["rules"]["FAPI201"]["options"]["extend-blocking-calls"]
    assert option == {"value": ["a.b"], "source": given}


@pytest.mark.parametrize(
    ("pyproject", "args", "message"),
    [
        ("[tool.fastapi-lint]\nselect = [", (), "invalid TOML"),
        ('[tool.fastapi-lint]\nfix = "yes"\n', (), "`fix` must be true or false"),
        ("[tool.fastapi-lint]\ncolour = true\n", (), "unknown key `colour`"),
        ("[tool.fastapi-lint.rules.FAPI102]\nmethods = ['GRAB']\n", (), "`GRAB` is not one of"),
        ("[tool.fastapi-lint]\n", ("--select", "NOPE1"), "unknown rule selector `NOPE1`"),
    ],
)
def test_bad_configuration_exits_2_with_one_line(
    run_cli, tmp_path: Path, pyproject: str, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    run = run_cli("config", *args, cwd=tmp_path)
    assert run.exit_code == 2
    assert run.stdout == ""
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert run.stderr.startswith("fastapi-lint: error: ")
    assert message in run.stderr


# --- the source tracking in config.py itself --------------------------------------------------


def test_load_settings_records_each_source(project: Path) -> None:
    path = str(project / "pyproject.toml")
    settings = load_settings(None, Selection(extend_select=("FAPI301",)), cwd=project)
    sources = settings.sources
    assert sources["config-file"] == DEFAULT_SOURCE
    assert sources["select"] == sources["ignore"] == sources["fix"] == path
    assert sources["extend-select"] == CLI_SOURCE
    assert sources["exclude"] == sources["unsafe-fixes"] == DEFAULT_SOURCE
    assert sources["enabled.FAPI101"] == path
    assert sources["enabled.FAPI301"] == CLI_SOURCE
    assert sources["rules.FAPI102.create-words"] == path
    assert sources["rules.FAPI201.extend-blocking-calls"] == DEFAULT_SOURCE
    explicit = load_settings(project / "pyproject.toml", cwd=project)
    assert explicit.sources["config-file"] == CLI_SOURCE


def test_sources_without_a_config_file_are_defaults(tmp_path: Path) -> None:
    settings = load_settings(None, cwd=tmp_path)
    assert settings.config_file is None
    assert set(settings.sources.values()) == {DEFAULT_SOURCE}

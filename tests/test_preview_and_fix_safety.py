"""Preview mode (as ruff's), each rule's fix safety, and deprecated rule options."""

from __future__ import annotations

import json

import pytest

from fastapi_lint.docs import render_page, rules_table
from fastapi_lint.rules import ALL_RULES, RULES_BY_CODE

from .conftest import project

# FAPI401 (no docstring) at row 3, and nothing else: a GET whose handler returns a constant.
UNDOCUMENTED = (
    'from fastapi import FastAPI\napp = FastAPI()\n@app.get("/x")\n'
    "async def read_x() -> int:\n    return 1\n"
)
INERT = "fastapi-lint: warning: Selection `{}` has no effect because preview is not enabled."

pytestmark = pytest.mark.usefixtures("isolated")


@pytest.fixture
def preview_rule(monkeypatch):
    """FAPI401 marked as a preview rule that is on by default, for the test (FAPI401
    itself is off by default), and FAPI402 as a preview rule too, so that `FAPI4` selects
    only preview rules."""
    rule = RULES_BY_CODE["FAPI401"]
    monkeypatch.setattr(rule, "preview", True)
    monkeypatch.setattr(rule, "default_enabled", True)
    monkeypatch.setattr(RULES_BY_CODE["FAPI402"], "preview", True)
    return rule


def codes(run_cli, tmp_path, *args: str) -> tuple[list[str], str, int]:
    project(tmp_path, {"a.py": UNDOCUMENTED})
    run = run_cli("check", "--no-cache", "--output-format", "json", *args, "a.py", cwd=tmp_path)
    return [d["code"] for d in run.diagnostics], run.stderr, run.exit_code


# --- preview mode ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "selection", [(), ("--select", "ALL"), ("--select", "FAPI"), ("--extend-select", "FAPI4")]
)
def test_without_preview_a_preview_rule_never_runs(run_cli, tmp_path, preview_rule, selection):
    found, _, exit_code = codes(run_cli, tmp_path, *selection)
    assert (found, exit_code) == ([], 0)


@pytest.mark.parametrize("selector", ["FAPI401", "fapi4"])
def test_selecting_only_preview_rules_warns_and_changes_nothing(
    run_cli, tmp_path, preview_rule, selector
):
    found, stderr, exit_code = codes(run_cli, tmp_path, "--select", selector)
    assert (found, exit_code) == ([], 0)
    assert INERT.format(selector) in stderr.splitlines()


def test_a_selector_that_also_matches_stable_rules_does_not_warn(run_cli, tmp_path, preview_rule):
    _, stderr, _ = codes(run_cli, tmp_path, "--select", "FAPI")
    assert "has no effect" not in stderr


def test_ignoring_a_preview_rule_does_not_warn(run_cli, tmp_path, preview_rule):
    _, stderr, _ = codes(run_cli, tmp_path, "--ignore", "FAPI401")
    assert "has no effect" not in stderr


@pytest.mark.parametrize(
    "selection", [(), ("--select", "FAPI401"), ("--select", "FAPI4"), ("--select", "ALL")]
)
def test_with_preview_a_preview_rule_is_selected_like_any_other(
    run_cli, tmp_path, preview_rule, selection
):
    found, stderr, exit_code = codes(run_cli, tmp_path, "--preview", *selection)
    assert (found, exit_code) == (["FAPI401"], 1)
    assert "has no effect" not in stderr


def test_preview_from_the_configuration_and_the_flag_that_overrides_it(
    run_cli, tmp_path, preview_rule
):
    (tmp_path / "pyproject.toml").write_text("[tool.fastapi-lint]\npreview = true\n")
    assert codes(run_cli, tmp_path)[0] == ["FAPI401"]
    assert codes(run_cli, tmp_path, "--no-preview")[0] == []


def test_config_file_selection_of_a_preview_rule_warns_too(run_cli, tmp_path, preview_rule):
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-lint]\nselect = ["FAPI401"]\n')
    found, stderr, _ = codes(run_cli, tmp_path)
    assert found == []
    assert INERT.format("FAPI401") in stderr.splitlines()


def test_config_command_shows_preview_and_what_keeps_preview_rules_off(
    run_cli, tmp_path, preview_rule
):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.fastapi-lint]\npreview = false\n")
    lines = run_cli("config", cwd=tmp_path).stdout.splitlines()
    assert f"preview = false  # {pyproject}" in lines
    assert f"[rules.FAPI401]  # disabled: {pyproject}" in lines
    run = run_cli("config", "--preview", "--output-format", "json", cwd=tmp_path)
    data = json.loads(run.stdout)
    assert data["preview"] == {"value": True, "source": "command line"}
    assert data["rules"]["FAPI401"]["enabled"]["value"] is True
    assert "FAPI401" in data["enabled-rules"]["value"]


def test_preview_is_false_by_default(run_cli, tmp_path):
    lines = run_cli("config", cwd=tmp_path).stdout.splitlines()
    assert "preview = false  # default" in lines


def test_rules_command_and_docs_show_preview_rules(run_cli, preview_rule):
    rows = json.loads(run_cli("rules", "--output-format", "json").stdout)
    assert {row["code"]: row["preview"] for row in rows} == {
        rule.code: rule.preview for rule in ALL_RULES
    }
    assert {row["code"] for row in rows if row["preview"]} >= {"FAPI401"}
    text = {line.split()[0]: line.split()[3] for line in run_cli("rules").stdout.splitlines()[1:]}
    assert text["FAPI401"] == "yes" and text["FAPI101"] == "no"
    assert "This rule is in preview" in render_page(preview_rule)
    assert "| [FAPI401](rules/FAPI401.md) | `undocumented-route` | on | yes | no |" in (
        rules_table()
    )


# --- fix safety ---------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_fixable_rules_declare_their_fix_safety(rule):
    assert rule.fixable == (rule.fix_safety is not None)
    assert rule.fix_safety in (None, "safe", "unsafe", "sometimes")


def test_pages_and_table_say_how_safe_the_fix_is():
    assert "Fix: available (unsafe)." in render_page(RULES_BY_CODE["FAPI102"])
    assert "Fix: available (safe)." in render_page(RULES_BY_CODE["FAPI105"])
    assert "Fix: not available." in render_page(RULES_BY_CODE["FAPI101"])
    table = rules_table()
    assert "| `missing-status-code` | off | no | unsafe |" in table
    assert "| `missing-response-model` | off | no | no |" in table


# --- deprecated options ---------------------------------------------------------------------

# A POST that creates (201) and a DELETE that returns nothing (204).
ROUTES = (
    "from fastapi import FastAPI\napp = FastAPI()\n"
    '@app.post("/items")\nasync def create_item(name: str):\n    return {"name": name}\n'
    '@app.delete("/items/{name}")\nasync def delete_item(name: str):\n    print(name)\n'
)


def test_the_deprecated_methods_option_still_filters_and_warns(run_cli, tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.fastapi-lint.rules.FAPI102]\nmethods = ["delete"]\n')
    project(tmp_path, {"a.py": ROUTES})
    run = run_cli("check", "--no-cache", "--select", "FAPI102", "--output-format", "json")
    assert run.exit_code == 1  # the warning does not change the exit code
    assert [d["location"]["row"] for d in run.diagnostics] == [6]  # only the DELETE
    [warning] = [line for line in run.stderr.splitlines() if "deprecated" in line]
    assert warning.startswith(
        f"fastapi-lint: warning: {pyproject}: [tool.fastapi-lint.rules.FAPI102] `methods` is "
        "deprecated and will be removed in the next release: FAPI102 now decides"
    )
    config = run_cli("config")
    assert config.exit_code == 0
    assert warning in config.stderr.splitlines()
    assert 'methods = ["DELETE"]' in config.stdout


def test_without_the_deprecated_option_there_is_no_warning(run_cli, tmp_path):
    project(tmp_path, {"a.py": ROUTES})
    run = run_cli("check", "--no-cache", "--select", "FAPI102", "--output-format", "json")
    assert [d["location"]["row"] for d in run.diagnostics] == [3, 6]
    assert "warning" not in run.stderr

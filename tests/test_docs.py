"""Rule pages: in sync with the rules, complete, and their examples really behave."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fastapi_lint.docs import render_page, rules_table
from fastapi_lint.rules import ALL_RULES

ROOT = Path(__file__).parents[1]
HEADINGS = ("## What it does", "## Why is this bad?", "## Example", "## Fix safety", "## Options")
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _example_and_fix(page: str) -> tuple[str, str]:
    example = page.split("## Example", 1)[1]
    bad, rest = example.split("Use instead:", 1)
    return _BLOCK.search(bad).group(1), _BLOCK.search(rest).group(1)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_page_in_rules_dir_matches_the_rule(rule):
    page = ROOT / "rules" / f"{rule.code}.md"
    assert page.read_text(encoding="utf-8") == render_page(rule), (
        "run `python -m fastapi_lint.docs rules` to regenerate"
    )


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_page_has_every_heading_in_order(rule):
    page = render_page(rule)
    positions = [page.index(heading) for heading in HEADINGS]
    assert positions == sorted(positions)
    assert "Use instead:" in page


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_every_option_is_documented_and_every_documented_option_exists(rule):
    options_section = render_page(rule).split("## Options", 1)[1]
    documented = set(re.findall(r"^- `([\w-]+)`", options_section, re.MULTILINE))
    assert documented == {option.name for option in rule.options}


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_example_triggers_the_rule_and_use_instead_does_not(rule, run_cli, tmp_path):
    bad, good = _example_and_fix(render_page(rule))
    (tmp_path / "example.py").write_text(bad)
    (tmp_path / "use_instead.py").write_text(good)
    # A project (FAPI112 knows a router is never included only when it sees the whole of one).
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "example"\n')
    # Selected on top of the defaults, so that opt-in and preview rules run too.
    select = ("--preview", "--extend-select", rule.code)
    result = run_cli("check", *select, "--output-format", "json", str(tmp_path), cwd=tmp_path)
    reported = {(Path(d["filename"]).name, d["code"]) for d in result.diagnostics}
    assert ("example.py", rule.code) in reported
    assert ("use_instead.py", rule.code) not in reported


def test_readme_rule_table_matches_the_registry():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- rules-table:start -->\n", 1)[1].split("<!-- rules-table:end -->")[0]
    assert table == rules_table()


def test_readme_quick_start_has_exactly_the_two_commands():
    quick_start = (ROOT / "README.md").read_text(encoding="utf-8").split("## Quick start", 1)[1]
    block = quick_start.split("```console\n", 1)[1].split("```", 1)[0]
    assert block.splitlines() == [
        "pip install . && fastapi-lint check examples/",
        "pip install -e '.[test]' && pytest",
    ]

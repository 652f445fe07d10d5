"""Rule fixtures: `tests/fixtures/<CODE>[_variant].py` (or a directory of that name for
cross-module cases) with inline expectations.

A line that must be reported ends with `# error: FAPI101:1` (code and 1-based column;
several separated by spaces). Header lines `# option: key = value` set rule options (TOML).
Every fixture must expect at least one diagnostic, so a rule that stops firing fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fastapi_lint.rules import ALL_RULES, RULES_BY_CODE

from .conftest import FIXTURES

_EXPECTATION = re.compile(r"#\s*error:\s*(?P<items>(?:FAPI\d+:\d+[ \t]*)+)")
_OPTION = re.compile(r"^#\s*option:\s*(?P<toml>.+)$", re.MULTILINE)


def _fixtures() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if re.match(r"FAPI\d{3}(_\w+)?(\.py)?$", p.name))


def _sources(fixture: Path) -> list[Path]:
    return sorted(fixture.rglob("*.py")) if fixture.is_dir() else [fixture]


def _expected(fixture: Path) -> set[tuple[str, int, str, int]]:
    expected = set()
    for source in _sources(fixture):
        for number, line in enumerate(source.read_text().splitlines(), start=1):
            match = _EXPECTATION.search(line)
            if match:
                for item in match.group("items").split():
                    code, column = item.split(":")
                    expected.add((source.name, number, code, int(column)))
    return expected


def _config(fixture: Path, tmp_path: Path) -> list[str]:
    options = _OPTION.findall(_sources(fixture)[0].read_text())
    if not options:
        return []
    code = fixture.name[:7]
    config = tmp_path / "fastapi-lint.toml"
    config.write_text(f"[rules.{code}]\n" + "\n".join(options) + "\n")
    return ["--config", str(config)]


def _run(run_cli, fixture: Path, tmp_path: Path) -> set[tuple[str, int, str, int]]:
    code = fixture.name[:7]
    args = [
        "check",
        "--preview",
        "--select",
        code,
        "--output-format",
        "json",
        *_config(fixture, tmp_path),
    ]
    result = run_cli(*args, str(fixture))
    assert result.exit_code in (0, 1), result.stderr
    return {
        (Path(d["filename"]).name, d["location"]["row"], d["code"], d["location"]["column"])
        for d in result.diagnostics
    }


@pytest.mark.parametrize("fixture", _fixtures(), ids=lambda p: p.name)
def test_fixture_reports_exactly_the_marked_lines(fixture, run_cli, tmp_path):
    expected = _expected(fixture)
    assert expected, f"{fixture.name} marks no `# error:` line"
    assert _run(run_cli, fixture, tmp_path) == expected


@pytest.mark.parametrize("fixture", _fixtures(), ids=lambda p: p.name)
def test_noqa_on_every_marked_line_silences_the_fixture(fixture, run_cli, tmp_path):
    copy = tmp_path / "copy" / fixture.name
    for source in _sources(fixture):
        target = copy / source.relative_to(fixture) if fixture.is_dir() else copy
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_EXPECTATION.sub(lambda m: "# noqa: " + _codes(m), source.read_text()))
    assert _run(run_cli, copy, tmp_path) == set()


def _codes(match: re.Match[str]) -> str:
    return ", ".join(item.split(":")[0] for item in match.group("items").split())


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_every_rule_has_a_fixture(rule):
    assert any(p.name.startswith(rule.code) for p in _fixtures())


def test_registry_lists_every_rule_module():
    rules_dir = Path(__file__).parents[1] / "src/fastapi_lint/rules"
    modules = {
        ".".join(p.relative_to(rules_dir).with_suffix("").parts)
        for p in rules_dir.glob("*/*.py")
        if p.stem != "__init__"
    }
    assert modules == {rule.__module__.removeprefix("fastapi_lint.rules.") for rule in ALL_RULES}
    assert not [p.name for p in rules_dir.glob("*.py") if p.stem != "__init__"], (
        "rules live in families"
    )
    assert len(RULES_BY_CODE) == len(ALL_RULES)

"""FAPI003 (unused-noqa) beside the other rules: which directives count as unused under which
selection, how the engine tracks what each directive suppressed, and the fix.

The fixture `FAPI003.py` runs with FAPI003 alone; the cases here need other rules enabled.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fastapi_lint.engine import Engine
from fastapi_lint.rules import RULES_BY_CODE
from fastapi_lint.semantic import ProjectModules
from fastapi_lint.suppression import Suppressions

HEADER = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
# A GET route with a return annotation and a docstring: no FAPI101, FAPI102 or FAPI401.
CLEAN = (
    HEADER + '@app.get("/x"){comment}\nasync def x() -> dict:\n    """Doc."""\n    return {{}}\n'
)
# A POST route reported by FAPI101, FAPI102 and FAPI401 on its decorator (line 6).
DIRTY = HEADER + '@app.post("/x"){comment}\nasync def add(x: int):\n    return x\n'
WITH = ("--select", "FAPI003,FAPI101,FAPI102,FAPI401")


pytestmark = pytest.mark.usefixtures("isolated")


def lint(run_cli, source: str, *flags: str, name: str = "a.py") -> list[tuple]:
    Path(name).write_text(source)
    run = run_cli("check", "--output-format", "json", *flags, name)
    assert run.exit_code == (1 if run.diagnostics else 0), run.stderr
    return [
        (d["location"]["row"], d["location"]["column"], d["code"], d["message"])
        for d in run.diagnostics
    ]


def unused(run_cli, source: str, *flags: str, name: str = "a.py") -> list[tuple]:
    return [row for row in lint(run_cli, source, *flags, name=name) if row[2] == "FAPI003"]


def test_a_code_of_an_enabled_rule_that_did_not_fire_is_unused(run_cli):
    source = CLEAN.format(comment="  # noqa: FAPI101")
    assert lint(run_cli, source, *WITH) == [
        (6, 17, "FAPI003", "Unused `noqa` directive (unused: `FAPI101`)")
    ]


def test_a_code_that_suppressed_its_finding_is_used(run_cli):
    source = DIRTY.format(comment="  # noqa: FAPI101, FAPI102, FAPI401")
    assert lint(run_cli, source, *WITH) == []


def test_only_the_codes_that_suppressed_nothing_are_reported(run_cli):
    source = DIRTY.format(comment="  # noqa: FAPI101, FAPI105, E501")
    found = lint(run_cli, source, "--select", "FAPI003,FAPI101,FAPI105")
    assert found == [(6, 18, "FAPI003", "Unused `noqa` directive (unused: `FAPI105`)")]


def test_codes_of_rules_not_enabled_are_left_alone(run_cli):
    source = CLEAN.format(comment="  # noqa: FAPI101")
    assert lint(run_cli, source, "--select", "FAPI003") == []
    assert lint(run_cli, source, "--select", "FAPI003,FAPI201") == []
    assert lint(run_cli, source, *WITH, "--ignore", "FAPI101") == []


def test_codes_turned_off_by_per_file_ignores_are_left_alone(run_cli):
    Path("pyproject.toml").write_text(
        '[tool.fastapi-lint]\nextend-select = ["FAPI101"]\n'
        'per-file-ignores = { "a.py" = ["FAPI101"] }\n'
    )
    assert lint(run_cli, CLEAN.format(comment="  # noqa: FAPI101")) == []
    assert unused(run_cli, CLEAN.format(comment="  # noqa: FAPI101"), name="b.py") == [
        (6, 17, "FAPI003", "Unused `noqa` directive (unused: `FAPI101`)")
    ]


def test_unknown_codes_are_reported_whatever_the_selection(run_cli):
    source = CLEAN.format(comment="  # noqa: FAPI999")
    expected = [(6, 17, "FAPI003", "Unused `noqa` directive (unknown: `FAPI999`)")]
    assert lint(run_cli, source, "--select", "FAPI003") == expected
    assert lint(run_cli, source, *WITH) == expected


@pytest.mark.parametrize(
    "comment",
    ["  # noqa", "  # NOQA", "  # noqa: E501", "  # noqa: RUF100, F401", "  # noqa: FAPI003"],
)
def test_blanket_directives_and_other_tools_codes_are_never_reported(run_cli, comment):
    assert lint(run_cli, CLEAN.format(comment=comment), *WITH) == []


def test_it_is_on_by_default(run_cli):
    source = CLEAN.format(comment="  # noqa: FAPI105")
    assert [row[2] for row in lint(run_cli, source)] == ["FAPI003"]
    assert RULES_BY_CODE["FAPI003"].default_enabled
    # FAPI101 is off by default: a code of it is left alone.
    assert lint(run_cli, CLEAN.format(comment="  # noqa: FAPI101")) == []


def test_noqa_fapi003_silences_it_on_its_line(run_cli):
    source = CLEAN.format(comment="  # noqa: FAPI101, FAPI003")
    assert lint(run_cli, source, *WITH) == []


def test_file_level_directives(run_cli):
    # A line directive that the file-level one makes redundant is unused, as in ruff.
    source = "# fastapi-lint: noqa: FAPI101\n" + DIRTY.format(comment="  # noqa: FAPI101")
    found = lint(run_cli, source, *WITH)
    assert (7, 18, "FAPI003", "Unused `noqa` directive (unused: `FAPI101`)") in found
    # The file-level directive silences FAPI003 like any other code.
    blanket = "# fastapi-lint: noqa\n" + CLEAN.format(comment="  # noqa: FAPI999")
    assert lint(run_cli, blanket, *WITH) == []
    only = "# fastapi-lint: noqa: FAPI003\n" + CLEAN.format(comment="  # noqa: FAPI999")
    assert lint(run_cli, only, *WITH) == []


def test_the_first_directive_naming_a_code_gets_the_credit(run_cli):
    source = DIRTY.format(comment="  # noqa: FAPI101, FAPI102, FAPI401  # noqa: FAPI101")
    assert lint(run_cli, source, *WITH) == [
        (6, 53, "FAPI003", "Unused `noqa` directive (unused: `FAPI101`)")
    ]


def test_a_directive_in_a_string_is_not_reported(run_cli):
    source = HEADER + 'NOTE = "use # noqa: FAPI999 to silence"\n'
    assert lint(run_cli, source, *WITH) == []


def test_files_without_an_fapi_code_are_not_parsed_for_it(run_cli):
    # The prefilter: nothing for FAPI003 to report, so the syntax error is never seen.
    broken = "x = (\n# noqa: E501\n"
    assert lint(run_cli, broken, "--select", "FAPI003") == []
    assert [
        row[2] for row in lint(run_cli, broken + "# noqa: FAPI999\n", "--select", "FAPI003")
    ] == ["FAPI001"]


def test_the_engine_records_what_each_directive_suppressed():
    text = "a = 1  # noqa: FAPI101, E501\nb = 1  # noqa\nc = 1  # noqa: FAPI101  # noqa: FAPI101\n"
    suppressions = Suppressions.scan(text)
    assert suppressions.suppresses(1, "FAPI101")
    assert not suppressions.suppresses(1, "FAPI102")
    assert suppressions.suppresses(2, "FAPI102")
    assert suppressions.suppresses(3, "FAPI101")
    first, blanket, third, fourth = suppressions.directives
    assert (first.line, first.column, first.codes, first.used) == (
        1,
        8,
        ("FAPI101", "E501"),
        {"FAPI101"},
    )
    assert (blanket.codes, blanket.used) == (None, {"FAPI102"})
    assert (third.column, third.used, fourth.column, fourth.used) == (8, {"FAPI101"}, 25, set())


# --- the fix ---------------------------------------------------------------------------------


def fix(run_cli, source: str, *flags: str, name: str = "a.py") -> str:
    path = Path(name)
    path.write_bytes(source.encode())
    run = run_cli("check", "--fix", *flags, name)
    assert "Traceback" not in run.stderr
    assert run.exit_code in (0, 1), run.stderr
    return path.read_bytes().decode()


@pytest.mark.parametrize(
    ("comment", "fixed"),
    [
        ("  # noqa: FAPI101", ""),
        ("  # noqa: FAPI101, E501", "  # noqa: E501"),
        ("  # noqa:FAPI101 E501 F401", "  # noqa:E501, F401"),
        ("  # noqa: FAPI101  # the reason", "  # the reason"),
        ("  # noqa: FAPI101 -- reviewed", ""),
        ("  # type: ignore  # noqa: FAPI101", "  # type: ignore"),
        ("  # noqa: FAPI101, FAPI003", "  # noqa: FAPI101, FAPI003"),  # silenced: left alone
        ("  # noqa: FAPI101, FAPI999, FAPI101", ""),
        ("  # noqa: FAPI101  # noqa: FAPI999", ""),  # two directives: two rounds
        ("  # noqa: E501  # noqa: FAPI101", "  # noqa: E501"),
    ],
)
def test_fix_removes_the_unused_codes(run_cli, comment, fixed):
    result = fix(run_cli, CLEAN.format(comment=comment), *WITH)
    assert result == CLEAN.format(comment=fixed)


def test_fix_removes_a_directive_on_a_line_of_its_own(run_cli):
    source = (
        HEADER
        + "x = 1\n    # noqa: FAPI999\n# noqa: FAPI998\ny = [\n    # noqa: FAPI997\n    1,\n]\n"
    )
    assert fix(run_cli, source, *WITH) == HEADER + "x = 1\ny = [\n    1,\n]\n"


def test_fix_keeps_crlf_line_endings(run_cli):
    source = CLEAN.format(comment="  # noqa: FAPI101").replace("\n", "\r\n")
    assert fix(run_cli, source, *WITH) == CLEAN.format(comment="").replace("\n", "\r\n")


def test_fix_beside_other_rules_fixes_then_check_is_clean(run_cli):
    source = (
        HEADER.replace("FastAPI\n", "FastAPI, HTTPException\n", 1)
        + '@app.get("/x")  # noqa: FAPI101, FAPI401\n'
        + 'async def x() -> dict:\n    """Doc."""\n'
        + "    return HTTPException(404)  # noqa: FAPI999, E501\n"
    )
    checklist = ("--extend-select", "FAPI101,FAPI401")  # off by default
    fixed = fix(run_cli, source, *checklist)
    assert fixed == source.replace("  # noqa: FAPI101, FAPI401", "").replace(
        "return HTTPException(404)  # noqa: FAPI999, E501",
        "raise HTTPException(404)  # noqa: E501",
    )
    assert run_cli("check", *checklist, "a.py").exit_code == 0
    assert fix(run_cli, fixed, *checklist) == fixed


def test_fix_is_safe_and_shown_in_json(run_cli):
    source = CLEAN.format(comment="  # noqa: FAPI101, E501")
    Path("a.py").write_text(source)
    run = run_cli("check", "--output-format", "json", *WITH, "a.py")
    [diagnostic] = json.loads(run.stdout)
    assert diagnostic["fix"]["applicability"] == "safe"
    assert diagnostic["end_location"] == {"row": 6, "column": 38}
    [edit] = diagnostic["fix"]["edits"]
    assert edit["location"]["row"] == edit["end_location"]["row"] == 6
    line = source.splitlines()[5]
    start, end = edit["location"]["column"], edit["end_location"]["column"]
    assert line[: start - 1] + edit["content"] + line[end - 1 :] == '@app.get("/x")  # noqa: E501'


def test_the_rule_reports_only_through_the_engine(tmp_path):
    path = tmp_path / "a.py"
    path.write_text(CLEAN.format(comment="  # noqa: FAPI101"))
    rules = [RULES_BY_CODE[code]() for code in ("FAPI003", "FAPI101")]
    result = Engine(rules, ProjectModules()).check_file(path)
    [diagnostic] = result.diagnostics
    assert (diagnostic.code, diagnostic.start.line, diagnostic.start.column) == ("FAPI003", 6, 17)
    assert diagnostic.source == ('@app.get("/x")  # noqa: FAPI101',)

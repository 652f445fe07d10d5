"""Output formats: full, concise (text), grouped, json, json-lines, sarif, github, gitlab,
junit; `-o/--output-file`; `output-format` in the configuration."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from fastapi_lint.diagnostics import Diagnostic, Position, Severity
from fastapi_lint.report import OUTPUT_FORMATS, render
from fastapi_lint.reporters.ci import escape_data, escape_property
from fastapi_lint.rules import ALL_RULES, RULES_BY_CODE

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text("utf-8"))

MAIN = '''import time

from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.post("/items")
async def create_item() -> dict:
    """Create an item."""
    time.sleep(1)
    return {}


@app.get("/items/{item_id}", response_model=int)
def read_item(item_id: int):
    """Read an item."""
    return HTTPException(status_code=404)
'''
MODELS = """from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    name: str

    class Config:
        orm_mode = True


@app.get("/items")
async def list_items():
    return [Item(name="x")]
"""
# (path, line, column, code) of what the project above gets, in report order. FAPI105 and
# FAPI501 have safe fixes, FAPI102 and FAPI201 unsafe ones; FAPI201 and FAPI105 are errors,
# FAPI401 is info, the others warnings.
EXPECTED = [
    ("app/main.py", 8, 1, "FAPI102"),
    ("app/main.py", 11, 5, "FAPI201"),
    ("app/main.py", 18, 5, "FAPI105"),
    ("app/models.py", 10, 5, "FAPI501"),
    ("app/models.py", 14, 1, "FAPI101"),
    ("app/models.py", 14, 1, "FAPI401"),
]
# The project's configuration: the default rules, and the opt-in FAPI101, FAPI102, FAPI401.
OPT_IN = ["FAPI101", "FAPI102", "FAPI401"]
CONFIG = f"[tool.fastapi-lint]\nextend-select = {json.dumps(OPT_IN)}\n"
DEFAULT_CODES = [rule.code for rule in ALL_RULES if rule.default_enabled and not rule.preview]
ENABLED_CODES = [rule.code for rule in ALL_RULES if rule.code in (*DEFAULT_CODES, *OPT_IN)]
HUMAN = ("full", "concise", "text", "grouped")
MACHINE = ("json", "json-lines", "sarif", "github", "gitlab", "junit")


pytestmark = pytest.mark.usefixtures("isolated")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project root (its pyproject.toml has a [tool.fastapi-lint] table) with two files."""
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text(MAIN)
    (tmp_path / "app" / "models.py").write_text(MODELS)
    return tmp_path


def _check(run_cli, root: Path, *args: str, cwd: Path | None = None):
    run = run_cli("check", *args, cwd=cwd or root)
    assert run.exit_code == 1, run.stderr
    return run


def _push_down(path: Path, lines: int = 3) -> None:
    """Insert blank lines at the top of a file: every finding moves down, nothing else."""
    path.write_text("\n" * lines + path.read_text())


def _diagnostic(message: str, path: Path, **changes) -> Diagnostic:
    values = {
        "path": path,
        "start": Position(3, 5),
        "end": Position(4, 2),
        "code": "FAPI105",
        "name": "http-exception-returned",
        "message": message,
        "severity": Severity.WARNING,
    }
    values.update(changes)
    return Diagnostic(**values)


# --- format selection -------------------------------------------------------------------------


def test_every_format_is_listed():
    assert set(OUTPUT_FORMATS) == {*HUMAN, *MACHINE}


def test_default_is_concise_when_stdout_is_not_a_terminal(run_cli, project):
    default = _check(run_cli, project).stdout
    assert default == _check(run_cli, project, "--output-format", "concise").stdout
    assert default == _check(run_cli, project, "--output-format", "text").stdout
    lines = default.splitlines()
    assert [line.split(" ")[:2] for line in lines[:6]] == [
        [f"{path}:{line}:{column}:", code] for path, line, column, code in EXPECTED
    ]
    assert lines[6:] == [
        "Found 6 errors.",
        "[*] 2 fixable with the `--fix` option "
        "(2 hidden fixes can be enabled with the `--unsafe-fixes` option).",
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_default_is_full_on_a_terminal(project):
    import pty

    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTAPI_LINT_")}
    command = [sys.executable, "-m", "fastapi_lint", "check", "."]
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            command, cwd=project, stdout=slave, stderr=subprocess.DEVNULL, env=env
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=120) == 1
    finally:
        os.close(master)
    output = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    assert "app/main.py:18:5: FAPI105 [*] `HTTPException` is returned" in output
    assert "18 |     return HTTPException(status_code=404)\n" in output
    assert "help: Replace `return` with `raise`" in output
    assert output.splitlines()[-2] == "Found 6 errors."


def test_output_format_from_the_configuration(run_cli, project):
    (project / "pyproject.toml").write_text(CONFIG + 'output-format = "json"\n')
    run = _check(run_cli, project)
    assert [d["code"] for d in run.diagnostics] == [code for *_, code in EXPECTED]
    # The command line and the environment win over the configuration.
    flag = _check(run_cli, project, "--output-format", "concise")
    assert flag.stdout.splitlines()[-2] == "Found 6 errors."


def test_environment_wins_over_the_configuration(run_cli, project, monkeypatch):
    (project / "pyproject.toml").write_text(CONFIG + 'output-format = "json"\n')
    monkeypatch.setenv("FASTAPI_LINT_OUTPUT_FORMAT", "json-lines")
    lines = _check(run_cli, project).stdout.splitlines()
    assert [json.loads(line)["code"] for line in lines] == [code for *_, code in EXPECTED]


@pytest.mark.parametrize("value", ['"xml"', '"JSON"', "1", '["json"]'])
def test_bad_output_format_in_the_configuration_exits_2(run_cli, project, value):
    (project / "pyproject.toml").write_text(f"[tool.fastapi-lint]\noutput-format = {value}\n")
    run = run_cli("check", cwd=project)
    assert run.exit_code == 2
    assert run.stdout == ""
    assert "`output-format` must be one of full, concise" in run.stderr


def test_bad_output_format_flag_exits_2(run_cli, project):
    assert run_cli("check", "--output-format", "xml", cwd=project).exit_code == 2
    # `rules` only knows text and json.
    assert run_cli("rules", "--output-format", "sarif").exit_code == 2


# --- -o/--output-file ---------------------------------------------------------------------------


def test_output_file_gets_the_report_and_stdout_nothing(run_cli, project):
    run = _check(run_cli, project, "--output-format", "json", "-o", "reports/lint.json")
    assert (run.stdout, run.stderr) == ("", "")
    report = json.loads((project / "reports" / "lint.json").read_text("utf-8"))
    assert [d["code"] for d in report] == [code for *_, code in EXPECTED]


def test_output_file_defaults_to_concise(run_cli, project):
    run = _check(run_cli, project, "--output-file", "lint.txt")
    assert run.stdout == ""
    text = (project / "lint.txt").read_text("utf-8")
    assert text == _check(run_cli, project, "--output-format", "concise").stdout


def test_output_file_that_cannot_be_written_exits_2(run_cli, project):
    (project / "blocker").write_text("a file, not a directory")
    run = run_cli("check", "-o", "blocker/lint.txt", cwd=project)
    assert run.exit_code == 2
    assert "cannot write" in run.stderr


def test_show_fixes_keeps_machine_output_parseable(run_cli, project):
    run = run_cli("check", "--fix", "--show-fixes", "--output-format", "json", cwd=project)
    assert [d["code"] for d in run.diagnostics] == ["FAPI102", "FAPI201", "FAPI101", "FAPI401"]
    text = run_cli("check", "--fix", "--show-fixes", "--unsafe-fixes", cwd=project).stdout
    assert "Fixed 2 errors:" in text


# --- summary lines --------------------------------------------------------------------------


@pytest.mark.parametrize("output_format", HUMAN)
def test_human_formats_end_with_the_summary(run_cli, project, output_format):
    text = _check(run_cli, project, "--output-format", output_format).stdout
    assert text.splitlines()[-2:] == [
        "Found 6 errors.",
        "[*] 2 fixable with the `--fix` option "
        "(2 hidden fixes can be enabled with the `--unsafe-fixes` option).",
    ]
    quiet = _check(run_cli, project, "--output-format", output_format, "--quiet").stdout
    assert "Found" not in quiet
    assert "fixable" not in quiet


@pytest.mark.parametrize("output_format", MACHINE)
def test_machine_formats_have_no_summary(run_cli, project, output_format):
    text = _check(run_cli, project, "--output-format", output_format).stdout
    assert "Found 6 errors." not in text
    assert "fixable with the" not in text


# --- full -----------------------------------------------------------------------------------


def _blocks(text: str) -> dict[str, list[str]]:
    """The full output's blocks, by `path:line:col: CODE`."""
    blocks = {}
    for block in text.split("\n\n"):
        lines = block.splitlines()
        if lines and lines[0].startswith("app/"):
            blocks[" ".join(lines[0].split(" ")[:2])] = lines
    return blocks


def test_full_marks_the_reported_columns(run_cli, project):
    json_run = run_cli("check", "--output-format", "json", cwd=project)
    fapi105 = next(d for d in json_run.diagnostics if d["code"] == "FAPI105")
    start, end = fapi105["location"]["column"], fapi105["end_location"]["column"]
    blocks = _blocks(_check(run_cli, project, "--output-format", "full").stdout)
    assert len(blocks) == 6
    header, top, code, carets, bottom, help_line = blocks["app/main.py:18:5: FAPI105"]
    assert header.endswith(
        "FAPI105 [*] `HTTPException` is returned, not raised, in route "
        "`read_item` (GET /items/{item_id})"
    )
    assert (top, bottom) == ("   |", "   |")
    assert code == "18 |     return HTTPException(status_code=404)"
    text_at = code.index("| ") + 2
    first, count = carets.index("^"), carets.count("^")
    assert carets == "   | " + " " * (first - 5) + "^" * count
    assert first - text_at == start - 1
    assert count == end - start
    assert code[first : first + count] == "return HTTPException(status_code=404)"
    assert help_line == "help: Replace `return` with `raise`"


def test_full_shows_help_for_every_finding_with_a_fix(run_cli, project):
    fixable = {
        f"{Path(d['filename']).relative_to(project).as_posix()}:{d['location']['row']}:"
        f"{d['location']['column']}: {d['code']}": d["fix"]["message"]
        for d in run_cli("check", "--output-format", "json", cwd=project).diagnostics
        if d["fix"] is not None
    }
    assert len(fixable) == 4  # two safe, two unsafe
    blocks = _blocks(_check(run_cli, project, "--output-format", "full").stdout)
    helps = {key: lines[-1] for key, lines in blocks.items() if lines[-1].startswith("help: ")}
    assert helps == {key: f"help: {title}" for key, title in fixable.items()}
    # `[*]` only for the safe fixes, as in the concise format.
    assert [key for key, lines in blocks.items() if " [*] " in lines[0]] == [
        "app/main.py:18:5: FAPI105",
        "app/models.py:10:5: FAPI501",
    ]


def test_full_marks_a_range_over_several_lines(run_cli, project):
    blocks = _blocks(_check(run_cli, project, "--output-format", "full").stdout)
    assert blocks["app/models.py:10:5: FAPI501"][1:] == [
        "   |",
        "10 | /     class Config:",
        "11 | |         orm_mode = True",
        "   | |_______________________^",
        "   |",
        "help: Replace with `model_config = ConfigDict(...)`",
    ]


def test_full_expands_tabs_under_the_carets(tmp_path):
    diagnostic = _diagnostic(
        "m",
        tmp_path / "a.py",
        start=Position(7, 2),
        end=Position(7, 8),
        source=("\treturn x",),
    )
    lines = render("full", [diagnostic], quiet=True).splitlines()
    assert lines[2:4] == ["7 |     return x", "  |     ^^^^^^"]


# --- grouped --------------------------------------------------------------------------------


def test_grouped_lists_findings_under_their_file(run_cli, project):
    text = _check(run_cli, project, "--output-format", "grouped").stdout
    files = text.split("\n\n")
    assert files[0].splitlines() == [
        "app/main.py:",
        "   8:1 FAPI102 Route `POST /items` (`create_item`) creates a resource but answers 200: "
        "set `status_code=201`",
        "  11:5 FAPI201 Blocking call `time.sleep` in async route `create_item` (POST /items)",
        "  18:5 FAPI105 [*] `HTTPException` is returned, not raised, in route `read_item` "
        "(GET /items/{item_id})",
    ]
    assert files[1].splitlines()[0] == "app/models.py:"
    assert [line.split()[:2] for line in files[1].splitlines()[1:]] == [
        ["10:5", "FAPI501"],
        ["14:1", "FAPI101"],
        ["14:1", "FAPI401"],
    ]
    assert files[2].startswith("Found 6 errors.\n")


# --- json, json-lines ---------------------------------------------------------------------


def test_json_lines_are_the_json_objects(run_cli, project):
    objects = run_cli("check", "--output-format", "json", cwd=project).diagnostics
    text = _check(run_cli, project, "--output-format", "json-lines").stdout
    assert text.endswith("}\n")
    assert [json.loads(line) for line in text.splitlines()] == objects
    assert len(objects) == 6
    # Both carry the fixes' text edits.
    assert all(d["fix"]["edits"] for d in objects if d["fix"] is not None)


def test_json_lines_prints_nothing_when_clean(run_cli, tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    run = run_cli("check", "--output-format", "json-lines", cwd=tmp_path)
    assert (run.exit_code, run.stdout) == (0, "")


# --- sarif ----------------------------------------------------------------------------------


def _validate(log: dict) -> list[str]:
    validator = jsonschema.validators.validator_for(SCHEMA)
    validator.check_schema(SCHEMA)
    return [error.message for error in validator(SCHEMA).iter_errors(log)]


def test_sarif_schema_is_the_official_draft_04_one():
    assert SCHEMA["id"].endswith("/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    assert jsonschema.validators.validator_for(SCHEMA) is jsonschema.Draft4Validator


def test_sarif_validates_against_the_official_schema(run_cli, project):
    log = json.loads(_check(run_cli, project, "--output-format", "sarif").stdout)
    assert _validate(log) == []
    # The validation can fail: the same log with a level SARIF does not know.
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["version"]
    assert len(_validate(log)) == 2


def test_sarif_holds_what_github_code_scanning_reads(run_cli, project):
    log = json.loads(_check(run_cli, project, "--output-format", "sarif").stdout)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "fastapi-lint"
    assert driver["version"]
    assert driver["informationUri"].startswith("https://")
    assert [rule["id"] for rule in driver["rules"]] == ENABLED_CODES
    for descriptor in driver["rules"]:
        rule = RULES_BY_CODE[descriptor["id"]]
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary()
        assert 0 < len(descriptor["fullDescription"]["text"]) <= 1024
        assert descriptor["help"]["text"] and descriptor["help"]["markdown"]
        assert descriptor["helpUri"] == rule.url()
        level = {"error": "error", "warning": "warning", "info": "note"}[rule.severity.value]
        assert descriptor["defaultConfiguration"]["level"] == level
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.as_uri() + "/"
    json_run = run_cli("check", "--output-format", "json", cwd=project).diagnostics
    results = run["results"]
    assert len(results) == len(json_run) == 6
    for result, expected in zip(results, json_run, strict=True):
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"] == expected["code"]
        assert result["message"]["text"] == expected["message"]
        severity = RULES_BY_CODE[result["ruleId"]].severity.value
        assert result["level"] == {"error": "error", "warning": "warning", "info": "note"}[severity]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {
            "uri": Path(expected["filename"]).relative_to(project).as_posix(),
            "uriBaseId": "%SRCROOT%",
        }
        assert location["region"] == {
            "startLine": expected["location"]["row"],
            "startColumn": expected["location"]["column"],
            "endLine": expected["end_location"]["row"],
            "endColumn": expected["end_location"]["column"],
        }
        assert result["partialFingerprints"]["primaryLocationLineHash"]
    assert [r["level"] for r in results] == [
        "warning",
        "error",
        "error",
        "warning",
        "warning",
        "note",
    ]


def test_sarif_lists_only_the_enabled_rules(run_cli, project):
    run = _check(run_cli, project, "--output-format", "sarif", "--select", "FAPI1,FAPI501")
    driver = json.loads(run.stdout)["runs"][0]["tool"]["driver"]
    assert [rule["id"] for rule in driver["rules"]] == [
        "FAPI101",
        "FAPI102",
        "FAPI103",
        "FAPI104",
        "FAPI105",
        "FAPI111",
        "FAPI112",
        "FAPI501",
    ]


def test_sarif_uris_are_relative_to_the_project_root(run_cli, project):
    # Run from a subdirectory: the human formats print paths from there, SARIF from the root.
    assert _check(run_cli, project, cwd=project / "app").stdout.startswith("main.py:8:1: ")
    run = _check(run_cli, project, "--output-format", "sarif", cwd=project / "app")
    results = json.loads(run.stdout)["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == {"app/main.py", "app/models.py"}


def test_sarif_fingerprints_survive_lines_moving_down(run_cli, project):
    def fingerprints() -> dict[str, tuple[int, str]]:
        run = _check(run_cli, project, "--output-format", "sarif")
        return {
            r["partialFingerprints"]["primaryLocationLineHash"]: (
                r["locations"][0]["physicalLocation"]["region"]["startLine"],
                r["ruleId"],
            )
            for r in json.loads(run.stdout)["runs"][0]["results"]
        }

    before = fingerprints()
    assert len(before) == 6  # unique
    _push_down(project / "app" / "main.py", 3)
    after = fingerprints()
    assert after.keys() == before.keys()
    for fingerprint, (line, code) in before.items():
        moved = 3 if code in ("FAPI102", "FAPI201", "FAPI105") else 0
        assert after[fingerprint] == (line + moved, code)


def test_sarif_describes_engine_diagnostics(run_cli, project):
    (project / "app" / "broken.py").write_text("from fastapi import (\n")
    log = json.loads(_check(run_cli, project, "--output-format", "sarif").stdout)
    assert _validate(log) == []
    driver = log["runs"][0]["tool"]["driver"]
    (broken,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "FAPI001"]
    descriptor = driver["rules"][broken["ruleIndex"]]
    assert descriptor["id"] == "FAPI001"
    assert descriptor["name"] == "invalid-syntax"
    assert [rule["id"] for rule in driver["rules"]] == [*ENABLED_CODES, "FAPI001"]


def test_sarif_of_a_clean_project_is_valid(run_cli, tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    run = run_cli("check", "--output-format", "sarif", cwd=tmp_path)
    assert run.exit_code == 0
    log = json.loads(run.stdout)
    assert _validate(log) == []
    assert log["runs"][0]["results"] == []
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) == len(DEFAULT_CODES)


def test_sarif_trims_descriptions_to_githubs_limit(monkeypatch, tmp_path):
    rule = RULES_BY_CODE["FAPI101"]
    long_doc = "Summary.\n\n## What it does\n" + "word " * 400 + "\n\n## Why is this bad?\nx\n"
    monkeypatch.setattr(rule, "__doc__", long_doc)
    log = json.loads(render("sarif", [], root=tmp_path, rules=[rule]))
    descriptor = log["runs"][0]["tool"]["driver"]["rules"][0]
    assert len(descriptor["fullDescription"]["text"]) == 1024
    assert descriptor["fullDescription"]["text"].startswith("word word")
    assert descriptor["shortDescription"]["text"] == "Summary."


# --- github ---------------------------------------------------------------------------------


def test_github_annotations(run_cli, project):
    lines = _check(run_cli, project, "--output-format", "github").stdout.splitlines()
    assert lines[2] == (
        "::error file=app/main.py,line=18,col=5,endLine=18,endColumn=42,"
        "title=fastapi-lint (FAPI105)::FAPI105 `HTTPException` is returned, not raised, "
        "in route `read_item` (GET /items/{item_id})"
    )
    commands = [line.split(" ", 1)[0] for line in lines]
    assert commands == ["::warning", "::error", "::error", "::warning", "::warning", "::notice"]
    assert [line.split("title=fastapi-lint (")[1][:7] for line in lines] == [
        code for *_, code in EXPECTED
    ]


def test_github_escapes_messages_and_properties(tmp_path):
    diagnostic = _diagnostic(
        "100% sure: a, b\nnext\r\nline %0A",
        tmp_path / "odd,dir" / "we:ird.py",
        severity=Severity.ERROR,
    )
    assert render("github", [diagnostic], root=tmp_path) == (
        "::error file=odd%2Cdir/we%3Aird.py,line=3,col=5,endLine=4,endColumn=2,"
        "title=fastapi-lint (FAPI105)::FAPI105 100%25 sure: a, b%0Anext%0D%0Aline %250A\n"
    )


def test_github_escaping_functions():
    assert escape_data("a%b:c,d\r\n%3A") == "a%25b:c,d%0D%0A%253A"
    assert escape_property("a%b:c,d\r\n%3A") == "a%25b%3Ac%2Cd%0D%0A%253A"


# --- gitlab ---------------------------------------------------------------------------------


def test_gitlab_code_quality_report(run_cli, project):
    issues = json.loads(_check(run_cli, project, "--output-format", "gitlab").stdout)
    assert [
        (i["location"]["path"], i["location"]["lines"]["begin"], i["check_name"]) for i in issues
    ] == [(path, line, code) for path, line, _, code in EXPECTED]
    assert [i["severity"] for i in issues] == [
        "major",
        "critical",
        "critical",
        "major",
        "major",
        "info",
    ]
    assert issues[2]["description"] == (
        "FAPI105: `HTTPException` is returned, not raised, in route `read_item` "
        "(GET /items/{item_id})"
    )
    # The range of `class Config` ends at column 1 of line 12: it covers lines 10 and 11.
    assert issues[3]["location"]["lines"] == {"begin": 10, "end": 11}
    assert all(
        set(i) == {"description", "check_name", "fingerprint", "severity", "location"}
        for i in issues
    )


def test_gitlab_fingerprints_are_unique_and_stable(run_cli, project):
    def fingerprints() -> list[str]:
        run = _check(run_cli, project, "--output-format", "gitlab")
        return [issue["fingerprint"] for issue in json.loads(run.stdout)]

    first = fingerprints()
    assert len(set(first)) == len(first) == 6
    assert fingerprints() == first
    _push_down(project / "app" / "main.py", 5)
    _push_down(project / "app" / "models.py", 1)
    assert fingerprints() == first
    # Editing a reported line changes its finding's identity, and only that one.
    main = project / "app" / "main.py"
    main.write_text(main.read_text().replace("time.sleep(1)", "time.sleep(2)"))
    edited = fingerprints()
    assert [a == b for a, b in zip(first, edited, strict=True)] == [
        True, False, True, True, True, True
    ]  # fmt: skip


def test_gitlab_and_sarif_fingerprints_ignore_comments(run_cli, project):
    def fingerprints() -> tuple[list[str], list[str]]:
        gitlab = json.loads(_check(run_cli, project, "--output-format", "gitlab").stdout)
        sarif = json.loads(_check(run_cli, project, "--output-format", "sarif").stdout)
        results = sarif["runs"][0]["results"]
        return (
            [issue["fingerprint"] for issue in gitlab],
            [r["partialFingerprints"]["primaryLocationLineHash"] for r in results],
        )

    first = fingerprints()
    main = project / "app" / "main.py"
    main.write_text(main.read_text().replace("time.sleep(1)", "time.sleep(1)  # TODO: thread"))
    assert fingerprints() == first


# --- paths relative to the repository root (monorepos) --------------------------------------


@pytest.fixture
def monorepo(tmp_path_factory: pytest.TempPathFactory, project: Path) -> Path:
    """The project in `backend/` of a repository: `repo/.git`, `repo/backend/pyproject.toml`."""
    repo = tmp_path_factory.mktemp("repo")
    (repo / ".git").mkdir()
    shutil.copytree(project, repo / "backend")
    return repo


def _paths(run_cli, root: Path, output_format: str) -> list[str]:
    text = _check(run_cli, root, "--output-format", output_format).stdout
    if output_format == "github":
        return [line.split("file=")[1].split(",")[0] for line in text.splitlines()]
    if output_format == "gitlab":
        return [issue["location"]["path"] for issue in json.loads(text)]
    if output_format == "junit":
        return [case.get("file") for case in ET.fromstring(text).iter("testcase")]
    results = json.loads(text)["runs"][0]["results"]
    return [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]


@pytest.mark.parametrize("output_format", ["sarif", "github", "gitlab", "junit"])
def test_ci_paths_are_relative_to_the_repository_root(run_cli, project, monorepo, output_format):
    expected = [path for path, *_ in EXPECTED]
    assert _paths(run_cli, project, output_format) == expected  # no repository: the project
    assert _paths(run_cli, monorepo / "backend", output_format) == [
        f"backend/{path}" for path in expected
    ]


def test_a_git_file_marks_the_repository_root_too(run_cli, project, monorepo):
    # A worktree or a submodule has a `.git` file, not a directory.
    (monorepo / ".git").rmdir()
    (monorepo / ".git").write_text("gitdir: /elsewhere/.git/worktrees/repo\n")
    assert _paths(run_cli, monorepo / "backend", "gitlab")[0] == "backend/app/main.py"


def test_sarif_of_a_monorepo(run_cli, project, monorepo):
    def log(root: Path) -> dict:
        return json.loads(_check(run_cli, root, "--output-format", "sarif").stdout)

    alone, inside = log(project), log(monorepo / "backend")
    assert _validate(inside) == []
    run = inside["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == monorepo.as_uri() + "/"
    assert {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"]
        for r in run["results"]
    } == {"%SRCROOT%"}

    def prints(sarif: dict) -> list[str]:
        return [
            r["partialFingerprints"]["primaryLocationLineHash"] for r in sarif["runs"][0]["results"]
        ]

    # Where the project lies in the repository is no part of a finding's identity.
    assert prints(inside) == prints(alone)


def test_gitlab_fingerprints_do_not_depend_on_the_repository(run_cli, project, monorepo):
    def prints(root: Path) -> list[str]:
        text = _check(run_cli, root, "--output-format", "gitlab").stdout
        return [issue["fingerprint"] for issue in json.loads(text)]

    assert prints(monorepo / "backend") == prints(project)


def test_human_formats_keep_paths_relative_to_the_working_directory(run_cli, project, monorepo):
    run = _check(run_cli, monorepo / "backend", "--output-format", "concise")
    assert run.stdout.startswith("app/main.py:8:1: FAPI102")


# --- junit ----------------------------------------------------------------------------------


def test_junit_has_a_suite_per_file_and_a_case_per_finding(run_cli, project):
    text = _check(run_cli, project, "--output-format", "junit").stdout
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("6", "6")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["app/main.py", "app/models.py"]
    assert [s.get("tests") for s in suites] == ["3", "3"]
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 6
    assert [(c.get("file"), int(c.get("line")), int(c.get("column"))) for c in cases] == [
        (path, line, column) for path, line, column, _ in EXPECTED
    ]
    assert [c.get("name") for c in cases] == [f"fastapi-lint.{code}" for *_, code in EXPECTED]
    failure = cases[2].find("failure")
    assert failure.get("message").startswith("`HTTPException` is returned")
    assert failure.text == f"line 18, col 5, {failure.get('message')}"


def test_junit_is_valid_xml_whatever_the_message(tmp_path):
    message = "a <b> & \"c\" 'd' ]]> \x00\x1b end\nnext"
    diagnostics = [
        _diagnostic(message, tmp_path / "x&y.py"),
        _diagnostic("second", tmp_path / "x&y.py", start=Position(9, 1)),
    ]
    root = ET.fromstring(render("junit", diagnostics, root=tmp_path))
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "x&y.py"
    first = suite.find("testcase/failure")
    assert first.get("message") == "a <b> & \"c\" 'd' ]]> \ufffd\ufffd end\nnext"
    assert len(suite.findall("testcase")) == 2


def test_junit_of_a_clean_project_has_one_passing_case(run_cli, tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    run = run_cli("check", "--output-format", "junit", cwd=tmp_path)
    assert run.exit_code == 0
    root = ET.fromstring(run.stdout)
    (case,) = root.iter("testcase")
    assert case.get("name") == "No errors found"
    assert case.find("failure") is None


# --- every format -------------------------------------------------------------------------


@pytest.mark.parametrize("output_format", OUTPUT_FORMATS)
def test_every_format_reports_every_finding(run_cli, project, output_format):
    text = _check(run_cli, project, "--output-format", output_format).stdout
    for code in {code for *_, code in EXPECTED}:
        assert code in text
    assert "main.py" in text and "models.py" in text

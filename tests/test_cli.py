"""The command line, end to end: output formats, rule selection, exit codes, subcommands."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fastapi_lint import __version__
from fastapi_lint.docs import render_page
from fastapi_lint.rules import ALL_RULES

from .conftest import project

# Triggers FAPI101 (no response model), FAPI102 (POST without status_code) and FAPI401
# (no docstring), all reported at the decorator: row 3, columns 1 to 16 (end exclusive).
# The three are off by default: CHECKLIST turns them on.
ROUTE = (
    'from fastapi import FastAPI\napp = FastAPI()\n@app.post("/x")\n'
    "async def add(x: int):\n    return x\n"
)
CLEAN = (
    "from fastapi import FastAPI\napp = FastAPI()\n"
    '@app.get("/x")\nasync def x() -> int:\n    """Doc."""\n    return 1\n'
)
# Two FAPI201 on one line (columns 5 and 20) before a route, so rule order != position order.
BLOCKING = (
    "import time\nfrom fastapi import Depends, FastAPI\napp = FastAPI()\n"
    "async def helper():\n    time.sleep(1); time.sleep(2)\n"
    '@app.post("/y")\nasync def add_y(y=Depends(helper)):\n    return y\n'
)
CHECKLIST = ("--extend-select", "FAPI101,FAPI102,FAPI401")
LINE = re.compile(
    r"^(?P<path>[^:]+):(?P<row>\d+):(?P<column>\d+): (?P<code>FAPI\d{3}) (?P<message>.+)$"
)
JSON_KEYS = {
    "cell",
    "code",
    "end_location",
    "filename",
    "fix",
    "location",
    "message",
    "noqa_row",
    "related",
    "url",
}


pytestmark = pytest.mark.usefixtures("isolated")

ONE_ROUTE = "Checked 1 route in 1 app.\n"  # the route count, on stderr


def codes(run) -> list[str]:
    assert "Traceback" not in run.stderr
    return [d["code"] for d in run.diagnostics]


# --- check, shorthand, default path ---------------------------------------------------------


def test_check_and_shorthand_give_the_same_output(run_cli, tmp_path):
    project(tmp_path, {"a.py": ROUTE})
    explicit = run_cli("check", *CHECKLIST, "a.py", cwd=tmp_path)
    shorthand = run_cli(*CHECKLIST, "a.py", cwd=tmp_path)
    assert explicit.exit_code == shorthand.exit_code == 1
    assert explicit.stdout == shorthand.stdout
    assert "a.py:3:1: FAPI101 " in explicit.stdout


def test_shorthand_with_a_flag_first(run_cli, tmp_path):
    project(tmp_path, {"a.py": ROUTE})
    run = run_cli("--quiet", *CHECKLIST, "a.py", cwd=tmp_path)
    assert run.exit_code == 1
    assert run.stdout.startswith("a.py:3:1: FAPI101 ")


def test_default_path_is_the_current_directory(run_cli, tmp_path):
    project(tmp_path, {"a.py": ROUTE, "pkg/b.py": ROUTE})
    run = run_cli("check", *CHECKLIST, "--output-format", "json", cwd=tmp_path)
    assert run.exit_code == 1
    assert {Path(d["filename"]).name for d in run.diagnostics} == {"a.py", "b.py"}
    here = run_cli("check", *CHECKLIST, cwd=tmp_path).stdout
    assert here == run_cli("check", *CHECKLIST, ".", cwd=tmp_path).stdout


# --- text output ----------------------------------------------------------------------------


def test_text_lines_are_path_line_column_code_message(run_cli, tmp_path):
    project(tmp_path, {"a.py": ROUTE, "sub/b.py": BLOCKING})
    text = run_cli("check", *CHECKLIST, cwd=tmp_path)
    diagnostics = run_cli("check", *CHECKLIST, "--output-format", "json", cwd=tmp_path).diagnostics
    lines = text.stdout.splitlines()
    summary = lines.index(f"Found {len(diagnostics)} errors.")
    # Both files have a finding with an unsafe fix only: no [*], and a hint after the summary.
    assert lines[summary + 1 :] == [
        "No fixes available (4 hidden fixes can be enabled with the `--unsafe-fixes` option)."
    ]
    lines = lines[: summary + 1]
    expected = [
        "{}:{}:{}: {} {}".format(
            Path(d["filename"]).relative_to(tmp_path.resolve()).as_posix(),
            d["location"]["row"],
            d["location"]["column"],
            d["code"],
            d["message"],
        )
        for d in diagnostics
    ]
    assert lines[:-1] == expected
    assert all(LINE.match(line) for line in lines[:-1])
    assert "sub/b.py:5:5: FAPI201 Blocking call `time.sleep`" in text.stdout
    assert text.stdout.endswith("option).\n")


def test_one_error_is_singular(run_cli, tmp_path):
    project(tmp_path, {"a.py": ROUTE})
    run = run_cli("check", "--select", "FAPI101", cwd=tmp_path)
    assert run.stdout.splitlines()[-1] == "Found 1 error."


def test_clean_project_says_all_checks_passed(run_cli, tmp_path):
    project(tmp_path, {"a.py": CLEAN})
    run = run_cli("check", cwd=tmp_path)
    assert (run.exit_code, run.stdout, run.stderr) == (0, "All checks passed!\n", ONE_ROUTE)


def test_quiet_drops_the_summary(run_cli, tmp_path):
    project(tmp_path, {"a.py": ROUTE, "clean/c.py": CLEAN})
    loud = run_cli("check", *CHECKLIST, "a.py", cwd=tmp_path)
    quiet = run_cli("check", *CHECKLIST, "--quiet", "a.py", cwd=tmp_path)
    assert quiet.exit_code == 1
    # The summary is two lines: the count, then what --unsafe-fixes would fix.
    assert quiet.stdout == "".join(loud.stdout.splitlines(keepends=True)[:-2])
    assert "Found" not in quiet.stdout
    assert len(quiet.stdout.splitlines()) == 3
    silent = run_cli("check", "-q", "clean", cwd=tmp_path)
    assert (silent.exit_code, silent.stdout) == (0, "")


# --- json output ----------------------------------------------------------------------------


def test_json_has_exactly_ruffs_keys_and_one_based_positions(run_cli, tmp_path):
    project(tmp_path, {"a.py": ROUTE})
    run = run_cli("check", *CHECKLIST, "--output-format", "json", cwd=tmp_path)
    assert run.exit_code == 1
    first = run.diagnostics[0]
    assert all(set(d) == JSON_KEYS for d in run.diagnostics)
    assert first == {
        "cell": None,
        "code": "FAPI101",
        "end_location": {"row": 3, "column": 16},
        "filename": first["filename"],
        "fix": None,
        "location": {"row": 3, "column": 1},
        "message": first["message"],
        "noqa_row": 3,
        "related": [],
        "url": first["url"],
    }
    assert Path(first["filename"]).is_absolute()
    assert Path(first["filename"]).resolve() == (tmp_path / "a.py").resolve()
    assert first["url"].endswith("FAPI101.md")
    assert first["message"]


def test_json_columns_are_one_based_inside_a_line(run_cli, tmp_path):
    project(tmp_path, {"b.py": BLOCKING})
    run = run_cli("check", "--select", "FAPI201", "--output-format", "json", cwd=tmp_path)
    starts = [(d["location"]["row"], d["location"]["column"]) for d in run.diagnostics]
    assert starts == [(5, 5), (5, 20)]  # `    time.sleep(1); time.sleep(2)`
    assert run.diagnostics[0]["end_location"] == {"row": 5, "column": 18}


def test_json_with_no_violations_is_an_empty_list(run_cli, tmp_path):
    project(tmp_path, {"a.py": CLEAN})
    run = run_cli("check", "--output-format", "json", cwd=tmp_path)
    assert (run.exit_code, run.diagnostics) == (0, [])


def test_output_is_sorted_by_path_line_and_column_across_files(run_cli, tmp_path):
    project(tmp_path, {"b.py": BLOCKING, "a.py": BLOCKING, "a/z.py": ROUTE, "c.py": ROUTE})
    paths = ("c.py", "b.py", "a", "a.py", "missing.py")
    run = run_cli("check", *CHECKLIST, *paths, "--output-format", "json")
    keys = [
        (
            Path(d["filename"]).relative_to(Path.cwd().resolve()).as_posix(),
            d["location"]["row"],
            d["location"]["column"],
            d["code"],
        )
        for d in run.diagnostics
    ]
    assert keys == sorted(keys)
    paths = ["a.py"] * 5 + ["a/z.py"] * 3 + ["b.py"] * 5 + ["c.py"] * 3 + ["missing.py"]
    assert [key[0] for key in keys] == paths
    assert keys[:3] == [
        ("a.py", 5, 5, "FAPI201"),
        ("a.py", 5, 20, "FAPI201"),
        ("a.py", 6, 1, "FAPI101"),
    ]


# --- rule selection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((), []),  # the three are off by default
        (("--extend-select", "FAPI1,FAPI4"), ["FAPI101", "FAPI102", "FAPI401"]),
        (("--select", "FAPI1"), ["FAPI101", "FAPI102"]),
        (("--select", "fapi1"), ["FAPI101", "FAPI102"]),
        (("--select", "FAPI101,FAPI401"), ["FAPI101", "FAPI401"]),
        (("--select", "FAPI101", "--select", "FAPI401"), ["FAPI101", "FAPI401"]),
        (("--select", "ALL"), ["FAPI101", "FAPI102", "FAPI401"]),
        (("--extend-select", "FAPI1,FAPI4", "--ignore", "FAPI401"), ["FAPI101", "FAPI102"]),
        (("--extend-select", "FAPI1,FAPI4", "--ignore", "FAPI1,FAPI4"), []),
        (("--select", "FAPI101", "--extend-select", "FAPI4"), ["FAPI101", "FAPI401"]),
        (("--ignore", "FAPI1", "--extend-select", "FAPI102"), ["FAPI102"]),
        # The most specific selector wins, whichever flag it comes from.
        (
            ("--select", "FAPI", "--ignore", "FAPI1", "--extend-select", "FAPI101"),
            ["FAPI101", "FAPI401"],
        ),
        (("--select", "FAPI101", "--ignore", "FAPI1"), ["FAPI101"]),
        (("--select", "FAPI1", "--ignore", "FAPI101"), ["FAPI102"]),
        # On a tie, ignore wins.
        (("--select", "FAPI101", "--ignore", "FAPI101"), []),
    ],
)
def test_selection_flags(run_cli, tmp_path, flags, expected):
    project(tmp_path, {"a.py": ROUTE})
    run = run_cli("check", *flags, "--output-format", "json", cwd=tmp_path)
    assert codes(run) == expected
    assert run.exit_code == (1 if expected else 0)


@pytest.mark.parametrize("flag", ["--select", "--ignore", "--extend-select"])
def test_unknown_selector_is_a_one_line_error(run_cli, tmp_path, flag):
    project(tmp_path, {"a.py": ROUTE})
    run = run_cli("check", flag, "NOPE", cwd=tmp_path)
    assert run.exit_code == 2
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    assert run.stderr.splitlines() == [
        f"fastapi-lint: error: unknown rule selector `NOPE` in `{flag}`"
    ]


# --- statistics, exit codes -----------------------------------------------------------------


def test_statistics_counts_per_code_most_frequent_first(run_cli, tmp_path):
    project(tmp_path, {"a.py": ROUTE, "b.py": ROUTE, "c.py": BLOCKING})
    run = run_cli("check", "--statistics", "--extend-select", "FAPI101,FAPI102", cwd=tmp_path)
    assert run.exit_code == 1
    assert run.stdout.splitlines() == [
        "3\tFAPI101\t[ ] missing-response-model",
        "3\tFAPI102\t[ ] missing-status-code",
        "2\tFAPI201\t[ ] blocking-call-in-async-function",
        "Found 8 errors.",
    ]


def test_exit_codes(run_cli, tmp_path):
    project(tmp_path, {"bad.py": ROUTE, "good.py": CLEAN})
    assert run_cli("check", "good.py", cwd=tmp_path).exit_code == 0
    assert run_cli("check", *CHECKLIST, "bad.py", cwd=tmp_path).exit_code == 1
    assert run_cli("check", "--select", "NOPE", "good.py", cwd=tmp_path).exit_code == 2
    unknown_flag = run_cli("check", "--bogus", cwd=tmp_path)
    assert unknown_flag.exit_code == 2
    assert "No such option" in unknown_flag.stderr
    assert run_cli("check", "--config", "absent.toml", cwd=tmp_path).exit_code == 2


def test_exit_zero_hides_violations_but_not_errors(run_cli, tmp_path):
    project(tmp_path, {"a.py": ROUTE})
    run = run_cli("check", *CHECKLIST, "--exit-zero", cwd=tmp_path)
    assert run.exit_code == 0
    assert "Found 3 errors." in run.stdout
    broken = run_cli("check", "--exit-zero", "--select", "NOPE", cwd=tmp_path)
    assert broken.exit_code == 2
    (tmp_path / "pyproject.toml").write_text("[tool.fastapi-lint]\nbogus = 1\n")
    assert run_cli("check", "--exit-zero", cwd=tmp_path).exit_code == 2


def test_version(run_cli, tmp_path):
    run = run_cli("--version", cwd=tmp_path)
    assert run.exit_code == 0
    assert run.stdout == f"fastapi-lint, version {__version__}\n"


# --- rule, rules ----------------------------------------------------------------------------


def test_rule_prints_the_documentation_page(run_cli):
    run = run_cli("rule", "FAPI201")
    assert run.exit_code == 0
    assert run.stdout.startswith("# blocking-call-in-async-function (FAPI201)\n")
    assert run.stdout == render_page(next(r for r in ALL_RULES if r.code == "FAPI201"))
    assert run_cli("rule", "fapi201").stdout == run.stdout


def test_unknown_rule_is_an_error(run_cli):
    run = run_cli("rule", "NOPE")
    assert run.exit_code == 2
    assert run.stdout == ""
    assert run.stderr == "fastapi-lint: error: unknown rule code `NOPE`\n"


def test_rules_lists_every_code(run_cli):
    run = run_cli("rules")
    assert run.exit_code == 0
    rows = run.stdout.splitlines()[1:]
    assert [row.split()[0] for row in rows] == [rule.code for rule in ALL_RULES]
    assert all(rule.name in run.stdout for rule in ALL_RULES)


def test_rules_as_json(run_cli):
    run = run_cli("rules", "--output-format", "json")
    assert run.exit_code == 0
    rows = json.loads(run.stdout)
    assert [row["code"] for row in rows] == [rule.code for rule in ALL_RULES]
    keys = {"code", "name", "default", "preview", "fixable", "fix_safety", "summary"}
    assert all(set(row) == keys for row in rows)
    for row, rule in zip(rows, ALL_RULES, strict=True):
        assert row == {
            "code": rule.code,
            "name": rule.name,
            "default": rule.default_enabled,
            "preview": rule.preview,
            "fixable": rule.fixable,
            "fix_safety": rule.fix_safety,
            "summary": rule.summary(),
        }
    fapi201 = next(row for row in rows if row["code"] == "FAPI201")
    assert fapi201["name"] == "blocking-call-in-async-function"
    assert fapi201["default"] is True
    assert fapi201["summary"].startswith("Blocking call inside an `async def`")


# --- environment ----------------------------------------------------------------------------


def test_output_format_from_the_environment(run_cli, tmp_path, monkeypatch):
    project(tmp_path, {"a.py": ROUTE})
    monkeypatch.setenv("FASTAPI_LINT_OUTPUT_FORMAT", "json")
    run = run_cli("check", *CHECKLIST, cwd=tmp_path)
    assert run.exit_code == 1
    assert [d["code"] for d in run.diagnostics] == ["FAPI101", "FAPI102", "FAPI401"]
    flag_wins = run_cli("check", *CHECKLIST, "--output-format", "text", cwd=tmp_path)
    assert "\nFound 3 errors.\n" in flag_wins.stdout


# --- the installed entry points, in a real process ------------------------------------------


def _commands() -> list[list[str]]:
    script = shutil.which("fastapi-lint", path=str(Path(sys.executable).parent))
    assert script is not None, "the fastapi-lint script is not installed next to python"
    return [[script], [sys.executable, "-m", "fastapi_lint"]]


@pytest.fixture(params=["script", "module"])
def command(request) -> list[str]:
    return _commands()[0 if request.param == "script" else 1]


def _run(command: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "FASTAPI_LINT_OUTPUT_FORMAT"}
    return subprocess.run(
        [*command, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )


def test_entry_point_reports_violations(command, tmp_path):
    project(tmp_path, {"a.py": ROUTE})
    done = _run(command, "check", *CHECKLIST, ".", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(" ")[:2] for line in lines[:-2]] == [
        ["a.py:3:1:", "FAPI101"],
        ["a.py:3:1:", "FAPI102"],
        ["a.py:3:1:", "FAPI401"],
    ]
    assert lines[-2] == "Found 3 errors."
    assert done.stderr == "Checked 1 route in 1 app.\n"


def test_entry_point_shorthand_and_json(command, tmp_path):
    project(tmp_path, {"a.py": ROUTE})
    done = _run(command, "a.py", *CHECKLIST, "--output-format", "json", cwd=tmp_path)
    assert done.returncode == 1
    assert [d["code"] for d in json.loads(done.stdout)] == ["FAPI101", "FAPI102", "FAPI401"]


def test_entry_point_on_a_clean_file(command, tmp_path):
    project(tmp_path, {"a.py": CLEAN})
    done = _run(command, "a.py", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "All checks passed!\n", ONE_ROUTE)


def test_entry_point_errors_exit_2_without_traceback(command, tmp_path):
    project(tmp_path, {"a.py": ROUTE})
    for args in (["--select", "NOPE"], ["--bogus"], ["rule", "NOPE"]):
        done = _run(command, *args, cwd=tmp_path)
        assert done.returncode == 2, args
        assert "Traceback" not in done.stderr
        assert done.stdout == ""
    (tmp_path / "pyproject.toml").write_text("[tool.fastapi-lint]\nselect = 1\n")
    done = _run(command, "--exit-zero", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "`select` must be a list of strings" in done.stderr


def test_entry_point_version(command, tmp_path):
    done = _run(command, "--version", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"fastapi-lint, version {__version__}\n")

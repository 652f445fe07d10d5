"""Files that are not good Python: each gets a diagnostic (or none), never a traceback.

FAPI001 (invalid-syntax) and FAPI002 (unreadable-file) are the engine's own diagnostics.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROUTE = (
    'from fastapi import FastAPI\napp = FastAPI()\n@app.post("/x")\n'
    "async def add(x: int):\n    return x\n"
)
ROUTE_CODES = ["FAPI101", "FAPI102", "FAPI401"]
# The three are off by default: `check` turns them on.
CHECKLIST = ("--extend-select", ",".join(ROUTE_CODES))


pytestmark = pytest.mark.usefixtures("isolated")

NO_ROUTES = "Checked 0 routes in 0 apps.\n"  # the route count, on stderr


def check(run_cli, *args: str):
    selection = () if "--select" in args else CHECKLIST  # a call's own selection replaces it
    run = run_cli("check", "--output-format", "json", *selection, *args)
    assert "Traceback" not in run.stderr
    assert run.stderr == ""
    return run


def rows(run) -> list[tuple[str, str, int, int]]:
    """(file name, code, row, column) of every diagnostic."""
    return [
        (Path(d["filename"]).name, d["code"], d["location"]["row"], d["location"]["column"])
        for d in run.diagnostics
    ]


# --- syntax errors --------------------------------------------------------------------------


def test_syntax_error_is_one_fapi001_at_the_parsers_position(run_cli, tmp_path):
    (tmp_path / "broken.py").write_text("import fastapi\nx = (1,\n\ny = 2\n")
    (tmp_path / "good.py").write_text(ROUTE)
    run = check(run_cli)
    assert run.exit_code == 1
    assert rows(run) == [("broken.py", "FAPI001", 2, 5)] + [
        ("good.py", code, 3, 1) for code in ROUTE_CODES
    ]
    broken = run.diagnostics[0]
    assert broken["message"] == "SyntaxError: '(' was never closed"
    assert broken["url"] is None
    assert broken["end_location"] == broken["location"]


def test_syntax_error_location_is_the_line_of_the_error_not_the_next_one(run_cli, tmp_path):
    # LibCST's parser gives up on line 3 (column 0); CPython points at the `:` on line 2.
    (tmp_path / "broken.py").write_text("import fastapi\ndef f(:\n    pass\n")
    run = check(run_cli)
    assert rows(run) == [("broken.py", "FAPI001", 2, 7)]
    assert run.diagnostics[0]["message"].startswith("SyntaxError: ")


def test_syntax_error_in_text_output(run_cli, tmp_path):
    (tmp_path / "broken.py").write_text("import fastapi\nx = (1,\n")
    run = run_cli("check")
    assert run.exit_code == 1
    assert run.stdout == (
        "broken.py:2:5: FAPI001 SyntaxError: '(' was never closed\nFound 1 error.\n"
    )


def test_syntax_error_in_a_file_with_a_bom_and_crlf(run_cli, tmp_path):
    (tmp_path / "broken.py").write_bytes(b"\xef\xbb\xbfimport fastapi\r\nx = (1,\r\n")
    assert rows(check(run_cli)) == [("broken.py", "FAPI001", 2, 5)]


def test_null_bytes(run_cli, tmp_path):
    (tmp_path / "nul.py").write_bytes(b"import fastapi\nx = 1\x00\n")
    (tmp_path / "good.py").write_text(ROUTE)
    run = check(run_cli)
    assert run.exit_code == 1
    assert [(name, code) for name, code, _, _ in rows(run)] == [
        ("good.py", code) for code in ROUTE_CODES
    ] + [("nul.py", "FAPI001")]
    assert "null bytes" in run.diagnostics[-1]["message"]


# --- decoding -------------------------------------------------------------------------------


def test_non_utf8_bytes_are_unreadable(run_cli, tmp_path):
    (tmp_path / "binary.py").write_bytes(b"\xff\xfe fastapi\n")
    run = check(run_cli)
    assert run.exit_code == 1
    assert rows(run) == [("binary.py", "FAPI002", 1, 1)]
    assert run.diagnostics[0]["message"].startswith("Cannot decode file:")


def test_latin1_with_a_coding_cookie_parses(run_cli, tmp_path):
    source = "# -*- coding: latin-1 -*-\n" + ROUTE.replace('"/x"', '"/café"')
    (tmp_path / "latin.py").write_bytes(source.encode("latin-1"))
    run = check(run_cli)
    assert rows(run) == [("latin.py", code, 4, 1) for code in ROUTE_CODES]
    assert "POST /café" in run.diagnostics[0]["message"]


def test_latin1_without_a_cookie_is_unreadable(run_cli, tmp_path):
    (tmp_path / "latin.py").write_bytes(ROUTE.replace('"/x"', '"/café"').encode("latin-1"))
    assert rows(check(run_cli)) == [("latin.py", "FAPI002", 1, 1)]


def test_unknown_coding_cookie_is_unreadable(run_cli, tmp_path):
    (tmp_path / "odd.py").write_bytes(b"# -*- coding: klingon -*-\nimport fastapi\n")
    run = check(run_cli)
    assert rows(run) == [("odd.py", "FAPI002", 1, 1)]


# --- unreadable and missing paths -----------------------------------------------------------


def test_broken_symlink_passed_explicitly_is_unreadable(run_cli, tmp_path):
    (tmp_path / "link.py").symlink_to(tmp_path / "nowhere.py")
    (tmp_path / "good.py").write_text(ROUTE)
    run = check(run_cli, "link.py", "good.py")
    assert run.exit_code == 1
    assert ("link.py", "FAPI002", 1, 1) in rows(run)
    assert len(run.diagnostics) == 4  # good.py is still linted


def test_unreadable_file(run_cli, tmp_path):
    path = tmp_path / "secret.py"
    path.write_text(ROUTE)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: chmod 000 does not make a file unreadable")
        run = check(run_cli)
        assert rows(run) == [("secret.py", "FAPI002", 1, 1)]
        assert "Permission denied" in run.diagnostics[0]["message"]
    finally:
        path.chmod(0o644)


def test_a_directory_named_like_a_python_file_is_walked_not_read(run_cli, tmp_path):
    # `x.py/` is a directory, as for ruff: its files are linted, and it is not an error.
    (tmp_path / "x.py").mkdir()
    (tmp_path / "x.py" / "inner.py").write_text(ROUTE)
    run = check(run_cli, "x.py")
    assert rows(run) == [("inner.py", code, 3, 1) for code in ROUTE_CODES]


def test_missing_path_is_fapi002_and_exit_1(run_cli, tmp_path):
    good = ROUTE.replace("post", "get").replace("(x: int):", "(x: int) -> int:")
    (tmp_path / "good.py").write_text(good)
    run = check(run_cli, "good.py", "missing.py")
    assert run.exit_code == 1
    assert [(n, c) for n, c, _, _ in rows(run)] == [
        ("good.py", "FAPI401"),
        ("missing.py", "FAPI002"),
    ]
    assert run.diagnostics[1]["message"] == "Cannot read file: No such file or directory"
    text = run_cli("check", "missing.py")
    assert text.stdout.startswith("missing.py:1:1: FAPI002 Cannot read file")


def test_missing_directory(run_cli, tmp_path):
    run = check(run_cli, "nowhere/")
    assert run.exit_code == 1
    assert [d["code"] for d in run.diagnostics] == ["FAPI002"]


# --- pathological but valid-ish input -------------------------------------------------------


def _run_in_a_process(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    # In a child process: if the parser crashed the interpreter, pytest itself would die.
    (tmp_path / "deep.py").write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "fastapi_lint", "check", "deep.py", "--output-format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("brackets", ["()", "[]", "{}"])
def test_deeply_nested_brackets_do_not_crash(tmp_path, brackets):
    opening, closing = brackets
    done = _run_in_a_process(
        tmp_path, "import fastapi\nx = " + opening * 5000 + closing * 5000 + "\n"
    )
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    [diagnostic] = json.loads(done.stdout)
    assert diagnostic["code"] == "FAPI001"
    assert diagnostic["message"] == "SyntaxError: too many nested parentheses"


def test_brackets_in_strings_do_not_count_as_nesting(run_cli, tmp_path):
    source = ROUTE + 'PATTERN = "' + "(" * 300 + '"\n' + "# " + "[" * 300 + "\n"
    (tmp_path / "a.py").write_text(source)
    run = check(run_cli)
    assert [d["code"] for d in run.diagnostics] == ROUTE_CODES


def test_deep_but_valid_expression_before_a_route(run_cli, tmp_path):
    # Valid for CPython, but too deep for LibCST's recursive code generation (positions).
    source = ROUTE.replace(
        "app = FastAPI()\n", "app = FastAPI()\nx = " + "+".join(["a"] * 1500) + "\n"
    )
    (tmp_path / "a.py").write_text(source)
    run = check(run_cli)
    assert run.exit_code == 1
    assert rows(run) == [("a.py", "FAPI001", 1, 1)]
    assert "nested too deeply" in run.diagnostics[0]["message"]


def test_moderately_nested_code_is_linted(run_cli, tmp_path):
    source = ROUTE + "y = " + "(" * 150 + "1" + ")" * 150 + "\n"
    (tmp_path / "a.py").write_text(source)
    assert [d["code"] for d in check(run_cli).diagnostics] == ROUTE_CODES


# --- empty and trivial files ----------------------------------------------------------------


def test_empty_file(run_cli, tmp_path):
    (tmp_path / "empty.py").write_bytes(b"")
    run = run_cli("check", "empty.py")
    assert (run.exit_code, run.stdout, run.stderr) == (0, "All checks passed!\n", NO_ROUTES)


def test_file_of_only_comments_is_parsed_and_clean(run_cli, tmp_path):
    # The comments hold the trigger words, so the file is parsed; it has nothing to report.
    (tmp_path / "notes.py").write_text("# fastapi\n# async def x(): CORSMiddleware\n")
    run = check(run_cli)
    assert (run.exit_code, run.diagnostics) == (0, [])


def test_file_of_only_whitespace(run_cli, tmp_path):
    (tmp_path / "blank.py").write_text("\n\n   \n\t\n# fastapi\n")
    assert check(run_cli).diagnostics == []


# --- the prefilter --------------------------------------------------------------------------


def test_files_without_trigger_bytes_are_not_parsed(run_cli, tmp_path):
    """The prefilter: a file is parsed only if its bytes contain a trigger of an enabled rule
    (`fastapi` for most rules, `async` for FAPI201, `CORSMiddleware` for FAPI301). A file
    without any is never parsed, so even its syntax errors go unreported."""
    (tmp_path / "plain.py").write_text("x = (\n")
    assert check(run_cli).diagnostics == []
    (tmp_path / "plain.py").write_text("x = (  # fastapi\n")
    assert rows(check(run_cli)) == [("plain.py", "FAPI001", 1, 5)]


@pytest.mark.parametrize(
    ("word", "select", "parsed"),
    [
        ("async", "FAPI201", True),
        ("async", "FAPI1", False),  # only FAPI201 triggers on `async`
        ("CORSMiddleware", "FAPI301", True),
        ("fastapi", "FAPI301", False),  # FAPI301 needs `CORSMiddleware`
        ("fastapi", "FAPI101", True),
    ],
)
def test_prefilter_follows_the_enabled_rules(run_cli, tmp_path, word, select, parsed):
    (tmp_path / "plain.py").write_text(f"x = (  # {word}\n")
    run = check(run_cli, "--select", select)
    assert [d["code"] for d in run.diagnostics] == (["FAPI001"] if parsed else [])

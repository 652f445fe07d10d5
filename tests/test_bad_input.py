"""The bad input matrix: files and paths that are not good Python, each with one precise
outcome (one FAPI00x finding, or one line on stderr), the documented exit code, and every
other file still linted. Never a traceback, never a hang.

FAPI001 (invalid-syntax) and FAPI002 (unreadable-file) are the engine's own diagnostics.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fastapi_lint.config import DEFAULT_MAX_FILE_SIZE

ROUTE = (
    'from fastapi import FastAPI\napp = FastAPI()\n@app.post("/x")\n'
    "async def add(x: int):\n    return x\n"
)
ROUTE_ONLY = ROUTE.split("\n", 2)[2]  # without the import and the app: for files that have them
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
    return rows_of(run.diagnostics)


def rows_of(diagnostics: list[dict]) -> list[tuple[str, str, int, int]]:
    return [
        (Path(d["filename"]).name, d["code"], d["location"]["row"], d["location"]["column"])
        for d in diagnostics
    ]


GOOD_ROWS = [("good.py", code, 3, 1) for code in ROUTE_CODES]  # ROUTE in good.py


def run_process(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`fastapi-lint check --output-format json ...` in a child process: a crash of the
    interpreter, or a read that blocks, fails the test instead of taking pytest with it."""
    return subprocess.run(
        [sys.executable, "-m", "fastapi_lint", "check", "--output-format", "json", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


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


def test_a_bom_is_not_part_of_the_text(run_cli, tmp_path):
    # Positions as without the BOM, and a noqa comment still silences its line.
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbf" + ROUTE.encode())
    (tmp_path / "silenced.py").write_bytes(
        b"\xef\xbb\xbf" + ROUTE.replace('"/x")', '"/x")  # noqa').encode()
    )
    run = check(run_cli)
    assert (run.exit_code, rows(run)) == (1, [("bom.py", code, 3, 1) for code in ROUTE_CODES])


# --- line endings and tabs ------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_line_endings_other_than_lf(run_cli, tmp_path, newline):
    (tmp_path / "a.py").write_bytes(ROUTE.replace("\n", newline).encode())
    noqa = ROUTE.replace('"/x")', '"/x")  # noqa: FAPI101').replace("\n", newline)
    (tmp_path / "b.py").write_bytes(noqa.encode())
    run = check(run_cli)
    assert run.exit_code == 1
    assert rows(run) == [("a.py", code, 3, 1) for code in ROUTE_CODES] + [
        ("b.py", "FAPI102", 3, 1),
        ("b.py", "FAPI401", 3, 1),
    ]
    assert run.diagnostics[0]["end_location"] == {"row": 3, "column": 16}


def test_mixed_line_endings_count_every_break(run_cli, tmp_path):
    # CRLF, a lone CR and LF in one file: each ends a line, as for Python.
    source = (
        "from fastapi import FastAPI\r\napp = FastAPI()\r# noqa\n"
        '@app.post("/x")\r\nasync def add(x: int):\r    return x\n'
    )
    (tmp_path / "mixed.py").write_bytes(source.encode())
    run = check(run_cli)
    assert (run.exit_code, rows(run)) == (1, [("mixed.py", code, 4, 1) for code in ROUTE_CODES])


def test_tab_indentation_counts_a_tab_as_one_column(run_cli, tmp_path):
    source = (
        "import time\nfrom fastapi import FastAPI\napp = FastAPI()\n"
        '@app.get("/x")\nasync def x() -> int:\n\t"""Doc."""\n\ttime.sleep(1)\n\treturn 1\n'
    )
    (tmp_path / "tabs.py").write_text(source)
    run = check(run_cli, "--select", "FAPI201")
    assert (run.exit_code, rows(run)) == (1, [("tabs.py", "FAPI201", 7, 2)])


def test_inconsistent_tabs_and_spaces_are_a_syntax_error(run_cli, tmp_path):
    (tmp_path / "tabs.py").write_text("import fastapi\nif True:\n\tx = 1\n        y = 2\n")
    (tmp_path / "good.py").write_text(ROUTE)
    run = check(run_cli)
    assert run.exit_code == 1
    assert rows(run) == [*GOOD_ROWS, ("tabs.py", "FAPI001", 4, 1)]
    assert run.diagnostics[-1]["message"] == (
        "SyntaxError: inconsistent use of tabs and spaces in indentation"
    )


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
    (tmp_path / "good.py").write_text(ROUTE)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            diagnostics = _check_without_root_privileges(tmp_path)
        else:
            diagnostics = check(run_cli).diagnostics
    finally:
        path.chmod(0o644)
    assert rows_of(diagnostics) == [*GOOD_ROWS, ("secret.py", "FAPI002", 1, 1)]
    assert diagnostics[-1]["message"] == "Cannot read file: Permission denied"


def _check_without_root_privileges(cwd: Path) -> list[dict]:
    """As root, chmod 000 does not stop a read: run the check as root without the
    capabilities that bypass file permissions (`setpriv`), or skip."""
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, and `setpriv` is not there to drop the privileges")
    probe = subprocess.run([*drop, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"running as root, and `setpriv` cannot drop privileges: {probe.stderr!r}")
    command = [sys.executable, "-m", "fastapi_lint", "check", "--no-cache", *CHECKLIST]
    done = subprocess.run(
        [*drop, *command, "--output-format", "json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (1, "")
    return json.loads(done.stdout)


def test_a_directory_named_like_a_python_file_is_walked_not_read(run_cli, tmp_path):
    # `x.py/` is a directory, as for ruff: its files are linted, and it is not an error.
    (tmp_path / "x.py").mkdir()
    (tmp_path / "x.py" / "inner.py").write_text(ROUTE)
    run = check(run_cli, "x.py")
    assert rows(run) == [("inner.py", code, 3, 1) for code in ROUTE_CODES]


def test_symlink_loop_passed_explicitly_is_unreadable(run_cli, tmp_path):
    (tmp_path / "loop.py").symlink_to(tmp_path / "loop.py")
    (tmp_path / "good.py").write_text(ROUTE)
    run = check(run_cli, "loop.py", "good.py")
    assert run.exit_code == 1
    assert rows(run) == [*GOOD_ROWS, ("loop.py", "FAPI002", 1, 1)]
    assert run.diagnostics[-1]["message"] == "Cannot read file: Too many levels of symbolic links"


def test_broken_links_and_loops_found_while_walking_are_passed_over(run_cli, tmp_path):
    # As git passes them over: nothing to lint there, and nothing on stderr.
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "loop.py").symlink_to(tmp_path / "pkg" / "loop.py")
    (tmp_path / "pkg" / "broken.py").symlink_to(tmp_path / "nowhere.py")
    (tmp_path / "pkg" / "cycle").symlink_to(tmp_path / "pkg", target_is_directory=True)
    (tmp_path / "good.py").write_text(ROUTE)
    run = check(run_cli)  # the project index walks the same tree
    assert (run.exit_code, rows(run)) == (1, GOOD_ROWS)


def test_a_directory_named_like_a_python_file_found_while_walking(run_cli, tmp_path):
    (tmp_path / "x.py").mkdir()
    (tmp_path / "x.py" / "good.py").write_text(ROUTE)
    assert rows(check(run_cli)) == GOOD_ROWS


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


# --- named pipes and devices ---------------------------------------------------------------


def test_a_fifo_named_on_the_command_line_is_skipped_with_a_warning(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")  # reading it would block until someone writes
    (tmp_path / "good.py").write_text(ROUTE)
    done = run_process(tmp_path, *CHECKLIST, "pipe.py", "good.py", timeout=60)
    assert done.returncode == 1  # good.py's findings: the FIFO does not change it
    assert rows_of(json.loads(done.stdout)) == GOOD_ROWS
    assert done.stderr == (
        "fastapi-lint: warning: pipe.py: skipped: a named pipe (FIFO), not a regular file\n"
    )


def test_a_device_named_on_the_command_line_is_skipped_with_a_warning(run_cli, tmp_path):
    run = run_cli("check", "/dev/null")
    assert (run.exit_code, run.stdout) == (0, "All checks passed!\n")
    assert run.stderr.splitlines() == [
        "fastapi-lint: warning: /dev/null: skipped: a character device, not a regular file",
        NO_ROUTES.strip(),
    ]


def test_fifos_found_while_walking_are_passed_over_silently(tmp_path):
    (tmp_path / "pkg").mkdir()
    os.mkfifo(tmp_path / "pkg" / "pipe.py")
    (tmp_path / "pkg" / "link.py").symlink_to(tmp_path / "pkg" / "pipe.py")
    (tmp_path / "good.py").write_text(ROUTE)
    done = run_process(tmp_path, *CHECKLIST, timeout=60)
    assert (done.returncode, done.stderr) == (1, "")
    assert rows_of(json.loads(done.stdout)) == GOOD_ROWS


# --- the size limit -------------------------------------------------------------------------

# What the engine says of a file above `max-file-size`, after the file's size in MB.
TOO_LARGE = ", above `max-file-size` ({limit:,} bytes): a syntax tree takes hundreds of times "
TOO_LARGE += "the size of its source"


def test_default_size_limit_keeps_hand_written_files_and_skips_generated_ones():
    # The largest file of the pinned corpus is 395 KB (fastapi's own tests); a LibCST tree
    # costs 350 to 500 times its source, so 1 MiB costs about half a gigabyte.
    assert DEFAULT_MAX_FILE_SIZE == 1024 * 1024


def test_a_generated_10_mb_file_is_reported_not_parsed(tmp_path):
    # Parsing it would take minutes and gigabytes: the run takes seconds.
    lines = "".join(f"ROW_{n} = {{'id': {n}, 'name': 'row {n}'}}\n" for n in range(250_000))
    (tmp_path / "generated.py").write_text("from fastapi import FastAPI\n" + lines)
    size = (tmp_path / "generated.py").stat().st_size
    assert size > 10 * 1024 * 1024
    (tmp_path / "good.py").write_text(ROUTE)
    done = run_process(tmp_path, *CHECKLIST, "--no-cache", timeout=60)
    assert (done.returncode, done.stderr) == (1, "")
    diagnostics = json.loads(done.stdout)
    assert rows_of(diagnostics) == [("generated.py", "FAPI002", 1, 1), *GOOD_ROWS]
    limit = DEFAULT_MAX_FILE_SIZE
    expected = f"File too large to lint: {size / 1024 / 1024:.1f} MB" + TOO_LARGE.format(
        limit=limit
    )
    assert diagnostics[0]["message"] == expected


def test_max_file_size_option(run_cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text(f"[tool.fastapi-lint]\nmax-file-size = {len(ROUTE)}\n")
    (tmp_path / "good.py").write_text(ROUTE)  # at the limit: linted
    (tmp_path / "large.py").write_text(ROUTE + "\n")  # one byte above
    run = check(run_cli)
    assert run.exit_code == 1
    assert rows(run) == [*GOOD_ROWS, ("large.py", "FAPI002", 1, 1)]
    assert run.diagnostics[-1]["message"] == (
        "File too large to lint: 0.0 MB" + TOO_LARGE.format(limit=len(ROUTE))
    )
    described = json.loads(run_cli("config", "--output-format", "json").stdout)
    assert described["max-file-size"] == {
        "value": len(ROUTE),
        "source": str(tmp_path / "pyproject.toml"),
    }


def test_files_the_prefilter_skips_are_never_too_large(run_cli, tmp_path):
    # Like their syntax errors, their size does not matter: they are not parsed anyway.
    (tmp_path / "pyproject.toml").write_text("[tool.fastapi-lint]\nmax-file-size = 10\n")
    (tmp_path / "plain.py").write_text("x = 1\n" * 10)
    run = check(run_cli)
    assert (run.exit_code, run.diagnostics) == (0, [])


def test_the_size_limit_is_part_of_the_cache_key(run_cli, tmp_path):
    (tmp_path / "good.py").write_text(ROUTE)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.fastapi-lint]\n")
    assert rows(check(run_cli)) == GOOD_ROWS
    pyproject.write_text("[tool.fastapi-lint]\nmax-file-size = 10\n")
    assert rows(check(run_cli)) == [("good.py", "FAPI002", 1, 1)]
    pyproject.write_text("[tool.fastapi-lint]\n")
    assert rows(check(run_cli)) == GOOD_ROWS


@pytest.mark.parametrize("value", ["0", "-1", '"1MB"', "1.5", "true"])
def test_max_file_size_must_be_a_positive_number_of_bytes(run_cli, tmp_path, value):
    (tmp_path / "pyproject.toml").write_text(f"[tool.fastapi-lint]\nmax-file-size = {value}\n")
    (tmp_path / "good.py").write_text(ROUTE)
    run = run_cli("check")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"fastapi-lint: error: {tmp_path / 'pyproject.toml'}: `max-file-size` must be a "
        "positive number of bytes\n"
    )


# --- pathological but valid-ish input -------------------------------------------------------


DEEP = 1000
TOO_MANY_PARENTHESES = "SyntaxError: too many nested parentheses"
TOO_DEEP_FOR_LIBCST = "Cannot analyse file: code nested too deeply"


@pytest.mark.parametrize("brackets", ["()", "[]", "{}"])
def test_deeply_nested_brackets_do_not_crash(tmp_path, brackets):
    opening, closing = brackets
    (tmp_path / "deep.py").write_text("import fastapi\nx = " + opening * 5000 + closing * 5000)
    done = run_process(tmp_path, "deep.py", timeout=300)
    assert (done.returncode, done.stderr) == (1, "")
    [diagnostic] = json.loads(done.stdout)
    assert diagnostic["code"] == "FAPI001"
    assert diagnostic["message"] == TOO_MANY_PARENTHESES


# 1,000-deep expressions of every kind, and what each gets: CPython's own limit (200 nested
# brackets, 100 indentation levels) where it has one, else the engine's (LibCST recurses once
# per level), or a clean check when LibCST keeps the construct flat.
NESTED = {
    "parentheses": ("x = " + "(" * DEEP + "1" + ")" * DEEP, (3, 205), TOO_MANY_PARENTHESES),
    "calls": ("x = " + "f(" * DEEP + ")" * DEEP, (3, 406), TOO_MANY_PARENTHESES),
    "lists": ("x = " + "[" * DEEP + "]" * DEEP, (3, 205), TOO_MANY_PARENTHESES),
    "dicts": ("x = " + "{1: " * DEEP + "1" + "}" * DEEP, (3, 805), TOO_MANY_PARENTHESES),
    "sums": ("x = " + "+".join(["a"] * DEEP), (1, 1), TOO_DEEP_FOR_LIBCST),
    "powers": ("x = " + "**".join(["2"] * DEEP), (1, 1), TOO_DEEP_FOR_LIBCST),
    "unary": ("x = " + "-" * DEEP + "1", (1, 1), TOO_DEEP_FOR_LIBCST),
    "nots": ("x = " + "not " * DEEP + "a", (1, 1), TOO_DEEP_FOR_LIBCST),
    "attributes": ("x = a" + ".b" * DEEP, (1, 1), TOO_DEEP_FOR_LIBCST),
    "subscripts": ("x = a" + "[0]" * DEEP, (1, 1), TOO_DEEP_FOR_LIBCST),
    "call_chain": ("x = a" + "()" * DEEP, (1, 1), TOO_DEEP_FOR_LIBCST),
    "conditionals": ("x = " + "1 if a else " * DEEP + "2", (1, 1), TOO_DEEP_FOR_LIBCST),
    "lambdas": ("x = " + "lambda: " * DEEP + "1", (1, 1), TOO_DEEP_FOR_LIBCST),
    "and": ("x = " + " and ".join(["a"] * DEEP), (1, 1), TOO_DEEP_FOR_LIBCST),
    "strings": ("x = " + " ".join(['"a"'] * DEEP), (1, 1), TOO_DEEP_FOR_LIBCST),
    "comparisons": ("x = " + " < ".join(["a"] * DEEP), None, None),
    "blocks": (
        "".join(" " * level + "if a:\n" for level in range(DEEP)) + " " * DEEP + "pass",
        (103, 1),
        "SyntaxError: too many levels of indentation",
    ),
}


def test_thousand_deep_expressions(tmp_path):
    header = "from fastapi import FastAPI\napp = FastAPI()\n"
    for name, (code, _, _) in NESTED.items():
        (tmp_path / f"{name}.py").write_text(header + code + "\n" + ROUTE_ONLY)
    (tmp_path / "good.py").write_text(ROUTE)
    done = run_process(tmp_path, *CHECKLIST, "--no-cache", "--jobs", "1", timeout=300)
    assert (done.returncode, done.stderr) == (1, "")
    by_file: dict[str, list[dict]] = {}
    for diagnostic in json.loads(done.stdout):
        by_file.setdefault(Path(diagnostic["filename"]).stem, []).append(diagnostic)
    assert rows_of(by_file.pop("good")) == GOOD_ROWS
    for name, (_, position, message) in NESTED.items():
        found = [
            (d["code"], d["location"]["row"], d["location"]["column"], d["message"])
            for d in by_file[name]
        ]
        if message is None:  # linted like any file: the route after it is checked
            assert [row[:3] for row in found] == [(c, 4, 1) for c in ROUTE_CODES], name
        else:
            assert found == [("FAPI001", *position, message)], name


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


# --- newer Python ---------------------------------------------------------------------------

# Syntax of Python 3.12 to 3.15, which this interpreter (3.11 or later) may not parse: LibCST
# does, so each file is linted like any other (the route after the construct is reported).
NEWER_SYNTAX = {
    "type_parameters": "def first[T](items: list[T]) -> T:\n    return items[0]\nclass Box[T]: ...",
    "type_statement": "type Pair[T] = tuple[T, T]",
    "type_parameter_defaults": "def f[T = int](x: T) -> T:\n    return x",
    "match": (
        "match command:\n    case {'go': [x, *rest]} if rest:\n        pass\n"
        "    case Point(x=0) | Point(y=0):\n        pass\n    case _:\n        pass"
    ),
    "nested_fstring_quotes": 'greeting = f"{"-".join(["a", "b"])}"',
    "fstring_comment": 'total = f"{1 +  # a comment in the braces\n  2}"',
    "except_without_parentheses": "try:\n    pass\nexcept ValueError, TypeError:\n    pass",
    "except_star_without_parentheses": "try:\n    pass\nexcept* ValueError, TypeError:\n    pass",
    "template_string": 'name = "world"\ngreeting = t"hello {name!r:>{10}}"',
    "lazy_import": "lazy import json\nlazy from os import path",  # 3.15, PEP 810
}


@pytest.mark.parametrize("construct", sorted(NEWER_SYNTAX))
def test_newer_syntax_is_linted(run_cli, tmp_path, construct):
    code = NEWER_SYNTAX[construct]
    header = "from fastapi import FastAPI\napp = FastAPI()\n"
    (tmp_path / "newer.py").write_text(header + code + "\n" + ROUTE_ONLY)
    (tmp_path / "good.py").write_text(ROUTE)
    run = check(run_cli)
    route_line = 4 + code.count("\n")
    assert run.exit_code == 1
    assert rows(run) == GOOD_ROWS + [("newer.py", c, route_line, 1) for c in ROUTE_CODES]


# --- a bad configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[tool.fastapi-lint\n", "invalid TOML: Expected ']' at the end of a table declaration"),
        ("[tool.fastapi-lint]\nbogus = 1\n", "unknown key `bogus` in [tool.fastapi-lint]"),
        ('[tool.fastapi-lint]\nselect = ["FAPI999"]\n', "`select`: unknown rule selector"),
        ("[tool.fastapi-lint.rules.FAPI999]\n", "[tool.fastapi-lint.rules]: unknown rule code"),
        ('[tool.fastapi-lint]\nfix = "yes"\n', "`fix` must be true or false"),
        ('[tool.fastapi-lint]\nexclude = "build"\n', "`exclude` must be a list of strings"),
    ],
    ids=["invalid-toml", "unknown-key", "unknown-code", "unknown-rule-table", "bool", "list"],
)
def test_a_bad_pyproject_is_one_line_and_exit_2(run_cli, tmp_path, text, error):
    (tmp_path / "pyproject.toml").write_text(text)
    (tmp_path / "good.py").write_text(ROUTE)
    run = run_cli("check")
    assert (run.exit_code, run.stdout) == (2, "")
    [line] = run.stderr.splitlines()
    assert line.startswith(f"fastapi-lint: error: {tmp_path / 'pyproject.toml'}")
    assert error in line


def test_a_bad_value_is_reported_even_when_a_flag_overrides_it(run_cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-lint]\npreview = "evil.py"\n')
    (tmp_path / "good.py").write_text(ROUTE)
    run = run_cli("check", "--preview")
    assert (run.exit_code, run.stdout) == (2, "")
    assert "`preview` must be true or false" in run.stderr


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

"""`--add-noqa`: a `  # noqa: CODE` at the end of the first line of every current finding."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from fastapi_lint.noqa import add_noqa

HEADER = "from fastapi import FastAPI, HTTPException\n\napp = FastAPI()\n\n\n"
# FAPI101, FAPI102 and FAPI401 on the decorator (line 6).
ROUTE = HEADER + '@app.post("/x"){comment}\nasync def add(x: int):\n    return x\n'
ROUTE_CODES = "FAPI101, FAPI102, FAPI401"
# The three are off by default: the runs here turn them on.
CHECKLIST = ("--extend-select", "FAPI101,FAPI102,FAPI401")
# FAPI105 on the `return` line (line 9).
RETURNED = (
    HEADER
    + '@app.get("/y")\nasync def y() -> dict:\n    """Doc."""\n    return HTTPException(404)\n'
)


pytestmark = pytest.mark.usefixtures("isolated")


def add(run_cli, *args: str, expected_exit: int = 0):
    selection = () if "--select" in args else CHECKLIST  # a call's own selection replaces it
    run = run_cli("check", "--add-noqa", *selection, *args)
    assert "Traceback" not in run.stderr
    assert run.exit_code == expected_exit, run.stderr
    assert run.stdout == ""
    return run


def write(name: str, text: str) -> Path:
    path = Path(name)
    path.write_text(text)
    return path


def test_adds_a_directive_then_check_is_clean_and_a_second_run_adds_nothing(run_cli):
    path = write("a.py", ROUTE.format(comment=""))
    run = add(run_cli, "a.py")
    assert run.stderr == "Added 1 noqa directive.\n"
    assert path.read_text() == ROUTE.format(comment=f"  # noqa: {ROUTE_CODES}")
    assert run_cli("check", *CHECKLIST, "a.py").exit_code == 0
    again = add(run_cli, "a.py")
    assert again.stderr == "Added 0 noqa directives.\n"
    assert path.read_text() == ROUTE.format(comment=f"  # noqa: {ROUTE_CODES}")


def test_counts_directives_across_files(run_cli):
    write("a.py", ROUTE.format(comment="") + RETURNED.removeprefix(HEADER))
    write("b.py", RETURNED)
    write("clean.py", "print('no findings')\n")
    before = os.stat("clean.py").st_mtime_ns
    run = add(run_cli, ".")
    assert run.stderr == "Added 3 noqa directives.\n"
    assert "    return HTTPException(404)  # noqa: FAPI105\n" in Path("b.py").read_text()
    assert os.stat("clean.py").st_mtime_ns == before
    assert run_cli("check", *CHECKLIST, ".").exit_code == 0


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("  # noqa: E501", f"  # noqa: E501, {ROUTE_CODES}"),
        ("  # noqa:E501,F401", f"  # noqa:E501, F401, {ROUTE_CODES}"),
        ("  # noqa: FAPI101", "  # noqa: FAPI101, FAPI102, FAPI401"),
        ("  # noqa: fapi101 -- legacy", "  # noqa: fapi101, FAPI102, FAPI401 -- legacy"),
        ("  # the route", f"  # the route  # noqa: {ROUTE_CODES}"),
        ("  # type: ignore  # noqa: E501", f"  # type: ignore  # noqa: E501, {ROUTE_CODES}"),
        ("   ", f"  # noqa: {ROUTE_CODES}"),  # trailing blanks are not kept before it
    ],
)
def test_merges_into_an_existing_comment(run_cli, comment, expected):
    path = write("a.py", ROUTE.format(comment=comment))
    assert add(run_cli, "a.py").stderr == "Added 1 noqa directive.\n"
    assert path.read_text() == ROUTE.format(comment=expected)
    assert run_cli("check", *CHECKLIST, "a.py").exit_code == 0


@pytest.mark.parametrize(
    "statement",
    [
        '    return HTTPException(404, detail="""Not\n    found""")\n',  # multi-line string
        "    return \\\n        HTTPException(404)\n",  # backslash continuation
    ],
    ids=["multi-line-string", "continuation"],
)
def test_skips_lines_that_cannot_take_a_comment(run_cli, statement):
    source = RETURNED.replace("    return HTTPException(404)\n", statement)
    path = write("a.py", source)
    run = add(run_cli, "a.py")
    assert run.stderr == (
        "Added 0 noqa directives.\n"
        "Skipped 1 finding whose line ends inside a multi-line string or with a backslash "
        "continuation: no comment can go there.\n"
    )
    assert path.read_text() == source
    assert compile(path.read_text(), "a.py", "exec")


def test_a_comment_inside_brackets_is_fine(run_cli):
    source = HEADER + '@app.post(\n    "/x",\n)\nasync def add(x: int):\n    return x\n'
    path = write("a.py", source)
    add(run_cli, "a.py")
    assert path.read_text() == source.replace(
        "@app.post(\n", f"@app.post(  # noqa: {ROUTE_CODES}\n"
    )
    assert run_cli("check", *CHECKLIST, "a.py").exit_code == 0


def test_keeps_line_endings_encoding_and_mode(run_cli):
    path = Path("a.py")
    source = "# -*- coding: latin-1 -*-\n# Caf\u00e9\n" + ROUTE.format(comment="")
    path.write_bytes(source.replace("\n", "\r\n").encode("latin-1"))
    path.chmod(0o640)
    add(run_cli, "a.py")
    expected = source.replace('@app.post("/x")', f'@app.post("/x")  # noqa: {ROUTE_CODES}')
    assert path.read_bytes() == expected.replace("\n", "\r\n").encode("latin-1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(os.listdir()) == ["a.py"]


def test_respects_the_selection_and_existing_suppressions(run_cli):
    path = write("a.py", "# fastapi-lint: noqa: FAPI401\n" + ROUTE.format(comment=""))
    add(run_cli, "--select", "FAPI101,FAPI401", "a.py")
    assert '@app.post("/x")  # noqa: FAPI101\n' in path.read_text()


def test_unused_noqa_and_syntax_errors_get_no_directive(run_cli):
    unused = write("a.py", HEADER + "x = 1  # noqa: FAPI999\n")
    broken = write("b.py", "import fastapi\nx = (\n")
    run = add(run_cli, ".")
    assert run.stderr == "Added 0 noqa directives.\n"
    assert unused.read_text() == HEADER + "x = 1  # noqa: FAPI999\n"
    assert broken.read_text() == "import fastapi\nx = (\n"


def test_ignores_the_baseline(run_cli):
    path = write("a.py", ROUTE.format(comment=""))
    assert run_cli("check", *CHECKLIST, "--write-baseline", "baseline.json", "a.py").exit_code == 0
    add(run_cli, "--baseline", "baseline.json", "a.py")
    assert path.read_text() == ROUTE.format(comment=f"  # noqa: {ROUTE_CODES}")


@pytest.mark.parametrize("flag", ["--fix", "--diff", "--fix-only"])
def test_is_a_run_of_its_own(run_cli, flag):
    path = write("a.py", RETURNED)
    run = run_cli("check", "--add-noqa", flag, "a.py")
    assert run.exit_code == 2
    assert run.stderr == f"fastapi-lint: error: `--add-noqa` cannot be combined with `{flag}`\n"
    assert path.read_text() == RETURNED


def test_a_file_changed_meanwhile_is_not_overwritten(run_cli, monkeypatch):
    from fastapi_lint import noqa

    path = write("a.py", RETURNED)
    real = noqa.add_noqa

    def edit_then_add(text, by_line):
        path.write_text(RETURNED + "# edited meanwhile\n")
        return real(text, by_line)

    monkeypatch.setattr(noqa, "add_noqa", edit_then_add)
    run = run_cli("check", "--add-noqa", "a.py")
    assert run.exit_code == 2
    assert "a.py: no noqa added: " in run.stderr
    assert "changed while it was being fixed" in run.stderr
    assert path.read_text() == RETURNED + "# edited meanwhile\n"


def test_add_noqa_on_text():
    text = "a = 1\nb = 2\r\nc = (\n    3,\n)\nlast = 4"
    fixed, outcome = add_noqa(text, {1: ["FAPI2", "FAPI1"], 2: ["FAPI3"], 3: ["FAPI4"], 6: ["X1"]})
    assert fixed == (
        "a = 1  # noqa: FAPI1, FAPI2\nb = 2  # noqa: FAPI3\r\nc = (  # noqa: FAPI4\n    3,\n)\n"
        "last = 4  # noqa: X1"
    )
    assert (outcome.added, outcome.skipped) == (4, 0)
    assert add_noqa(text, {}) == (text, outcome.__class__())

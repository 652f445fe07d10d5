"""`# noqa` comments on the reported line, and `# fastapi-lint: noqa` for a whole file."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastapi_lint.suppression import Suppressions

HEADER = "from fastapi import FastAPI\napp = FastAPI()\n"
# A route reported (FAPI101, FAPI102, FAPI401) at its decorator, line 3 of ROUTE.
DECORATOR = '@app.post("/x")'
ROUTE = HEADER + DECORATOR + "\nasync def add(x: int):\n    return x\n"
ROUTE_CODES = ["FAPI101", "FAPI102", "FAPI401"]
# The three are off by default: every run here turns them on.
CHECKLIST = ("--extend-select", ",".join(ROUTE_CODES))


pytestmark = pytest.mark.usefixtures("isolated")


def lint(run_cli, tmp_path: Path, source: str, name: str = "a.py") -> list[tuple[int, str]]:
    (tmp_path / name).write_text(source)
    run = run_cli("check", *CHECKLIST, name, "--output-format", "json")
    assert "Traceback" not in run.stderr
    assert run.exit_code == (1 if run.diagnostics else 0)
    return [(d["location"]["row"], d["code"]) for d in run.diagnostics]


def with_comment(comment: str) -> str:
    return ROUTE.replace(DECORATOR, f"{DECORATOR}  {comment}")


def test_without_a_comment_everything_is_reported(run_cli, tmp_path):
    assert lint(run_cli, tmp_path, ROUTE) == [(3, code) for code in ROUTE_CODES]


def test_noqa_with_a_code_silences_only_that_code(run_cli, tmp_path):
    assert lint(run_cli, tmp_path, with_comment("# noqa: FAPI101")) == [
        (3, "FAPI102"),
        (3, "FAPI401"),
    ]


def test_noqa_for_one_code_does_not_silence_another(run_cli, tmp_path):
    found = lint(run_cli, tmp_path, with_comment("# noqa: FAPI101"))
    assert (3, "FAPI401") in found
    assert (3, "FAPI101") not in found


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa: FAPI101, FAPI102",
        "# noqa: FAPI101,FAPI102",
        "# noqa: FAPI101 FAPI102",
        "# noqa:FAPI101 ,  FAPI102",
        "#noqa: FAPI102, FAPI101",
    ],
)
def test_several_codes(run_cli, tmp_path, comment):
    assert lint(run_cli, tmp_path, with_comment(comment)) == [(3, "FAPI401")]


@pytest.mark.parametrize("comment", ["# NOQA:fapi101", "# NoQa: Fapi101", "# noqa:FAPI101"])
def test_case_insensitive(run_cli, tmp_path, comment):
    assert lint(run_cli, tmp_path, with_comment(comment)) == [(3, "FAPI102"), (3, "FAPI401")]


@pytest.mark.parametrize("comment", ["# noqa", "# NOQA", "#noqa", "# noqa  -- reviewed"])
def test_blanket_noqa_silences_the_line(run_cli, tmp_path, comment):
    source = with_comment(comment) + '@app.post("/y")\nasync def add_y(y):\n    return y\n'
    assert lint(run_cli, tmp_path, source) == [(6, code) for code in ROUTE_CODES]


def test_noqa_with_other_tools_codes_silences_nothing(run_cli, tmp_path):
    found = lint(run_cli, tmp_path, with_comment("# noqa: E501, B008"))
    assert found == [(3, code) for code in ROUTE_CODES]


@pytest.mark.parametrize(
    "source",
    [
        HEADER + "# noqa\n" + DECORATOR + "\nasync def add(x):\n    return x\n",  # the line above
        HEADER + DECORATOR + "\nasync def add(x: int):  # noqa\n    return x\n",  # the def line
        HEADER + DECORATOR + "\nasync def add(x: int):\n    return x  # noqa\n",  # the body
    ],
    ids=["line-above", "def-line", "body"],
)
def test_noqa_on_another_line_does_not_silence(run_cli, tmp_path, source):
    line = source.splitlines().index(DECORATOR) + 1
    assert lint(run_cli, tmp_path, source) == [(line, code) for code in ROUTE_CODES]


def test_noqa_applies_to_the_first_line_of_a_multiline_decorator(run_cli, tmp_path):
    first = HEADER + '@app.post(  # noqa: FAPI101\n    "/x",\n)\nasync def add(x):\n    return x\n'
    assert lint(run_cli, tmp_path, first) == [(3, "FAPI102"), (3, "FAPI401")]
    last = HEADER + '@app.post(\n    "/x",\n)  # noqa: FAPI101\nasync def add(x):\n    return x\n'
    # Not on the reported line: nothing is silenced, and the stale directive is itself reported.
    assert lint(run_cli, tmp_path, last) == [(3, code) for code in ROUTE_CODES] + [(5, "FAPI003")]


def test_noqa_codes_do_not_continue_on_the_next_line(run_cli, tmp_path):
    # The next line starts with something that looks like a code; it is not part of the noqa.
    source = (
        HEADER
        + "async def add(x: int):\n    return x\n"
        + 'app.add_api_route("/x", add, methods=["POST"])  # noqa: FAPI101\n'
        + 'fapi102_note = "set later"\n'
    )
    assert lint(run_cli, tmp_path, source) == [(5, "FAPI102"), (5, "FAPI401")]


def test_noqa_does_not_leak_between_routes(run_cli, tmp_path):
    source = with_comment("# noqa: FAPI101") + '@app.post("/y")\nasync def add(y):\n    return y\n'
    assert lint(run_cli, tmp_path, source) == [
        (3, "FAPI102"),
        (3, "FAPI401"),
        (6, "FAPI101"),
        (6, "FAPI102"),
        (6, "FAPI401"),
    ]


# --- file level -----------------------------------------------------------------------------


TWO_ROUTES = ROUTE + '@app.post("/y")\nasync def add_y(y):\n    return y\n'


@pytest.mark.parametrize(
    "directive", ["# fastapi-lint: noqa", "# FASTAPI-LINT: NOQA", "#fastapi-lint:noqa"]
)
def test_file_level_noqa_silences_the_file(run_cli, tmp_path, directive):
    assert lint(run_cli, tmp_path, directive + "\n" + TWO_ROUTES) == []
    assert lint(run_cli, tmp_path, TWO_ROUTES + directive + "\n") == []  # anywhere in the file
    # Only that file.
    (tmp_path / "other.py").write_text(ROUTE)
    run = run_cli("check", *CHECKLIST, "--output-format", "json")
    assert {Path(d["filename"]).name for d in run.diagnostics} == {"other.py"}


def test_file_level_noqa_with_codes_silences_only_those(run_cli, tmp_path):
    found = lint(run_cli, tmp_path, "# fastapi-lint: noqa: FAPI401\n" + TWO_ROUTES)
    assert found == [(4, "FAPI101"), (4, "FAPI102"), (7, "FAPI101"), (7, "FAPI102")]
    found = lint(run_cli, tmp_path, "# fastapi-lint: noqa: FAPI401, FAPI101\n" + TWO_ROUTES)
    assert found == [(4, "FAPI102"), (7, "FAPI102")]


def test_file_level_and_line_level_together(run_cli, tmp_path):
    source = "# fastapi-lint: noqa: FAPI401\n" + with_comment("# noqa: FAPI101")
    assert lint(run_cli, tmp_path, source) == [(4, "FAPI102")]


# --- only comments are directives -----------------------------------------------------------


@pytest.mark.parametrize(
    "decorator",
    [
        '@app.post("/x#noqa")',
        '@app.post("/x", tags=["# noqa: FAPI101, FAPI102, FAPI401"])',
        "@app.post('/x', tags=['''# noqa'''])",
        '@app.post("/x", tags=[f"{1} # noqa"])',
    ],
    ids=["path", "codes", "triple-quoted", "f-string"],
)
def test_noqa_inside_a_string_is_not_a_directive(run_cli, tmp_path, decorator):
    source = ROUTE.replace(DECORATOR, decorator)
    assert lint(run_cli, tmp_path, source) == [(3, code) for code in ROUTE_CODES]
    # A real one after the string still is.
    assert lint(run_cli, tmp_path, source.replace(decorator, decorator + "  # noqa")) == []


def test_noqa_at_the_end_of_a_multiline_string_is_not_a_directive(run_cli, tmp_path):
    # The string ends on the reported line (the route's), with what looks like a directive.
    source = (
        HEADER
        + "async def add(x: int):\n    return x\n"
        + 'DOC = """Added by:\n# noqa"""; app.add_api_route("/x", add, methods=["POST"])\n'
    )
    assert lint(run_cli, tmp_path, source) == [(6, code) for code in ROUTE_CODES]


def test_file_level_noqa_inside_a_docstring_is_not_a_directive(run_cli, tmp_path):
    # A module that documents the directive in its docstring is not silenced by it.
    docstring = '"""Helpers.\n\nSilence a file with:\n\n    # fastapi-lint: noqa\n"""\n'
    assert lint(run_cli, tmp_path, docstring + ROUTE) == [(9, code) for code in ROUTE_CODES]


def test_a_string_that_looks_like_a_directive_is_not_reported_unused(run_cli, tmp_path):
    source = ROUTE.replace(
        DECORATOR, 'NOTE = "# noqa: FAPI999"\n' + DECORATOR + "  # noqa: FAPI101"
    )
    (tmp_path / "a.py").write_text(source)
    run = run_cli("check", *CHECKLIST, "--extend-select", "FAPI003", "--output-format", "json")
    assert [(d["location"]["row"], d["code"]) for d in run.diagnostics] == [
        (4, "FAPI102"),
        (4, "FAPI401"),
    ]


def test_directives_are_read_from_comment_tokens():
    text = (
        'x = "# noqa"  # noqa: FAPI101\ny = """\n# noqa\n"""  # NOQA\n# fastapi-lint: noqa: FAPI2\n'
    )
    suppressions = Suppressions.scan(text)
    assert [(d.line, d.column, d.end_column, d.codes) for d in suppressions.directives] == [
        (1, 15, 30, ("FAPI101",)),
        (4, 6, 12, None),
    ]
    assert suppressions.file_wide == frozenset({"FAPI2"})


def test_text_the_tokenizer_rejects_keeps_its_directives():
    # Should the tokenizer fail, every `#` starts a comment, as before directives were
    # tokenized: a directive is never lost.
    suppressions = Suppressions.scan("x = 1  # noqa: FAPI101\ny = (\n")
    assert [(d.line, d.column, d.codes) for d in suppressions.directives] == [
        (1, 8, ("FAPI101",)),
    ]


# --- what cannot be silenced ----------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "import fastapi\nx = (1,  # noqa\n",
        "import fastapi\nx = (1,  # noqa: FAPI001\n",
        "# fastapi-lint: noqa\nimport fastapi\nx = (1,\n",
        "# fastapi-lint: noqa: FAPI001\nimport fastapi\nx = (1,  # noqa: FAPI001\n",
    ],
)
def test_invalid_syntax_cannot_be_silenced(run_cli, tmp_path, source):
    found = lint(run_cli, tmp_path, source)
    assert [code for _, code in found] == ["FAPI001"]

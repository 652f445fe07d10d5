"""The fix engine end to end: expected outputs, CLI flags and exit codes, JSON edits, and the
safety of writing files (modes, line endings, encodings, concurrent changes); fixes that break
the code and killed runs: `test_fix_safety.py`.

Expected outputs: `tests/fixtures/X.fixed.py` is `X.py` after
`fastapi-lint check --fix --unsafe-fixes --select CODE` (with the fixture's `# option:` lines).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import libcst as cst
import pytest

from fastapi_lint.engine import Engine
from fastapi_lint.fixes import FileChangedError, apply_fixes, write_atomically
from fastapi_lint.rules import ALL_RULES
from fastapi_lint.semantic import ProjectModules

from .conftest import FIXTURES

ROOT = Path(__file__).parents[1]
EXPECTED = sorted(FIXTURES.glob("*.fixed.py"))
SAFE_RULES = {"FAPI105", "FAPI501", "FAPI601"}
UNSAFE_RULES = {"FAPI102", "FAPI201"}
FIX_FIXTURES = ["FAPI102_fix", "FAPI105_fix", "FAPI201_fix", "FAPI501_fix"]
_OPTION = re.compile(r"^#\s*option:\s*(?P<toml>.+)$", re.MULTILINE)

# FAPI102 (unsafe fix), FAPI201 (unsafe fix) and FAPI105 (safe fix) in one route.
MIXED = '''import time

from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.post("/x")
async def create_x() -> dict:
    """Doc."""
    time.sleep(1)
    return HTTPException(404)
'''
MIXED_SELECT = ("--select", "FAPI102,FAPI105,FAPI201")
# One safe fix (FAPI105) and nothing else.
SAFE = '''from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.get("/x")
async def x() -> dict:
    """Doc."""
    return HTTPException(404)
'''
SAFE_FIXED = SAFE.replace("return HTTPException", "raise HTTPException")


pytestmark = pytest.mark.usefixtures("isolated")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def parses(text: str) -> bool:
    try:
        compile(text, "<fixed>", "exec", dont_inherit=True)
    except SyntaxError:
        return False
    return True


def _source(expected: Path) -> Path:
    return expected.with_name(expected.name.removesuffix(".fixed.py") + ".py")


def _code(path: Path) -> str:
    return path.name[:7]


def _config(source: Path, tmp_path: Path) -> list[str]:
    options = _OPTION.findall(source.read_text())
    if not options:
        return []
    config = tmp_path / "fixture-config.toml"
    config.write_text(f"[rules.{_code(source)}]\n" + "\n".join(options) + "\n")
    return ["--config", str(config)]


def _fix(run_cli, path: Path, *flags: str, config: Sequence[str] = ()):
    run = run_cli("check", "--preview", "--select", _code(path), *flags, *config, str(path))
    assert "Traceback" not in run.stderr
    assert run.exit_code in (0, 1), run.stderr
    assert run.stderr == ""
    return run


# --- 1. expected outputs ------------------------------------------------------------------


def test_every_fixable_rule_has_an_expected_output():
    fixable = {rule.code for rule in ALL_RULES if rule.fixable}
    assert fixable >= {"FAPI102", "FAPI105", "FAPI201", "FAPI501"}
    assert fixable <= {_code(path) for path in EXPECTED}
    for name in FIX_FIXTURES:
        assert (FIXTURES / f"{name}.fixed.py").is_file(), name


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda p: p.name)
def test_fix_gives_the_expected_output_and_is_idempotent(expected, run_cli, tmp_path):
    source = _source(expected)
    assert source.is_file(), f"{expected.name} has no {source.name}"
    assert parses(expected.read_text())
    ast.parse(expected.read_text())
    copy = tmp_path / "work" / source.name
    copy.parent.mkdir()
    copy.write_bytes(source.read_bytes())
    config = _config(source, tmp_path)

    first = _fix(run_cli, copy, "--fix", "--unsafe-fixes", config=config)
    assert copy.read_bytes() == expected.read_bytes()
    if source.read_bytes() != expected.read_bytes():
        assert re.search(r"\(\d+ fixed, \d+ remaining\)\.$", first.stdout, re.MULTILINE)

    second = _fix(run_cli, copy, "--fix", "--unsafe-fixes", config=config)
    assert copy.read_bytes() == expected.read_bytes()
    assert "fixed" not in second.stdout
    assert "[*]" not in second.stdout  # nothing fixable is left


@pytest.mark.parametrize("name", FIX_FIXTURES)
def test_fix_fixtures_change_their_file(name):
    assert (FIXTURES / f"{name}.py").read_bytes() != (FIXTURES / f"{name}.fixed.py").read_bytes()


def _applicabilities(run_cli, path: Path, config: Sequence[str]) -> set[str]:
    run = run_cli(
        "check", "--preview", "--select", _code(path), "--output-format", "json", *config, str(path)
    )
    return {d["fix"]["applicability"] for d in run.diagnostics if d["fix"] is not None}


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda p: p.name)
def test_without_unsafe_fixes_only_safe_fixes_apply(expected, run_cli, tmp_path):
    source = _source(expected)
    copy = tmp_path / "work" / source.name
    copy.parent.mkdir()
    copy.write_bytes(source.read_bytes())
    config = _config(source, tmp_path)
    offered = _applicabilities(run_cli, copy, config)
    if _code(source) in SAFE_RULES:
        assert offered <= {"safe"}
    elif _code(source) in UNSAFE_RULES:
        assert offered <= {"unsafe"}
    run = _fix(run_cli, copy, "--fix", config=config)
    if "safe" not in offered:
        assert copy.read_bytes() == source.read_bytes()
        assert "fixed" not in run.stdout
    elif "unsafe" not in offered:
        assert copy.read_bytes() == expected.read_bytes()
    assert "safe" not in _applicabilities(run_cli, copy, config)
    _fix(run_cli, copy, "--fix", "--unsafe-fixes", config=config)
    assert copy.read_bytes() == expected.read_bytes()


# --- 2. CLI behaviour ---------------------------------------------------------------------


def test_diff_prints_a_unified_diff_and_writes_nothing(run_cli, tmp_path):
    path = write(tmp_path / "a.py", SAFE)
    run = run_cli("check", "--diff", "--select", "FAPI105", "a.py")
    assert run.exit_code == 1
    assert run.stdout.startswith("--- a.py\n+++ a.py\n@@ ")
    assert "\n-    return HTTPException(404)\n+    raise HTTPException(404)\n" in run.stdout
    assert run.stderr == "Would fix 1 error.\n"
    assert path.read_text() == SAFE
    assert sorted(os.listdir(tmp_path)) == ["a.py"]


def test_diff_of_a_file_without_a_final_line_break(run_cli, tmp_path):
    path = tmp_path / "a.py"
    path.write_text(SAFE.rstrip("\n"))
    run = run_cli("check", "--diff", "--select", "FAPI105", "a.py")
    assert run.exit_code == 1
    assert run.stdout.endswith(
        '     """Doc."""\n'
        "-    return HTTPException(404)\n"
        "\\ No newline at end of file\n"
        "+    raise HTTPException(404)\n"
        "\\ No newline at end of file\n"
    )
    run_cli("check", "--fix", "--select", "FAPI105", "a.py")
    assert path.read_text() == SAFE_FIXED.rstrip("\n")


def test_diff_counts_every_fix_it_would_apply(run_cli, tmp_path):
    write(tmp_path / "a.py", MIXED)
    run = run_cli("check", "--diff", "--unsafe-fixes", *MIXED_SELECT, "a.py")
    assert run.exit_code == 1
    assert run.stderr == "Would fix 3 errors.\n"
    assert '+@app.post("/x", status_code=201)' in run.stdout
    assert "+    await asyncio.sleep(1)" in run.stdout
    assert "+import asyncio" in run.stdout
    assert (tmp_path / "a.py").read_text() == MIXED


def test_diff_without_fixes_exits_zero(run_cli, tmp_path):
    write(tmp_path / "a.py", SAFE_FIXED)
    run = run_cli("check", "--diff", "--select", "FAPI105", "a.py")
    assert (run.exit_code, run.stdout) == (0, "")
    assert run.stderr == "No errors would be fixed.\n"


def test_diff_with_only_unsafe_fixes_needs_the_flag(run_cli, tmp_path):
    write(tmp_path / "a.py", MIXED)
    run = run_cli("check", "--diff", "--select", "FAPI102,FAPI201", "a.py")
    assert (run.exit_code, run.stdout) == (0, "")
    assert "`--unsafe-fixes`" in run.stderr
    assert run.stderr == (
        "No errors would be fixed "
        "(2 hidden fixes can be enabled with the `--unsafe-fixes` option).\n"
    )
    assert (tmp_path / "a.py").read_text() == MIXED


def test_fix_reports_fixed_and_remaining(run_cli, tmp_path):
    path = write(tmp_path / "a.py", MIXED)
    run = run_cli("check", "--fix", *MIXED_SELECT, "a.py")
    assert run.exit_code == 1  # the unsafe findings remain
    lines = run.stdout.splitlines()
    assert lines[-2:] == [
        "Found 3 errors (1 fixed, 2 remaining).",
        "No fixes available (2 hidden fixes can be enabled with the `--unsafe-fixes` option).",
    ]
    assert [line.split()[1] for line in lines[:-2]] == ["FAPI102", "FAPI201"]
    assert "raise HTTPException(404)" in path.read_text()


def test_fix_exits_zero_when_nothing_remains(run_cli, tmp_path):
    path = write(tmp_path / "a.py", MIXED)
    run = run_cli("check", "--fix", "--unsafe-fixes", *MIXED_SELECT, "a.py")
    assert (run.exit_code, run.stderr) == (0, "")
    assert run.stdout == "Found 3 errors (3 fixed, 0 remaining).\n"
    fixed = path.read_text()
    assert '@app.post("/x", status_code=201)' in fixed
    assert "    await asyncio.sleep(1)\n" in fixed
    assert "    raise HTTPException(404)\n" in fixed
    assert fixed.count("import asyncio\n") == 1


def test_exit_non_zero_on_fix(run_cli, tmp_path):
    path = write(tmp_path / "a.py", SAFE)
    run = run_cli("check", "--fix", "--exit-non-zero-on-fix", "--select", "FAPI105", "a.py")
    assert run.exit_code == 1
    assert run.stdout == "Found 1 error (1 fixed, 0 remaining).\n"
    assert path.read_text() == SAFE_FIXED
    # Nothing left to fix: the flag no longer turns the exit code to 1.
    again = run_cli("check", "--fix", "--exit-non-zero-on-fix", "--select", "FAPI105", "a.py")
    assert (again.exit_code, again.stdout) == (0, "All checks passed!\n")
    path.write_text(SAFE)
    assert run_cli("check", "--fix", "--select", "FAPI105", "a.py").exit_code == 0


def test_fix_only_prints_the_count_and_exits_zero(run_cli, tmp_path):
    path = write(tmp_path / "a.py", MIXED)
    run = run_cli("check", "--fix-only", *MIXED_SELECT, "a.py")
    assert (run.exit_code, run.stdout, run.stderr) == (0, "Fixed 1 error.\n", "")
    assert "raise HTTPException" in path.read_text()
    assert "time.sleep(1)" in path.read_text()  # unsafe: left
    path.write_text(MIXED)
    run = run_cli("check", "--fix-only", "--unsafe-fixes", *MIXED_SELECT, "a.py")
    assert (run.exit_code, run.stdout) == (0, "Fixed 3 errors.\n")


def test_show_fixes_lists_the_fixes_per_file(run_cli, tmp_path):
    write(tmp_path / "a.py", SAFE)
    write(tmp_path / "pkg" / "b.py", MIXED)
    run = run_cli("check", "--fix", "--show-fixes", *MIXED_SELECT, ".")
    assert run.exit_code == 1
    assert run.stdout.endswith(
        "Fixed 2 errors:\n"
        "- a.py:\n"
        "    1 \N{MULTIPLICATION SIGN} FAPI105 (http-exception-returned)\n"
        "- pkg/b.py:\n"
        "    1 \N{MULTIPLICATION SIGN} FAPI105 (http-exception-returned)\n"
    )
    assert "Found 4 errors (2 fixed, 2 remaining).\n" in run.stdout


def test_show_fixes_without_fixes_prints_no_list(run_cli, tmp_path):
    write(tmp_path / "a.py", SAFE_FIXED)
    run = run_cli("check", "--fix", "--show-fixes", "--select", "FAPI105", "a.py")
    assert (run.exit_code, run.stdout) == (0, "All checks passed!\n")


def test_text_marks_only_applicable_fixes(run_cli, tmp_path):
    source = MIXED + '\n\n@app.get("/y")\nasync def y() -> dict:\n    """Doc."""\n'
    source += "    x = time.sleep(1)\n    return {}\n"  # FAPI201 without a fix
    write(tmp_path / "a.py", source)
    run = run_cli("check", *MIXED_SELECT, "a.py")
    assert run.exit_code == 1
    lines = [line for line in run.stdout.splitlines() if ": FAPI" in line]
    assert [line.split()[1] for line in lines] == ["FAPI102", "FAPI201", "FAPI105", "FAPI201"]
    assert [("[*]" in line) for line in lines] == [False, False, True, False]
    assert run.stdout.splitlines()[-1] == (
        "[*] 1 fixable with the `--fix` option "
        "(2 hidden fixes can be enabled with the `--unsafe-fixes` option)."
    )
    unsafe = run_cli("check", "--unsafe-fixes", *MIXED_SELECT, "a.py")
    lines = [line for line in unsafe.stdout.splitlines() if ": FAPI" in line]
    assert [("[*]" in line) for line in lines] == [True, True, True, False]
    assert unsafe.stdout.splitlines()[-1] == "[*] 3 fixable with the `--fix` option."
    assert "x = time.sleep(1)" in (tmp_path / "a.py").read_text()


def _pyproject(tmp_path: Path, table: str) -> None:
    write(tmp_path / "pyproject.toml", f"[tool.fastapi-lint]\n{table}\n")


def test_config_fix_true_behaves_like_the_flag(run_cli, tmp_path):
    _pyproject(tmp_path, "fix = true")
    path = write(tmp_path / "a.py", MIXED)
    run = run_cli("check", *MIXED_SELECT, "a.py")
    assert "Found 3 errors (1 fixed, 2 remaining)." in run.stdout
    assert "raise HTTPException" in path.read_text()
    assert "time.sleep(1)" in path.read_text()


def test_config_unsafe_fixes_true_behaves_like_the_flag(run_cli, tmp_path):
    _pyproject(tmp_path, "fix = true\nunsafe-fixes = true")
    path = write(tmp_path / "a.py", MIXED)
    run = run_cli("check", *MIXED_SELECT, "a.py")
    assert (run.exit_code, run.stdout) == (0, "Found 3 errors (3 fixed, 0 remaining).\n")
    assert "await asyncio.sleep(1)" in path.read_text()


def test_config_unsafe_fixes_alone_shows_them_as_fixable(run_cli, tmp_path):
    _pyproject(tmp_path, "unsafe-fixes = true")
    path = write(tmp_path / "a.py", MIXED)
    run = run_cli("check", *MIXED_SELECT, "a.py")
    assert run.stdout.splitlines()[-1] == "[*] 3 fixable with the `--fix` option."
    assert path.read_text() == MIXED
    hidden = run_cli("check", "--no-unsafe-fixes", *MIXED_SELECT, "a.py")
    assert "2 hidden fixes" in hidden.stdout


def test_no_fix_overrides_the_config(run_cli, tmp_path):
    _pyproject(tmp_path, "fix = true\nunsafe-fixes = true")
    path = write(tmp_path / "a.py", MIXED)
    run = run_cli("check", "--no-fix", *MIXED_SELECT, "a.py")
    assert run.exit_code == 1
    assert "fixed" not in run.stdout
    assert path.read_text() == MIXED
    safe_only = run_cli("check", "--no-unsafe-fixes", *MIXED_SELECT, "a.py")
    assert "Found 3 errors (1 fixed, 2 remaining)." in safe_only.stdout


@pytest.mark.parametrize("table", ['fix = "yes"', "unsafe-fixes = 1"])
def test_config_fix_must_be_a_boolean(run_cli, tmp_path, table):
    _pyproject(tmp_path, table)
    path = write(tmp_path / "a.py", SAFE)
    run = run_cli("check", "a.py")
    assert run.exit_code == 2
    assert run.stdout == ""
    key = table.split()[0]
    assert run.stderr.startswith("fastapi-lint: error: ")
    assert f"`{key}` must be true or false" in run.stderr
    assert path.read_text() == SAFE


def test_rules_lists_the_fixable_rules(run_cli):
    run = run_cli("rules")
    assert run.exit_code == 0
    header, *rows = run.stdout.splitlines()
    assert header.split()[:5] == ["code", "name", "default", "preview", "fix"]
    fix = {row.split()[0]: row.split()[4] for row in rows}
    for code in ("FAPI102", "FAPI201"):
        assert fix[code] == "unsafe", code
    for code in ("FAPI105", "FAPI501"):
        assert fix[code] == "safe", code
    for code in ("FAPI101", "FAPI301", "FAPI401"):
        assert fix[code] == "no", code
    assert fix == {rule.code: rule.fix_safety or "no" for rule in ALL_RULES}


# --- 3. JSON `fix` ------------------------------------------------------------------------


def apply_edits(text: str, edits: list[dict]) -> str:
    """Apply ruff-style edits (1-based row and column, end exclusive), last one first."""
    lines = re.findall(r"[^\n]*\n|[^\n]+\Z", text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(location: dict) -> int:
        return starts[location["row"] - 1] + location["column"] - 1

    for edit in reversed(edits):
        start, end = offset(edit["location"]), offset(edit["end_location"])
        assert start <= end
        text = text[:start] + edit["content"] + text[end:]
    return text


def _json(run_cli, *args: str) -> list[dict]:
    run = run_cli("check", "--output-format", "json", *args)
    assert run.exit_code in (0, 1), run.stderr
    return run.diagnostics


def test_json_fix_is_null_without_a_fix(run_cli, tmp_path):
    write(tmp_path / "a.py", MIXED.replace("    time.sleep(1)", "    x = time.sleep(1)"))
    diagnostics = _json(run_cli, "--select", "FAPI101,FAPI201", "a.py")
    assert [d["code"] for d in diagnostics] == ["FAPI201"]
    assert diagnostics[0]["fix"] is None
    route = '@app.get("/")\nasync def r(q):\n    return q\n'
    write(tmp_path / "b.py", "from fastapi import FastAPI\napp = FastAPI()\n" + route)
    unfixable = _json(run_cli, "--select", "FAPI101,FAPI401", "b.py")
    assert {d["code"] for d in unfixable} == {"FAPI101", "FAPI401"}
    assert all(d["fix"] is None for d in unfixable)


SINGLE_FIXES = {
    "FAPI105": (SAFE, "safe", "Replace `return` with `raise`"),
    "FAPI201": (MIXED, "unsafe", "Replace with `await asyncio.sleep(...)`"),
    "FAPI102": (
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
        '@app.post(  # the route\n    "/x",  # the path\n    tags=["a"],\n)\n'
        "async def create_x() -> dict:\n    return {}\n",
        "unsafe",
        "Add `status_code=201`",
    ),
    "FAPI501": (
        "from pydantic import BaseModel\n\n\nclass A(BaseModel):\n    x: int\n\n"
        "    # Config.\n    class Config:  # legacy\n"
        '        """Doc."""\n\n        orm_mode = True\n        title = "A"\n\n    y: int\n',
        "safe",
        "Replace with `model_config = ConfigDict(...)`",
    ),
}


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("code", sorted(SINGLE_FIXES))
def test_json_edits_give_the_file_the_fix_gives(run_cli, tmp_path, code, newline):
    text, applicability, message = SINGLE_FIXES[code]
    # A form feed line: `str.splitlines` would count it as a line break, ruff does not.
    text = text.replace("\n\n\n", "\n\n\x0c\n", 1).replace("\n", newline)
    path = tmp_path / "a.py"
    path.write_bytes(text.encode())
    [diagnostic] = _json(run_cli, "--select", code, "a.py")
    fix = diagnostic["fix"]
    assert set(fix) == {"applicability", "edits", "message"}
    assert (fix["applicability"], fix["message"]) == (applicability, message)
    assert fix["edits"]
    for edit in fix["edits"]:
        assert set(edit) == {"content", "location", "end_location"}
        assert set(edit["location"]) == set(edit["end_location"]) == {"row", "column"}
    locations = [(e["location"]["row"], e["location"]["column"]) for e in fix["edits"]]
    assert locations == sorted(locations)

    run_cli("check", "--fix", "--unsafe-fixes", "--select", code, "a.py")
    fixed = path.read_bytes().decode()
    assert fixed != text
    assert apply_edits(text, fix["edits"]) == fixed


def test_json_edits_of_a_return_are_one_word(run_cli, tmp_path):
    write(tmp_path / "a.py", SAFE)
    [diagnostic] = _json(run_cli, "--select", "FAPI105", "a.py")
    assert diagnostic["fix"]["edits"] == [
        {
            "content": "raise",
            "end_location": {"column": 11, "row": 9},
            "location": {"column": 5, "row": 9},
        }
    ]


def test_json_after_fix_shows_what_remains(run_cli, tmp_path):
    write(tmp_path / "a.py", MIXED)
    diagnostics = _json(run_cli, "--fix", *MIXED_SELECT, "a.py")
    assert [d["code"] for d in diagnostics] == ["FAPI102", "FAPI201"]
    text = (tmp_path / "a.py").read_text()
    for diagnostic in diagnostics:
        assert diagnostic["fix"]["applicability"] == "unsafe"
        assert parses(apply_edits(text, diagnostic["fix"]["edits"]))


# --- 4. writing files safely --------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o640, 0o755, 0o600], ids=oct)
def test_fix_keeps_the_file_mode(run_cli, tmp_path, mode):
    path = write(tmp_path / "a.py", SAFE)
    path.chmod(mode)
    run = run_cli("check", "--fix", "--select", "FAPI105", "a.py")
    assert run.exit_code == 0
    assert path.read_text() == SAFE_FIXED
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_fix_keeps_crlf_line_endings(run_cli, tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(MIXED.replace("\n", "\r\n").encode())
    run = run_cli("check", "--fix", "--unsafe-fixes", *MIXED_SELECT, "a.py")
    assert run.exit_code == 0
    data = path.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n") > 0
    assert b"import asyncio\r\n" in data
    reference = write(tmp_path / "lf" / "a.py", MIXED)
    run_cli("check", "--fix", "--unsafe-fixes", *MIXED_SELECT, str(reference))
    assert data == reference.read_bytes().replace(b"\n", b"\r\n")


def test_fix_keeps_a_latin_1_file_in_latin_1(run_cli, tmp_path):
    text = "# -*- coding: latin-1 -*-\n" + SAFE.replace('"""Doc."""', '"""Caf\u00e9."""')
    path = tmp_path / "a.py"
    path.write_bytes(text.encode("latin-1"))
    run = run_cli("check", "--fix", "--select", "FAPI105", "a.py")
    assert run.exit_code == 0, run.stderr
    expected = text.replace("return HTTPException", "raise HTTPException").encode("latin-1")
    assert path.read_bytes() == expected
    assert b"Caf\xe9" in path.read_bytes()


def test_fix_keeps_the_utf_8_bom(run_cli, tmp_path):
    text = SAFE.replace('"""Doc."""', '"""Caf\u00e9."""')
    path = tmp_path / "a.py"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    run = run_cli("check", "--fix", "--select", "FAPI105", "a.py")
    assert run.exit_code == 0, run.stderr
    expected = text.replace("return HTTPException", "raise HTTPException")
    assert path.read_bytes() == b"\xef\xbb\xbf" + expected.encode()


def test_fix_leaves_no_temporary_file(run_cli, tmp_path):
    write(tmp_path / "a.py", SAFE)
    write(tmp_path / "pkg" / "b.py", MIXED)
    run = run_cli("check", "--fix", "--unsafe-fixes", *MIXED_SELECT, ".")
    assert run.exit_code == 0
    found = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert found == ["a.py", "pkg", str(Path("pkg/b.py"))]


def test_fix_through_a_symlink_keeps_the_link(run_cli, tmp_path):
    target = write(tmp_path / "real" / "a.py", SAFE)
    link = tmp_path / "src" / "a.py"
    link.parent.mkdir()
    link.symlink_to(target)
    run = run_cli("check", "--fix", "--select", "FAPI105", "src")
    assert run.exit_code == 0, run.stderr
    assert link.is_symlink()
    assert target.read_text() == SAFE_FIXED
    assert sorted(os.listdir(tmp_path / "src")) == ["a.py"]
    assert sorted(os.listdir(tmp_path / "real")) == ["a.py"]


def test_a_file_that_did_not_compile_can_still_be_fixed(run_cli, tmp_path):
    # `await` outside an async function: LibCST parses it, CPython's compiler refuses it. A
    # fix elsewhere in the file does not make it worse, so it is applied.
    source = SAFE + "\n\ndef helper():\n    await x\n"
    path = write(tmp_path / "a.py", source)
    run = run_cli("check", "--fix", "--select", "FAPI105", "a.py")
    assert (run.exit_code, run.stderr) == (0, "")
    assert path.read_text() == source.replace("return HTTPException", "raise HTTPException")


def test_a_file_changed_while_fixing_is_not_overwritten(run_cli, tmp_path, monkeypatch):
    path = write(tmp_path / "a.py", SAFE)
    concurrent = SAFE + "# edited meanwhile\n"
    real = Engine.fix_file

    def fix_then_edit(self, file, *, unsafe):
        outcome = real(self, file, unsafe=unsafe)
        file.write_text(concurrent)  # another process writes between our read and our write
        return outcome

    monkeypatch.setattr(Engine, "fix_file", fix_then_edit)
    run = run_cli("check", "--fix", "--select", "FAPI105", "a.py")
    assert run.exit_code == 2
    assert path.read_text() == concurrent
    assert "a.py: not fixed: " in run.stderr
    assert "changed while it was being fixed" in run.stderr
    assert "Traceback" not in run.stderr
    assert sorted(os.listdir(tmp_path)) == ["a.py"]


def test_write_atomically_refuses_a_changed_file(tmp_path):
    path = write(tmp_path / "a.py", "new = 1\n")
    with pytest.raises(FileChangedError):
        write_atomically(path, "fixed = 1\n", "utf-8", expected=b"old = 1\n")
    assert path.read_text() == "new = 1\n"
    assert os.listdir(tmp_path) == ["a.py"]
    write_atomically(path, "fixed = 1\n", "utf-8", expected=b"new = 1\n")
    assert path.read_text() == "fixed = 1\n"
    assert os.listdir(tmp_path) == ["a.py"]


def test_write_atomically_cleans_up_when_the_rename_fails(tmp_path, monkeypatch):
    path = write(tmp_path / "a.py", "old = 1\n")

    def fail(*args):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk on fire"):
        write_atomically(path, "new = 1\n", "utf-8", expected=b"old = 1\n")
    assert path.read_text() == "old = 1\n"
    assert os.listdir(tmp_path) == ["a.py"]


NESTED = '''from fastapi import FastAPI, HTTPException

app = FastAPI()


async def add_endpoint() -> dict:
    return {}


@app.get("/nested")
async def nested() -> dict:
    """The FAPI102 fix lies inside the FAPI105 one."""
    return HTTPException(400, detail=str(app.add_api_route("/x", add_endpoint, methods=["POST"])))


@app.post("/both")
async def add_both() -> dict:
    """FAPI102 on the decorator, FAPI105 in the body."""
    return HTTPException(400)
'''
NESTED_FIXED = (
    NESTED.replace("return HTTPException", "raise HTTPException")
    .replace('methods=["POST"])', 'methods=["POST"], status_code=201)')
    .replace('@app.post("/both")', '@app.post("/both", status_code=201)')
)


def test_overlapping_fixes_are_deferred_to_the_next_round(tmp_path):
    path = write(tmp_path / "a.py", NESTED)
    rules = [rule() for rule in ALL_RULES if rule.code in ("FAPI102", "FAPI105")]
    engine = Engine(rules, ProjectModules())
    result = engine.check_file(path)
    fixes = [d.fix for d in result.diagnostics if d.fix is not None]
    assert len(fixes) == 4
    assert result.module is not None
    applied = apply_fixes(result.module, fixes, result.ranges)
    assert (len(applied.applied), len(applied.deferred)) == (3, 1)
    [deferred] = applied.deferred
    assert deferred.title == "Add `status_code=201`"
    assert 'methods=["POST"])' in applied.module.code  # the inner fix waits

    outcome = engine.fix_file(path, unsafe=True)
    assert outcome.dropped == []
    assert outcome.result.text == NESTED_FIXED
    assert dict(outcome.fixed) == {"FAPI102": 2, "FAPI105": 2}


def test_overlapping_fixes_all_end_up_applied(run_cli, tmp_path):
    path = write(tmp_path / "a.py", NESTED)
    run = run_cli("check", "--fix", "--unsafe-fixes", "--select", "FAPI102,FAPI105", "a.py")
    assert (run.exit_code, run.stderr) == (0, "")
    assert run.stdout == "Found 4 errors (4 fixed, 0 remaining).\n"
    assert path.read_text() == NESTED_FIXED
    assert parses(NESTED_FIXED)
    diff = run_cli("check", "--diff", "--unsafe-fixes", "--select", "FAPI102,FAPI105", "a.py")
    assert (diff.exit_code, diff.stdout) == (0, "")


def test_diff_shows_every_round(run_cli, tmp_path):
    write(tmp_path / "a.py", NESTED)
    run = run_cli("check", "--diff", "--unsafe-fixes", "--select", "FAPI102,FAPI105", "a.py")
    assert run.exit_code == 1
    assert run.stderr == "Would fix 4 errors.\n"
    assert 'methods=["POST"], status_code=201)' in run.stdout
    assert (tmp_path / "a.py").read_text() == NESTED


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.py"))}


def test_fixing_the_examples_twice_changes_nothing_the_second_time(run_cli, tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    original = _snapshot(tmp_path / "examples")
    first = run_cli("check", "--fix", "--unsafe-fixes", "examples")
    assert first.exit_code in (0, 1), first.stderr
    assert first.stderr == ""
    match = re.search(r"\((\d+) fixed, \d+ remaining\)", first.stdout)
    assert match and int(match.group(1)) > 0, first.stdout
    fixed = _snapshot(tmp_path / "examples")
    assert fixed != original
    assert set(fixed) == set(original)
    for name, data in fixed.items():
        assert parses(data.decode()), name
    second = run_cli("check", "--fix", "--unsafe-fixes", "examples")
    assert second.stderr == ""
    assert "fixed" not in second.stdout
    assert "[*]" not in second.stdout
    assert _snapshot(tmp_path / "examples") == fixed
    assert run_cli("check", "--fix-only", "--unsafe-fixes", "examples").stdout == (
        "Fixed 0 errors.\n"
    )


# --- 5. parallel runs ---------------------------------------------------------------------


def _command() -> list[str]:
    script = shutil.which("fastapi-lint", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "fastapi_lint"]


def test_two_concurrent_fix_runs_leave_valid_files(tmp_path):
    for copy in ("shared", "reference"):
        shutil.copytree(ROOT / "examples", tmp_path / copy / "examples")
        for fixture in FIX_FIXTURES:
            shutil.copy(FIXTURES / f"{fixture}.py", tmp_path / copy / f"{fixture}.py")
    command = [*_command(), "check", "--fix", "--unsafe-fixes", "--quiet", "."]
    processes = [
        subprocess.Popen(
            command,
            cwd=tmp_path / "shared",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [process.communicate(timeout=120) for process in processes]
    for process, (_stdout, stderr) in zip(processes, results, strict=True):
        assert "Traceback" not in stderr
        assert process.returncode in (0, 1, 2), stderr
        # The only error allowed: the other run got to a file first.
        for line in stderr.splitlines():
            assert "changed while it was being fixed" in line, stderr
    subprocess.run(command, cwd=tmp_path / "reference", capture_output=True, timeout=120)
    shared, reference = _snapshot(tmp_path / "shared"), _snapshot(tmp_path / "reference")
    for name, data in shared.items():
        assert parses(data.decode()), name
    assert shared == reference
    leftovers = [p.name for p in (tmp_path / "shared").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_libcst_accepts_what_the_compiler_rejects():
    # The premise of the compile check in Engine.fix_file.
    cst.parse_module("print(end='', end='')\n")
    assert not parses("print(end='', end='')\n")

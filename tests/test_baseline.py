"""Baselines: `--write-baseline FILE` records the current findings, `--baseline FILE` (or the
`baseline` key) reports only the new ones, matched by fingerprint rather than line number."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from fastapi_lint.baseline import VERSION, Baseline, load_baseline

HEADER = "import time\n\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
# FAPI201 twice on identical lines, FAPI101 once (on the decorator; CHECKLIST turns it on).
ROUTE = (
    '@app.get("/slow")\n'
    "async def slow():\n"
    '    """Doc."""\n'
    "    time.sleep(1)\n"
    "    time.sleep(1)\n"
    "    return locals()\n"
)
SOURCE = HEADER + ROUTE
BASELINE = "baseline.json"
CHECKLIST = ("--extend-select", "FAPI101")  # FAPI101 is off by default


def _selection(args: tuple[str, ...]) -> tuple[str, ...]:
    """FAPI101 on top of the defaults, unless the call selects its own rules."""
    return () if "--select" in args else CHECKLIST


pytestmark = pytest.mark.usefixtures("isolated")


def write(path: str | Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def record(run_cli, *args: str, baseline: str = BASELINE, cwd: Path | None = None):
    run = run_cli("check", "--write-baseline", baseline, *_selection(args), *args, cwd=cwd)
    assert run.exit_code == 0, run.stderr
    assert run.stdout == ""
    return run


def check(run_cli, *args: str, baseline: str | None = BASELINE, cwd: Path | None = None):
    flags = ["--baseline", baseline] if baseline else []
    run = run_cli("check", "--output-format", "json", *_selection(args), *flags, *args, cwd=cwd)
    assert "Traceback" not in run.stderr
    return run


def rows(run) -> list[tuple[str, int, str]]:
    return [(Path(d["filename"]).name, d["location"]["row"], d["code"]) for d in run.diagnostics]


def test_write_baseline_records_the_findings_and_exits_zero(run_cli):
    write("a.py", SOURCE)
    run = record(run_cli, "a.py")
    assert run.stderr == f"Recorded 3 findings in {BASELINE}.\n"
    document = json.loads(Path(BASELINE).read_text())
    assert (document["version"], document["tool"]) == (VERSION, "fastapi-lint")
    entries = document["entries"]
    assert [(e["path"], e["code"], e["occurrence"]) for e in entries] == [
        ("a.py", "FAPI101", 0),
        ("a.py", "FAPI201", 0),
        ("a.py", "FAPI201", 1),
    ]
    for entry in entries:
        assert set(entry) == {"path", "code", "lineHash", "occurrence", "fingerprint", "message"}
        assert "line" not in json.dumps(entry).replace("lineHash", "")
    assert entries[1]["message"] == "Blocking call `time.sleep` in async route `slow` (GET /slow)"
    assert entries[1]["lineHash"] == entries[2]["lineHash"]
    assert entries[1]["fingerprint"] != entries[2]["fingerprint"]


def test_the_file_is_sorted_one_entry_per_line_and_stable(run_cli):
    write("b.py", SOURCE)
    write("a.py", ROUTE.join([HEADER, "\n\n" + ROUTE.replace("slow", "other")]))
    record(run_cli, ".")
    first = Path(BASELINE).read_bytes()
    lines = first.decode().splitlines()
    entry_lines = [line for line in lines if line.startswith("    {")]
    assert len(entry_lines) == len(json.loads(first)["entries"]) == 9
    keys = [
        (e["path"], e["code"], e["lineHash"], e["occurrence"])
        for e in map(json.loads, (line.rstrip(",") for line in entry_lines))
    ]
    assert keys == sorted(keys)
    assert first.endswith(b"}\n")
    record(run_cli, ".")
    assert Path(BASELINE).read_bytes() == first
    # Moving code around does not reorder the file: entries hold no line numbers.
    write("b.py", HEADER + "\n\n# moved\n" + ROUTE)
    record(run_cli, ".")
    assert Path(BASELINE).read_bytes() == first


def test_baselined_findings_are_not_reported(run_cli):
    write("a.py", SOURCE)
    record(run_cli, "a.py")
    run = check(run_cli, "a.py")
    assert (run.exit_code, run.diagnostics) == (0, [])
    assert run.stderr == f"3 findings baselined, 0 stale baseline entries ({BASELINE}).\n"
    text = run_cli(
        "check", *CHECKLIST, "--output-format", "concise", "--baseline", BASELINE, "a.py"
    )
    assert (text.exit_code, text.stdout) == (0, "All checks passed!\n")


def test_a_finding_that_moves_stays_baselined(run_cli):
    write("a.py", SOURCE)
    record(run_cli, "a.py")
    write("a.py", HEADER + "\n# Lines added above.\nLIMIT = 3\n\n\n" + ROUTE)
    run = check(run_cli, "a.py")
    assert (run.exit_code, run.diagnostics) == (0, [])
    # Re-indenting (whitespace only) keeps it too.
    write("a.py", SOURCE.replace("    time.sleep(1)\n", "    time.sleep( 1 )\n"))
    assert check(run_cli, "a.py").diagnostics == []


def test_an_edited_line_is_new_and_its_old_entry_stale(run_cli):
    write("a.py", SOURCE)
    record(run_cli, "a.py")
    edited = SOURCE.replace('@app.get("/slow")', '@app.get("/slower")')
    write("a.py", edited)
    run = check(run_cli, "a.py")
    assert run.exit_code == 1
    assert rows(run) == [("a.py", 8, "FAPI101")]
    assert run.stderr == f"2 findings baselined, 1 stale baseline entry ({BASELINE}).\n"


def test_a_comment_added_to_a_baselined_line_keeps_it_baselined(run_cli):
    write("a.py", SOURCE)
    record(run_cli, "a.py")
    commented = SOURCE.replace('@app.get("/slow")', '@app.get("/slow")  # noqa: E501').replace(
        "    time.sleep(1)\n", "    time.sleep(1)  # TODO: await a thread\n"
    )
    write("a.py", commented)
    run = check(run_cli, "a.py")
    assert (run.exit_code, run.diagnostics) == (0, [])
    assert run.stderr == f"3 findings baselined, 0 stale baseline entries ({BASELINE}).\n"
    # A `#` inside a string is code, not a comment: that line is edited.
    write("a.py", SOURCE.replace('@app.get("/slow")', '@app.get("/slow#top")'))
    assert rows(check(run_cli, "a.py")) == [("a.py", 8, "FAPI101")]


def _version_1_baseline(source: str) -> dict:
    """The baseline fastapi-lint wrote before fingerprints left comments out (version 1): its
    line hash is of the whole line, comment included, without whitespace."""

    def digest(text: str, length: int) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]

    lines = source.splitlines()
    found = [("FAPI101", 8), ("FAPI201", 11), ("FAPI201", 12)]  # rows of SOURCE's findings
    entries, seen = [], Counter()
    for code, row in found:
        line_hash = digest("".join(lines[row - 1].split()), 16)
        occurrence = seen[(code, line_hash)]
        seen[(code, line_hash)] += 1
        fingerprint = digest("\0".join(("a.py", code, line_hash, str(occurrence))), 32)
        entries.append(
            {
                "path": "a.py",
                "code": code,
                "lineHash": line_hash,
                "occurrence": occurrence,
                "fingerprint": fingerprint,
                "message": "recorded by an older fastapi-lint",
            }
        )
    return {"version": 1, "tool": "fastapi-lint", "entries": entries}


def test_a_version_1_baseline_keeps_matching(run_cli):
    # Recorded from lines that had comments: version 1 hashed them, so they must be matched
    # with version 1 fingerprints, not the current ones.
    commented = SOURCE.replace("    time.sleep(1)\n", "    time.sleep(1)  # blocking, see #12\n")
    write("a.py", commented)
    write(BASELINE, json.dumps(_version_1_baseline(commented)))
    run = check(run_cli, "a.py")
    assert (run.exit_code, run.diagnostics) == (0, [])
    assert run.stderr == f"3 findings baselined, 0 stale baseline entries ({BASELINE}).\n"
    # Its lines keep version 1's rule: an edited comment makes the finding new. Rewriting the
    # baseline moves it to the current version.
    write("a.py", commented.replace("see #12", "see #13"))
    assert [code for _, _, code in rows(check(run_cli, "a.py"))] == ["FAPI201", "FAPI201"]
    record(run_cli, "a.py")
    assert json.loads(Path(BASELINE).read_text())["version"] == VERSION == 2
    write("a.py", commented)
    assert check(run_cli, "a.py").diagnostics == []


def test_fixed_findings_leave_stale_entries(run_cli):
    write("a.py", SOURCE)
    record(run_cli, "a.py")
    write("a.py", SOURCE.replace("async def slow():", "async def slow() -> dict:"))
    run = check(run_cli, "a.py")
    assert (run.exit_code, run.diagnostics) == (0, [])
    assert run.stderr == f"2 findings baselined, 1 stale baseline entry ({BASELINE}).\n"


def test_identical_findings_on_identical_lines_are_told_apart_by_occurrence(run_cli):
    write("a.py", SOURCE)
    record(run_cli, "a.py")
    three = SOURCE.replace("    return locals()", "    time.sleep(1)\n    return locals()")
    write("a.py", three)
    run = check(run_cli, "a.py")
    assert rows(run) == [("a.py", 13, "FAPI201")]  # the third one is new
    one = SOURCE.replace("    time.sleep(1)\n", "", 1)
    write("a.py", one)
    run = check(run_cli, "a.py")
    assert (run.exit_code, run.diagnostics) == (0, [])
    assert run.stderr == f"2 findings baselined, 1 stale baseline entry ({BASELINE}).\n"


def test_paths_are_relative_to_the_baseline_so_it_works_from_anywhere(run_cli, tmp_path):
    write("project/src/app/a.py", SOURCE)
    record(run_cli, "src", cwd=tmp_path / "project")
    entries = json.loads((tmp_path / "project" / BASELINE).read_text())["entries"]
    assert {e["path"] for e in entries} == {"src/app/a.py"}
    # From other working directories.
    run = check(run_cli, ".", baseline=f"../../{BASELINE}", cwd=tmp_path / "project/src/app")
    assert (run.exit_code, run.diagnostics) == (0, [])
    run = check(run_cli, "project", baseline=f"project/{BASELINE}", cwd=tmp_path)
    assert (run.exit_code, run.diagnostics) == (0, [])
    # In another clone.
    shutil.copytree(tmp_path / "project", tmp_path / "clone")
    run = check(run_cli, "src", cwd=tmp_path / "clone")
    assert (run.exit_code, run.diagnostics) == (0, [])
    assert "3 findings baselined, 0 stale" in run.stderr


def test_findings_outside_the_baselines_directory_get_absolute_paths(run_cli, tmp_path):
    write("src/a.py", SOURCE)
    run = run_cli("check", *CHECKLIST, "--write-baseline", "lint/baseline.json", "src")
    assert run.exit_code == 0
    assert run.stderr.endswith(
        "warning: 3 findings lie outside lint, so their paths are absolute: keep the "
        "baseline at the root of the project to share it.\n"
    )
    entries = json.loads(Path("lint/baseline.json").read_text())["entries"]
    assert {e["path"] for e in entries} == {(tmp_path / "src/a.py").as_posix()}
    assert check(run_cli, "src", baseline="lint/baseline.json").diagnostics == []


def test_the_baseline_key_is_relative_to_the_config_file(run_cli, tmp_path):
    write("pyproject.toml", f'[tool.fastapi-lint]\nbaseline = "{BASELINE}"\n')
    write("src/a.py", SOURCE)
    record(run_cli, "src")
    run = check(run_cli, ".", baseline=None, cwd=tmp_path / "src")
    assert (run.exit_code, run.diagnostics) == (0, [])
    assert run.stderr.endswith(f"({tmp_path / BASELINE}).\n")
    # The flag wins over the key.
    write(tmp_path / "other.json", '{"version": 1, "entries": []}')
    run = check(run_cli, ".", baseline="../other.json", cwd=tmp_path / "src")
    assert len(run.diagnostics) == 3


def test_write_baseline_ignores_the_configured_baseline(run_cli):
    write("pyproject.toml", f'[tool.fastapi-lint]\nbaseline = "{BASELINE}"\n')
    write("a.py", SOURCE)
    record(run_cli, "a.py")
    record(run_cli, "a.py")  # records everything again, not just the new findings
    assert len(load_baseline(Path(BASELINE)).entries) == 3


def test_stale_entries_count_only_files_and_rules_of_the_run(run_cli):
    write("a.py", SOURCE)
    write("b.py", SOURCE)
    record(run_cli, ".")
    write("b.py", "")  # every finding of b.py fixed
    assert check(run_cli, "a.py").stderr.endswith(" 0 stale baseline entries (baseline.json).\n")
    assert " 3 stale baseline entries " in check(run_cli, ".").stderr
    run = check(run_cli, ".", "--select", "FAPI101")
    assert run.stderr == f"1 finding baselined, 1 stale baseline entry ({BASELINE}).\n"
    run = check(run_cli, ".", "--select", "FAPI201")
    assert run.stderr == f"2 findings baselined, 2 stale baseline entries ({BASELINE}).\n"
    os.remove("b.py")  # a deleted file under a linted directory: its entries are stale
    assert " 3 stale baseline entries " in check(run_cli, ".").stderr
    assert " 0 stale baseline entries " in check(run_cli, "a.py").stderr


def test_new_files_are_reported(run_cli):
    write("a.py", SOURCE)
    record(run_cli, ".")
    write("b.py", SOURCE)
    run = check(run_cli, ".")
    assert run.exit_code == 1
    assert {name for name, _, _ in rows(run)} == {"b.py"}
    assert len(run.diagnostics) == 3


def test_syntax_errors_are_never_baselined(run_cli):
    write("a.py", SOURCE)
    write("broken.py", "import fastapi\nx = (\n")
    run = record(run_cli, ".")
    assert run.stderr == (
        f"Recorded 3 findings in {BASELINE}.\n"
        "Not recorded: 1 invalid-syntax or unreadable-file finding (they cannot be baselined).\n"
    )
    run = check(run_cli, ".")
    assert rows(run) == [("broken.py", 2, "FAPI001")]


def test_quiet_hides_the_note(run_cli):
    write("a.py", SOURCE)
    record(run_cli, "a.py")
    run = run_cli("check", *CHECKLIST, "-q", "--baseline", BASELINE, "a.py")
    assert (run.exit_code, run.stdout, run.stderr) == (0, "", "")


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "cannot read baseline baseline.json: No such file or directory"),
        ("{not json", "baseline baseline.json is not valid JSON: "),
        ("[]", "baseline baseline.json has no `entries` list"),
        ('{"version": 3, "entries": []}', "baseline baseline.json has version 3, "),
        ('{"version": true, "entries": []}', "baseline baseline.json has version True, "),
        ('{"entries": []}', "baseline baseline.json has version None, "),
        ('{"version": 1, "entries": [1]}', "baseline baseline.json: entry 1 is not an object"),
        (
            '{"version": 1, "entries": [{"path": "a.py", "code": "FAPI101"}]}',
            "baseline baseline.json: entry 1 has no valid `lineHash`",
        ),
    ],
    ids=[
        "missing",
        "not-json",
        "not-an-object",
        "version",
        "boolean-version",
        "no-version",
        "entry",
        "field",
    ],
)
def test_a_missing_or_corrupt_baseline_is_a_one_line_error(run_cli, content, error):
    write("a.py", SOURCE)
    if content is not None:
        write(BASELINE, content)
    run = run_cli("check", "--baseline", BASELINE, "a.py")
    assert run.exit_code == 2
    assert run.stdout == ""
    assert run.stderr.startswith(f"fastapi-lint: error: {error}")
    assert run.stderr.count("\n") == 1


def test_a_bad_baseline_key_is_a_config_error(run_cli):
    write("pyproject.toml", "[tool.fastapi-lint]\nbaseline = 3\n")
    write("a.py", SOURCE)
    run = run_cli("check", "a.py")
    assert run.exit_code == 2
    assert "`baseline` must be a path" in run.stderr


@pytest.mark.parametrize("flag", ["--fix", "--diff", "--fix-only", "--add-noqa"])
def test_write_baseline_is_a_run_of_its_own(run_cli, flag):
    write("a.py", SOURCE)
    run = run_cli("check", "--write-baseline", BASELINE, flag, "a.py")
    assert run.exit_code == 2
    assert "cannot be combined" in run.stderr
    assert not Path(BASELINE).exists()


def test_fix_still_fixes_baselined_findings(run_cli):
    source = (
        "from fastapi import FastAPI, HTTPException\n\napp = FastAPI()\n\n\n"
        '@app.get("/x")\nasync def x() -> dict:\n    """Doc."""\n    return HTTPException(404)\n'
    )
    write("a.py", source)
    record(run_cli, "a.py")
    run = run_cli("check", "--fix", "--baseline", BASELINE, "a.py")
    assert run.exit_code == 0
    assert "raise HTTPException(404)" in Path("a.py").read_text()
    assert run.stderr.endswith(f"0 findings baselined, 1 stale baseline entry ({BASELINE}).\n")


def test_api_match_directly(tmp_path):
    from fastapi_lint.api import lint_paths
    from fastapi_lint.baseline import write_baseline
    from fastapi_lint.config import Selection, load_settings

    write("a.py", SOURCE)
    settings = load_settings(None, Selection(extend_select=("FAPI101",)), cwd=tmp_path)
    run = lint_paths(["a.py"], settings)
    assert len(write_baseline(tmp_path / BASELINE, run.diagnostics)) == 3
    baseline = load_baseline(tmp_path / BASELINE)
    assert isinstance(baseline, Baseline) and baseline.root == tmp_path
    again = lint_paths(["a.py"], settings, baseline=baseline)
    assert (again.diagnostics, again.baselined, again.stale_baseline_entries) == ([], 3, 0)

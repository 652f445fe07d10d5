"""bench/ecosystem.py on a tiny fake corpus: snapshot, --compare, --report and --sample.

Only two runs of the linter (a subprocess each per project); the other modes read the saved
snapshots. The fake projects trip FAPI201 (time.sleep in an async def) and FAPI301 (a CORS
wildcard), two rules whose findings do not depend on how routes are recognised.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from .conftest import project

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "bench" / "ecosystem.py"

ALPHA_MAIN = """\
import time
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)


@app.get("/a")
async def read_a() -> dict:
    time.sleep(1)
    return {}
"""

ALPHA_TEST = """\
import time
from fastapi import Depends
ready = Depends(test_a)
async def test_a():
    time.sleep(1)
"""

BETA_API = """\
import time
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI(dependencies=[Depends(helper)])
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)


async def helper():
    time.sleep(2)
"""


def load_tool():
    spec = importlib.util.spec_from_file_location("ecosystem_tool", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclass-like NamedTuples look their module up
    spec.loader.exec_module(module)
    return module


eco = load_tool()


def fake_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    project(
        corpus / "src" / "alpha-1.0",
        {".done": "", "app/main.py": ALPHA_MAIN, "tests/test_app.py": ALPHA_TEST},
    )
    project(corpus / "src" / "beta-2.0.1", {".done": "", "beta/api.py": BETA_API})
    return corpus


@pytest.fixture(scope="module")
def linted(tmp_path_factory):
    """The fake corpus, linted once: (corpus, snapshot path, the snapshot's text)."""
    root = tmp_path_factory.mktemp("eco")
    corpus = fake_corpus(root)
    snap = root / "eco" / "snapshot.json"
    rc = eco.main(
        [
            "--corpus",
            str(corpus),
            "--snapshot",
            str(snap),
            "--src",
            str(REPO / "src"),
            "--select",
            "FAPI201,FAPI301",
            "--jobs",
            "1",
        ]
    )
    assert rc == 0
    return corpus, snap, snap.read_text()


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = eco.main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_snapshot_content(linted):
    _, _, text = linted
    data = json.loads(text)
    assert data["format"] == "fastapi-lint-ecosystem-snapshot"
    assert data["options"] == {"select": "FAPI201,FAPI301", "preview": False}
    assert data["linter"]["command"] == "PYTHONPATH=<src> python -m fastapi_lint"
    assert list(data["projects"]) == ["alpha", "beta"]
    alpha, beta = data["projects"]["alpha"], data["projects"]["beta"]
    assert (alpha["dir"], alpha["version"], alpha["files"]) == ("alpha-1.0", "1.0", 2)
    assert beta["version"] == "2.0.1"
    assert data["totals"] == {"FAPI201": 3, "FAPI301": 2}
    assert data["total"] == 5
    assert alpha["rules"]["FAPI201"]["count"] == 2
    paths = [(f["path"], f["line"]) for f in alpha["rules"]["FAPI201"]["findings"]]
    assert paths == [("app/main.py", 11), ("tests/test_app.py", 5)]  # sorted, relative
    cors = alpha["rules"]["FAPI301"]["findings"][0]
    assert (cors["path"], cors["line"], cors["code"]) == ("app/main.py", 6, "FAPI301")
    assert cors["message"]
    assert beta["rules"]["FAPI201"]["findings"][0]["line"] == 10
    # One finding per line, each a JSON object of its own: diffs are one line per finding.
    finding_lines = [line for line in text.splitlines() if '"path": ' in line]
    assert len(finding_lines) == 5
    for line in finding_lines:
        assert json.loads(line.strip().rstrip(","))["code"] in ("FAPI201", "FAPI301")
    # Re-serialising gives the same bytes: the layout is deterministic.
    assert eco.dump_snapshot(data) == text


def test_compare_shows_added_and_removed_then_updates(linted, tmp_path, capsys):
    corpus, snap, text = linted
    work = tmp_path / "corpus"
    for src in corpus.rglob("*"):
        if src.is_file():
            dest = work / src.relative_to(corpus)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(src.read_bytes())
    api = work / "src" / "beta-2.0.1" / "beta" / "api.py"
    api.write_text(BETA_API.replace('["*"]', '["https://example.com"]') + "    time.sleep(3)\n")
    before = tmp_path / "snapshot.json"
    before.write_text(text)

    common = ["--corpus", str(work), "--snapshot", str(before), "--select", "FAPI201,FAPI301"]
    # Only beta is linted again; alpha keeps its findings in the updated snapshot.
    rc, out, _ = run(capsys, *common, "--compare", "--update", "--project", "beta", "--jobs", "1")
    assert rc == 0
    assert "1 added, 1 removed, 0 reworded (2 -> 2 findings in beta)" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("FAPI")}
    assert rows["FAPI201"][:5] == ["FAPI201", "1", "2", "+1", "-0"]
    assert rows["FAPI301"][:5] == ["FAPI301", "1", "0", "+0", "-1"]
    assert "FAPI201: 1 -> 2 (+1 -0, 0 reworded)" in out
    assert "  + beta: beta/api.py:11: Blocking call `time.sleep`" in out
    assert "FAPI301: 1 -> 0 (+0 -1, 0 reworded)" in out
    assert "  - beta: beta/api.py:6: " in out
    updated = json.loads(before.read_text())
    assert updated["totals"] == {"FAPI201": 4, "FAPI301": 1}
    assert updated["projects"]["alpha"] == json.loads(text)["projects"]["alpha"]

    # Without --update the snapshot stays as it was; --current skips the linter.
    rc, out, _ = run(capsys, "--snapshot", str(snap), "--compare", "--current", str(before))
    assert rc == 0
    assert "3 -> 4" in out and "+ beta: beta/api.py:11:" in out
    assert snap.read_text() == text
    rc, out, _ = run(capsys, "--snapshot", str(before), "--compare", "--current", str(before))
    assert out.strip() == "No changes: 5 findings in all projects."


def test_compare_counts_a_new_message_as_reworded(linted, tmp_path, capsys):
    _, snap, text = linted
    data = json.loads(text)
    cors = data["projects"]["alpha"]["rules"]["FAPI301"]["findings"][0]
    cors["message"] = "CORS allows every origin, reworded"
    after = tmp_path / "after.json"
    after.write_text(eco.dump_snapshot(data))
    args = ["--snapshot", str(snap), "--compare", "--current", str(after)]
    rc, out, _ = run(capsys, *args)
    assert rc == 0
    assert "0 added, 0 removed, 1 reworded (5 -> 5 findings in all projects)" in out
    assert "FAPI301: 2 -> 2 (+0 -0, 1 reworded)" in out
    assert "  ~ 1 reworded (--reworded lists them), e.g. app/main.py:6:" in out
    assert "    now: CORS allows every origin, reworded" in out
    rc, out, _ = run(capsys, *args, "--reworded")
    assert "  ~ alpha: app/main.py:6: " in out


REVIEWED = """\
project,path,line,code,verdict,reason
# comment lines and blank lines are skipped

alpha,app/main.py,11,FAPI201,keep,time.sleep on the event loop
alpha,app/main.py,6,FAPI301,drop,"dev server only, say"
beta,beta/api.py,9,FAPI201,keep,"one line off, still matched"
beta,beta/api.py,40,FAPI201,keep,gone since
"""


def test_report_keep_rates_and_warnings(linted, tmp_path, capsys):
    _, snap, _ = linted
    reviewed = tmp_path / "reviewed.csv"
    reviewed.write_text(REVIEWED)
    rc, out, _ = run(capsys, "--snapshot", str(snap), "--report", "--reviewed", str(reviewed))
    assert rc == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("FAPI")}
    # rule, findings, reviewed, present, keep, drop, keep rate, (n/m), gone
    assert rows["FAPI201"] == ["FAPI201", "3", "3", "2", "2", "0", "100%", "(2/2)", "1"]
    assert rows["FAPI301"] == ["FAPI301", "2", "1", "1", "0", "1", "0%", "(0/1)", "0"]
    assert "note: beta: beta/api.py:9 FAPI201 matched the finding on line 10" in out
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert "known false positive still reported: alpha: app/main.py:6 FAPI301" in warnings[0]
    assert "true positive no longer reported: beta: beta/api.py:40 FAPI201" in warnings[1]

    # Exact lines only: the shifted review no longer matches.
    rc, out, _ = run(
        capsys,
        *("--snapshot", str(snap), "--report", "--reviewed", str(reviewed)),
        *("--line-tolerance", "0"),
    )
    assert "no longer reported: beta: beta/api.py:9 FAPI201" in out

    reviewed.write_text(REVIEWED.replace(",keep,gone", ",maybe,gone"))
    rc, _, err = run(capsys, "--snapshot", str(snap), "--report", "--reviewed", str(reviewed))
    assert rc == 2
    assert "verdict must be keep or drop" in err


def test_sample_leaves_out_tests_and_reviewed(linted, tmp_path, capsys):
    corpus, snap, _ = linted
    reviewed = tmp_path / "reviewed.csv"
    reviewed.write_text("project,path,line,code,verdict,reason\n")
    common = ["--corpus", str(corpus), "--snapshot", str(snap), "--reviewed", str(reviewed)]
    rc, out, _ = run(capsys, *common, "--sample", "FAPI201", "--n", "30", "--seed", "3")
    assert rc == 0
    rows = [line for line in out.splitlines() if not line.startswith("#")]
    assert rows == [
        "project,path,line,code,verdict,reason",
        "alpha,app/main.py,11,FAPI201,,",
        "beta,beta/api.py,10,FAPI201,,",
    ]
    assert "#   >11 |     time.sleep(1)" in out  # the finding's line, marked
    assert '#     9 | @app.get("/a")' in out  # and lines around it

    # The exclusion is overridable; --context -1 prints bare CSV.
    rc, out, _ = run(
        capsys, *common, "--sample", "FAPI201", "--exclude", "", "--context", "-1", "--n", "2"
    )
    rows = [line for line in out.splitlines() if not line.startswith("#")]
    assert len(rows) == 3
    assert all(line.startswith("#") is False for line in rows)
    rc, out, _ = run(capsys, *common, "--sample", "FAPI201", "--exclude", "", "--context", "-1")
    assert "alpha,tests/test_app.py,5,FAPI201,," in out

    # Findings already reviewed are not sampled again.
    reviewed.write_text(REVIEWED)
    rc, out, _ = run(capsys, *common, "--sample", "FAPI201", "--context", "-1")
    rows = [line for line in out.splitlines() if not line.startswith("#")]
    assert rows[1:] == ["beta,beta/api.py,10,FAPI201,,"]


def test_excluded_paths():
    patterns = eco.parse_excludes(eco.DEFAULT_SAMPLE_EXCLUDE)
    for path in (
        "tests/test_app.py",
        "pkg/tests/helpers.py",
        "pkg/test_models.py",
        "docs_src/tutorial/app.py",
        "docs/conf.py",
        "examples/app/main.py",
    ):
        assert eco.excluded(path, patterns), path
    for path in ("app/main.py", "pkg/testing.py", "pkg/contest.py", "docs_srcx/a.py"):
        assert not eco.excluded(path, patterns), path
    assert eco.excluded("a/b/c.py", ["a/b/"])
    assert not eco.excluded("x/a.py", ["a/b/"])


def test_missing_corpus_says_how_to_fetch(tmp_path, capsys):
    rc, _, err = run(capsys, "--corpus", str(tmp_path / "none"), "--snapshot", str(tmp_path / "s"))
    assert rc == 2
    assert "fetch.sh" in err

"""Parallel runs, the result cache and `--timings`: a parallel run gives the serial run's
result, the cache never serves a stale one, and neither a crash nor a broken cache stops a
run. No test here measures time."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fastapi_lint
from fastapi_lint import engine as engine_module
from fastapi_lint import runner
from fastapi_lint.api import build_project, lint_paths
from fastapi_lint.config import load_settings
from fastapi_lint.rule import Rule
from fastapi_lint.rules import ALL_RULES
from fastapi_lint.runner import FILES_PER_WORKER, Checking, Job, build_engine, check_one

from .conftest import FIXTURES, project

pytestmark = pytest.mark.usefixtures("isolated")

CACHE = ".fastapi_lint_cache"
ROUTE = (
    'from fastapi import FastAPI\napp = FastAPI()\n@app.post("/x")\n'
    "async def add(x: int):\n    return x\n"
)
TAMPERED = "TAMPERED"
# ROUTE's findings (FAPI101, FAPI102, FAPI401) are off by default: CHECKLIST turns them on.
CHECKLIST = ("--extend-select", "FAPI101,FAPI102,FAPI401")


def sample_project(root: Path) -> Path:
    """Every rule fixture (findings, safe and unsafe fixes, noqa directives), plus files the
    prefilter skips, a syntax error and an undecodable file: more than enough files for the
    run to go parallel."""
    root.mkdir(parents=True, exist_ok=True)
    for fixture in sorted(FIXTURES.iterdir()):
        if fixture.name.endswith(".fixed.py"):
            continue
        if fixture.is_dir():
            shutil.copytree(fixture, root / fixture.name)
        else:
            shutil.copy(fixture, root / fixture.name)
    project(
        root,
        {
            "plain.py": "x = 1\n",
            "broken.py": "from fastapi import FastAPI\ndef f(:\n",
            "routes/a.py": ROUTE,
            "routes/b.py": ROUTE.replace("/x", "/b"),
        },
    )
    (root / "latin.py").write_bytes(b"# fastapi\nname = '\xe9'\n")
    return root


def fix_project(root: Path) -> Path:
    """The fix fixtures (safe and unsafe fixes of every fixable rule), twice: a small project
    whose JSON output has text edits, and enough files for the run to go parallel."""
    for copy in ("one", "two"):
        (root / copy).mkdir(parents=True)
        for fixture in [*sorted(FIXTURES.glob("FAPI*_fix.py")), FIXTURES / "FAPI003.py"]:
            shutil.copy(fixture, root / copy / fixture.name)
    return root


def tamper(cache_dir: Path) -> int:
    """Prefix every stored message with TAMPERED: a result served from the cache shows it.
    Returns the number of stored diagnostics."""
    count = 0
    for file in cache_dir.rglob("*.json"):
        document = json.loads(file.read_text())
        for entry in document["entries"].values():
            for item in entry["diagnostics"]:
                item[6] = f"{TAMPERED} {item[6]}"
                count += 1
        file.write_text(json.dumps(document))
    return count


# --- parallel == serial ----------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["full", "sarif"])
def test_parallel_check_equals_serial(run_cli, tmp_path, output_format):
    sample_project(tmp_path)
    serial = run_cli("check", "--no-cache", "--jobs", "1", "--output-format", output_format)
    parallel = run_cli("check", "--no-cache", "--jobs", "2", "--output-format", output_format)
    assert serial.exit_code == parallel.exit_code == 1
    assert parallel.stdout == serial.stdout
    assert "FAPI001" in serial.stdout and "FAPI002" in serial.stdout


def test_parallel_json_edits_equal_serial(run_cli, tmp_path):
    fix_project(tmp_path)
    serial = run_cli("check", "--no-cache", "--jobs", "1", "--output-format", "json")
    parallel = run_cli("check", "--no-cache", "--jobs", "2", "--output-format", "json")
    edits = [d["fix"]["edits"] for d in serial.diagnostics if d["fix"]]
    assert edits and all(edits)  # the workers computed the text edits too
    assert parallel.diagnostics == serial.diagnostics


def test_the_run_really_goes_parallel(tmp_path):
    sample_project(tmp_path)
    settings = load_settings(None, cwd=tmp_path)
    assert lint_paths([tmp_path], settings, jobs=2).workers == 2
    assert lint_paths([tmp_path], settings, jobs=1).workers == 1
    # A handful of files is checked in this process, whatever --jobs says (the screen off:
    # no default rule can report in them).
    assert lint_paths([tmp_path / "routes"], settings, jobs=2, screen=False).workers == 1


def test_workers_check_files_while_the_others_are_screened(tmp_path):
    """The pool starts with the first chunk of files the screen lets through, before the
    rest are screened; the reports come back in the order the files were handed over, as a
    serial check gives them."""
    sample_project(tmp_path)
    settings = load_settings(None, cwd=tmp_path)
    files = sorted(tmp_path.rglob("*.py"))
    job = Job(settings, build_project(files, settings, None))
    items = [(n, path, path.stat().st_size) for n, path in enumerate(files)]
    half = len(items) // 2
    with Checking(job, 2, items) as checking:
        for item in items[:half]:
            checking.offer(item, check=True)
        assert checking.workers == 2  # checking already, the other half not screened yet
        for n, item in enumerate(items[half:]):
            checking.offer(item, check=n % 2 == 0)
        checked = checking.finish()
    assert checked.workers == 2
    assert [item[1] for item in checking.items] == [
        *files[:half],
        *files[half::2],
    ]
    engine = build_engine(job)
    serial = [check_one(engine, job, path).diagnostics for _, path, _ in checking.items]
    assert [report.diagnostics for report in checked.reports] == serial
    assert any(serial)


def test_a_large_project_forks_its_workers_late_in_the_screen(tmp_path, monkeypatch):
    """Each file screened after the workers fork costs memory: they fork once at most
    SCREENED_AFTER_FORK candidates are left."""
    monkeypatch.setattr(runner, "SCREENED_AFTER_FORK", 3)
    sample_project(tmp_path)
    settings = load_settings(None, cwd=tmp_path)
    files = sorted(tmp_path.rglob("*.py"))
    job = Job(settings, build_project(files, settings, None))
    items = [(n, path, path.stat().st_size) for n, path in enumerate(files)]
    with Checking(job, 2, items) as checking:
        for item in items[:-4]:
            checking.offer(item, check=True)
        assert checking.workers == 1  # 4 candidates left to screen
        checking.offer(items[-4], check=False)
        assert checking.workers == 2
        for item in items[-3:]:
            checking.offer(item, check=True)
        checked = checking.finish()
    assert [report.path for report in checked.reports] == [*files[:-4], *files[-3:]]


def test_a_handful_of_files_is_checked_in_this_process(tmp_path):
    """Fewer candidates than two workers' worth (a pre-commit run): no pool."""
    sample_project(tmp_path)
    settings = load_settings(None, cwd=tmp_path)
    files = sorted(tmp_path.rglob("*.py"))[: 2 * FILES_PER_WORKER - 1]
    job = Job(settings, build_project(files, settings, None))
    items = [(n, path, path.stat().st_size) for n, path in enumerate(files)]
    with Checking(job, 2, items) as checking:
        for item in items:
            checking.offer(item, check=True)
        assert checking.workers == 1
        checked = checking.finish()
    assert checked.workers == 1
    assert [report.path for report in checked.reports] == files


@pytest.mark.parametrize("flags", [["--fix"], ["--fix", "--unsafe-fixes"], ["--diff"]])
def test_parallel_fix_equals_serial(run_cli, tmp_path, flags):
    serial_tree = sample_project(tmp_path / "serial")
    parallel_tree = sample_project(tmp_path / "parallel")
    common = ["check", *flags, "--show-fixes", "--output-format", "concise"]
    serial = run_cli(*common, "--jobs", "1", cwd=serial_tree)
    parallel = run_cli(*common, "--jobs", "2", cwd=parallel_tree)
    assert (serial.exit_code, serial.stdout, serial.stderr) == (
        parallel.exit_code,
        parallel.stdout,
        parallel.stderr,
    )
    assert "Fixed" in serial.stdout or "Would fix" in serial.stderr
    assert _files(serial_tree) == _files(parallel_tree)
    if "--diff" not in flags:
        assert _files(serial_tree) != _files(sample_project(tmp_path / "original"))


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("jobs", ["0", "-1", "-8"])
def test_jobs_must_be_positive(run_cli, tmp_path, jobs):
    project(tmp_path, {"a.py": ROUTE})
    run = run_cli("check", "--jobs", jobs, "a.py")
    assert run.exit_code == 2
    assert "--jobs" in run.stderr
    with pytest.raises(ValueError, match="at least 1"):
        lint_paths([tmp_path], load_settings(None, cwd=tmp_path), jobs=int(jobs))


class _Explodes(Rule):
    """Test rule: raises on files that say RAISE_HERE, kills its process on CRASH_HERE."""

    code = "FAPI990"
    name = "explodes"

    def check(self, model):
        code = model.module.code
        if "CRASH_HERE" in code:
            os._exit(70)  # as a crash in native code would: no exception, no cleanup
        if "RAISE_HERE" in code:
            raise RuntimeError("boom")
        return iter(())


@pytest.mark.parametrize("marker", ["RAISE_HERE", "CRASH_HERE"])
def test_a_file_that_breaks_its_worker_does_not_stop_the_run(tmp_path, marker):
    sample_project(tmp_path)
    project(tmp_path, {"zz_bad.py": f"{ROUTE}# {marker}\n"})
    settings = load_settings(None, cwd=tmp_path)
    settings = dataclasses.replace(settings, rules=(*settings.rules, _Explodes()))
    serial_settings = settings if marker == "RAISE_HERE" else _without_bad_file(settings)
    run = lint_paths([tmp_path], settings, jobs=2)
    assert run.workers == 2
    assert len(run.internal_errors) == 1
    assert run.internal_errors[0].startswith(f"{tmp_path / 'zz_bad.py'}: internal error: ")
    # Every other file was checked, as a serial run checks it.
    serial = lint_paths([tmp_path], serial_settings, jobs=1)
    expected = [d for d in serial.diagnostics if d.path.name != "zz_bad.py"]
    assert [d for d in run.diagnostics if d.path.name != "zz_bad.py"] == expected
    assert not [d for d in run.diagnostics if d.path.name == "zz_bad.py"]


def _without_bad_file(settings):
    """A serial run cannot survive os._exit: compare with a run that ignores the bad file."""
    return dataclasses.replace(settings, extend_exclude=("zz_bad.py",))


def test_a_bug_on_one_file_is_an_internal_error_and_exit_2_in_parallel_too(
    run_cli, tmp_path, monkeypatch
):
    sample_project(tmp_path)
    project(tmp_path, {"zz_bad.py": f"{ROUTE}# RAISE_HERE\n"})
    model = engine_module.FileModel

    def buggy_model(module, project, path):  # forked workers inherit the patch
        if "RAISE_HERE" in module.code:
            raise RuntimeError("boom")
        return model(module, project, path)

    monkeypatch.setattr(engine_module, "FileModel", buggy_model)
    common = ["check", *CHECKLIST, "--no-cache", "--output-format", "concise"]
    serial = run_cli(*common, "--jobs", "1")
    parallel = run_cli(*common, "--jobs", "2")
    assert serial.exit_code == parallel.exit_code == 2
    assert (parallel.stdout, parallel.stderr) == (serial.stdout, serial.stderr)
    assert serial.stderr.startswith(
        "fastapi-lint: error: zz_bad.py: internal error: RuntimeError: boom\n"
    )
    assert "routes/a.py:3:1: FAPI101" in serial.stdout


# --- the cache -------------------------------------------------------------------------------


def test_cache_hit_gives_identical_output(run_cli, tmp_path):
    sample_project(tmp_path)
    cold = run_cli("check", "--output-format", "concise")
    assert (tmp_path / CACHE).is_dir()
    warm = run_cli("check", "--output-format", "concise", "--timings")
    assert (warm.exit_code, warm.stdout) == (cold.exit_code, cold.stdout)
    assert " 0 answered by the cache" not in warm.stderr
    # The warm run was answered by the cache: what it stores is what it serves.
    assert tamper(tmp_path / CACHE) > 10
    served = run_cli("check", "--output-format", "concise")
    assert served.stdout.count(TAMPERED) > 10


def test_cache_keeps_json_edits(run_cli, tmp_path):
    fix_project(tmp_path)
    expected = run_cli("check", "--no-cache", "--output-format", "json").diagnostics
    run_cli("check", "--output-format", "concise")  # stores results without edits
    assert run_cli("check", "--output-format", "json").diagnostics == expected  # stores edits
    tamper(tmp_path / CACHE)
    from_cache = run_cli("check", "--output-format", "json").diagnostics
    assert all(d["message"].startswith(TAMPERED) for d in from_cache if d["code"] != "FAPI002")
    untampered = [{**d, "message": d["message"].removeprefix(f"{TAMPERED} ")} for d in from_cache]
    assert untampered == expected


def test_editing_a_file_invalidates_its_entry(run_cli, tmp_path):
    sample_project(tmp_path)
    run_cli("check", *CHECKLIST)
    tamper(tmp_path / CACHE)
    (tmp_path / "routes/a.py").write_text(ROUTE.replace("return x", "return -x"))
    run = run_cli("check", *CHECKLIST, "--output-format", "concise", "--quiet")
    fresh = [line for line in run.stdout.splitlines() if line.startswith("routes/a.py")]
    assert fresh and not any(TAMPERED in line for line in fresh)
    others = [line for line in run.stdout.splitlines() if line.startswith("routes/b.py")]
    assert others and all(TAMPERED in line for line in others)  # still served


@pytest.mark.parametrize(
    ("change", "changed_files"),
    [
        (["--select", "FAPI101"], ""),
        (["--ignore", "FAPI401"], ""),
        (["--config", "options.toml"], ""),  # a rule option
        (["--config", "blocking.toml"], ""),
        # Only the files whose rules change are checked again.
        (["--config", "per-file.toml"], "routes/"),
    ],
)
def test_configuration_changes_invalidate(run_cli, tmp_path, change, changed_files):
    sample_project(tmp_path)
    project(
        tmp_path,
        {
            "options.toml": '[rules.FAPI102]\ncreate-words = ["enroll"]\n',
            "blocking.toml": '[rules.FAPI201]\nextend-blocking-calls = ["x.y"]\n',
            "per-file.toml": '[per-file-ignores]\n"routes/*" = ["FAPI401"]\n',
        },
    )
    expected = run_cli("check", *CHECKLIST, "--no-cache", *change, "--output-format", "concise")
    run_cli("check", *CHECKLIST)
    tamper(tmp_path / CACHE)
    run = run_cli("check", *CHECKLIST, *change, "--output-format", "concise")
    fresh = [line for line in run.stdout.splitlines() if line.startswith(changed_files)]
    assert fresh and not any(TAMPERED in line for line in fresh)
    assert run.exit_code == expected.exit_code
    assert run.stdout.replace(f"{TAMPERED} ", "") == expected.stdout


def test_a_new_version_invalidates(run_cli, tmp_path, monkeypatch):
    sample_project(tmp_path)
    run_cli("check")
    tamper(tmp_path / CACHE)
    assert TAMPERED in run_cli("check").stdout  # same version: served
    monkeypatch.setattr(fastapi_lint, "__version__", "99.0.0")
    assert TAMPERED not in run_cli("check").stdout
    assert (tmp_path / CACHE / "99.0.0").is_dir()


def test_no_cache_writes_no_cache_directory(run_cli, tmp_path):
    sample_project(tmp_path)
    assert run_cli("check", "--no-cache").exit_code == 1
    assert not (tmp_path / CACHE).exists()


@pytest.mark.parametrize("flags", [["--fix"], ["--diff"], ["--add-noqa"]])
def test_runs_that_fix_neither_read_nor_write_the_cache(run_cli, tmp_path, flags):
    fresh = sample_project(tmp_path / "fresh")
    run_cli("check", *flags, cwd=fresh)
    assert not (fresh / CACHE).exists()
    cached = sample_project(tmp_path / "cached")
    run_cli("check", cwd=cached)
    tamper(cached / CACHE)
    stored = {name: data for name, data in _files(cached).items() if name.startswith(CACHE)}
    run = run_cli("check", *flags, "--output-format", "concise", cwd=cached)
    assert TAMPERED not in run.stdout + run.stderr
    assert {name: data for name, data in _files(cached).items() if name.startswith(CACHE)} == stored


def test_cache_directory_is_ignored_by_git_and_tagged(run_cli, tmp_path):
    project(tmp_path, {"a.py": ROUTE})
    run_cli("check")
    assert (tmp_path / CACHE / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (tmp_path / CACHE / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f59")


def test_cache_dir_from_the_flag_the_environment_and_the_configuration(
    run_cli, tmp_path, monkeypatch
):
    project(
        tmp_path, {"app/a.py": ROUTE, "pyproject.toml": '[tool.fastapi-lint]\ncache-dir = "c"\n'}
    )
    run_cli("check", "app", cwd=tmp_path)
    assert (tmp_path / "c" / ".gitignore").is_file()
    monkeypatch.setenv("FASTAPI_LINT_CACHE_DIR", str(tmp_path / "from-env"))
    run_cli("check", "app")
    assert (tmp_path / "from-env" / ".gitignore").is_file()
    run_cli("check", "--cache-dir", "from-flag", "app")
    assert (tmp_path / "from-flag" / ".gitignore").is_file()
    assert not (tmp_path / CACHE).exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # a partial write
        lambda text: "",
        lambda text: "\0\1 not json",
        lambda text: json.dumps({"format": 1, "entries": []}),
        lambda text: json.dumps({"format": 1, "entries": _bad_entries(text)}),
    ],
)
def test_a_damaged_cache_is_ignored(run_cli, tmp_path, damage):
    sample_project(tmp_path)
    expected = run_cli("check", "--output-format", "concise")
    for file in (tmp_path / CACHE).rglob("*.json"):
        file.write_text(damage(file.read_text()))
    run = run_cli("check", "--output-format", "concise")
    assert (run.exit_code, run.stdout, run.stderr) == (
        expected.exit_code,
        expected.stdout,
        expected.stderr,
    )
    again = run_cli("check", "--output-format", "concise")  # and the cache is sound again
    assert again.stdout == expected.stdout


def _bad_entries(text: str) -> dict:
    """Entries of the right hashes with broken diagnostics, of every wrong shape."""
    entries = json.loads(text)["entries"]
    shapes = [
        None,
        7,
        [[1, 2]],
        [["x"] * 11],
        [[1, 1, 1, 1, "C", "n", "m", "nope", None, None, []]],
    ]
    for n, entry in enumerate(entries.values()):
        entry["diagnostics"] = shapes[n % len(shapes)]
    return entries


def test_an_unwritable_cache_is_a_warning(run_cli, tmp_path):
    project(tmp_path, {"a.py": ROUTE, "not-a-directory": "x"})
    cache_dir = ("--cache-dir", "not-a-directory/cache")
    run = run_cli("check", *CHECKLIST, *cache_dir, "--output-format", "concise")
    assert run.exit_code == 1
    assert "a.py:3:1: FAPI101" in run.stdout
    assert "fastapi-lint: warning: cannot write the cache" in run.stderr


def test_concurrent_runs_share_a_cache_directory(tmp_path):
    sample_project(tmp_path)
    command = [sys.executable, "-m", "fastapi_lint", "check", "--output-format", "concise"]
    command += ["--cache-dir", str(tmp_path / "shared")]
    runs = [
        subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True) for _ in "ab"
    ]
    outputs = [(run.communicate(timeout=120)[0], run.returncode) for run in runs]
    assert outputs[0] == outputs[1]
    assert outputs[0][1] == 1 and "FAPI101" in outputs[0][0]
    warm = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (warm.stdout, warm.returncode) == outputs[0]
    leftovers = [p.name for p in (tmp_path / "shared").rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers


def test_a_cache_hit_does_not_import_libcst(tmp_path):
    project(tmp_path, {"a.py": ROUTE, "b.py": "x = 1\n"})
    script = (
        "import sys\n"
        "from fastapi_lint.cli import main\n"
        "code = main(['check', '--extend-select', 'FAPI101', '--output-format', 'concise', '.'])\n"
        "print('libcst imported:', 'libcst._nodes' in sys.modules, file=sys.stderr)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        for _ in ["cold", "warm"]
    ]
    assert runs[0].stdout == runs[1].stdout and "FAPI101" in runs[0].stdout
    assert "libcst imported: True" in runs[0].stderr  # it parsed a.py
    assert "libcst imported: False" in runs[1].stderr


# --- timings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("select", [[], ["--select", "FAPI1,FAPI003"], ["--extend-select", "ALL"]])
def test_timings_lists_the_phases_and_every_enabled_rule(run_cli, tmp_path, select):
    sample_project(tmp_path)
    run = run_cli("check", "--no-cache", *select, "--timings", "--output-format", "concise")
    table = run.stderr.splitlines()
    assert table[0].startswith("Timings:")
    labels = [line.split()[0] for line in table[1:]]
    for phase in ("read", "parse", "model", "positions", "suppression", "fixes", "total"):
        assert phase in labels
    enabled = [r.code for r in ALL_RULES if r.code in _enabled_codes(run_cli, select)]
    assert enabled and [label for label in labels if label.startswith("FAPI")] == enabled


def _enabled_codes(run_cli, select) -> list[str]:
    config = run_cli("config", "--output-format", "json", *select)
    return json.loads(config.stdout)["enabled-rules"]["value"]


def test_timings_add_up_the_workers(run_cli, tmp_path):
    sample_project(tmp_path)
    run = run_cli("check", "--no-cache", "--jobs", "2", "--timings", "--output-format", "concise")
    header = run.stderr.splitlines()[0]
    assert "checked in 2 worker processes" in header
    parse = next(line for line in run.stderr.splitlines() if line.split()[0] == "parse")
    assert float(parse.split()[1]) > 0


# --- the project index before the workers fork ---------------------------------------------


def _modules(root: Path, count: int) -> list[Path]:
    """A project of `count` modules: one app, routers that import helpers, helpers."""
    files = {"pyproject.toml": "[tool.fastapi-lint]\n", "app/__init__.py": ""}
    files["app/main.py"] = "from fastapi import FastAPI\nfrom app import r0\napp = FastAPI()\n"
    files["app/main.py"] += "app.include_router(r0.router, prefix='/v1')\n"
    for n in range(count):
        files[f"app/h{n}.py"] = f"import time\ndef helper{n}():\n    time.sleep(1)\n"
        files[f"app/r{n}.py"] = (
            f"from fastapi import APIRouter\nfrom app.h{n} import helper{n}\n"
            f"router = APIRouter()\n@router.get('/{n}')\nasync def get{n}():\n"
            f"    helper{n}()\n"
        )
    project(root, files)
    return sorted(root.rglob("*.py"))


def test_every_module_is_summarised_up_front_in_parallel_and_as_a_serial_build(tmp_path):
    from fastapi_lint.project.build import build_index

    files = _modules(tmp_path, 24)
    parallel = build_index(files, tmp_path, jobs=2, every_module=True)
    serial = build_index(files, tmp_path)
    assert all(parallel.store.facts(path) is not None for path in files)
    assert parallel.rows == serial.rows
    assert [parallel.file_digest(p) for p in files] == [serial.file_digest(p) for p in files]
    assert all(
        parallel.modules[key].summary == serial.modules[key].summary for key in serial.modules
    )


def test_the_summary_store_reads_back_what_it_wrote(tmp_path):
    from fastapi_lint.project.build import build_index

    files = _modules(tmp_path / "project", 20)
    cache = tmp_path / "cache"
    first = build_index(files, tmp_path / "project", cache_dir=cache, jobs=2, every_module=True)
    first.save()
    again = build_index(files, tmp_path / "project", cache_dir=cache, jobs=2, every_module=True)
    assert again.store.reused == len(files)
    assert again.rows == first.rows
    assert all(again.store.facts(path) == first.store.facts(path) for path in files)
    assert all(again.modules[k].summary == first.modules[k].summary for k in first.modules)


def test_the_screen_answers_files_and_changes_no_output(run_cli, tmp_path):
    _modules(tmp_path, 12)
    (tmp_path / "app/models.py").write_text("from fastapi import Query\nLIMIT = Query(10)\n")
    screened = run_cli("check", "--no-cache", "--timings", "--output-format", "json")
    plain = run_cli("check", "--no-cache", "--timings", "--no-screen", "--output-format", "json")
    assert screened.stdout == plain.stdout and "FAPI201" not in screened.stdout
    assert " 0 by the parse screen" not in screened.stderr.splitlines()[0]
    assert " 0 by the parse screen" in plain.stderr.splitlines()[0]


def test_a_file_digest_follows_its_imports_transitively_through_cycles(tmp_path):
    """The digest of a file changes when a module it imports, directly, through others or
    through a cycle, changes; and only then."""
    from fastapi_lint.project.build import build_index

    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg import b\n",
        "pkg/b.py": "from pkg import c\n",
        "pkg/c.py": "X = 1\n",
        "pkg/d.py": "Y = 2\n",
        "pkg/e.py": "from pkg.f import g\nfrom . import c\n",
        "pkg/f.py": "from pkg.e import *\ndef g(): ...\n",
    }
    project(tmp_path, files)
    paths = sorted(tmp_path.rglob("*.py"))

    def digests() -> dict[str, str]:
        index = build_index(paths, tmp_path)
        return {path.stem: index.file_digest(path) for path in paths}

    before = digests()
    changed = tmp_path / "pkg/c.py"
    changed.write_text("X = 22\n")
    after = digests()
    assert {name for name in before if before[name] != after[name]} == {"a", "b", "c", "e", "f"}

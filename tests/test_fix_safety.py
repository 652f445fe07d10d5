"""Fixing never writes code that does not compile, never leaves half a file, and keeps what
a file is besides its code: its mode, encoding, byte order mark and line endings.

1. A fix that breaks the code is found (by bisection), dropped and named on stderr; the other
   fixes are applied and the finding stays reported.
2. Writes are atomic: a `--fix` run over hundreds of files killed with SIGKILL leaves each file
   as it was or fully fixed, and so does a single write of a large file killed midway.
3. Mode bits, a coding cookie (latin-1), a UTF-8 BOM and CRLF line endings survive a fix that
   also adds an import.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import libcst as cst
import pytest

from fastapi_lint import engine as engine_module
from fastapi_lint import fixes as fixes_module
from fastapi_lint.diagnostics import Applicability
from fastapi_lint.engine import Engine
from fastapi_lint.fixes import Fix, apply_fixes, drop_breaking_fixes
from fastapi_lint.positions import node_ranges
from fastapi_lint.rule import Rule
from fastapi_lint.rules import RULES_BY_CODE
from fastapi_lint.semantic import ProjectModules

from .conftest import FIXTURES

# FAPI102 (unsafe fix), FAPI201 (unsafe fix, adds `import asyncio`) and FAPI105 (safe fix).
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
RAISE = "Replace `return` with `raise`"  # FAPI105's fix
BREAKAGES = {
    "unparsable": ("def broken(:\n", "invalid syntax"),  # neither LibCST nor CPython parses it
    "repeated-keyword": ("print(end='', end='')\n", "keyword argument repeated: end"),
    "await-outside-function": ("class Inner:\n    await x\n", "'await' outside function"),
}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def compiles(text: str) -> bool:
    try:
        compile(text, "<fixed>", "exec", dont_inherit=True)
    except SyntaxError:
        return False
    return True


def _break(monkeypatch, broken: str, guilty: Callable[[Fix], bool]) -> None:
    """Make every application of fixes that includes a guilty one give `broken` code too."""
    real = apply_fixes

    def fake(module, fixes, ranges):
        result = real(module, fixes, ranges)
        if any(guilty(fix) for fix in result.applied):
            result.module = SimpleNamespace(code=result.module.code + broken)
        return result

    monkeypatch.setattr(engine_module, "apply_fixes", fake)
    monkeypatch.setattr(fixes_module, "apply_fixes", fake)


def _warning(line: int, code: str, reason: str) -> str:
    return (
        f"fastapi-lint: warning: a.py:{line}: {code} fix not applied: the code it gives does"
        f" not compile ({reason}); the finding is still reported\n"
    )


# --- 1. fixes that break the code ---------------------------------------------------------


@pytest.mark.usefixtures("isolated")
@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_fix_that_breaks_the_code_is_dropped_and_the_others_applied(
    run_cli, tmp_path, monkeypatch, breakage
):
    broken, reason = BREAKAGES[breakage]
    path = write(tmp_path / "a.py", MIXED)
    _break(monkeypatch, broken, lambda fix: fix.title == RAISE)
    run = run_cli("check", "--fix", "--unsafe-fixes", *MIXED_SELECT, "a.py")
    fixed = path.read_text()
    assert compiles(fixed)
    assert '@app.post("/x", status_code=201)' in fixed  # FAPI102
    assert "    await asyncio.sleep(1)\n" in fixed  # FAPI201, with its import
    assert "    return HTTPException(404)\n" in fixed  # FAPI105: dropped
    # The warning's line is the finding's, in the file as written (the import moved it).
    line = fixed.splitlines().index("    return HTTPException(404)") + 1
    assert run.stderr == _warning(line, "FAPI105", reason)
    assert run.stdout.splitlines() == [
        f"a.py:{line}:5: FAPI105 [*] `HTTPException` is returned, not raised, in route"
        " `create_x` (POST /x)",
        "Found 3 errors (2 fixed, 1 remaining).",
        "[*] 1 fixable with the `--fix` option.",
    ]
    assert run.exit_code == 1  # the finding remains, as any finding not fixed
    assert sorted(os.listdir(tmp_path)) == ["a.py"]


@pytest.mark.usefixtures("isolated")
def test_diff_and_fix_only_name_the_dropped_fix_too(run_cli, tmp_path, monkeypatch):
    path = write(tmp_path / "a.py", MIXED)
    broken, reason = BREAKAGES["repeated-keyword"]
    _break(monkeypatch, broken, lambda fix: fix.title == RAISE)
    diff = run_cli("check", "--diff", "--unsafe-fixes", *MIXED_SELECT, "a.py")
    assert diff.exit_code == 1
    assert diff.stderr == _warning(13, "FAPI105", reason) + "Would fix 2 errors.\n"
    assert "+    await asyncio.sleep(1)" in diff.stdout
    assert "raise HTTPException" not in diff.stdout
    assert path.read_text() == MIXED
    fix_only = run_cli("check", "--fix-only", "--unsafe-fixes", *MIXED_SELECT, "a.py")
    assert (fix_only.exit_code, fix_only.stdout) == (0, "Fixed 2 errors.\n")
    assert fix_only.stderr == _warning(13, "FAPI105", reason)


@pytest.mark.usefixtures("isolated")
def test_when_every_fix_breaks_the_code_nothing_is_written(run_cli, tmp_path, monkeypatch):
    path = write(tmp_path / "a.py", MIXED)
    broken, reason = BREAKAGES["await-outside-function"]
    _break(monkeypatch, broken, lambda fix: True)
    run = run_cli("check", "--fix", "--unsafe-fixes", *MIXED_SELECT, "a.py")
    assert path.read_text() == MIXED
    assert run.exit_code == 1
    assert run.stderr == (
        _warning(8, "FAPI102", reason)
        + _warning(11, "FAPI201", reason)
        + _warning(12, "FAPI105", reason)
    )
    assert "Found 3 errors." in run.stdout
    assert sorted(os.listdir(tmp_path)) == ["a.py"]


class RepeatKeyword(Rule):
    """Test rule whose fix breaks the code for real: `print(x)` becomes a call that LibCST
    parses and CPython rejects."""

    code = "FAPI999"
    name = "repeat-keyword"
    fixable = True
    fix_safety = "safe"
    triggers = (b"print",)

    def check(self, model):  # type: ignore[no-untyped-def]
        calls = [
            node
            for node in _walk(model.module)
            if isinstance(node, cst.Call) and getattr(node.func, "value", None) == "print"
        ]
        for call in calls:
            broken = call.with_changes(args=[*call.args, *cst.parse_expression("f(a=1, a=2)").args])
            fix = Fix("Repeat a keyword", Applicability.SAFE, {call: broken})
            yield self.finding(call, "a print", fix=fix)


def _walk(node: cst.CSTNode):
    yield node
    for child in node.children:
        yield from _walk(child)


NESTED = '''from fastapi import FastAPI, HTTPException

app = FastAPI()


async def add_endpoint() -> dict:
    return {}


@app.get("/nested")
async def nested() -> dict:
    """The FAPI102 fix lies inside the FAPI105 one: it waits for the second round."""
    return HTTPException(400, detail=str(app.add_api_route("/x", add_endpoint, methods=["POST"])))


def helper():
    print("done")
'''


def test_a_fix_dropped_in_one_round_is_not_retried_in_the_next(tmp_path, monkeypatch):
    path = write(tmp_path / "a.py", NESTED)
    rules = [RepeatKeyword(), RULES_BY_CODE["FAPI102"](), RULES_BY_CODE["FAPI105"]()]
    engine = Engine(rules, ProjectModules())
    bisections = []

    def spy(*args):
        bisections.append(None)
        return drop_breaking_fixes(*args)

    monkeypatch.setattr(engine_module, "drop_breaking_fixes", spy)
    outcome = engine.fix_file(path, unsafe=True)
    assert len(bisections) == 1  # round 2 (the FAPI102 fix) does not try it again
    assert dict(outcome.fixed) == {"FAPI102": 1, "FAPI105": 1}
    fixed = outcome.result.text
    assert fixed is not None and compiles(fixed)
    assert 'methods=["POST"], status_code=201)' in fixed
    assert "raise HTTPException(400" in fixed
    assert [(d.code, d.line, d.reason) for d in outcome.dropped] == [
        ("FAPI999", 17, "keyword argument repeated: a")
    ]
    assert outcome.warnings("a.py") == [
        "a.py:17: FAPI999 fix not applied: the code it gives does not compile (keyword argument"
        " repeated: a); the finding is still reported"
    ]
    assert [d.code for d in outcome.result.diagnostics] == ["FAPI999"]


def test_bisection_finds_each_fix_to_blame_in_few_tries():
    names = [f"v{i}" for i in range(32)]
    module = cst.parse_module("".join(f"{name} = 0\n" for name in names))
    targets = [statement.body[0].targets[0].target for statement in module.body]
    renamed = {5: "bad", 20: "x", 27: "y"}  # `bad` breaks alone; `x` with `y` breaks
    fixes = [
        Fix(f"Rename {i}", Applicability.SAFE, {target: cst.Name(renamed.get(i, f"w{i}"))})
        for i, target in enumerate(targets)
    ]
    ranges = node_ranges(module, targets)
    tries = []

    def breaks(text: str) -> str | None:
        tries.append(text)
        if "bad = 0" in text:
            return "bad"
        return "x and y" if "x = 0" in text and "y = 0" in text else None

    first = breaks(apply_fixes(module, fixes, ranges).module.code)
    assert first is not None
    applied, dropped = drop_breaking_fixes(module, fixes, ranges, breaks, first)
    assert [(fix.title, reason) for fix, reason in dropped] == [
        ("Rename 5", "bad"),
        ("Rename 27", "x and y"),  # the later of the two: with it, the code breaks
    ]
    assert len(applied.applied) == 30
    assert "x = 0" in applied.module.code and "y = 0" not in applied.module.code
    assert breaks(applied.module.code) is None
    assert len(tries) <= 2 * (math.ceil(math.log2(len(fixes))) + 1) + 2


# --- 2. atomic writes ---------------------------------------------------------------------


def _command() -> list[str]:
    script = shutil.which("fastapi-lint", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "fastapi_lint"]


FIX_COMMAND = [
    "check",
    "--fix",
    "--unsafe-fixes",
    "--preview",
    "--select",
    "FAPI501,FAPI504",
    "--no-cache",
    "--quiet",
    ".",
]
# Pydantic models with safe fixes: `class Config` (adds an import) and `regex=`.
TEMPLATES = {"config": FIXTURES / "FAPI501_fix.py", "regex": FIXTURES / "FAPI504_fix.py"}
COPIES = 150  # of each template


def _fixed_templates(tmp_path: Path) -> dict[str, bytes]:
    """Each template as a complete run of the same command fixes it."""
    reference = tmp_path / "reference"
    reference.mkdir()
    for name, template in TEMPLATES.items():
        shutil.copy(template, reference / f"{name}.py")
    subprocess.run([*_command(), *FIX_COMMAND], cwd=reference, capture_output=True, timeout=300)
    fixed = {name: (reference / f"{name}.py").read_bytes() for name in TEMPLATES}
    for name, template in TEMPLATES.items():
        assert fixed[name] != template.read_bytes(), name
        assert compiles(fixed[name].decode()), name
    return fixed


def test_a_fix_run_killed_midway_leaves_each_file_original_or_fully_fixed(tmp_path):
    fixed = _fixed_templates(tmp_path)
    original = {name: template.read_bytes() for name, template in TEMPLATES.items()}
    work = tmp_path / "work"
    work.mkdir()
    files = {}
    for name in TEMPLATES:
        for number in range(COPIES):
            path = work / f"{name}_{number:03}.py"
            path.write_bytes(original[name])
            files[path] = name
    process = subprocess.Popen(
        [*_command(), *FIX_COMMAND],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the workers die with it
    )
    try:
        deadline = time.monotonic() + 300
        while process.poll() is None and time.monotonic() < deadline:
            if sum(path.read_bytes() == fixed[name] for path, name in files.items()) >= 10:
                break  # writes are under way: kill it in the middle of them
            time.sleep(0.01)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    states = {"original": 0, "fixed": 0}
    for path, name in files.items():
        data = path.read_bytes()
        assert data in (original[name], fixed[name]), f"{path.name} is neither"
        states["fixed" if data == fixed[name] else "original"] += 1
    assert states["fixed"] >= 10 and states["original"] > 0, states
    # A write cut short leaves only its hidden temporary file, which is not a Python file.
    leftovers = [path.name for path in work.iterdir() if path not in files]
    assert all(name.startswith(".") and name.endswith(".tmp") for name in leftovers), leftovers


WRITER = """
import sys
from pathlib import Path
from fastapi_lint.fixes import write_atomically

path = Path(sys.argv[1])
texts = [f"{name} = 1  # {'x' * 60}\\n" * 60_000 for name in ("old", "new")]
current = path.read_bytes()
print("writing", flush=True)
while True:
    text = texts[current == texts[0].encode()]
    write_atomically(path, text, "utf-8", current)
    current = text.encode()
"""


def test_a_large_write_killed_midway_leaves_the_old_or_the_new_file(tmp_path):
    texts = [f"{name} = 1  # {'x' * 60}\n" * 60_000 for name in ("old", "new")]
    path = tmp_path / "big.py"
    path.write_text(texts[0])
    path.chmod(0o640)
    for delay in (0.05, 0.13, 0.29, 0.41, 0.67):
        process = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None and process.stdout.readline() == "writing\n"
        time.sleep(delay)
        process.kill()
        process.wait()
        assert path.read_text() in texts
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    leftovers = [p.name for p in tmp_path.iterdir() if p != path]
    assert all(name.startswith(".big.py.") and name.endswith(".tmp") for name in leftovers)


# --- 3. what a fix keeps --------------------------------------------------------------------

# FAPI501 (`class Config`, adds an import of ConfigDict) and FAPI105, around non-ASCII text.
MODEL = '''from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    """Caf\u00e9 cr\u00e8me."""

    name: str

    class Config:
        orm_mode = True


@app.get("/x")
async def read_x() -> dict:
    """Doc."""
    return HTTPException(404)
'''
COOKIE = "# -*- coding: latin-1 -*-\n"
# What each kind of file is on disk, from its text.
ENCODINGS: dict[str, Callable[[str], bytes]] = {
    "crlf": lambda text: text.replace("\n", "\r\n").encode(),
    "latin-1-cookie": lambda text: (COOKIE + text).encode("latin-1"),
    "utf-8-bom": lambda text: b"\xef\xbb\xbf" + text.encode(),
    "crlf-latin-1": lambda text: (COOKIE + text).replace("\n", "\r\n").encode("latin-1"),
}


@pytest.mark.usefixtures("isolated")
def test_the_reference_fix_adds_an_import(run_cli, tmp_path):
    fixed = _fix_model(run_cli, tmp_path, MODEL.encode()).decode()
    assert "from pydantic import ConfigDict, BaseModel\n" in fixed
    assert "    model_config = ConfigDict(from_attributes=True)\n" in fixed
    assert "    raise HTTPException(404)\n" in fixed


def _fix_model(
    run_cli, tmp_path: Path, data: bytes, name: str = "reference.py", mode: int | None = None
) -> bytes:
    path = tmp_path / name
    path.write_bytes(data)
    if mode is not None:
        path.chmod(mode)
    run = run_cli("check", "--fix", "--select", "FAPI105,FAPI501", name)
    assert (run.exit_code, run.stderr) == (0, ""), run.stdout + run.stderr
    assert run.stdout == "Found 2 errors (2 fixed, 0 remaining).\n"
    return path.read_bytes()


@pytest.mark.usefixtures("isolated")
@pytest.mark.parametrize("kind", sorted(ENCODINGS))
def test_fix_keeps_encoding_bom_and_line_endings(run_cli, tmp_path, kind):
    expected_text = _fix_model(run_cli, tmp_path, MODEL.encode()).decode()
    encode = ENCODINGS[kind]
    assert _fix_model(run_cli, tmp_path, encode(MODEL), "a.py") == encode(expected_text)


@pytest.mark.usefixtures("isolated")
@pytest.mark.parametrize("mode", [0o644, 0o755, 0o600, 0o640, 0o664], ids=oct)
def test_fix_keeps_the_mode_bits(run_cli, tmp_path, mode):
    expected = _fix_model(run_cli, tmp_path, MODEL.encode())
    assert _fix_model(run_cli, tmp_path, MODEL.encode(), "a.py", mode) == expected
    assert stat.S_IMODE((tmp_path / "a.py").stat().st_mode) == mode


@pytest.mark.usefixtures("isolated")
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_fix_as_root_keeps_the_owner(run_cli, tmp_path):
    # Root fixing a checkout mounted into a container must not hand the files to root.
    expected = _fix_model(run_cli, tmp_path, MODEL.encode())
    path = tmp_path / "a.py"
    path.write_text(MODEL)
    os.chown(path, 1234, 4321)
    assert _fix_model(run_cli, tmp_path, MODEL.encode(), "a.py", 0o640) == expected
    assert (path.stat().st_uid, path.stat().st_gid) == (1234, 4321)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640

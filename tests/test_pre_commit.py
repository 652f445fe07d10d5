"""The pre-commit hooks of `.pre-commit-hooks.yaml`, and `--force-exclude`, which they rely on.

The end-to-end tests run the real `pre-commit try-repo` against a snapshot of this checkout:
pre-commit builds a virtualenv and pip-installs fastapi-lint into it, which needs PyPI (or a
pip mirror) and takes about ten seconds per run. `try-repo` installs into a temporary store
every time (PRE_COMMIT_HOME does not help), so the module runs it twice in all: both hooks on
a file with a fixable finding, then both hooks again on the fixed file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST = REPO_ROOT / ".pre-commit-hooks.yaml"

# A FastAPI app whose only finding is FAPI105 at 10:9, which `--fix` turns into a `raise`.
APP = '''\
from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict[str, int]:
    """Read one item."""
    if item_id < 0:
        return HTTPException(status_code=404, detail="not found")
    return {"id": item_id}
'''
# Bad, unfixable code (FAPI401: no docstring) that the hooks must not see: pre-commit
# passes it by name, and only `--force-exclude` applies the excludes to named files.
# FAPI401 is off by default: the runs and the configuration below turn it on.
BAD_ROUTE = (
    'from fastapi import FastAPI\napp = FastAPI()\n@app.post("/x")\nasync def x():\n    pass\n'
)
TARGET_FILES = {
    "app.py": APP,
    "build/generated.py": BAD_ROUTE,  # a default exclude
    "legacy/old.py": BAD_ROUTE,  # excluded by the project's configuration
    "pyproject.toml": (
        '[tool.fastapi-lint]\nextend-select = ["FAPI401"]\nextend-exclude = ["legacy"]\n'
    ),
}
CHECKLIST = ("--extend-select", "FAPI401")
STATUS = re.compile(r"^(?P<name>.+?)\.{3,}(?P<status>Passed|Failed|Skipped)", re.MULTILINE)


def pre_commit() -> str:
    """The pre-commit installed beside the running interpreter (it is in the test extras)."""
    found = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    assert found, f"pre-commit is not installed next to {sys.executable}: pip install -e .[test]"
    return found


# --- the manifest ------------------------------------------------------------------------------


def test_manifest_is_valid_for_pre_commit() -> None:
    result = subprocess.run(
        [pre_commit(), "validate-manifest", str(MANIFEST)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_manifest_declares_a_lint_and_a_fix_hook_like_ruff_pre_commit() -> None:
    hooks = {hook["id"]: hook for hook in yaml.safe_load(MANIFEST.read_text())}
    assert set(hooks) == {"fastapi-lint", "fastapi-lint-fix"}
    assert hooks["fastapi-lint"]["entry"] == "fastapi-lint check --force-exclude"
    assert hooks["fastapi-lint-fix"]["entry"] == "fastapi-lint check --fix --force-exclude"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types_or"] == ["python", "pyi"]
        assert hook["require_serial"] is True
        assert hook["args"] == []
        assert hook["minimum_pre_commit_version"] == "2.9.2"


# --- --force-exclude ---------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("FASTAPI_LINT_OUTPUT_FORMAT", raising=False)
    for name in ("app.py", "build/generated.py", ".venv/lib/site.py", "legacy/old.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(BAD_ROUTE)
    return tmp_path


def linted(run) -> set[str]:
    """The files with findings (every file of `tree` has some), relative to the project."""
    assert run.exit_code in (0, 1), run.stderr
    assert "FAPI002" not in {d["code"] for d in run.diagnostics}  # unreadable or missing
    return {Path(d["filename"]).relative_to(Path.cwd()).as_posix() for d in run.diagnostics}


NAMED = ("app.py", "build/generated.py", ".venv/lib/site.py")


def test_named_files_in_default_excludes_are_linted_without_force_exclude(run_cli, tree) -> None:
    run = run_cli("check", *CHECKLIST, "--output-format", "json", *NAMED, cwd=tree)
    assert linted(run) == set(NAMED)


def test_force_exclude_applies_default_excludes_to_named_files(run_cli, tree) -> None:
    run = run_cli(
        "check", *CHECKLIST, "--force-exclude", "--output-format", "json", *NAMED, cwd=tree
    )
    assert linted(run) == {"app.py"}


def test_force_exclude_applies_configured_excludes_to_named_files(run_cli, tree) -> None:
    (tree / "pyproject.toml").write_text('[tool.fastapi-lint]\nextend-exclude = ["legacy"]\n')
    for flags in ((), ("--force-exclude",)):
        named = ("app.py", "legacy/old.py")
        run = run_cli("check", *CHECKLIST, *flags, "--output-format", "json", *named, cwd=tree)
        assert linted(run) == {"app.py"}, flags


def test_force_exclude_with_exclude_replacing_the_defaults(run_cli, tree) -> None:
    (tree / "pyproject.toml").write_text('[tool.fastapi-lint]\nexclude = ["legacy"]\n')
    named = (*NAMED, "legacy/old.py")
    run = run_cli(
        "check", *CHECKLIST, "--force-exclude", "--output-format", "json", *named, cwd=tree
    )
    assert linted(run) == set(NAMED)


def test_force_exclude_from_config_and_no_force_exclude_overrides_it(run_cli, tree) -> None:
    (tree / "pyproject.toml").write_text("[tool.fastapi-lint]\nforce-exclude = true\n")
    run = run_cli("check", *CHECKLIST, "--output-format", "json", *NAMED, cwd=tree)
    assert linted(run) == {"app.py"}
    run = run_cli("check", *CHECKLIST, "--no-force-exclude", "--output-format", "json", *NAMED)
    assert linted(run) == set(NAMED)


def test_force_exclude_keeps_named_gitignored_files_as_ruff_does(run_cli, tree) -> None:
    (tree / ".gitignore").write_text("app.py\n")
    run = run_cli(
        "check", *CHECKLIST, "--force-exclude", "--output-format", "json", "app.py", cwd=tree
    )
    assert linted(run) == {"app.py"}


def test_force_exclude_when_every_named_file_is_excluded_passes(run_cli, tree) -> None:
    run = run_cli("check", *CHECKLIST, "--force-exclude", "build/generated.py", cwd=tree)
    assert (run.exit_code, run.stdout) == (0, "All checks passed!\n")


def test_force_exclude_must_be_a_boolean_in_config(run_cli, tree) -> None:
    (tree / "pyproject.toml").write_text('[tool.fastapi-lint]\nforce-exclude = "yes"\n')
    run = run_cli("check", "app.py", cwd=tree)
    assert run.exit_code == 2
    assert "`force-exclude` must be true or false" in run.stderr


# --- pre-commit try-repo, end to end -----------------------------------------------------------


def _environment(home: Path) -> dict[str, str]:
    """The environment of the child processes: HOME and every cache in `home`, so neither the
    user's git configuration nor their pre-commit or pip caches are read or written."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GIT_", "PRE_COMMIT")) and key != "FASTAPI_LINT_OUTPUT_FORMAT"
    }
    if "PIP_CONFIG_FILE" not in env:  # keep the user's pip index or mirror, read-only
        for user_config in (".config/pip/pip.conf", ".pip/pip.conf"):
            if (Path.home() / user_config).is_file():
                env["PIP_CONFIG_FILE"] = str(Path.home() / user_config)
                break
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        PRE_COMMIT_HOME=str(home / "pre-commit"),
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


def _init_repo(path: Path, env: dict[str, str]) -> None:
    _git(path, env, "init", "--quiet")
    _git(path, env, "config", "user.name", "fastapi-lint tests")
    _git(path, env, "config", "user.email", "tests@fastapi-lint.invalid")
    _git(path, env, "config", "commit.gpgsign", "false")
    _git(path, env, "add", "--all")
    _git(path, env, "commit", "--quiet", "--message", "snapshot")


def _snapshot_of_this_checkout(destination: Path, env: dict[str, str]) -> None:
    """This checkout's working tree as a clean, committed git repository.

    try-repo on a dirty checkout would commit only the *tracked* changes into its shadow repo,
    so a new file (such as an uncommitted `.pre-commit-hooks.yaml`) would be missing; a
    snapshot of the tracked and untracked-but-not-ignored files behaves the same from a clean
    clone and from a working tree under edit."""
    listed = _git(REPO_ROOT, env, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():  # deleted in the working tree: skip
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    assert (destination / ".pre-commit-hooks.yaml").is_file()
    _init_repo(destination, env)


class Workspace:
    def __init__(self, root: Path) -> None:
        self.home = root / "home"
        self.hooks_repo = root / "fastapi-lint"
        self.target = root / "project"
        for directory in (self.home, self.hooks_repo, self.target):
            directory.mkdir()
        self.env = _environment(self.home)
        _snapshot_of_this_checkout(self.hooks_repo, self.env)
        for name, text in TARGET_FILES.items():
            (self.target / name).parent.mkdir(parents=True, exist_ok=True)
            (self.target / name).write_text(text)
        _init_repo(self.target, self.env)

    def try_repo(self) -> tuple[int, str, dict[str, str]]:
        """`pre-commit try-repo HOOKS_REPO --all-files`, which runs every hook of the manifest
        (one virtualenv for both); returns the exit code, the output, and each hook's status."""
        result = subprocess.run(
            [pre_commit(), "try-repo", str(self.hooks_repo), "--all-files", "--color", "never"],
            cwd=self.target,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        output = result.stdout + result.stderr
        statuses = {m["name"]: m["status"] for m in STATUS.finditer(result.stdout)}
        return result.returncode, output, statuses


def _section(output: str, hook_id: str) -> str:
    """The lines pre-commit prints for one hook, from its status line to the next."""
    match = re.search(
        rf"^- hook id: {re.escape(hook_id)}$(?P<body>.*?)(?=^\S[^\n]*\.{{3,}}(?:Passed|Failed)|\Z)",
        output,
        re.MULTILINE | re.DOTALL,
    )
    assert match, f"no section for hook {hook_id} in:\n{output}"
    return match["body"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("pre-commit"))


@pytest.fixture(scope="module")
def first_run(workspace: Workspace) -> tuple[int, str, dict[str, str]]:
    """Both hooks on the committed project, whose app.py has a fixable finding."""
    return workspace.try_repo()


def test_lint_hook_fails_and_names_the_finding(first_run) -> None:
    code, output, statuses = first_run
    assert code == 1, output
    assert statuses.get("fastapi-lint") == "Failed", output
    lint = _section(output, "fastapi-lint")
    assert "- exit code: 1" in lint
    assert "app.py:10:9: FAPI105 [*] `HTTPException` is returned, not raised" in lint
    assert "Found 1 error." in lint
    # pre-commit named them, yet the excluded files were skipped thanks to --force-exclude.
    assert "build/generated.py" not in output
    assert "legacy/old.py" not in output


def test_fix_hook_raises_the_exception_instead(first_run, workspace: Workspace) -> None:
    _, output, statuses = first_run
    assert statuses.get("fastapi-lint (fix)") == "Failed", output
    fix = _section(output, "fastapi-lint-fix")
    assert "- files were modified by this hook" in fix
    assert "Found 1 error (1 fixed, 0 remaining)." in fix
    fixed = (workspace.target / "app.py").read_text()
    assert fixed == APP.replace("return HTTPException", "raise HTTPException")
    assert (workspace.target / "build/generated.py").read_text() == BAD_ROUTE


def test_hooks_pass_once_the_file_is_fixed(first_run, workspace: Workspace) -> None:
    code, output, statuses = workspace.try_repo()
    assert (code, statuses) == (0, {"fastapi-lint": "Passed", "fastapi-lint (fix)": "Passed"}), (
        output
    )

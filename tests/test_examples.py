"""The example app of the Quick start trips every default-on rule, through the installed
entry point."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from fastapi_lint.rules import ALL_RULES

ROOT = Path(__file__).parents[1]


def _entry_point() -> str:
    script = Path(sys.executable).with_name("fastapi-lint")
    return str(script) if script.exists() else shutil.which("fastapi-lint") or "fastapi-lint"


def _lint_examples() -> list[dict]:
    """`fastapi-lint check examples/` as the Quick start runs it, through the entry point."""
    completed = subprocess.run(
        [_entry_point(), "check", "examples/", "--output-format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 1, completed.stderr
    return json.loads(completed.stdout)


def test_quick_start_example_shows_every_default_on_rule():
    reported = {d["code"] for d in _lint_examples()}
    assert reported == {
        rule.code for rule in ALL_RULES if rule.default_enabled and not rule.preview
    }


def test_examples_readme_lists_exactly_the_findings():
    reported = {
        (
            Path(d["filename"]).relative_to(ROOT / "examples").as_posix(),
            d["location"]["row"],
            d["code"],
        )
        for d in _lint_examples()
    }
    readme = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    listed = {
        (path, int(line), code)
        for path, line, code in re.findall(r"^\| `([\w/.]+):(\d+)`\s*\| (FAPI\d{3}) ", readme, re.M)
    }
    assert listed == reported

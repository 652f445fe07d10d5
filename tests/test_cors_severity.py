"""FAPI301: a wildcard with `allow_credentials=True` is reported with a message of its own
(and severity error); the JSON output has no severity key, so the message is what we check."""

from __future__ import annotations

import textwrap
from pathlib import Path

from fastapi_lint.diagnostics import Severity
from fastapi_lint.engine import Engine
from fastapi_lint.rules.security.cors_wildcard_origin import CorsWildcardOrigin
from fastapi_lint.semantic import ProjectModules

SOURCE = textwrap.dedent(
    """\
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
    app.add_middleware(CORSMiddleware, allow_origins=["*"])
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=False)
    app.add_middleware(CORSMiddleware, allow_origin_regex=".*", allow_credentials=True)
    app.add_middleware(CORSMiddleware, allow_origin_regex=".*")
    """
)


def _messages(run_cli, tmp_path) -> dict[int, str]:
    path = tmp_path / "app.py"
    path.write_text(SOURCE)
    config = tmp_path / "fastapi-lint.toml"
    config.write_text("[rules.FAPI301]\nwithout-credentials = true\n")
    result = run_cli(
        "check",
        "--select",
        "FAPI301",
        "--config",
        str(config),
        "--output-format",
        "json",
        str(path),
    )
    assert result.exit_code == 1, result.stderr
    return {d["location"]["row"]: d["message"] for d in result.diagnostics}


def test_credentials_variant_says_allow_credentials(run_cli, tmp_path):
    messages = _messages(run_cli, tmp_path)
    assert sorted(messages) == [5, 6, 7, 8, 9]
    for row in (5, 8):
        assert "allow_credentials=True" in messages[row]
        assert messages[row].startswith("CORS allows any origin")


def test_plain_wildcard_does_not_mention_credentials(run_cli, tmp_path):
    messages = _messages(run_cli, tmp_path)
    for row in (6, 7, 9):
        assert messages[row] == "CORS allows any origin"
        assert "allow_credentials" not in messages[row]


def test_text_output_shows_both_variants(run_cli, tmp_path):
    path = tmp_path / "app.py"
    path.write_text(SOURCE)
    config = tmp_path / "fastapi-lint.toml"
    config.write_text("[rules.FAPI301]\nwithout-credentials = true\n")
    result = run_cli("check", "--select", "FAPI301", "--config", str(config), str(path))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert sum("allow_credentials=True" in line for line in lines) == 2
    assert sum(line.endswith("FAPI301 CORS allows any origin") for line in lines) == 3


def test_severity_is_error_only_with_credentials():
    engine = Engine([CorsWildcardOrigin({"without-credentials": True})], ProjectModules())
    diagnostics = engine.check_bytes(SOURCE.encode(), Path("app.py")).diagnostics
    severities = {d.start.line: d.severity for d in diagnostics}
    assert severities == {
        5: Severity.ERROR,
        6: Severity.WARNING,
        7: Severity.WARNING,
        8: Severity.ERROR,
        9: Severity.WARNING,
    }


def test_by_default_only_the_credentialed_wildcard_is_reported():
    engine = Engine([CorsWildcardOrigin()], ProjectModules())
    diagnostics = engine.check_bytes(SOURCE.encode(), Path("app.py")).diagnostics
    assert {d.start.line: d.severity for d in diagnostics} == {5: Severity.ERROR, 8: Severity.ERROR}

"""The security rules FAPI302-FAPI308: what the fixtures cannot show (test files, options,
triggers, severities, a project module that shadows a library)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from fastapi_lint.rule import OptionError, triggered
from fastapi_lint.rules.security.hardcoded_secret import HardcodedSecret

from .conftest import project

SECRET = 'SECRET_KEY = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7"\n'
DEBUG = "from fastapi import FastAPI\n\napp = FastAPI(debug=True)\n"


def _findings(run_cli, root: Path, code: str, *extra: str) -> set[tuple[str, str]]:
    result = run_cli(
        "check",
        "--preview",
        "--select",
        code,
        "--no-cache",
        "--output-format",
        "json",
        *extra,
        cwd=root,
    )
    assert result.exit_code in (0, 1), result.stderr
    return {
        (Path(d["filename"]).relative_to(root).as_posix(), d["code"]) for d in result.diagnostics
    }


@pytest.mark.parametrize(("code", "source"), [("FAPI304", SECRET), ("FAPI307", DEBUG)])
def test_test_files_are_skipped_by_default(code, source, run_cli, tmp_path):
    files = {
        "pyproject.toml": "[project]\nname = 'shop'\n",
        "shop/__init__.py": "",
        "shop/main.py": source,
        "tests/helpers.py": source,
        "test/factories.py": source,
        "shop/test_main.py": source,
        "shop/main_test.py": source,
        "conftest.py": source,
    }
    root = project(tmp_path, files)
    assert _findings(run_cli, root, code) == {("shop/main.py", code)}
    (root / "pyproject.toml").write_text(
        f"[project]\nname = 'shop'\n\n[tool.fastapi-lint.rules.{code}]\nskip-test-files = false\n"
    )
    expected = {(name, code) for name in files if name.endswith(".py") and files[name]}
    assert _findings(run_cli, root, code) == expected


def test_a_project_directory_named_tests_above_the_root_does_not_count(run_cli, tmp_path):
    root = project(
        tmp_path / "tests" / "shop",
        {"pyproject.toml": "[project]\nname = 'shop'\n", "shop/settings.py": SECRET},
    )
    assert _findings(run_cli, root, "FAPI304") == {("shop/settings.py", "FAPI304")}


def test_secret_names_option_replaces_the_endings_and_widens_the_triggers():
    rule = HardcodedSecret({"secret-names": ["pin_code"]})
    assert rule.says_secret("ADMIN_PIN_CODE") and rule.says_secret("adminPinCode")
    assert not rule.says_secret("SECRET_KEY")
    assert triggered([rule], b'ADMIN_PIN_CODE = "0000"')
    assert triggered([rule], b'adminPinCode = "0000"')
    assert not triggered([rule], b'ADMIN_CODE = "0000"')


def test_default_secret_names_match_whole_trailing_words():
    rule = HardcodedSecret()
    for name in ("SECRET_KEY", "jwt_secret", "DB_PASSWORD", "GITHUB_TOKEN", "openaiApiKey"):
        assert rule.says_secret(name), name
    for name in ("TOKEN_URL", "PASSWORD_MIN_LENGTH", "SECRET_HEADER_NAME", "max_tokens", "KEY"):
        assert not rule.says_secret(name), name


@pytest.mark.parametrize("value", [["Api-Key"], ["api key"], "token", [1]])
def test_secret_names_option_rejects_what_is_not_a_snake_case_ending(value):
    with pytest.raises(OptionError):
        HardcodedSecret({"secret-names": value})


def test_custom_secret_names_are_reported(run_cli, tmp_path):
    root = project(
        tmp_path,
        {
            "pyproject.toml": (
                "[project]\nname = 'shop'\n\n"
                "[tool.fastapi-lint.rules.FAPI304]\nsecret-names = ['pin_code']\n"
            ),
            "shop/settings.py": 'ADMIN_PIN_CODE = "changeme"\nSECRET_KEY = "changeme"\n',
        },
    )
    result = run_cli(
        "check", "--preview", "--select", "FAPI304", "--output-format", "json", cwd=root
    )
    assert [d["location"]["row"] for d in result.diagnostics] == [1]


def test_a_project_module_named_jwt_is_not_pyjwt(run_cli, tmp_path):
    source = textwrap.dedent(
        """\
        import jwt


        def read(token):
            return jwt.decode(token, options={"verify_signature": False})


        def sign(claims):
            return jwt.encode(claims, "not-pyjwt")
        """
    )
    files = {"pyproject.toml": "[project]\nname = 'shop'\n", "shop.py": source}
    root = project(tmp_path, files)
    assert _findings(run_cli, root, "FAPI302,FAPI304") == {
        ("shop.py", "FAPI302"),
        ("shop.py", "FAPI304"),
    }
    (root / "jwt.py").write_text("def decode(*args, **kwargs): ...\n")
    assert _findings(run_cli, root, "FAPI302,FAPI304") == set()


def test_leak_severity_follows_the_status(run_cli, tmp_path):
    source = textwrap.dedent(
        """\
        from fastapi import HTTPException, status


        def charge(pay):
            try:
                return pay()
            except Exception as e:
                raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, str(e))


        def refund(pay):
            try:
                return pay()
            except Exception as e:
                raise HTTPException(400, str(e))
        """
    )
    root = project(tmp_path, {"pyproject.toml": "[project]\nname = 'shop'\n", "shop.py": source})
    result = run_cli(
        "check", "--preview", "--select", "FAPI308", "--output-format", "sarif", cwd=root
    )
    levels = [r["level"] for r in json.loads(result.stdout)["runs"][0]["results"]]
    assert sorted(levels) == ["error", "warning"]


@pytest.mark.parametrize(
    ("code", "needed", "source"),
    [
        ("FAPI302", b"jwt", 'from jose import jwt\njwt.decode("t", "k")\n'),
        ("FAPI306", b"TrustedHostMiddleware", DEBUG),
        ("FAPI307", b"debug", DEBUG),
        ("FAPI308", b"HTTPException", "from fastapi import HTTPException\n"),
    ],
)
def test_triggers_are_in_the_sources_the_rules_read(code, needed, source):
    from fastapi_lint.rules import RULES_BY_CODE

    assert needed in RULES_BY_CODE[code].triggers
    if code != "FAPI306":
        assert triggered([RULES_BY_CODE[code]()], source.encode())

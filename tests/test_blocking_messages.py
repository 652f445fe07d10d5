"""FAPI201 messages: the blocking call, and where it runs (route, dependency or function)."""

from __future__ import annotations

import textwrap

SOURCE = textwrap.dedent(
    """\
    import time

    import httpx
    from fastapi import APIRouter, Depends, FastAPI

    app = FastAPI()
    router = APIRouter()


    @app.get("/ping")
    async def ping():
        time.sleep(1)


    async def get_db():
        time.sleep(1)


    @router.api_route("/items", methods=["GET", "POST"])
    async def items(db=Depends(get_db)):
        httpx.Client().get("https://example.com")


    async def helper():
        open("data.txt")


    async def added():
        time.sleep(1)


    app.add_api_route("/added", added, methods=["PUT"])
    """
)


def _messages(run_cli, tmp_path, source=SOURCE, *options):
    path = tmp_path / "app.py"
    path.write_text(source)
    result = run_cli("check", "--select", "FAPI201", "--output-format", "json", *options, str(path))
    assert result.exit_code == 1, result.stderr
    return {d["location"]["row"]: d["message"] for d in result.diagnostics}


def test_messages_name_the_call_and_where_it_runs(run_cli, tmp_path):
    assert _messages(run_cli, tmp_path) == {
        12: "Blocking call `time.sleep` in async route `ping` (GET /ping)",
        16: "Blocking call `time.sleep` in async dependency `get_db`",
        21: "Blocking call `httpx.Client.get` in async route `items` (GET|POST /items)",
        25: "Blocking call `open` in async function `helper`",
        29: "Blocking call `time.sleep` in async route `added` (PUT /added)",
    }


def test_message_names_the_qualified_call_behind_an_alias(run_cli, tmp_path):
    source = textwrap.dedent(
        """\
        import requests as rq
        from subprocess import run as sh


        async def fetch():
            rq.get("https://example.com")
            sh(["ls"])
        """
    )
    assert _messages(run_cli, tmp_path, source) == {
        6: "Blocking call `requests.get` in async function `fetch`",
        7: "Blocking call `subprocess.run` in async function `fetch`",
    }


def test_extend_blocking_calls_rejects_a_bare_name(run_cli, tmp_path):
    config = tmp_path / "fastapi-lint.toml"
    config.write_text('[rules.FAPI201]\nextend-blocking-calls = ["fetch"]\n')
    path = tmp_path / "app.py"
    path.write_text("async def f():\n    fetch()\n")
    result = run_cli("check", "--config", str(config), str(path))
    assert result.exit_code == 2
    assert "`fetch` is not a qualified name" in result.stderr

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
    """FAPI201's messages, with `scope = "all"`: plain coroutine functions are checked too."""
    path = tmp_path / "app.py"
    path.write_text(source)
    config = tmp_path / "fastapi-lint.toml"
    config.write_text('[rules.FAPI201]\nscope = "all"\nfile-io = true\n')
    args = ("--select", "FAPI201", "--config", str(config), "--output-format", "json")
    result = run_cli("check", *args, *options, str(path))
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


def test_typed_receivers_name_the_type_and_method(run_cli, tmp_path):
    source = textwrap.dedent(
        """\
        from pathlib import Path

        import boto3
        import redis

        cache = redis.Redis()


        class Storage:
            def __init__(self):
                self.s3 = boto3.client("s3")

            async def save(self, path: Path):
                body = path.read_bytes()
                self.s3.put_object(Bucket="b", Key="k", Body=body)
                cache.delete("k")
        """
    )
    assert _messages(run_cli, tmp_path, source) == {
        14: "Blocking call `pathlib.Path.read_bytes` in async function `save`",
        15: "Blocking call `botocore.client.BaseClient.put_object` in async function `save`",
        16: "Blocking call `redis.Redis.delete` in async function `save`",
    }


def _rule_messages(run_cli, tmp_path, code, source):
    path = tmp_path / "app.py"
    path.write_text(textwrap.dedent(source))
    result = run_cli("check", "--preview", "--select", code, "--output-format", "json", str(path))
    assert result.exit_code == 1, result.stderr
    return [(d["location"]["row"], d["message"]) for d in result.diagnostics]


def test_sync_session_message(run_cli, tmp_path):
    source = """\
        from fastapi import Depends, FastAPI
        from sqlalchemy.orm import Session

        app = FastAPI()


        @app.get("/items")
        async def items(db: Session):
            return db.execute("SELECT 1")
        """
    assert _rule_messages(run_cli, tmp_path, "FAPI203", source) == [
        (
            9,
            "Sync `Session.execute()` in async route `items` (GET /items): the database "
            "round trip blocks the event loop",
        )
    ]


def test_async_session_not_awaited_message(run_cli, tmp_path):
    source = """\
        from sqlalchemy.ext.asyncio import AsyncSession


        async def save(session: AsyncSession, item):
            session.add(item)
            session.commit()
        """
    assert _rule_messages(run_cli, tmp_path, "FAPI204", source) == [
        (
            6,
            "`AsyncSession.commit()` is never awaited in function `save`: the coroutine is "
            "dropped and does not run",
        )
    ]


def test_cpu_bound_message(run_cli, tmp_path):
    source = """\
        from passlib.context import CryptContext

        pwd_context = CryptContext(schemes=["bcrypt"])


        async def login(password: str, stored: str) -> bool:
            return pwd_context.verify(password, stored)
        """
    assert _rule_messages(run_cli, tmp_path, "FAPI205", source) == [
        (
            7,
            "CPU-bound call `passlib.context.CryptContext.verify` in async function `login`: "
            "a deliberately slow hash holds the event loop",
        )
    ]

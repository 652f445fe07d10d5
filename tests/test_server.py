"""`fastapi-lint server`, end to end: the real server in a subprocess, driven by a real LSP
client (pytest-lsp) as an editor would drive it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from .conftest import DUPLICATED_ITEMS, DUPLICATED_MAIN

pytestmark = pytest.mark.asyncio(loop_scope="function")

SERVER = [sys.executable, "-m", "fastapi_lint", "server"]
# The server with a bug planted in its engine: a file named boom.py makes the check fail.
BROKEN_SERVER = [
    sys.executable,
    "-c",
    "import sys; from fastapi_lint.engine import Engine\n"
    "check = Engine.check_bytes\n"
    "def broken(self, data, path):\n"
    "    if path.name == 'boom.py':\n"
    "        raise RuntimeError('planted bug')\n"
    "    return check(self, data, path)\n"
    "Engine.check_bytes = broken\n"
    "from fastapi_lint.cli import main\n"
    "sys.exit(main(['server']))\n",
]
ROUTE = """\
import time

from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict:
    time.sleep(1)
    if item_id < 0:
        return HTTPException(status_code=404)
    return {}
"""
CLEAN = """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict:
    return {}
"""
TIMEOUT = 120  # seconds: the first check builds the project; the machine may be busy


def write_project(root: Path) -> None:
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    (root / "app").mkdir()
    for name, text in {
        "__init__.py": "",
        "main.py": DUPLICATED_MAIN,
        "items.py": DUPLICATED_ITEMS,
    }.items():
        (root / "app" / name).write_text(text)


async def start(client: LanguageClient, root: Path, options: dict | None = None) -> None:
    client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda params: None)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)],
            initialization_options={"debounceMs": 50, **(options or {})},
        )
    )


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, tmp_path: Path):
    write_project(tmp_path)
    await start(lsp_client, tmp_path)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=BROKEN_SERVER))
async def broken_client(lsp_client: LanguageClient, tmp_path: Path):
    write_project(tmp_path)
    await start(lsp_client, tmp_path)
    yield
    await lsp_client.shutdown_session()


# -- helpers -----------------------------------------------------------------------------------


def codes(client: LanguageClient, uri: str) -> list[str] | None:
    found = client.diagnostics.get(uri)
    return None if found is None else sorted(str(d.code) for d in found)


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(TIMEOUT * 20):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def diagnostics_become(client: LanguageClient, uri: str, expected: list[str]) -> None:
    await until(lambda: codes(client, uri) == expected, f"{expected} on {uri}")


def open_document(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", version, text))
    )
    return uri


def change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version, uri),
            [types.TextDocumentContentChangeWholeDocument(text)],
        )
    )


def apply(text: str, edits: Sequence[types.TextEdit]) -> str:
    """The text with LSP edits applied (ASCII text: columns are characters)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(position: types.Position) -> int:
        return offsets[position.line] + position.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


def document_edits(action: types.CodeAction, uri: str, version: int) -> list[types.TextEdit]:
    """The edits of an action, checking they are for this document at this version."""
    assert action.edit is not None and action.edit.document_changes
    (change,) = action.edit.document_changes
    assert isinstance(change, types.TextDocumentEdit)
    assert (change.text_document.uri, change.text_document.version) == (uri, version)
    return [edit for edit in change.edits if isinstance(edit, types.TextEdit)]


async def actions_at(
    client: LanguageClient, uri: str, line: int, only: list[str] | None = None
) -> list[types.CodeAction]:
    found = client.diagnostics.get(uri, [])
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            types.TextDocumentIdentifier(uri),
            types.Range(types.Position(line, 0), types.Position(line, 0)),
            types.CodeActionContext(diagnostics=list(found), only=only),
        )
    )
    return [action for action in result or [] if isinstance(action, types.CodeAction)]


def titled(actions: list[types.CodeAction], start: str) -> types.CodeAction:
    (action,) = [action for action in actions if action.title.startswith(start)]
    return action


# -- tests ---------------------------------------------------------------------------------------


async def test_diagnostics_fixes_and_lifecycle(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "app" / "routes.py"
    uri = open_document(client, path, ROUTE)
    await diagnostics_become(client, uri, ["FAPI105", "FAPI201"])
    by_code = {d.code: d for d in client.diagnostics[uri]}
    blocking, returned = by_code["FAPI201"], by_code["FAPI105"]
    assert blocking.range == types.Range(types.Position(9, 4), types.Position(9, 17))
    assert blocking.source == "fastapi-lint"
    assert blocking.code_description is not None
    assert blocking.code_description.href.endswith("/rules/FAPI201.md")
    assert "time.sleep" in blocking.message

    # The quickfix of the returned HTTPException, as a versioned edit.
    actions = await actions_at(client, uri, returned.range.start.line)
    quickfix = titled(actions, "FAPI105:")
    assert quickfix.kind == types.CodeActionKind.QuickFix and quickfix.is_preferred
    fixed = apply(ROUTE, document_edits(quickfix, uri, 1))
    assert "raise HTTPException(status_code=404)" in fixed
    assert titled(actions, "Disable FAPI105 for this line")
    change(client, uri, 2, fixed)
    await diagnostics_become(client, uri, ["FAPI201"])

    # The blocking call: an unsafe fix, said so; and a noqa directive for the line.
    actions = await actions_at(client, uri, blocking.range.start.line)
    assert "unsafe" in titled(actions, "FAPI201:").title
    noqa = titled(actions, "Disable FAPI201 for this line")
    silenced = apply(fixed, document_edits(noqa, uri, 2))
    assert "time.sleep(1)  # noqa: FAPI201\n" in silenced
    change(client, uri, 3, silenced)
    await diagnostics_become(client, uri, [])

    # A syntax error: FAPI001, and the server goes on answering.
    change(client, uri, 4, ROUTE.replace("async def read_item(", "async def read_item(("))
    await diagnostics_become(client, uri, ["FAPI001"])
    assert await actions_at(client, uri, 0) == []
    change(client, uri, 5, CLEAN)
    await diagnostics_become(client, uri, [])

    client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
    )
    await diagnostics_become(client, uri, [])


async def test_fix_all_resolves_the_safe_fixes(client: LanguageClient, tmp_path: Path):
    uri = open_document(client, tmp_path / "app" / "routes.py", ROUTE)
    await diagnostics_become(client, uri, ["FAPI105", "FAPI201"])
    (action,) = await actions_at(client, uri, 0, only=[types.CodeActionKind.SourceFixAll])
    assert action.kind == "source.fixAll.fastapi-lint" and action.edit is None
    resolved = await client.code_action_resolve_async(action)
    fixed = apply(ROUTE, document_edits(resolved, uri, 1))
    assert "raise HTTPException" in fixed and "time.sleep(1)" in fixed  # the safe fix only


async def test_changes_debounced_and_only_the_newest_version_published(
    client: LanguageClient, tmp_path: Path
):
    uri = open_document(client, tmp_path / "app" / "routes.py", CLEAN)
    await diagnostics_become(client, uri, [])
    for version in range(2, 12):  # typed faster than the debounce: the last one counts
        change(client, uri, version, ROUTE if version % 2 else CLEAN)
    await diagnostics_become(client, uri, ["FAPI105", "FAPI201"])
    await asyncio.sleep(0.5)
    assert codes(client, uri) == ["FAPI105", "FAPI201"]


async def test_open_buffers_take_part_in_cross_module_rules(client: LanguageClient, tmp_path):
    items = open_document(client, tmp_path / "app" / "items.py", DUPLICATED_ITEMS)
    await diagnostics_become(client, items, ["FAPI104"])
    (duplicate,) = client.diagnostics[items]
    (related,) = duplicate.related_information or []
    assert related.location.uri == (tmp_path / "app" / "main.py").as_uri()
    assert related.location.range.start.line == 7

    # Unsaved, in another buffer: the route no longer clashes, and items.py is checked again.
    main = open_document(client, tmp_path / "app" / "main.py", DUPLICATED_MAIN)
    await diagnostics_become(client, main, [])
    change(client, main, 2, DUPLICATED_MAIN.replace('"/items/{item_id}"', '"/products/{item_id}"'))
    await diagnostics_become(client, items, [])
    # Closed without saving: the file on disk counts again.
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(main))
    )
    await diagnostics_become(client, items, ["FAPI104"])


async def test_file_changed_on_disk_rechecks_its_importers(client: LanguageClient, tmp_path):
    items = open_document(client, tmp_path / "app" / "items.py", DUPLICATED_ITEMS)
    await diagnostics_become(client, items, ["FAPI104"])
    main = tmp_path / "app" / "main.py"
    main.write_text(DUPLICATED_MAIN.replace('"/items/{item_id}"', '"/products/{item_id}"'))
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            [types.FileEvent(main.as_uri(), types.FileChangeType.Changed)]
        )
    )
    await diagnostics_become(client, items, [])


async def test_configuration_reloads(client: LanguageClient, tmp_path: Path):
    uri = open_document(client, tmp_path / "app" / "routes.py", ROUTE)
    await diagnostics_become(client, uri, ["FAPI105", "FAPI201"])
    pyproject = tmp_path / "pyproject.toml"

    # A watched file changed (clients with dynamic registration of file watchers).
    pyproject.write_text('[tool.fastapi-lint]\nignore = ["FAPI201"]\n')
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            [types.FileEvent(pyproject.as_uri(), types.FileChangeType.Changed)]
        )
    )
    await diagnostics_become(client, uri, ["FAPI105"])

    # pyproject.toml saved in the editor (the other clients).
    pyproject.write_text('[tool.fastapi-lint]\nignore = ["FAPI105"]\n')
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(pyproject.as_uri()))
    )
    await diagnostics_become(client, uri, ["FAPI201"])

    # A configuration error is said in the log; the server goes on.
    pyproject.write_text('[tool.fastapi-lint]\nselect = "FAPI1"\n')
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(pyproject.as_uri()))
    )
    await until(
        lambda: any("configuration error" in m.message for m in client.log_messages),
        "the configuration error in the log",
    )


async def test_excluded_files_get_no_diagnostics(client: LanguageClient, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-lint]\nextend-exclude = ["gen"]\n')
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(
            types.TextDocumentIdentifier((tmp_path / "pyproject.toml").as_uri())
        )
    )
    excluded = open_document(client, tmp_path / "gen" / "routes.py", ROUTE)
    checked = open_document(client, tmp_path / "app" / "routes.py", ROUTE)
    await diagnostics_become(client, checked, ["FAPI105", "FAPI201"])
    await diagnostics_become(client, excluded, [])


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def selecting_client(lsp_client: LanguageClient, tmp_path: Path):
    write_project(tmp_path)
    await start(lsp_client, tmp_path, {"select": ["FAPI105"], "preview": "yes"})
    yield
    await lsp_client.shutdown_session()


async def test_initialization_options_select_rules(selecting_client: LanguageClient, tmp_path):
    uri = open_document(selecting_client, tmp_path / "app" / "routes.py", ROUTE)
    await diagnostics_become(selecting_client, uri, ["FAPI105"])
    logged = [message.message for message in selecting_client.log_messages]
    assert any("`preview` ignored" in message for message in logged)


async def test_internal_error_is_logged_and_the_server_goes_on(
    broken_client: LanguageClient, tmp_path: Path
):
    boom = open_document(broken_client, tmp_path / "app" / "boom.py", ROUTE)
    fine = open_document(broken_client, tmp_path / "app" / "routes.py", ROUTE)
    await diagnostics_become(broken_client, fine, ["FAPI105", "FAPI201"])
    errors = [m.message for m in broken_client.log_messages if m.type == types.MessageType.Error]
    assert any("boom.py: internal error: RuntimeError: planted bug" in m for m in errors)
    assert codes(broken_client, boom) is None


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def bare_client(lsp_client: LanguageClient, tmp_path: Path):
    write_project(tmp_path)
    await start(lsp_client, tmp_path)
    yield


async def test_shutdown_and_exit_end_the_server_with_code_0(bare_client: LanguageClient, tmp_path):
    uri = open_document(bare_client, tmp_path / "app" / "routes.py", ROUTE)
    await diagnostics_become(bare_client, uri, ["FAPI105", "FAPI201"])
    await bare_client.shutdown_session()
    assert bare_client._server is not None
    assert await asyncio.wait_for(bare_client._server.wait(), TIMEOUT) == 0


async def test_without_the_extra_a_one_line_error_and_exit_2():
    hide_pygls = (
        "import sys; sys.modules['pygls'] = None\n"
        "from fastapi_lint.cli import main\n"
        "sys.exit(main(['server']))\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", hide_pygls, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    assert process.returncode == 2
    assert stderr.decode() == (
        "fastapi-lint: error: `fastapi-lint server` needs the `server` extra: "
        "pip install 'fastapi-lint[server]'\n"
    )

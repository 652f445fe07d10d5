"""The language server: pygls handlers on the event loop, checks in one thread.

A document is checked when it opens, is saved, and (debounced) when it changes. The check
runs in the check thread; its result is published only if the document still has the
version that was checked, so an older version's findings never replace a newer one's. A
check that changes the project index (the buffer's routes, imports, names) makes the other
open documents whose findings depend on what changed be checked again.
"""

from __future__ import annotations

import asyncio
import functools
import tokenize
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from fastapi_lint import __version__
from fastapi_lint.config import ConfigError
from fastapi_lint.engine import FileResult
from fastapi_lint.server.actions import (
    FIX_ALL,
    Target,
    fix_all,
    fix_all_edit,
    has_safe_fix,
    line_actions,
    wants,
)
from fastapi_lint.server.documents import Document, Outcome, kept
from fastapi_lint.server.protocol import LinesOf, lines, lsp_diagnostic
from fastapi_lint.server.workspace import ClientOptions, Projects, parse_options

T = TypeVar("T")
CONFIG_FILE = "pyproject.toml"
PYTHON_SUFFIXES = (".py", ".pyi")
WATCHERS_ID = "fastapi-lint-watched-files"


class FastapiLintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "fastapi-lint",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        # One thread: projects are built, changed and read by it alone, in order.
        self.checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fastapi-lint")
        self.options = ClientOptions()
        self.projects = Projects([], self.options, self.log_from_thread)
        self.documents: dict[str, Document] = {}
        self.shut_down = False  # `shutdown` came
        self.exit_code = 1  # 0 once `exit` follows `shutdown`, as LSP wants
        self._busy = 0  # checks of edited documents running
        self._quiet = asyncio.Event()  # set while none is: background checks may go
        self._quiet.set()
        self._background = asyncio.Lock()
        self._tasks: set[asyncio.Future] = set()  # rechecks of dependents under way
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- logging ---------------------------------------------------------------------------

    def log(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_log_message(types.LogMessageParams(kind, message))

    def log_from_thread(self, message: str) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.log, message, types.MessageType.Warning)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A handler failed: into the client's log (pygls would show a message box)."""
        self.log(f"internal error: {type(error).__name__}: {error}", types.MessageType.Error)

    # -- the check thread ------------------------------------------------------------------

    async def in_checker(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.checker, functools.partial(function, *args))

    def schedule(self, uri: str, delay: float = 0.0, background: bool = False) -> None:
        """Check the document after `delay` seconds, replacing a check still waiting. A
        `background` check (the document did not change: the project did) waits while an
        edited document's check runs, and leaves alone a check that has not started yet."""
        document = self.documents.get(uri)
        if document is None or (background and document.waiting()):
            return
        document.cancel()
        document.pending = asyncio.ensure_future(self._check(document, delay, background))

    async def _check(self, document: Document, delay: float, background: bool) -> None:
        if delay:
            await asyncio.sleep(delay)
        if background:
            async with self._background:  # one at a time: an edit never queues behind many
                await self._quiet.wait()
                outcome = await self._run_check(document)
        else:
            self._busy += 1
            self._quiet.clear()
            try:
                outcome = await self._run_check(document)
            finally:
                self._busy -= 1
                if not self._busy:
                    self._quiet.set()
        self._publish(document, outcome)

    async def _run_check(self, document: Document) -> Outcome:
        version, text = self._snapshot(document.uri)
        document.started = True
        return await self.in_checker(
            self._check_in_thread, document.path, version, text, self._buffers()
        )

    def _publish(self, document: Document, outcome: Outcome) -> None:
        if outcome.error is not None:
            self.log(outcome.error, types.MessageType.Error)
            return
        if (
            self.documents.get(document.uri) is not document
            or self._version(document.uri) != outcome.version
        ):
            return  # closed, or changed since: a newer check is on its way
        document.checked = outcome
        params = types.PublishDiagnosticsParams(document.uri, outcome.diagnostics, outcome.version)
        self.text_document_publish_diagnostics(params)
        if outcome.index_changed:
            task = asyncio.ensure_future(self._recheck_dependents(document.path))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _recheck_dependents(self, path: Path) -> None:
        """Check again, in the background, the open files whose findings may have changed
        with the project index (found after the edited file's diagnostics went out)."""
        async with self._background:
            await self._quiet.wait()
            stale = await self.in_checker(_stale_in_thread, self.projects, path)
        self.schedule_paths(stale)

    def schedule_paths(self, paths: list[Path]) -> None:
        """Check these files again, if open, in the background."""
        wanted = set(paths)
        for uri, document in list(self.documents.items()):
            if document.path in wanted:
                self.schedule(uri, background=True)

    def schedule_all(self) -> None:
        for uri in list(self.documents):
            self.schedule(uri, background=True)

    def _check_in_thread(
        self, path: Path, version: int | None, text: str, buffers: Mapping[Path, str]
    ) -> Outcome:
        try:
            project = self.projects.for_path(path)
            if project.excludes(path):
                return Outcome(version, text, None)
            result, changed = project.check(path, text)
            codec, text_lines = self.workspace.position_codec, lines(text)
            lines_of = _lines_of(buffers)
            diagnostics = [
                lsp_diagnostic(d, text_lines, codec, lines_of) for d in result.diagnostics
            ]
            return Outcome(version, text, kept(result), diagnostics, changed)
        except ConfigError as error:  # the user's to fix: said in one line
            return Outcome(version, text, None, error=f"{path}: configuration error: {error}")
        except Exception as error:  # a bug of ours: logged, and the server goes on
            return Outcome(version, text, None, error=_internal_error(path, error))

    def _snapshot(self, uri: str) -> tuple[int | None, str]:
        document = self.workspace.get_text_document(uri)
        return document.version, document.source

    def _version(self, uri: str) -> int | None:
        document = self.workspace.text_documents.get(uri)
        return document.version if document is not None else None

    def _buffers(self) -> dict[Path, str]:
        """The text of every open document, for the check thread (which must not read the
        workspace while the event loop changes it)."""
        return {
            document.path: self.workspace.get_text_document(uri).source
            for uri, document in self.documents.items()
        }

    # -- code actions ----------------------------------------------------------------------

    def target(self, uri: str, version: int | None) -> Target:
        capabilities = self.client_capabilities.workspace
        edit = capabilities.workspace_edit if capabilities is not None else None
        document_changes = bool(edit is not None and edit.document_changes)
        return Target(
            uri,
            version,
            self.workspace.position_codec,
            document_changes,
            _lines_of(self._buffers()),
        )

    def resolves_edits(self) -> bool:
        """Whether the client asks for a code action's edit when it is chosen."""
        text_document = self.client_capabilities.text_document
        code_action = text_document.code_action if text_document is not None else None
        support = code_action.resolve_support if code_action is not None else None
        return support is not None and "edit" in support.properties

    def actions_in_thread(
        self,
        path: Path,
        text: str,
        cached: FileResult | None,
        params: types.CodeActionParams,
        target: Target,
    ) -> list[types.CodeAction]:
        project = self.projects.for_path(path)
        if project.excludes(path):
            return []
        result = cached if cached is not None else project.check(path, text)[0]
        only = params.context.only
        actions = []
        if wants(only, types.CodeActionKind.QuickFix):
            first, last = params.range.start.line + 1, params.range.end.line + 1
            actions.extend(line_actions(result, first, last, target))
        if wants(only, FIX_ALL) and has_safe_fix(result):
            actions.append(fix_all(project.engine, result, target, not self.resolves_edits()))
        return actions

    def fix_all_in_thread(
        self, path: Path, text: str, cached: FileResult | None, target: Target
    ) -> types.WorkspaceEdit:
        project = self.projects.for_path(path)
        result = cached if cached is not None else project.check(path, text)[0]
        return fix_all_edit(project.engine, result, target)

    # -- configuration and the disk --------------------------------------------------------

    def is_config(self, path: Path) -> bool:
        return path.name == CONFIG_FILE or path == self.options.config

    async def reload(self) -> None:
        """Read the configuration again (every project), then check every open document."""
        self.log("configuration changed: reloading")
        await self.in_checker(self.projects.reload)
        self.schedule_all()

    def disk_changed_in_thread(self, paths: list[Path]) -> list[Path]:
        stale: list[Path] = []
        for project in self.projects.all():
            if project.disk_changed(paths):
                stale.extend(project.stale())
        return stale

    def saved_in_thread(self, path: Path, text: str) -> None:
        project = self.projects.made_for(path)  # else the next check reads the disk anyway
        if project is not None:
            project.saved(path, text)

    def warm_in_thread(self, folders: list[Path]) -> None:
        """Build the projects of the workspace folders and load LibCST before the first
        document opens, so its check does not wait for them."""
        import libcst

        libcst.parse_module("")
        for folder in folders:
            try:
                self.projects.for_path(folder)
            except ConfigError as error:
                self.log_from_thread(f"{folder}: configuration error: {error}")

    def watchers(self) -> types.DidChangeWatchedFilesRegistrationOptions:
        patterns = [f"**/{CONFIG_FILE}", "**/*.py"]
        if self.options.config is not None:
            patterns.append(f"**/{self.options.config.name}")
        return types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=pattern) for pattern in patterns]
        )

    def watches_files(self) -> bool:
        """Whether the client registers file watchers the server asks for at run time."""
        workspace = self.client_capabilities.workspace
        watched = workspace.did_change_watched_files if workspace is not None else None
        return bool(watched is not None and watched.dynamic_registration)

    def folders(self) -> list[Path]:
        """The workspace folders, else the root the client gave (older clients)."""
        uris = [folder.uri for folder in self.workspace.folders.values()]
        paths = [_path(uri) for uri in uris or [self.workspace.root_uri]]
        return [path for path in paths if path is not None]


def _path(uri: str | None) -> Path | None:
    """The file of a `file:` URI; None for other schemes (`untitled:`)."""
    if not uri or not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


def _lines_of(buffers: Mapping[Path, str]) -> LinesOf:
    def lines_of(path: Path) -> list[str]:
        text = buffers.get(path)
        if text is None:
            try:
                with tokenize.open(path) as file:
                    text = file.read()
            except (OSError, SyntaxError, UnicodeError):
                text = ""
        return lines(text)

    return lines_of


def _internal_error(path: Path, error: Exception) -> str:
    where = "".join(traceback.format_exception(error)[-3:]).rstrip()
    return f"{path}: internal error: {type(error).__name__}: {error}\n{where}"


def create_server() -> FastapiLintServer:
    server = FastapiLintServer()
    _register(server)
    return server


def _register(server: FastapiLintServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        server._loop = asyncio.get_running_loop()
        server.options = parse_options(params.initialization_options, server.log_from_thread)
        server.projects = Projects(server.folders(), server.options, server.log_from_thread)

    @server.feature(types.INITIALIZED)
    async def initialized(params: types.InitializedParams) -> None:
        if server.watches_files():
            registration = types.Registration(
                WATCHERS_ID, types.WORKSPACE_DID_CHANGE_WATCHED_FILES, server.watchers()
            )
            try:
                await server.client_register_capability_async(
                    types.RegistrationParams([registration])
                )
            except Exception as error:  # the client said no: didSave of pyproject.toml still works
                server.log(f"file watchers not registered: {error}", types.MessageType.Warning)
        await server.in_checker(server.warm_in_thread, server.folders())

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        path = _path(item.uri)
        if path is None or (item.language_id != "python" and path.suffix not in PYTHON_SUFFIXES):
            return
        server.documents[item.uri] = Document(item.uri, path)
        server.schedule(item.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        server.schedule(params.text_document.uri, server.options.debounce_ms / 1000)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        path = _path(uri)
        if path is not None and server.is_config(path):
            await server.reload()
        elif (document := server.documents.get(uri)) is not None:
            text = server._snapshot(uri)[1]
            await server.in_checker(server.saved_in_thread, document.path, text)
            server.schedule(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        document = server.documents.pop(uri, None)
        if document is None:
            return
        document.cancel()
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))
        stale = await server.in_checker(_close_in_thread, server.projects, document.path)
        server.schedule_paths(stale)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched_files(params: types.DidChangeWatchedFilesParams) -> None:
        paths = [path for change in params.changes if (path := _path(change.uri)) is not None]
        if any(server.is_config(path) for path in paths):
            await server.reload()
            return
        stale = await server.in_checker(server.disk_changed_in_thread, paths)
        server.schedule_paths(stale)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_workspace_folders(params: types.DidChangeWorkspaceFoldersParams) -> None:
        await server.in_checker(server.projects.set_folders, server.folders())
        server.schedule_all()

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=True
        ),
    )
    async def code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        document = server.documents.get(uri)
        if document is None:
            return None
        version, text = server._snapshot(uri)
        cached = document.result_for(version, text)
        target = server.target(uri, version)
        return await server.in_checker(
            server.actions_in_thread, document.path, text, cached, params, target
        )

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve_code_action(action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        document = server.documents.get(data.get("uri", ""))
        if action.kind != FIX_ALL or document is None:
            return action
        version, text = server._snapshot(document.uri)
        if version != data.get("version"):
            return action  # the document changed since: no edit, rather than a wrong one
        cached = document.result_for(version, text)
        target = server.target(document.uri, version)
        action.edit = await server.in_checker(
            server.fix_all_in_thread, document.path, text, cached, target
        )
        return action

    @server.feature(types.SHUTDOWN)
    def shutdown(params: None) -> None:
        server.shut_down = True
        for document in server.documents.values():
            document.cancel()
        for task in server._tasks:
            task.cancel()
        server.checker.shutdown(wait=False, cancel_futures=True)

    @server.feature(types.EXIT)
    def exit(params: None) -> None:
        server.exit_code = 0 if server.shut_down else 1


def _stale_in_thread(projects: Projects, path: Path) -> list[Path]:
    project = projects.made_for(path)
    return project.stale() if project is not None else []


def _close_in_thread(projects: Projects, path: Path) -> list[Path]:
    project = projects.made_for(path)
    return project.stale() if project is not None and project.close(path) else []

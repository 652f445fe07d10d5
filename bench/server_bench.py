#!/usr/bin/env python3
"""Benchmark `fastapi-lint server`: time from `didOpen` to diagnostics, and memory.

A script to run by hand, not a test. It starts the server as an editor would (a subprocess
speaking LSP over stdin and stdout, driven by pygls' client) with a project as the workspace
folder, then measures:

1. **first open**: `didOpen` of one route module sent right after `initialized`, until its
   diagnostics arrive: the server builds the project index and loads LibCST meanwhile;
2. **reopen**: the same file closed and opened again (everything warm);
3. **edit**: a change that keeps the module's summary (a comment) and one that changes it
   (a blank line above the routes: the index is rebuilt, the other open files whose
   findings depend on it are checked again), with `debounceMs: 0` (the default adds 250 ms);
4. **memory**: the server's RSS and PSS (`/proc/PID/status`, `/proc/PID/smaps_rollup`) after
   the first file, and after opening every Python file of the project (all diagnostics in);
5. **edit, every file open**: the index-changing edit again, while the files whose findings
   depend on it are checked again in the background.

The result cache and the index's summary cache go to a fresh temporary directory
(`FASTAPI_LINT_CACHE_DIR`): the project is only read.

    python bench/server_bench.py --corpus /work/corpus            # lnbits, ~1 minute
    python bench/server_bench.py --project DIR --file DIR/app/api.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

LNBITS_FILE = "lnbits/core/views/api.py"


class Client(LanguageClient):
    """Records when the diagnostics of each document arrive."""

    def __init__(self) -> None:
        super().__init__("server-bench", "1")
        self.arrived: dict[str, tuple[int | None, int, float]] = {}  # uri -> version, count, time
        self.changed = asyncio.Event()

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            self.arrived[params.uri] = (
                params.version,
                len(params.diagnostics),
                time.perf_counter(),
            )
            self.changed.set()

    async def diagnostics(self, uri: str, version: int, timeout: float = 600) -> tuple[int, float]:
        """The number of diagnostics of `uri` at `version`, and when they arrived."""
        deadline = time.perf_counter() + timeout
        while True:
            arrived = self.arrived.get(uri)
            if arrived is not None and arrived[0] == version:
                return arrived[1], arrived[2]
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), deadline - time.perf_counter())


def open_params(path: Path, version: int = 1) -> types.DidOpenTextDocumentParams:
    item = types.TextDocumentItem(path.as_uri(), "python", version, path.read_text("utf-8"))
    return types.DidOpenTextDocumentParams(item)


def change_params(path: Path, version: int, text: str) -> types.DidChangeTextDocumentParams:
    return types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version, path.as_uri()),
        [types.TextDocumentContentChangeWholeDocument(text)],
    )


def memory(pid: int) -> tuple[float, float]:
    """RSS and PSS of the process, in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    pss = next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
    return rss / 1024, pss / 1024


async def timed_open(client: Client, path: Path, version: int = 1) -> tuple[int, float]:
    started = time.perf_counter()
    client.text_document_did_open(open_params(path, version))
    count, arrived = await client.diagnostics(path.as_uri(), version)
    return count, arrived - started


async def timed_change(client: Client, path: Path, version: int, text: str) -> float:
    started = time.perf_counter()
    client.text_document_did_change(change_params(path, version, text))
    _, arrived = await client.diagnostics(path.as_uri(), version)
    return arrived - started


def close(client: Client, path: Path) -> None:
    identifier = types.TextDocumentIdentifier(path.as_uri())
    client.text_document_did_close(types.DidCloseTextDocumentParams(identifier))


async def start(command: list[str], environment: dict[str, str], project: Path) -> Client:
    client = Client()
    await client.start_io(*command, env=environment)
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=project.as_uri(),
            workspace_folders=[types.WorkspaceFolder(project.as_uri(), project.name)],
            initialization_options={"debounceMs": 0},
        )
    )
    client.initialized(types.InitializedParams())
    return client


async def stop(client: Client) -> int:
    """Shut the server down; its exit code."""
    assert client._server is not None
    await client.shutdown_async(None)
    client.exit(None)
    code = await asyncio.wait_for(client._server.wait(), 60)
    await client.stop()
    return code


async def run(project: Path, file: Path, command: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="fastapi-lint-server-bench-") as cache:
        environment = {**os.environ, "FASTAPI_LINT_CACHE_DIR": cache}
        started = time.perf_counter()
        client = await start(command, environment, project)
        assert client._server is not None
        pid = client._server.pid
        count, first = await timed_open(client, file)
        name = file.relative_to(project)
        print(f"server start to the first diagnostics: {time.perf_counter() - started:.2f} s")
        print(f"first open of {name} ({count} diagnostics), cold caches: {first:.2f} s")
        print("RSS / PSS after the first file: {:.0f} / {:.0f} MiB".format(*memory(pid)))
        close(client, file)
        reopen = [(await timed_open(client, file, version))[1] for version in range(2, 5)]
        print(f"reopen (warm): {_times(reopen)}")
        text = file.read_text("utf-8")
        comment = [
            await timed_change(client, file, version, text + f"# edit {version}\n")
            for version in range(5, 8)
        ]
        print(f"edit keeping the index (a comment): {_times(comment)}")
        shifted = [
            await timed_change(client, file, version, "\n" * (version - 7) + text)
            for version in range(8, 11)
        ]
        print(f"edit changing the index (lines shift): {_times(shifted)}")
        await open_everything(client, project, file, pid)
        crowded = [
            await timed_change(client, file, version, "\n" * (version - 10) + text)
            for version in range(11, 14)
        ]
        print(f"edit changing the index, every file open: {_times(crowded)}")
        print(f"exit code after shutdown/exit: {await stop(client)}")
        # An editor started again: the index summaries are in the cache directory now.
        client = await start(command, environment, project)
        _, first = await timed_open(client, file)
        print(f"first open after a restart (summary cache warm): {first:.2f} s")
        await stop(client)


async def open_everything(client: Client, project: Path, file: Path, pid: int) -> None:
    files = sorted(p for p in project.rglob("*.py") if p.is_file() and p != file)
    started = time.perf_counter()
    for path in files:
        client.text_document_did_open(open_params(path))
    for path in files:
        await client.diagnostics(path.as_uri(), 1)
    seconds = time.perf_counter() - started
    rss, pss = memory(pid)
    print(f"opened {len(files) + 1} files, all diagnostics in: {seconds:.1f} s")
    print(f"RSS / PSS with every file open: {rss:.0f} / {pss:.0f} MiB")


def _times(seconds: list[float]) -> str:
    return ", ".join(f"{s * 1000:.0f} ms" for s in seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=os.environ.get("FASTAPI_LINT_BENCH_CORPUS"))
    parser.add_argument("--project", type=Path, help="default: the corpus' typical_app (lnbits)")
    parser.add_argument("--file", type=Path, help=f"default: {LNBITS_FILE} of the project")
    parser.add_argument(
        "--server",
        default=f"{sys.executable} -m fastapi_lint server",
        help="the command that starts the server (split on spaces)",
    )
    options = parser.parse_args()
    if options.project is None and options.corpus is None:
        parser.error("give --project, or --corpus (or FASTAPI_LINT_BENCH_CORPUS)")
    project = (options.project or options.corpus / "typical_app").resolve()
    file = (options.file or project / LNBITS_FILE).resolve()
    asyncio.run(run(project, file, options.server.split()))


if __name__ == "__main__":
    main()

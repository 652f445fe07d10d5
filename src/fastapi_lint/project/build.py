"""Building the project index: find the project's modules, summarise each, cache the summaries.

A summary is reused while its file's size and modification time are unchanged, as ruff
does, so a warm run (or a pre-commit run naming a few files) does not read the project again.
The summaries live in one file beside the result cache
(`<cache dir>/<version>/project-index-v<N>-py<X.Y>.data`, in `marshal` format), written
atomically.
"""

from __future__ import annotations

import hashlib
import io
import json
import marshal
import os
import re
import sys
import tempfile
import tokenize
from collections.abc import Iterable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import fastapi_lint
from fastapi_lint.project.index import ModuleInfo, ProjectIndex
from fastapi_lint.project.layout import Layout
from fastapi_lint.project.summary import SUMMARY_VERSION, parse, summarize

# What a module that registers routes, includes routers or mounts apps must contain: only
# those are summarised up front; the others when a name is resolved through them.
_REGISTERS = re.compile(
    rb"@[\w.]+\.(?:get|post|put|patch|delete|head|options|trace|api_route|websocket"
    rb"|websocket_route)\(|\.(?:add_api_route|add_route|add_api_websocket_route"
    rb"|add_websocket_route|include_router|mount|host)\(|fastapi|starlette"
    rb"|\.(?:get|post|put|patch|delete|head|options|trace|api_route)\([^()]*\)\("
)


# marshal reads about ten times faster than JSON, but only in the Python that wrote it.
_PYTHON = f"py{sys.version_info[0]}{sys.version_info[1]}"


class SummaryStore:
    """Cached module summaries, keyed by path, with the file's size and mtime."""

    def __init__(self, directory: Path | None) -> None:
        self.file = (
            directory
            / fastapi_lint.__version__
            / f"project-index-v{SUMMARY_VERSION}-{_PYTHON}.data"
            if directory is not None
            else None
        )
        self._entries: dict[str, Any] = self._load()
        self._changed = False
        self.reused = 0

    def _load(self) -> dict[str, Any]:
        if self.file is None:
            return {}
        try:
            data = marshal.loads(self.file.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return {}
        return data if isinstance(data, dict) else {}

    def module(self, path: Path, name: str, is_package: bool) -> ModuleInfo | None:
        """The module of a file, its summary from the store while the file is unchanged,
        else made now (a module that may register routes) or when first needed."""
        try:
            stat = path.stat()
        except OSError:
            return None
        key = str(path)
        stamp = [stat.st_size, stat.st_mtime_ns]
        entry = self._entries.get(key)
        if isinstance(entry, list) and len(entry) == 3 and entry[0] == stamp:
            self.reused += 1
            return ModuleInfo(name, path, is_package, entry[2], entry[1], tuple(stamp))
        try:
            data = path.read_bytes()
        except OSError:
            return None
        registers = _REGISTERS.search(data) is not None

        def load() -> dict[str, Any]:
            summary = summarize_source(data)
            self._entries[key] = [stamp, registers, summary]
            self._changed = True
            return summary

        summary = load() if registers else load
        return ModuleInfo(name, path, is_package, summary, registers, tuple(stamp))

    def save(self, keep: Iterable[Path]) -> None:
        """Write the summaries of the files in `keep` (those made this run too)."""
        if self.file is None or not self._changed:
            return
        kept = {str(path) for path in keep}
        entries = {key: value for key, value in self._entries.items() if key in kept}
        self._changed = False
        with suppress(OSError):
            self.file.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.file.parent, suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                marshal.dump(entries, out)
            os.replace(temporary, self.file)


def summarize_source(data: bytes) -> dict[str, Any]:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (UnicodeError, SyntaxError, LookupError):
        return summarize(None)
    return summarize(parse(text))


def build_index(
    files: Sequence[Path],
    root: Path,
    *,
    source_roots: Sequence[Path] = (),
    router_classes: tuple[str, ...] = (),
    cache_dir: Path | None = None,
) -> ProjectIndex:
    """The index of `files` (the project's modules: every Python file under the root that
    discovery finds, plus the linted files)."""
    layout = Layout(root, source_roots)
    store = SummaryStore(cache_dir)
    modules: dict[str, ModuleInfo] = {}
    seen: set[Path] = set()
    for path in files:
        absolute = Path(os.path.abspath(path))
        if absolute.suffix != ".py" or absolute in seen:
            continue
        seen.add(absolute)
        name, is_package = layout.module_name(absolute)
        module = store.module(absolute, name, is_package)
        if module is None:
            continue
        if name in modules:  # another file claims the name: keep both, apart
            module.key = f"{name}@{_display(module.base, root)}"
        modules[module.key] = module
    index = ProjectIndex(modules, router_classes, root)
    index.store = store
    return index


def summary_digest(summary: dict[str, Any]) -> str:
    text = json.dumps(summary, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _display(directory: Path, root: Path) -> str:
    try:
        return directory.relative_to(root).as_posix()
    except ValueError:
        return directory.as_posix()

"""Building the project index: find the project's modules, summarise each, cache the summaries.

A summary is reused while its file's size and modification time are unchanged, as ruff
does, so a warm run (or a pre-commit run naming a few files) does not read the project again.
The summaries live in one file beside the result cache
(`<cache dir>/<version>/project-index-v<N>-py<X.Y>.data`, in `marshal` format), written
atomically. A run of many files summarises every module up front, in worker processes
(`SummaryStore.summarise`), once, before the engine's workers fork.
"""

from __future__ import annotations

import hashlib
import io
import json
import marshal
import multiprocessing
import os
import re
import sys
import tempfile
import tokenize
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import fastapi_lint
from fastapi_lint.memory import biggest_first_chunks, collector_paused
from fastapi_lint.project.index import ModuleInfo, ProjectIndex, import_entries
from fastapi_lint.project.layout import Layout
from fastapi_lint.project.summary import SUMMARY_VERSION, parse, summarize
from fastapi_lint.screen import FACTS_VERSION, Facts, ast_tree, file_facts

# What a module that registers routes, includes routers or mounts apps must contain: the
# index reads every such module; the others only when a name is resolved through them.
_REGISTERS = re.compile(
    rb"@[\w.]+\.(?:get|post|put|patch|delete|head|options|trace|api_route|websocket"
    rb"|websocket_route)\(|\.(?:add_api_route|add_route|add_api_websocket_route"
    rb"|add_websocket_route|include_router|mount|host)\(|fastapi|starlette"
    rb"|\.(?:get|post|put|patch|delete|head|options|trace|api_route)\([^()]*\)\("
)


# marshal reads about ten times faster than JSON, but only in the Python that wrote it.
_PYTHON = f"py{sys.version_info[0]}{sys.version_info[1]}"
# Fewer modules to summarise than this per process: not worth a process.
SUMMARIES_PER_WORKER = 16
# Summaries kept as objects at once (the last ones read), by the size of their compressed
# bytes (as objects they take 25 to 30 times as much): the others stay compressed. Reading
# one back costs about 0.3 ms. The engine's workers need few: they keep less.
SUMMARIES_KEPT_BYTES = 1_000_000
WORKER_SUMMARIES_KEPT_BYTES = 250_000
# The layout of a store entry; part of the store's file name (with the screen's facts).
_ENTRY_VERSION = 6
_ENTRY_LENGTH = 5  # stamp, registers, summary, facts, imports


class SummaryStore:
    """Cached module summaries, keyed by path, with the file's size and mtime.

    Each summary (and the screen's facts) is kept as `marshal` bytes of its own, in the file
    and in memory, and turned into objects when first used: a run reads the file whole, but
    builds only the summaries it uses (a warm run of one file, the route table: not every
    module), and a summary made in a worker process comes back as bytes. Compressed bytes
    are ten times smaller than the objects, and worker processes forked later share them."""

    max_file_size: int | None = None  # larger files are left out, as the engine leaves them

    def __init__(self, directory: Path | None) -> None:
        self.file = (
            directory
            / fastapi_lint.__version__
            / f"project-index-v{SUMMARY_VERSION}.{_ENTRY_VERSION}.{FACTS_VERSION}-{_PYTHON}.data"
            if directory is not None
            else None
        )
        # path -> [stamp, registers, summary, facts, imports]: the summary as `marshal` bytes,
        # the facts too (or as data when made this run), imports as `index.import_entries`
        # in `marshal` bytes (as objects, the imports of a large project take tens of MiB).
        self._entries: dict[str, Any] = self._load()
        self._changed = False
        self._current: dict[str, ModuleInfo] = {}  # the modules whose entry is up to date
        self._unsummarised: dict[str, ModuleInfo] = {}  # summarised when first needed
        # The summaries read last, as objects (the others stay compressed), and the size of
        # their compressed bytes.
        self._recent: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._recent_size = 0
        self._kept_bytes = SUMMARIES_KEPT_BYTES
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
        """The module of a file: its summary from the store while the file is unchanged,
        else made by `summarise` or when first needed."""
        try:
            stat = path.stat()
        except OSError:
            return None
        if self.max_file_size is not None and stat.st_size > self.max_file_size:
            return None
        key = str(path)
        stamp = [stat.st_size, stat.st_mtime_ns]
        entry = self._entries.get(key)
        if isinstance(entry, list) and len(entry) == _ENTRY_LENGTH and entry[0] == stamp:
            self.reused += 1
            info = _StoredModule(self, name, path, is_package, entry[1], tuple(stamp))
            self._current[key] = info
            return info
        try:
            registers = _REGISTERS.search(path.read_bytes()) is not None
        except OSError:
            return None
        info = _StoredModule(self, name, path, is_package, registers, tuple(stamp))
        self._unsummarised[key] = info
        return info

    def summary(self, key: str) -> dict[str, Any]:
        """The summary of a module as objects: among the last ones read, else from its entry,
        else made here now."""
        found = self._recent.get(key)
        if found is not None:
            self._recent.move_to_end(key)
            return found
        if key in self._current:
            found = _unpack(self._entries[key][2])
        else:
            info = self._unsummarised.pop(key)
            try:
                found, facts, imports = summarize_path(info.path)
            except OSError:  # gone since: nothing to summarise
                found, facts, imports = summarize(None), None, []
            self._add(info, (_pack(found), facts, marshal.dumps(imports)))
        self._recent[key] = found
        self._recent_size += len(self._entries[key][2])
        while self._recent_size > self._kept_bytes and len(self._recent) > 1:
            evicted, _ = self._recent.popitem(last=False)
            self._recent_size -= len(self._entries[evicted][2])
        return found

    def release(self, kept_bytes: int) -> None:
        """Drop the summaries kept as objects, and keep fewer from now on: before a run forks
        the engine's workers. Each then reads back the few it needs into memory of its own,
        instead of evicting inherited ones (which copies the pages they lie in)."""
        self._recent.clear()
        self._recent_size = 0
        self._kept_bytes = kept_bytes

    def _add(self, info: ModuleInfo, made: tuple[bytes, Any, bytes]) -> None:
        key = str(info.path)
        self._entries[key] = [list(info.stamp), info.registers, *made]
        self._current[key] = info
        self._changed = True

    def summarise(
        self, jobs: int, *, every_module: bool, meanwhile: Callable[[], object] | None = None
    ) -> None:
        """Summarise, in up to `jobs` processes, the modules not summarised yet: those that
        may register routes (the index reads them all) or, with `every_module`, all of them
        (as bytes: see the class docstring). Before a run forks the engine's workers: each
        would otherwise summarise what it needs on its own (the cross-module rules, the
        request path), and this process the modules the screen asks about. `meanwhile` runs
        here while the workers summarise (when there are workers)."""
        pending = [info for info in self._unsummarised.values() if every_module or info.registers]
        workers = min(jobs, len(pending) // SUMMARIES_PER_WORKER)
        made = (
            _summarise_in_pool(pending, workers, meanwhile)
            if workers >= 2
            else ((info, _summarised(info.path)) for info in pending)
        )
        for info, summarised in made:
            if summarised is not None:  # else made when first needed
                del self._unsummarised[str(info.path)]
                self._add(info, summarised)

    def facts(self, path: Path) -> Facts | None:
        """The screen's facts of a file summarised with `ast` (this run or, its stamp
        unchanged, an earlier one); None when it was not, or `ast` rejects it."""
        key = str(path)
        if key not in self._current:
            return None
        facts = self._entries[key][3]
        return Facts.from_data(_unpack(facts) if isinstance(facts, bytes) else facts)

    def imports(self, info: ModuleInfo) -> list[list[Any]] | None:
        """What a module of this store imports (`index.import_entries`), without loading its
        summary; None for a module the store did not make (a buffer's text)."""
        key = str(info.path)
        if self._current.get(key) is not info:
            return None
        return marshal.loads(self._entries[key][4])

    def save(self, keep: Iterable[Path]) -> None:
        """Write the summaries of the files in `keep` (those made this run too)."""
        if self.file is None or not self._changed:
            return
        kept = {str(path) for path in keep}
        entries = {
            key: [stamp, registers, summary, _blob(facts), imports]
            for key, (stamp, registers, summary, facts, imports) in self._entries.items()
            if key in kept
        }
        self._changed = False
        with suppress(OSError):
            self.file.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.file.parent, suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                marshal.dump(entries, out)
            os.replace(temporary, self.file)


class _StoredModule(ModuleInfo):
    """A module whose summary its store keeps: compressed, and as objects only while among
    the last ones read (`SUMMARIES_KEPT_BYTES`), so that the index of a large project does
    not hold every summary it has read as objects."""

    def __init__(
        self,
        store: SummaryStore,
        name: str,
        path: Path,
        is_package: bool,
        registers: bool,
        stamp: tuple[int, int],
    ) -> None:
        super().__init__(name, path, is_package, {}, registers, stamp)
        self._store = store
        self._entry = str(path)  # its key in the store (asked for tens of thousands of times)

    @property
    def summary(self) -> dict[str, Any]:
        return self._store.summary(self._entry)


def _blob(value: Any) -> bytes:
    return value if isinstance(value, bytes) else _pack(value)


def _pack(value: Any) -> bytes:
    """`marshal` bytes, compressed: a summary takes about as many bytes as its source,
    and a quarter of that compressed (the fastest level: made in the workers, read back
    only for the modules a run uses)."""
    return zlib.compress(marshal.dumps(value), 1)


def _unpack(blob: bytes) -> Any:
    return marshal.loads(zlib.decompress(blob))


def _summarise_in_pool(
    modules: list[ModuleInfo], workers: int, meanwhile: Callable[[], object] | None
) -> Iterator[tuple[ModuleInfo, tuple[bytes, bytes, bytes] | None]]:
    """Each module with `_summarised` of its file, made by `workers` forked processes."""
    from concurrent.futures import ProcessPoolExecutor

    chunks = biggest_first_chunks(modules, workers * 8, lambda info: info.stamp[0])
    paths = [[str(info.path) for info in chunk] for chunk in chunks]
    method = "fork" if sys.platform == "linux" else None
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        results = pool.map(_summarise_files, paths)  # every chunk is submitted now
        if meanwhile is not None:
            meanwhile()
        for chunk, made in zip(chunks, results, strict=True):
            yield from zip(chunk, marshal.loads(made), strict=True)


def _summarise_files(paths: list[str]) -> bytes:
    """In a worker: `_summarised` of some files, as `marshal` data."""
    return marshal.dumps([_summarised(Path(path)) for path in paths])


def _summarised(path: Path) -> tuple[bytes, bytes, bytes] | None:
    """What `summarize_path` makes of a file, the summary and facts packed (see
    `SummaryStore`); None for a file that cannot be read (summarised when needed)."""
    try:
        summary, facts, imports = summarize_path(path)
    except OSError:
        return None
    return _pack(summary), _pack(facts), marshal.dumps(imports)


def summarize_path(path: Path) -> tuple[dict[str, Any], tuple | None, list]:
    """A module's summary, the screen's facts and its imports (`index.import_entries`)."""
    summary, facts = summarize_source(path.read_bytes())
    return summary, facts, import_entries(summary)


def summarize_source(data: bytes) -> tuple[dict[str, Any], tuple | None]:
    """The module's summary, and the screen's facts (as data) from the same `ast` tree: None
    when `ast` rejects the text (the summary then comes through LibCST: `summary.parse`)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (UnicodeError, SyntaxError, LookupError):
        return summarize(None), None
    tree = ast_tree(text)
    if tree is None:
        return summarize(parse(text)), None
    return summarize(tree), file_facts(tree).to_data()


def build_index(
    files: Sequence[Path],
    root: Path,
    *,
    source_roots: Sequence[Path] = (),
    router_classes: tuple[str, ...] = (),
    cache_dir: Path | None = None,
    max_file_size: int | None = None,
    jobs: int | None = None,
    every_module: bool = False,
    meanwhile: Callable[[], object] | None = None,
) -> ProjectIndex:
    """The index of `files` (the project's modules: every Python file under the root that
    discovery finds, plus the linted files), without those above `max_file_size` bytes.
    The modules that may register routes are summarised up front, in up to `jobs`
    processes, and with `every_module` all the others too (see `SummaryStore.summarise`,
    which runs `meanwhile` while its workers summarise); else they are when first
    needed."""
    layout = Layout(root, source_roots)
    store = SummaryStore(cache_dir)
    store.max_file_size = max_file_size
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
    with collector_paused():  # summaries are acyclic: see `fastapi_lint.memory`
        store.summarise(jobs or 1, every_module=every_module, meanwhile=meanwhile)
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

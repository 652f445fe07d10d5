"""Modules whose text is not the file on disk: an editor's unsaved buffers, source from stdin.

The index is built from the disk (`build.build_index`); `with_modules` then puts modules
summarised from such text in place of the modules of the same files, sharing every other
module (and its summary, once loaded) with the index it started from.

Not covered: a few facts that the cross-module rules read from the files themselves (the
lines that run under a condition, the words of a module, which functions `yield`) still
come from the disk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from fastapi_lint.project.build import _REGISTERS
from fastapi_lint.project.index import ModuleInfo, ProjectIndex
from fastapi_lint.project.layout import Layout
from fastapi_lint.project.summary import parse, summarize


def source_module(path: Path, text: str, layout: Layout) -> ModuleInfo:
    """The module of the file `path` (absolute) as `text` has it. Its stamp, which stands
    for the file's size and modification time, is the text's length and hash: the digests
    of the files that import it (`ProjectIndex.file_digest`) change with the text."""
    data = text.encode("utf-8", "surrogatepass")
    name, is_package = layout.module_name(path)
    text_hash = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")
    registers = _REGISTERS.search(data) is not None
    summary = summarize(parse(text))
    return ModuleInfo(name, path, is_package, summary, registers, (len(data), text_hash))


def with_modules(index: ProjectIndex, modules: Iterable[ModuleInfo]) -> ProjectIndex:
    """A new index: `index` with `modules` in place of the modules of the same files, or
    added (under a key of their own when another file claims their name)."""
    by_key = dict(index.modules)
    keys = {info.path: key for key, info in index.modules.items()}
    for module in modules:
        key = keys.get(module.path)
        if key is None:
            key = module.name
            if key in by_key:
                key = f"{module.name}@{_display(module.base, index.root)}"
        module.key = key
        by_key[key] = module
    new = ProjectIndex(by_key, tuple(sorted(index.router_classes)), index.root)
    new.covers_project = index.covers_project
    new.store = index.store
    return new


def _display(directory: Path, root: Path | None) -> str:
    if root is not None and directory.is_relative_to(root):
        return directory.relative_to(root).as_posix()
    return directory.as_posix()

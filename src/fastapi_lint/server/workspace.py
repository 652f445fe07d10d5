"""Projects as the server sees them: the CLI's root and configuration, per workspace folder,
and the project index with the editor's open buffers in place of their files.

Everything here runs in the server's one check thread, never on its event loop: a project
is built, changed and read by one thread only.
"""

from __future__ import annotations

import io
import os
import tokenize
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi_lint.api import build_project, project_modules
from fastapi_lint.config import (
    ConfigError,
    Selection,
    Settings,
    apply_overrides,
    expand_selector,
    load_settings,
)
from fastapi_lint.discovery import discover_files, is_excluded
from fastapi_lint.engine import Engine, FileResult
from fastapi_lint.project.index import ModuleInfo, ProjectIndex
from fastapi_lint.project.layout import Layout
from fastapi_lint.project.sources import source_module, with_modules

DEFAULT_DEBOUNCE_MS = 250

Log = Callable[[str], None]


@dataclass(frozen=True)
class ClientOptions:
    """The client's settings (`initializationOptions`), on top of the configuration file as
    the CLI's flags are: see the README."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    preview: bool | None = None
    config: Path | None = None  # as `--config`
    debounce_ms: int = DEFAULT_DEBOUNCE_MS  # wait after a change before checking

    @property
    def selection(self) -> Selection:
        return Selection(self.select, self.ignore, self.extend_select)


def parse_options(raw: Any, log: Log) -> ClientOptions:
    """The options the client sent; a bad value is logged and left out."""
    if not isinstance(raw, Mapping):
        return ClientOptions()
    values: dict[str, Any] = {}
    for key, field_name, parse in _OPTIONS:
        if key in raw:
            try:
                values[field_name] = parse(raw[key])
            except (ConfigError, TypeError, ValueError) as error:
                log(f"initializationOptions: `{key}` ignored: {error}")
    return ClientOptions(**values)


def _selectors(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError("expected a list of rule codes or prefixes")
    for selector in value:
        expand_selector(selector)
    return tuple(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def _config_file(value: Any) -> Path:
    if not isinstance(value, str) or not Path(value).is_file():
        raise ValueError(f"no such file: {value!r}")
    return Path(os.path.abspath(value))


def _milliseconds(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError("expected a number of milliseconds")
    return value


_OPTIONS: tuple[tuple[str, str, Callable[[Any], Any]], ...] = (
    ("select", "select", _selectors),
    ("extendSelect", "extend_select", _selectors),
    ("ignore", "ignore", _selectors),
    ("preview", "preview", _flag),
    ("config", "config", _config_file),
    ("debounceMs", "debounce_ms", _milliseconds),
)


def source_bytes(text: str) -> bytes:
    """The bytes a buffer would be saved as: in the encoding its coding cookie declares, so
    the engine decodes it as it decodes the file."""
    data = text.encode("utf-8", "surrogatepass")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return text.encode(encoding)
    except (SyntaxError, LookupError, UnicodeError):
        return data


class Project:
    """The files of one workspace folder, checked as `fastapi-lint check` run in it would."""

    def __init__(self, folder: Path, options: ClientOptions, log: Log, walk: bool = True) -> None:
        self.folder = folder
        self._walk = walk  # index the folder's files (not for the directory of a lone file)
        self.settings = settings = _settings(folder, options)
        for warning in settings.warnings:
            log(f"{folder}: {warning}")
        self._layout = Layout(settings.root, settings.src)
        self._disk = self._read_disk()
        self._buffers: dict[Path, ModuleInfo] = {}  # open buffers that differ from the disk
        self._index = self._disk
        modules = project_modules(self._index, settings)
        self.engine = Engine(
            settings.rules, modules, settings.ignored_codes, settings.max_file_size
        )
        self._digests: dict[Path, str] = {}  # of each open file, at its last check

    def _read_disk(self) -> ProjectIndex:
        settings = self.settings
        walked = [self.folder] if self._walk else []
        files = discover_files(
            walked,
            root=settings.root,
            exclude=settings.exclude,
            extend_exclude=settings.extend_exclude,
        ).files
        index = build_project(files, settings, settings.effective_cache_dir).index
        assert index is not None
        index.save()
        return index

    def excludes(self, path: Path) -> bool:
        settings = self.settings
        return is_excluded(
            path,
            root=settings.root,
            exclude=settings.exclude,
            extend_exclude=settings.extend_exclude,
        )

    def check(self, path: Path, text: str) -> tuple[FileResult, bool]:
        """The check of `path` as `text` has it, and whether the index changed with it."""
        changed = self._set_buffer(path, text)
        result = self.engine.check_bytes(source_bytes(text), path)
        self._digests[path] = self._index.file_digest(path)
        return result, changed

    def close(self, path: Path) -> bool:
        """Forget the buffer of `path` (its file on disk counts again); whether the index
        changed."""
        self._digests.pop(path, None)
        if self._buffers.pop(path, None) is None:
            return False
        self._reindex()
        return True

    def saved(self, path: Path, text: str) -> None:
        """The buffer of `path` is now its file on disk too."""
        if self._disk_now(path, text):
            self._buffers.pop(path, None)
            self._reindex()

    def disk_changed(self, paths: Iterable[Path]) -> bool:
        """Take in Python files of the project changed on disk (re-summarised one by one),
        or created or deleted (the disk is read again); whether the index changed."""
        changed = [p for p in paths if p.suffix == ".py" and p.is_relative_to(self.settings.root)]
        if not changed:
            return False
        if any(self._disk.module_for(p) is None or not p.is_file() for p in changed):
            self._disk = self._read_disk()
        else:
            summaries_changed = False
            for path in changed:
                summaries_changed |= self._disk_now(path, _read(path))
            if not summaries_changed:
                return False
        self._reindex()
        return True

    def _disk_now(self, path: Path, text: str | None) -> bool:
        """Put `text` in the disk index as the file `path`; whether its summary changed."""
        current = self._disk.module_for(path)
        if text is None or current is None:
            return False
        module = source_module(path, text, self._layout)
        if module.summary == current.summary:
            return False
        self._disk = with_modules(self._disk, [module])
        return True

    def stale(self) -> list[Path]:
        """The open files whose findings may have changed with the index: those whose
        digest (what they depend on in the index) is not the one they were checked with."""
        return [
            path
            for path, digest in self._digests.items()
            if self._index.file_digest(path) != digest
        ]

    def _set_buffer(self, path: Path, text: str) -> bool:
        """Put the buffer in the index when what it contributes (its summary) differs from
        what the index has; whether it did."""
        module = source_module(path, text, self._layout)
        current = self._index.module_for(path)
        if current is not None and current.summary == module.summary:
            return False  # what the index knows of the file is the same
        if current is None and (path.suffix != ".py" or not path.is_relative_to(self.folder)):
            return False  # not a module of the project
        self._buffers[path] = module
        self._reindex()
        return True

    def _reindex(self) -> None:
        buffers = self._buffers.values()
        self._index = with_modules(self._disk, buffers) if buffers else self._disk
        self.engine.project = project_modules(self._index, self.settings)


def _read(path: Path) -> str | None:
    try:
        with tokenize.open(path) as file:
            return file.read()
    except (OSError, SyntaxError, UnicodeError):
        return None


def _settings(folder: Path, options: ClientOptions) -> Settings:
    """As `fastapi-lint check` run in `folder` has them, the client's options as its flags
    (and FASTAPI_LINT_CACHE_DIR as `--cache-dir`)."""
    settings = load_settings(
        options.config, options.selection, cwd=folder, preview=options.preview, paths=[folder]
    )
    cache_dir = os.environ.get("FASTAPI_LINT_CACHE_DIR")
    return apply_overrides(
        settings, cache_dir=Path(os.path.abspath(cache_dir)) if cache_dir else None
    )


class Projects:
    """A project per workspace folder, made when a file of it is first checked; a file in
    no folder belongs to the project its own directory would be in."""

    def __init__(self, folders: Iterable[Path], options: ClientOptions, log: Log) -> None:
        self.options = options
        self._log = log
        # Deepest first: a file belongs to the innermost folder holding it.
        self._folders = sorted(folders, key=lambda folder: len(folder.parts), reverse=True)
        self._projects: dict[Path, Project] = {}

    def for_path(self, path: Path) -> Project:
        folder = self._folder(path)
        project = self._projects.get(folder or path.parent)
        if project is None:
            project = Project(folder or path.parent, self.options, self._log, folder is not None)
            self._projects[project.folder] = project
        return project

    def made_for(self, path: Path) -> Project | None:
        """The project of `path` if it is made already (a reload forgets them all)."""
        return self._projects.get(self._folder(path) or path.parent)

    def _folder(self, path: Path) -> Path | None:
        return next((f for f in self._folders if path.is_relative_to(f)), None)

    def all(self) -> list[Project]:
        return list(self._projects.values())

    def set_folders(self, folders: Iterable[Path]) -> None:
        self._folders = sorted(folders, key=lambda folder: len(folder.parts), reverse=True)
        self.reload()

    def reload(self) -> None:
        """Forget every project: the next check builds it again, with the configuration as
        it is now."""
        self._projects.clear()

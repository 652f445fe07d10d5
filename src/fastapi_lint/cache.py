"""The result cache, in ruff's image: a file whose bytes are unchanged, checked with the same
rules and settings, is not parsed again.

Layout: `<cache dir>/<version>/<settings key>.json`, the cache directory holding a
`.gitignore` of `*` and a `CACHEDIR.TAG`. The settings key hashes what a result depends on
besides the file: the version of fastapi-lint (and the size and modification time of its
source files, so that editing an editable install counts as an upgrade), LibCST's and
Python's, the enabled rules with their options, and the run-wide settings rules read (the
project's Pydantic version). Each entry, by the file's path relative
to the project root, holds a hash of the file's bytes, a hash of its context (the rules
enabled for that file after `per-file-ignores`, the project's module names, and what its
findings depend on in the project index: see `ProjectIndex.file_digest`) and the
file's diagnostics without their path. An entry is served only when both hashes match.

Diagnostics keep their fix as a title and an applicability, and the fix's text edits when the
run that stored them computed them (JSON output): a JSON run does not use an entry that lacks
them, it checks the file again and stores them.

Only plain checks use the cache: `--fix`, `--diff` and `--add-noqa` runs neither read nor
write it (they write files, which a later check hashes again anyway). The prefilter runs
first: a file no enabled rule is triggered by is never looked up nor stored.

Writes are atomic (a temporary file, then `os.replace`): concurrent runs sharing a cache never
read half a file, only the last complete one (entries the other run stored may be lost: a
miss, never a wrong result). A cache file that cannot be read or parsed, or an entry without
the expected shape, counts as a miss.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import fastapi_lint
from fastapi_lint.diagnostics import (
    Applicability,
    Diagnostic,
    FixSummary,
    Position,
    Related,
    Severity,
    TextEdit,
)
from fastapi_lint.fingerprints import relative_path
from fastapi_lint.rule import Rule

DEFAULT_DIRECTORY = ".fastapi_lint_cache"
FORMAT = 1  # of the cache files; part of the settings key
GITIGNORE = "# Automatically created by fastapi-lint.\n*\n"
# https://bford.info/cachedir/: backup tools skip the directory.
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by fastapi-lint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class Cache:
    """The cache file of one configuration: looked up file by file, saved once per run."""

    def __init__(
        self,
        directory: Path,
        root: Path,
        rules: Sequence[Rule],
        project: Iterable[str],
        file_context: Callable[[Path], str] = lambda path: "",
        run_settings: Mapping[str, Any] | None = None,
    ):
        self.directory = directory
        self._file_context = file_context  # what a file's findings depend on in the index
        self.root = root
        key = _settings_key(rules, run_settings or {})
        self.file = directory / fastapi_lint.__version__ / f"{key}.json"
        self._project = content_hash("\0".join(sorted(project)).encode())
        self._contexts: dict[tuple[str, ...], str] = {}
        self._entries = _load(self.file)
        self._changed = False
        self.hits = 0

    def get(
        self, path: Path, data: bytes, rules: Sequence[Rule], *, edits: bool
    ) -> list[Diagnostic] | None:
        """The diagnostics stored for these bytes and rules, or None (a miss). `edits`: the
        caller needs the fixes' text edits."""
        entry = self._entries.get(relative_path(path, self.root))
        if not isinstance(entry, dict):
            return None
        if entry.get("hash") != content_hash(data):
            return None
        if entry.get("context") != self._context(rules, path):
            return None
        try:
            if edits and not entry["edits"] and any(item[8] for item in entry["diagnostics"]):
                return None
            diagnostics = [_decode(path, item, edits) for item in entry["diagnostics"]]
        except (KeyError, IndexError, TypeError, ValueError):
            return None  # not the shape we write: a partial or foreign entry
        self.hits += 1
        return diagnostics

    def put(
        self,
        path: Path,
        digest: str,
        rules: Sequence[Rule],
        diagnostics: Sequence[Diagnostic],
        *,
        edits: bool,
    ) -> None:
        """Store the diagnostics of a file whose bytes hash to `digest` (`content_hash`);
        `edits`: their fixes' text edits were computed."""
        self._entries[relative_path(path, self.root)] = {
            "hash": digest,
            "context": self._context(rules, path),
            "edits": edits,
            "diagnostics": [_encode(diagnostic) for diagnostic in diagnostics],
        }
        self._changed = True

    def save(self) -> str | None:
        """Write the cache file if anything changed, dropping the entries of files that no
        longer exist; the reason when it could not be written (the run goes on)."""
        if not self._changed:
            return None
        entries = {
            path: entry
            for path, entry in self._entries.items()
            if os.path.exists(os.path.join(self.root, path))
        }
        document = {"format": FORMAT, "entries": entries}
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            for name, text in ((".gitignore", GITIGNORE), ("CACHEDIR.TAG", CACHEDIR_TAG)):
                if not (self.directory / name).exists():
                    _write_atomically(self.directory / name, text.encode())
            _write_atomically(self.file, json.dumps(document, separators=(",", ":")).encode())
        except OSError as error:
            return f"cannot write the cache in {self.directory}: {error.strerror or error}"
        self._changed = False
        return None

    def _context(self, rules: Sequence[Rule], path: Path) -> str:
        codes = tuple(rule.code for rule in rules)
        context = self._contexts.get(codes)
        if context is None:
            context = content_hash(f"{','.join(codes)}\0{self._project}".encode())
            self._contexts[codes] = context
        return content_hash(f"{context}\0{self._file_context(path)}".encode())


def _settings_key(rules: Sequence[Rule], run_settings: Mapping[str, Any]) -> str:
    """What every result depends on, besides the file and its context: `run_settings` are
    the run-wide settings rules read (`pydantic-version`)."""
    libcst = importlib.machinery.PathFinder.find_spec("libcst")  # not imported: only found
    settings = {
        "format": FORMAT,
        "version": fastapi_lint.__version__,
        "sources": _stat(_source_files(Path(fastapi_lint.__file__).parent)),
        "libcst": _stat([libcst.origin] if libcst is not None and libcst.origin else []),
        "python": sys.version,
        "rules": [[rule.code, rule.settings] for rule in rules],
        "run": run_settings,
    }
    text = json.dumps(settings, sort_keys=True, default=_plain)
    return content_hash(text.encode())


def _source_files(package: Path) -> list[str]:
    return sorted(
        os.path.join(directory, name)
        for directory, _, names in os.walk(package)
        for name in names
        if name.endswith(".py")
    )


def _stat(paths: Iterable[str]) -> list[list[Any]]:
    stats = []
    for path in paths:
        with suppress(OSError):
            status = os.stat(path)
            stats.append([path, status.st_size, status.st_mtime_ns])
    return stats


def _plain(value: Any) -> Any:
    """Rule option values JSON cannot hold, in a stable form (sets sorted)."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    return repr(value)


def _load(file: Path) -> dict[str, Any]:
    try:
        document = json.loads(file.read_bytes())
    except (OSError, ValueError):  # missing, unreadable, partial or not JSON
        return {}
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return {}
    entries = document.get("entries")
    return entries if isinstance(entries, dict) else {}


def _encode(d: Diagnostic) -> list[Any]:
    fix = [d.fix.title, d.fix.applicability.value] if d.fix is not None else None
    edits = None
    if d.edits is not None:
        edits = [[e.content, *_position(e.start), *_position(e.end)] for e in d.edits]
    return [
        *_position(d.start),
        *_position(d.end),
        d.code,
        d.name,
        d.message,
        d.severity.value,
        fix,
        edits,
        list(d.source),
        [[str(r.path), *_position(r.start), r.message] for r in d.related],
    ]


def _decode(path: Path, item: list[Any], with_edits: bool) -> Diagnostic:
    stored = item[:11]
    line, column, end_line, end_column, code, name, message, severity, fix, edits, source = stored
    related = tuple(_decode_related(entry) for entry in (item[11] if len(item) > 11 else ()))
    texts = (code, name, message, *source)
    if not all(isinstance(text, str) for text in texts):
        raise TypeError("not a stored diagnostic")
    summary = FixSummary(str(fix[0]), Applicability(fix[1])) if fix is not None else None
    stored_edits = None
    if with_edits and summary is not None:
        stored_edits = tuple(
            TextEdit(str(content), Position(int(a), int(b)), Position(int(c), int(e)))
            for content, a, b, c, e in edits
        )
    return Diagnostic(
        path,
        Position(int(line), int(column)),
        Position(int(end_line), int(end_column)),
        code,
        name,
        message,
        Severity(severity),
        summary,
        stored_edits,
        tuple(source),
        related,
    )


def _decode_related(entry: list[Any]) -> Related:
    path, line, column, message = entry
    if not isinstance(path, str) or not isinstance(message, str):
        raise TypeError("not a stored related location")
    return Related(Path(path), Position(int(line), int(column)), message)


def _position(position: Position) -> tuple[int, int]:
    return position.line, position.column


def _write_atomically(path: Path, data: bytes) -> None:
    """A reader sees the old file or the new one, never a part of it."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise

"""Baselines: record today's findings once, then report only the new ones.

A baseline file is JSON with one entry per finding, sorted, one entry per line, so it diffs
and merges well. Findings are matched by the fingerprint of fingerprints.py (path relative to
the baseline file's directory, code, hash of the reported line without its comment and
whitespace, occurrence among identical ones), never by line number: a finding that moves with
its line stays baselined, and so does one whose line gets a comment; a finding whose code is
edited is new. The file's `version` is the fingerprints' version: a version 1 baseline (its
line hashes include comments) is still matched with version 1 fingerprints, until rewritten.

```json
{
  "version": 2,
  "tool": "fastapi-lint",
  "entries": [
    {"path": "app/main.py", "code": "FAPI101", "lineHash": "...", "occurrence": 0, ...}
  ]
}
```
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi_lint.config import ConfigError
from fastapi_lint.diagnostics import Diagnostic
from fastapi_lint.fingerprints import VERSION, VERSIONS, fingerprints, line_hash, relative_path

if TYPE_CHECKING:
    from fastapi_lint.config import Settings

TOOL = "fastapi-lint"
# The engine's own diagnostics (invalid syntax, unreadable file) are never baselined, as they
# can never be suppressed.
UNBASELINABLE = frozenset({"FAPI001", "FAPI002"})
_FIELDS = {
    "path": str,
    "code": str,
    "lineHash": str,
    "occurrence": int,
    "fingerprint": str,
    "message": str,
}


class BaselineError(ConfigError):
    """A missing, unreadable or corrupt baseline file (a one-line error, exit code 2)."""


@dataclass(frozen=True)
class Entry:
    path: str  # relative to the baseline file's directory, with forward slashes
    code: str
    line_hash: str
    occurrence: int  # rank among the file's findings with this code and line hash
    fingerprint: str  # what matching uses; the other fields are for people and diffs
    message: str

    @property
    def portable(self) -> bool:
        """False for a finding outside the baseline's directory: its path is absolute, so
        the entry only matches in this checkout."""
        return not os.path.isabs(self.path)

    def sort_key(self) -> tuple[str, str, str, int]:
        return (self.path, self.code, self.line_hash, self.occurrence)

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "code": self.code,
            "lineHash": self.line_hash,
            "occurrence": self.occurrence,
            "fingerprint": self.fingerprint,
            "message": self.message,
        }


@dataclass(frozen=True)
class Baseline:
    file: Path
    entries: tuple[Entry, ...] = ()
    version: int = VERSION  # of the entries' fingerprints

    @property
    def root(self) -> Path:
        """Entry paths are relative to the baseline file's directory, so the file works from
        any working directory and in any clone."""
        return Path(os.path.abspath(self.file)).parent

    def apply(
        self,
        diagnostics: Sequence[Diagnostic],
        *,
        files: Iterable[Path] = (),
        paths: Iterable[str | Path] = (),
        settings: Settings | None = None,
    ) -> BaselineMatch:
        """Split `diagnostics` into the new ones and the baselined ones, and find the stale
        entries among those the run could have matched: entries of a linted file (or of a
        deleted file under a linted path) whose rule is enabled for that file."""
        match = BaselineMatch()
        remaining = Counter(entry.fingerprint for entry in self.entries)
        baselinable = _ordered(d for d in diagnostics if d.code not in UNBASELINABLE)
        for diagnostic, fingerprint in zip(
            baselinable, fingerprints(baselinable, self.root, self.version), strict=True
        ):
            if remaining[fingerprint] > 0:
                remaining[fingerprint] -= 1
                match.baselined += 1
            else:
                match.reported.append(diagnostic)
        match.reported.extend(d for d in diagnostics if d.code in UNBASELINABLE)
        match.reported.sort(key=Diagnostic.sort_key)
        linted = {relative_path(path, self.root) for path in files}
        roots = [Path(os.path.abspath(path)) for path in paths]
        for entry in self.entries:
            if remaining[entry.fingerprint] > 0 and self._in_scope(entry, linted, roots, settings):
                remaining[entry.fingerprint] -= 1
                match.stale.append(entry)
        return match

    def _in_scope(
        self, entry: Entry, linted: set[str], roots: list[Path], settings: Settings | None
    ) -> bool:
        path = self.root / entry.path
        looked_at = entry.path in linted or (
            not path.exists() and any(path.is_relative_to(root) for root in roots)
        )
        if not looked_at:  # a file the run did not lint, nor would have had it still existed
            return False
        if settings is None:
            return True
        enabled = {rule.code for rule in settings.rules} - settings.ignored_codes(path)
        return entry.code in enabled


@dataclass
class BaselineMatch:
    reported: list[Diagnostic] = field(default_factory=list)  # not in the baseline
    baselined: int = 0
    stale: list[Entry] = field(default_factory=list)  # matched nothing


def entries(diagnostics: Iterable[Diagnostic], root: Path) -> list[Entry]:
    """The baseline entries of `diagnostics`, sorted; paths relative to `root`."""
    baselinable = _ordered(d for d in diagnostics if d.code not in UNBASELINABLE)
    seen: Counter[tuple[str, str, str]] = Counter()
    result = []
    for diagnostic, fingerprint in zip(baselinable, fingerprints(baselinable, root), strict=True):
        key = (relative_path(diagnostic.path, root), diagnostic.code, line_hash(diagnostic))
        result.append(Entry(*key, seen[key], fingerprint, diagnostic.message))
        seen[key] += 1
    return sorted(result, key=Entry.sort_key)


def render(baseline_entries: Sequence[Entry]) -> str:
    """The file's text: stable key order, sorted entries, one entry per line."""
    lines = [json.dumps(entry.as_json(), ensure_ascii=False) for entry in baseline_entries]
    body = ",\n".join(f"    {line}" for line in lines)
    entries_text = f"[\n{body}\n  ]" if lines else "[]"
    return f'{{\n  "version": {VERSION},\n  "tool": "{TOOL}",\n  "entries": {entries_text}\n}}\n'


def write_baseline(file: Path, diagnostics: Iterable[Diagnostic]) -> list[Entry]:
    """Record `diagnostics` in `file` (atomically); returns the entries written. Findings
    outside the file's directory get absolute paths (see `Entry.portable`)."""
    recorded = entries(diagnostics, Baseline(file).root)
    text = render(recorded)
    target = Path(os.path.realpath(file))  # a symbolic link stays one
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            os.chmod(temporary, _mode(target))
            os.replace(temporary, target)
        except BaseException:
            with suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as error:
        raise BaselineError(f"cannot write baseline {file}: {error.strerror or error}") from None
    return recorded


def _mode(path: Path) -> int:
    """The mode of the file being replaced, else what a new file gets (mkstemp's is 0600)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def load_baseline(file: Path) -> Baseline:
    """Read and validate a baseline file; any problem is a BaselineError (exit code 2)."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise BaselineError(f"cannot read baseline {file}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise BaselineError(f"baseline {file} is not UTF-8 text") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise BaselineError(f"baseline {file} is not valid JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        raise BaselineError(f"baseline {file} has no `entries` list")
    version = document.get("version")
    if type(version) is not int or version not in VERSIONS:
        readable = " or ".join(str(known) for known in VERSIONS)
        raise BaselineError(
            f"baseline {file} has version {version!r}, this fastapi-lint reads version {readable}"
        )
    loaded = []
    for index, item in enumerate(document["entries"], start=1):
        problem = _problem(item)
        if problem:
            raise BaselineError(f"baseline {file}: entry {index} {problem}")
        loaded.append(
            Entry(
                item["path"],
                item["code"],
                item["lineHash"],
                item["occurrence"],
                item["fingerprint"],
                item["message"],
            )
        )
    return Baseline(file, tuple(loaded), version)


def _problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "is not an object"
    for key, kind in _FIELDS.items():
        value = item.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"has no valid `{key}`"
    return None


def _ordered(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by position, as fingerprints() expects (it ranks identical findings)."""
    return sorted(diagnostics, key=Diagnostic.sort_key)

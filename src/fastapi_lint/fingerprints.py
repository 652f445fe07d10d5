"""Stable identities for findings, shared by baselines, SARIF and GitLab reports.

A fingerprint is made of the file's path relative to the project root, the rule code, a hash
of the reported source line without its comment and with all whitespace removed (the
message, for findings without source), and the finding's rank among the file's findings with
that same code and line. It holds no line number: a finding that moves with its line keeps
its identity, a finding whose line gets a comment (a `# noqa` for another tool, a note) too,
and a finding whose code is edited gets a new one.

Version 1 hashed the line with its comment; baselines written then still record version 1
fingerprints, and are matched with them.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from fastapi_lint.diagnostics import Diagnostic


def relative_path(path: Path, root: Path) -> str:
    """`path` relative to `root`, with forward slashes (absolute when outside the root)."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, root)
    return Path(absolute if relative.startswith("..") else relative).as_posix()


VERSION = 2  # of the fingerprints: 2 leaves the comment out of the line hash
VERSIONS = (1, 2)  # that can still be matched


def line_hash(diagnostic: Diagnostic, version: int = VERSION) -> str:
    if diagnostic.source:
        line = diagnostic.source[0] if version == 1 else without_comment(diagnostic.source[0])
        content = "".join(line.split())
    else:
        content = diagnostic.message
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def without_comment(line: str) -> str:
    """The line up to its comment: the first `#` outside a string literal, as far as the
    line alone tells (a string that starts on it may end on a later line)."""
    quote = ""  # the delimiter of the string the scan is in
    index = 0
    while index < len(line):
        char = line[index]
        if not quote:
            if char == "#":
                return line[:index]
            if char in "'\"":
                quote = char * 3 if line.startswith(char * 3, index) else char
                index += len(quote)
                continue
        elif char == "\\":
            index += 1  # an escaped character never ends the string
        elif line.startswith(quote, index):
            index += len(quote)
            quote = ""
            continue
        index += 1
    return line


def fingerprints(
    diagnostics: Sequence[Diagnostic], root: Path, version: int = VERSION
) -> list[str]:
    """One fingerprint per diagnostic, in the given order (sorted by position is expected)."""
    seen: Counter[tuple[str, str, str]] = Counter()
    result = []
    for diagnostic in diagnostics:
        path = relative_path(diagnostic.path, root)
        key = (path, diagnostic.code, line_hash(diagnostic, version))
        occurrence = seen[key]
        seen[key] += 1
        text = "\0".join((*key, str(occurrence)))
        result.append(hashlib.sha256(text.encode("utf-8")).hexdigest()[:32])
    return result

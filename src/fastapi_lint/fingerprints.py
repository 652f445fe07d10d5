"""Stable identities for findings, shared by baselines, SARIF and GitLab reports.

A fingerprint is made of the file's path relative to the project root, the rule code, a hash
of the reported source line with all whitespace removed (the message, for findings without
source), and the finding's rank among the file's findings with that same code and line. It
holds no line number: a finding that moves with its line keeps its identity, and a finding
whose line is edited gets a new one.
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


def line_hash(diagnostic: Diagnostic) -> str:
    content = "".join(diagnostic.source[0].split()) if diagnostic.source else diagnostic.message
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def fingerprints(diagnostics: Sequence[Diagnostic], root: Path) -> list[str]:
    """One fingerprint per diagnostic, in the given order (sorted by position is expected)."""
    seen: Counter[tuple[str, str, str]] = Counter()
    result = []
    for diagnostic in diagnostics:
        key = (relative_path(diagnostic.path, root), diagnostic.code, line_hash(diagnostic))
        occurrence = seen[key]
        seen[key] += 1
        text = "\0".join((*key, str(occurrence)))
        result.append(hashlib.sha256(text.encode("utf-8")).hexdigest()[:32])
    return result

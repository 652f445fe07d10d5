"""Lint one file: read, prefilter, decode, parse once, model once, run every rule.

Per-run work (settings, rule instances, project facts) arrives ready-made; nothing here is
redone per file except what depends on the file.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Callable, Sequence
from pathlib import Path

import libcst as cst

from fastapi_lint.diagnostics import Diagnostic, Position, Severity
from fastapi_lint.positions import node_ranges
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.semantic import FileModel, ProjectModules
from fastapi_lint.suppression import Suppressions

# Diagnostics of the engine itself: always on, never suppressed (like ruff's invalid-syntax).
INVALID_SYNTAX = ("FAPI001", "invalid-syntax")
UNREADABLE_FILE = ("FAPI002", "unreadable-file")
_FILE_START = Position(1, 1)


class Engine:
    def __init__(
        self,
        rules: Sequence[Rule],
        project: ProjectModules,
        ignored_codes: Callable[[Path], frozenset[str]] = lambda path: frozenset(),
    ) -> None:
        self.rules = tuple(rules)
        self.project = project
        self.ignored_codes = ignored_codes
        self._rules_by_ignored: dict[frozenset[str], tuple[Rule, ...]] = {}

    def lint_file(self, path: Path) -> list[Diagnostic]:
        try:
            data = path.read_bytes()
        except OSError as error:
            reason = error.strerror or str(error)
            return [engine_diagnostic(path, UNREADABLE_FILE, f"Cannot read file: {reason}")]
        return self.lint_bytes(data, path)

    def lint_bytes(self, data: bytes, path: Path) -> list[Diagnostic]:
        rules = self._rules_for(path)
        # The byte-level guard: most files of a project never need a parse.
        if not any(trigger in data for rule in rules for trigger in rule.triggers):
            return []
        text = _decode(data)
        if isinstance(text, UnicodeError | SyntaxError | LookupError):
            message = f"Cannot decode file: {_reason(text)}"
            return [engine_diagnostic(path, UNREADABLE_FILE, message)]
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError as error:
            start = Position(error.raw_line, error.raw_column + 1)
            message = f"SyntaxError: {_first_line(error.message)}"
            return [engine_diagnostic(path, INVALID_SYNTAX, message, start)]
        except (ValueError, RecursionError) as error:  # e.g. null bytes, absurd nesting
            message = f"SyntaxError: {_first_line(str(error))}"
            return [engine_diagnostic(path, INVALID_SYNTAX, message)]
        return self._check(module, text, path, rules)

    def _check(
        self, module: cst.Module, text: str, path: Path, rules: Sequence[Rule]
    ) -> list[Diagnostic]:
        model = FileModel(module, self.project)
        findings: list[tuple[Rule, Finding]] = [
            (rule, finding) for rule in rules for finding in rule.check(model)
        ]
        if not findings:
            return []
        ranges = node_ranges(module, {finding.node for _, finding in findings})
        suppressions = Suppressions.scan(text)
        diagnostics = []
        for rule, finding in findings:
            start, end = ranges[finding.node]
            if suppressions.suppresses(start.line, rule.code):
                continue
            diagnostics.append(
                Diagnostic(path, start, end, rule.code, rule.name, finding.message, finding.severity)
            )
        return diagnostics

    def _rules_for(self, path: Path) -> tuple[Rule, ...]:
        ignored = self.ignored_codes(path)
        rules = self._rules_by_ignored.get(ignored)
        if rules is None:
            rules = tuple(rule for rule in self.rules if rule.code not in ignored)
            self._rules_by_ignored[ignored] = rules
        return rules


def _decode(data: bytes) -> str | UnicodeError | SyntaxError | LookupError:
    """Source text per PEP 263 (a coding cookie, else UTF-8; a BOM is dropped)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (UnicodeError, SyntaxError, LookupError) as error:
        return error


def _reason(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return f"invalid {error.encoding} at byte {error.start}"
    return _first_line(str(error))


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "invalid syntax"


def engine_diagnostic(
    path: Path, kind: tuple[str, str], message: str, start: Position = _FILE_START
) -> Diagnostic:
    code, name = kind
    return Diagnostic(path, start, start, code, name, message, Severity.ERROR)

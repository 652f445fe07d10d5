"""Lint one file: read, prefilter, decode, parse once, model once, run every rule.

Per-run work (settings, rule instances, project facts) arrives ready-made; nothing here is
redone per file except what depends on the file.
"""

from __future__ import annotations

import ast
import io
import tokenize
import warnings
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
# CPython refuses more than 200 nested brackets; LibCST's native parser accepts them but
# overflows its stack at a few thousand, which kills the process instead of raising.
_MAX_BRACKET_DEPTH = 200
_OPENING = b"([{"
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"()[]{}")


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
        if _nested_too_deeply(data):
            error = _python_syntax_error(text)  # None: the nesting was in strings or comments
            if error is not None:
                return [_invalid_syntax(path, error, _FILE_START, "")]
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError as error:
            # LibCST's native parser reports column 0 and often a later line: prefer CPython's.
            fallback = Position(error.raw_line, error.raw_column + 1)
            return [_invalid_syntax(path, _python_syntax_error(text), fallback, error.message)]
        except (ValueError, RecursionError) as error:  # e.g. null bytes, absurd nesting
            message = f"SyntaxError: {_first_line(str(error))}"
            return [engine_diagnostic(path, INVALID_SYNTAX, message)]
        try:
            return self._check(module, text, path, rules)
        except RecursionError:  # valid code nested deeper than LibCST's recursive codegen
            message = "Cannot analyse file: code nested too deeply"
            return [engine_diagnostic(path, INVALID_SYNTAX, message)]

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
                Diagnostic(
                    path, start, end, rule.code, rule.name, finding.message, finding.severity
                )
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


def _nested_too_deeply(data: bytes) -> bool:
    """Brackets nested deeper than CPython allows (brackets in strings and comments count too)."""
    depth = 0
    for byte in data.translate(None, _NOT_BRACKETS):
        if byte in _OPENING:
            depth += 1
            if depth > _MAX_BRACKET_DEPTH:
                return True
        elif depth:
            depth -= 1
    return False


def _python_syntax_error(text: str) -> SyntaxError | None:
    """CPython's verdict on the text (only asked when the file is already in trouble)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. invalid escape sequences
            ast.parse(text)
    except SyntaxError as error:
        return error
    except (RecursionError, MemoryError):
        return SyntaxError("too deeply nested")
    except ValueError as error:  # null bytes before Python 3.12
        return SyntaxError(str(error))
    return None


def _invalid_syntax(
    path: Path, error: SyntaxError | None, fallback: Position, fallback_message: str
) -> Diagnostic:
    """FAPI001 at CPython's position with its message, else at the fallback position."""
    if error is not None and error.lineno:
        start = Position(error.lineno, max(error.offset or 1, 1))
    else:
        start = fallback
    message = error.msg if error is not None else fallback_message
    return engine_diagnostic(path, INVALID_SYNTAX, f"SyntaxError: {_first_line(message)}", start)


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

"""Lint one file: read, prefilter, decode, parse once, model once, run every rule.

Per-run work (settings, rule instances, project facts) arrives ready-made; nothing here is
redone per file except what depends on the file.
"""

from __future__ import annotations

import ast
import io
import tokenize
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from fastapi_lint.diagnostics import (
    INVALID_SYNTAX,
    LINE_BREAK,
    UNREADABLE_FILE,
    Diagnostic,
    Position,
    engine_diagnostic,
)
from fastapi_lint.fix_edits import FixEdits
from fastapi_lint.fixes import Fix, TextEdit, apply_fixes, drop_breaking_fixes
from fastapi_lint.nesting import nested_too_deeply
from fastapi_lint.positions import node_ranges
from fastapi_lint.rule import Finding, Rule, triggered
from fastapi_lint.rules.core.unused_noqa import UnusedNoqa
from fastapi_lint.semantic import FileModel, ProjectModules
from fastapi_lint.suppression import Suppressions
from fastapi_lint.timings import FIXES, MODEL, PARSE, POSITIONS, READ, SUPPRESSION, Timings

_FILE_START = Position(1, 1)
MAX_FIX_ROUNDS = 10
MAX_SOURCE_LINES = 10


@dataclass
class FileResult:
    """The check of one file; `module` and `ranges` are set when it parsed."""

    path: Path
    diagnostics: list[Diagnostic]
    text: str | None = None
    encoding: str = "utf-8"
    module: cst.Module | None = None
    ranges: dict[cst.CSTNode, tuple[Position, Position]] = field(default_factory=dict)
    _fix_edits: FixEdits | None = field(default=None, repr=False, compare=False)

    def fix_edits(self, fix: Fix) -> list[TextEdit]:
        """The text edits of one fix alone, for the JSON output (see `fastapi_lint.fix_edits`:
        one pass over the file serves all its fixes)."""
        assert self.module is not None and self.text is not None
        if self._fix_edits is None or not self._fix_edits.covers(fix):
            fixes = [d.fix for d in self.diagnostics if isinstance(d.fix, Fix)]
            self._fix_edits = FixEdits(self.module, self.text, [*fixes, fix])
        return self._fix_edits.edits(fix)


@dataclass(frozen=True, order=True)
class DroppedFix:
    """A fix left out because the code it gave did not compile (a bug of ours): its finding
    is still reported, at `line` of the fixed text."""

    line: int
    code: str
    reason: str


@dataclass
class FixOutcome:
    """A file after fixing to a fixed point: its text before and after, and what was fixed."""

    result: FileResult  # the check of the fixed text: what remains
    original: str | None
    original_bytes: bytes = b""
    fixed: Counter[str] = field(default_factory=Counter)  # code -> number of fixes applied
    dropped: list[DroppedFix] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.original is not None and self.result.text != self.original

    def warnings(self, path: object) -> list[str]:
        """One line per dropped fix, naming the file (as `path`), the line and the rule."""
        return [
            f"{path}:{drop.line}: {drop.code} fix not applied: the code it gives does not"
            f" compile ({drop.reason}); the finding is still reported"
            for drop in self.dropped
        ]


class Engine:
    def __init__(
        self,
        rules: Sequence[Rule],
        project: ProjectModules,
        ignored_codes: Callable[[Path], frozenset[str]] = lambda path: frozenset(),
        max_file_size: int | None = None,
    ) -> None:
        self.rules = tuple(rules)
        self.project = project
        self.ignored_codes = ignored_codes
        self.max_file_size = max_file_size  # in bytes; None: no limit
        self._rules_by_ignored: dict[frozenset[str], tuple[Rule, ...]] = {}
        self.timings = Timings()  # summed over the files this engine checked

    def lint_file(self, path: Path) -> list[Diagnostic]:
        return self.check_file(path).diagnostics

    def check_file(self, path: Path) -> FileResult:
        try:
            with self.timings.phase(READ):
                data = path.read_bytes()
        except OSError as error:
            reason = error.strerror or str(error)
            message = f"Cannot read file: {reason}"
            return FileResult(path, [engine_diagnostic(path, UNREADABLE_FILE, message)])
        return self.check_bytes(data, path)

    def check_bytes(self, data: bytes, path: Path) -> FileResult:
        rules = self._rules_for(path)
        with self.timings.phase(READ):
            # The byte-level guard: most files of a project never need a parse.
            if not triggered(rules, data) and not self.project.must_parse(path):
                return FileResult(path, [])
            if self.max_file_size is not None and len(data) > self.max_file_size:
                message = _too_large(len(data), self.max_file_size)
                return FileResult(path, [engine_diagnostic(path, UNREADABLE_FILE, message)])
            decoded = _decode(data)
            too_deep = not isinstance(decoded, Exception) and nested_too_deeply(data)
        if isinstance(decoded, UnicodeError | SyntaxError | LookupError):
            message = f"Cannot decode file: {_reason(decoded)}"
            return FileResult(path, [engine_diagnostic(path, UNREADABLE_FILE, message)])
        text, encoding = decoded
        if too_deep:
            error = _python_syntax_error(text)  # None: the nesting was in strings or comments
            if error is not None:
                return FileResult(path, [_invalid_syntax(path, error, _FILE_START, "")], text)
        return self.check_text(text, path, encoding, rules)

    def check_text(
        self,
        text: str,
        path: Path,
        encoding: str = "utf-8",
        rules: Sequence[Rule] | None = None,
    ) -> FileResult:
        rules = self._rules_for(path) if rules is None else rules
        self.timings.files_parsed += 1
        try:
            with self.timings.phase(PARSE):
                module = cst.parse_module(text)
        except cst.ParserSyntaxError as error:
            # LibCST's native parser reports column 0 and often a later line: prefer CPython's.
            fallback = Position(error.raw_line, error.raw_column + 1)
            syntax_error = _invalid_syntax(
                path, _python_syntax_error(text), fallback, error.message
            )
            return FileResult(path, [syntax_error], text, encoding)
        except (ValueError, RecursionError) as error:  # e.g. null bytes, absurd nesting
            message = f"SyntaxError: {_first_line(str(error))}"
            return FileResult(path, [engine_diagnostic(path, INVALID_SYNTAX, message)], text)
        result = FileResult(path, [], text, encoding, module)
        try:
            self._check(result, rules)
        except RecursionError:  # valid code nested deeper than LibCST's recursive codegen
            message = "Cannot analyse file: code nested too deeply"
            result.diagnostics = [engine_diagnostic(path, INVALID_SYNTAX, message)]
        return result

    def fix_file(self, path: Path, *, unsafe: bool) -> FixOutcome:
        """Apply fixes in rounds until none applies (capped): overlapping fixes wait for the
        next round, when they are recomputed on the fixed text. The text of every round must
        compile: a fix that breaks it is found and dropped (see `_apply_round`)."""
        try:
            data = path.read_bytes()
        except OSError:
            return FixOutcome(self.check_file(path), None)
        return self.fix_result(self.check_bytes(data, path), unsafe=unsafe, original_bytes=data)

    def fix_result(
        self, result: FileResult, *, unsafe: bool, original_bytes: bytes = b""
    ) -> FixOutcome:
        """Fix the checked text of `result` (a file, an editor's buffer, stdin) as
        `fix_file` does; `original_bytes` is what a caller writing the file back expects."""
        outcome = FixOutcome(result, result.text, original_bytes)
        dropped: dict[tuple[str, ...], str] = {}  # identity of each fix dropped -> why
        for _ in range(MAX_FIX_ROUNDS):
            wanted = {
                id(d.fix): d.code
                for d in result.diagnostics
                if d.fix is not None
                and (d.fix.is_safe or unsafe)
                and not (dropped and _identity(result, d) in dropped)
            }
            if result.module is None or not wanted:
                break
            fixes = [d.fix for d in result.diagnostics if d.fix is not None and id(d.fix) in wanted]
            round_result = self._apply_round(result, fixes, wanted, dropped)  # type: ignore[arg-type]
            if round_result is None:  # fixes that change nothing would loop to the cap
                break
            applied, next_result = round_result
            outcome.fixed.update(wanted[id(fix)] for fix in applied)
            result = outcome.result = next_result
        if dropped:  # the findings of the fixes dropped, where they remain
            outcome.dropped = sorted(
                DroppedFix(d.start.line, d.code, dropped[_identity(result, d)])
                for d in result.diagnostics
                if d.fix is not None and _identity(result, d) in dropped
            )
        return outcome

    def _apply_round(
        self,
        result: FileResult,
        fixes: Sequence[Fix],
        codes: dict[int, str],
        dropped: dict[tuple[str, ...], str],
    ) -> tuple[list[Fix], FileResult] | None:
        """Apply the fixes that do not overlap (the others wait for the next round) and check
        the fixed text. It must parse, and compile if the text did (LibCST accepts some code
        CPython rejects: `await` in a class body, a repeated keyword argument): else the fixes
        that break it are found by bisection and dropped (into `dropped`), and the others
        applied. Returns the fixes applied and the check of the fixed text, or None when
        nothing changed."""
        assert result.module is not None and result.text is not None
        with self.timings.phase(FIXES):
            applied = apply_fixes(result.module, fixes, result.ranges)
            fixed_text = applied.module.code
        if fixed_text == result.text:
            return None
        path = result.path
        next_result = self.check_text(fixed_text, path, result.encoding)
        with self.timings.phase(FIXES):
            problem = _compile_error(fixed_text, path)
            if problem is not None and _compile_error(result.text, path) is not None:
                problem = None  # it did not compile before fixing either
            if next_result.module is None:
                problem = problem or "LibCST cannot parse it"
            if problem is None:
                return applied.applied, next_result
            strict = _compile_error(result.text, path) is None

            def breaks(text: str) -> str | None:
                return (_compile_error(text, path) if strict else None) or _libcst_error(text)

            applied, lost = drop_breaking_fixes(
                result.module, applied.applied, result.ranges, breaks, problem
            )
            for fix, reason in lost:
                dropped[(codes[id(fix)], *fix.identity(result.module))] = reason
            fixed_text = applied.module.code
        if fixed_text == result.text:  # every fix of the round was dropped
            return [], result
        return applied.applied, self.check_text(fixed_text, path, result.encoding)

    def _check(self, result: FileResult, rules: Sequence[Rule]) -> None:
        assert result.module is not None and result.text is not None
        timings = self.timings
        with timings.phase(MODEL):
            model = FileModel(result.module, self.project, result.path)
        findings: list[tuple[Rule, Finding]] = []
        try:
            for rule in rules:
                with timings.phase(rule.code):
                    findings.extend((rule, finding) for finding in rule.check(model))
        finally:
            model.release()
        unused_noqa = next((rule for rule in rules if isinstance(rule, UnusedNoqa)), None)
        if not findings and unused_noqa is None:
            return
        with timings.phase(POSITIONS):
            targets = {finding.node for _, finding in findings}
            targets.update(node for _, f in findings if f.fix for node in f.fix.replacements)
            result.ranges = node_ranges(result.module, targets, result.text)
        with timings.phase(SUPPRESSION):
            suppressions = Suppressions.scan(result.text)
            kept = [
                (rule, finding, *result.ranges[finding.node])
                for rule, finding in findings
                if not suppressions.suppresses(result.ranges[finding.node][0].line, rule.code)
            ]
        if unused_noqa is not None:  # now that the directives know what they suppressed
            with timings.phase(unused_noqa.code):
                enabled = {rule.code for rule in rules}
                for noqa in unused_noqa.unused_directives(result.module, suppressions, enabled):
                    if not suppressions.suppresses(noqa.start.line, unused_noqa.code):
                        result.ranges.update(noqa.ranges)
                        kept.append((unused_noqa, noqa.finding, noqa.start, noqa.end))
        with timings.phase(POSITIONS):
            self._report(result, kept)

    def _report(
        self, result: FileResult, kept: list[tuple[Rule, Finding, Position, Position]]
    ) -> None:
        """The diagnostics of the findings kept, with their source lines."""
        assert result.text is not None
        lines = LINE_BREAK.split(result.text)  # not splitlines(): it also breaks at \f
        for rule, finding, start, end in kept:
            result.diagnostics.append(
                Diagnostic(
                    result.path,
                    start,
                    end,
                    rule.code,
                    rule.name,
                    finding.message,
                    finding.severity,
                    finding.fix,
                    source=_source_lines(lines, start, end),
                    related=finding.related,
                )
            )

    def _rules_for(self, path: Path) -> tuple[Rule, ...]:
        ignored = self.ignored_codes(path)
        rules = self._rules_by_ignored.get(ignored)
        if rules is None:
            rules = tuple(rule for rule in self.rules if rule.code not in ignored)
            self._rules_by_ignored[ignored] = rules
        return rules


def _source_lines(lines: Sequence[str], start: Position, end: Position) -> tuple[str, ...]:
    """The reported lines, for outputs that show code and for fingerprints (at most 10)."""
    last = min(end.line, start.line + MAX_SOURCE_LINES - 1)
    return tuple(lines[start.line - 1 : last])


def _decode(data: bytes) -> tuple[str, str] | UnicodeError | SyntaxError | LookupError:
    """Source text and encoding per PEP 263 (a coding cookie, else UTF-8; `utf-8-sig` when
    there is a BOM, which the text does not include and a rewrite keeps)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding), encoding
    except (UnicodeError, SyntaxError, LookupError) as error:
        return error


def _compile_error(text: str | None, path: Path) -> str | None:
    """Why CPython's compiler rejects the text (which parsing alone does not tell), if it
    does."""
    if text is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. invalid escape sequences
            compile(text, str(path), "exec", dont_inherit=True)
    except SyntaxError as error:
        return _first_line(error.msg)  # not its line: it is of a text never written
    except (ValueError, RecursionError, MemoryError) as error:
        return _first_line(str(error)) if str(error) else type(error).__name__
    return None


def _libcst_error(text: str) -> str | None:
    try:
        cst.parse_module(text)
    except (cst.ParserSyntaxError, ValueError, RecursionError):
        return "LibCST cannot parse it"
    return None


def _identity(result: FileResult, diagnostic: Diagnostic) -> tuple[str, ...]:
    assert result.module is not None and isinstance(diagnostic.fix, Fix)
    return (diagnostic.code, *diagnostic.fix.identity(result.module))


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


def _too_large(size: int, limit: int) -> str:
    """Why a file is not parsed: in megabytes for the reader, the limit in bytes as configured."""
    return (
        f"File too large to lint: {size / 1024 / 1024:.1f} MB, above `max-file-size` "
        f"({limit:,} bytes): a syntax tree takes hundreds of times the size of its source"
    )


def _reason(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return f"invalid {error.encoding} at byte {error.start}"
    return _first_line(str(error))


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "invalid syntax"

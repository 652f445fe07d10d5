from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi_lint.diagnostics import Applicability, Position, Severity
from fastapi_lint.fixes import Fix
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.suppression import Directive, Suppressions

if TYPE_CHECKING:
    from fastapi_lint.positions import Comment
    from fastapi_lint.semantic import FileModel

OUR_CODE = re.compile(r"FAPI[0-9]+")
# The engine's own codes: always on, never suppressible (see engine.py).
ENGINE_CODES = frozenset({"FAPI001", "FAPI002"})


class UnusedNoqa(Rule):
    """`# noqa` directive names a fastapi-lint code that suppresses nothing.

    ## What it does
    Checks for `# noqa: FAPI...` directives that name a code of this linter (`FAPI` followed by
    digits) which suppressed nothing in this run: the rule is enabled for the file but did not
    report on that line, the code is not a fastapi-lint code at all (`FAPI999`), the code is
    one that can never be suppressed (`FAPI001`, `FAPI002`), or the code is listed twice.

    Only our own codes are checked:

    - codes of other tools (`E501`, `F401`, `RUF100`, ...) are never reported and never
      removed;
    - a blanket `# noqa` is never reported, since other tools may need it;
    - a code of a rule that is not enabled for the file (not selected, or turned off by
      `per-file-ignores`) is not reported either: `fastapi-lint check --select FAPI201` must
      not call the `# noqa: FAPI101` comments of the full configuration unused. Unknown
      `FAPI` codes are reported whatever the selection;
    - `# noqa: FAPI003` is always considered used (it silences this rule on its line);
    - file-level `# fastapi-lint: noqa` directives are not checked. A line directive for a
      code that a file-level directive already suppresses is unused, as in ruff.

    Directives are recognised in comments only, at the `#` of the `noqa`.

    ## Why is this bad?
    A stale `# noqa` hides the next finding of its rule on that line: after the blocking call
    it silenced is gone, a `# noqa: FAPI201` still silences the one someone adds later. It
    also misleads readers into thinking the line has a problem.

    This rule is on by default, unlike ruff's `RUF100`: it never looks at other tools' codes
    or at blanket directives, and it ignores codes of rules that are not enabled, so running
    a subset of the rules cannot make it report a directive the full run needs.

    ## Example
    The `time.sleep(1)` the directive silenced became `await asyncio.sleep(1)`, and the
    directive stayed:
    ```python
    import asyncio

    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/items")
    async def list_items() -> list[str]:
        \"\"\"List the items.\"\"\"
        await asyncio.sleep(1)  # noqa: FAPI201
        return []
    ```

    Use instead:
    ```python
    import asyncio

    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/items")
    async def list_items() -> list[str]:
        \"\"\"List the items.\"\"\"
        await asyncio.sleep(1)
        return []
    ```

    ## Fix safety
    The fix is safe: it removes only the unused `FAPI` codes from the directive (and the
    duplicates), keeping the other tools' codes, or removes the whole `# noqa` directive when
    no code remains (the whole comment when nothing else is in it). A comment is not code, so
    the program's behaviour cannot change.

    ## Options
    None.
    """

    code = "FAPI003"
    name = "unused-noqa"
    severity = Severity.WARNING
    fixable = True
    fix_safety = "safe"
    # A directive this rule reports names one of our codes.
    triggers = (b"FAPI", b"fapi", b"Fapi")

    def screen(self, facts: Facts) -> bool:
        return facts.noqa

    def check(self, model: FileModel) -> Iterator[Finding]:
        # Reported by the engine after suppressions are applied: see `unused_directives`.
        return iter(())

    def unused_directives(
        self, module: cst.Module, suppressions: Suppressions, enabled: Collection[str]
    ) -> list[NoqaFinding]:
        """The directives of `suppressions` that suppressed nothing, once every other rule's
        finding has gone through `suppressions.suppresses`. `enabled`: the codes of the rules
        that ran on the file."""
        verdicts = [
            (directive, verdict)
            for directive in suppressions.directives
            if (verdict := self._verdict(directive, enabled)) is not None
        ]
        if not verdicts:
            return []
        # Replaying LibCST's code generation needs its internals: imported when a directive
        # looks unused, not when the rule registry is imported.
        from fastapi_lint.positions import comments as find_comments

        comments = find_comments(module)
        findings = []
        for directive, verdict in verdicts:
            comment = _comment_at(comments, directive)
            if comment is None:  # the directive is inside a string, not a comment
                continue
            fix = _fix(comment, directive, verdict.keep)
            start = Position(directive.line, directive.column)
            end = Position(directive.line, directive.end_column)
            finding = self.finding(comment.node, verdict.message(), fix=fix)
            findings.append(NoqaFinding(finding, start, end, comment.ranges))
        return findings

    def _verdict(self, directive: Directive, enabled: Collection[str]) -> _Verdict | None:
        if directive.codes is None:
            return None
        verdict = _Verdict()
        seen: set[str] = set()
        known = _known_codes()
        for code in directive.codes:
            upper = code.upper()
            if not OUR_CODE.fullmatch(upper):
                verdict.keep.append(code)  # another tool's
            elif upper in seen:
                verdict.duplicated.append(upper)
            elif upper == self.code or upper in directive.used:
                verdict.keep.append(code)
            elif upper not in known:
                verdict.unknown.append(upper)
            elif upper in enabled or upper in ENGINE_CODES:
                verdict.unused.append(upper)
            else:
                verdict.keep.append(code)  # a rule not enabled here: another run may need it
            seen.add(upper)
        return verdict if verdict.reported else None


@dataclass(frozen=True)
class NoqaFinding:
    """A finding of FAPI003 at the `#` of its directive, with the ranges of its fix's nodes."""

    finding: Finding
    start: Position
    end: Position
    ranges: dict[cst.CSTNode, tuple[Position, Position]]


@dataclass
class _Verdict:
    keep: list[str] = field(default_factory=list)  # as written
    unused: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)

    @property
    def reported(self) -> bool:
        return bool(self.unused or self.unknown or self.duplicated)

    def message(self) -> str:
        parts = [
            f"{kind}: {', '.join(f'`{code}`' for code in codes)}"
            for kind, codes in (
                ("unused", self.unused),
                ("unknown", self.unknown),
                ("duplicated", self.duplicated),
            )
            if codes
        ]
        return f"Unused `noqa` directive ({'; '.join(parts)})"


def _known_codes() -> frozenset[str]:
    from fastapi_lint.rules import RULES_BY_CODE  # the registry imports this module

    return frozenset(RULES_BY_CODE) | ENGINE_CODES


def _comment_at(comments: dict[int, list[Comment]], directive: Directive) -> Comment | None:
    for comment in comments.get(directive.line, ()):
        if (
            comment.start.column
            <= directive.column
            < comment.start.column + len(comment.node.value)
        ):
            return comment
    return None


def _fix(comment: Comment, directive: Directive, keep: list[str]) -> Fix:
    value = comment.node.value
    offset = comment.start.column
    codes_start = directive.codes_column - offset
    codes_end = directive.end_column - offset
    if keep:
        new = value[:codes_start] + ", ".join(keep) + value[codes_end:]
        return Fix("Remove the unused codes", Applicability.SAFE, {comment.node: cst.Comment(new)})
    # Nothing remains of the directive: drop it with its reason, keep any other comment.
    before = value[: directive.column - offset].rstrip()
    after = value[codes_end:]
    after = after[after.index("#") :] if "#" in after else ""
    rest = "  ".join(part for part in (before, after) if part.strip("# \t"))
    title = "Remove the unused `noqa` directive"
    if rest:
        return Fix(title, Applicability.SAFE, {comment.node: cst.Comment(rest)})
    parent = comment.parent
    if isinstance(parent, cst.EmptyLine):  # a comment line of its own: remove the line
        replacement: object = cst.RemoveFromParent()
    else:
        replacement = parent.with_changes(whitespace=cst.SimpleWhitespace(""), comment=None)
    return Fix(title, Applicability.SAFE, {parent: replacement})  # type: ignore[dict-item]

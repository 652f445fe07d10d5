"""Code actions: a quickfix per fixable finding, `# noqa` for a line, and fix-all.

All run in the check thread: fix edits are made by LibCST from the check of the very text
(and version) the client asked about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from fastapi_lint.diagnostics import Diagnostic
from fastapi_lint.engine import Engine, FileResult
from fastapi_lint.fixes import Fix, text_edits
from fastapi_lint.noqa import NOT_ADDED, add_noqa
from fastapi_lint.server.protocol import (
    LinesOf,
    lines,
    lsp_diagnostic,
    lsp_edits,
    workspace_edit,
)

FIX_ALL = f"{types.CodeActionKind.SourceFixAll.value}.fastapi-lint"
FIX_ALL_TITLE = "fastapi-lint: fix all safe fixes"


@dataclass(frozen=True)
class Target:
    """The document the actions edit: the version the client sent, and how it takes edits."""

    uri: str
    version: int | None
    codec: PositionCodec
    document_changes: bool  # the client takes versioned `documentChanges`
    lines_of: LinesOf


def wants(only: Sequence[str] | None, kind: str) -> bool:
    """Whether the client asked for actions of `kind` (`only` holds kinds or their parents)."""
    return only is None or any(kind == k or kind.startswith(f"{k}.") for k in only)


def line_actions(
    result: FileResult, first: int, last: int, target: Target
) -> list[types.CodeAction]:
    """The quickfix and the `# noqa` action of each finding on lines `first` to `last`
    (1-based)."""
    assert result.text is not None
    text_lines = lines(result.text)
    actions: list[types.CodeAction] = []
    for diagnostic in result.diagnostics:
        if not first <= diagnostic.start.line <= last:
            continue
        reported = lsp_diagnostic(diagnostic, text_lines, target.codec, target.lines_of)
        if isinstance(diagnostic.fix, Fix):
            actions.append(_quickfix(result, diagnostic, diagnostic.fix, reported, target))
        noqa = _noqa(result.text, diagnostic, reported, target)
        if noqa is not None:
            actions.append(noqa)
    return actions


def _quickfix(
    result: FileResult,
    diagnostic: Diagnostic,
    fix: Fix,
    reported: types.Diagnostic,
    target: Target,
) -> types.CodeAction:
    assert result.text is not None
    title = f"{diagnostic.code}: {fix.title}" + ("" if fix.is_safe else " (unsafe)")
    edits = lsp_edits(result.fix_edits(fix), lines(result.text), target.codec)
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[reported],
        is_preferred=fix.is_safe,
        edit=workspace_edit(target.uri, target.version, edits, target.document_changes),
    )


def _noqa(
    text: str, diagnostic: Diagnostic, reported: types.Diagnostic, target: Target
) -> types.CodeAction | None:
    """`Disable FAPI201 for this line`, as `--add-noqa` does it; None when the line cannot
    take a comment (it ends in a string or a continuation) or the code cannot be silenced."""
    if diagnostic.code in NOT_ADDED:
        return None
    noqa_text, outcome = add_noqa(text, {diagnostic.start.line: [diagnostic.code]})
    if not outcome.added:
        return None
    edits = lsp_edits(text_edits(text, noqa_text), lines(text), target.codec)
    return types.CodeAction(
        title=f"Disable {diagnostic.code} for this line",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[reported],
        edit=workspace_edit(target.uri, target.version, edits, target.document_changes),
    )


def has_safe_fix(result: FileResult) -> bool:
    return any(isinstance(d.fix, Fix) and d.fix.is_safe for d in result.diagnostics)


def fix_all(engine: Engine, result: FileResult, target: Target, resolved: bool) -> types.CodeAction:
    """The safe fixes of the document, to a fixed point as `--fix` applies them. Unless
    `resolved`, without its edit: the client asks for it (`codeAction/resolve`) only when the
    action is chosen, so listing actions never pays for fixing the whole file."""
    action = types.CodeAction(
        title=FIX_ALL_TITLE,
        kind=FIX_ALL,
        data={"uri": target.uri, "version": target.version},
    )
    if resolved:
        action.edit = fix_all_edit(engine, result, target)
    return action


def fix_all_edit(engine: Engine, result: FileResult, target: Target) -> types.WorkspaceEdit:
    assert result.text is not None
    fixed = engine.fix_result(result, unsafe=False).result.text or result.text
    edits = lsp_edits(text_edits(result.text, fixed), lines(result.text), target.codec)
    return workspace_edit(target.uri, target.version, edits, target.document_changes)

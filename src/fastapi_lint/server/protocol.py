"""Our diagnostics and edits as LSP types.

Our positions are 1-based lines and 1-based columns in characters; LSP's are 0-based, with
columns in the code units the client negotiated (UTF-16 unless it chose otherwise), so each
conversion needs the text of its line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path
from pygls.workspace.position_codec import PositionCodec

from fastapi_lint.diagnostics import LINE_BREAK, Diagnostic, Position, Severity, TextEdit
from fastapi_lint.rules import RULES_BY_CODE

SOURCE = "fastapi-lint"
_SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
# An unused `noqa` can go (editors fade it); the Pydantic 1 rules report deprecated APIs.
_TAGS = {
    "FAPI003": types.DiagnosticTag.Unnecessary,
    **{f"FAPI50{n}": types.DiagnosticTag.Deprecated for n in range(1, 6)},
}

# The lines of another file, for related information (an open buffer, else the disk).
LinesOf = Callable[[Path], Sequence[str]]


def lines(text: str) -> list[str]:
    """The lines of `text` without their ends, broken where LSP and Python break them."""
    return LINE_BREAK.split(text)


def uri_of(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()


def lsp_position(position: Position, text_lines: Sequence[str], codec: PositionCodec):
    line = position.line - 1
    text = text_lines[line] if 0 <= line < len(text_lines) else ""
    return types.Position(line, codec.client_num_units(text[: position.column - 1]))


def lsp_range(
    start: Position, end: Position, text_lines: Sequence[str], codec: PositionCodec
) -> types.Range:
    return types.Range(lsp_position(start, text_lines, codec), lsp_position(end, text_lines, codec))


def lsp_diagnostic(
    diagnostic: Diagnostic, text_lines: Sequence[str], codec: PositionCodec, lines_of: LinesOf
) -> types.Diagnostic:
    tag = _TAGS.get(diagnostic.code)
    rule = RULES_BY_CODE.get(diagnostic.code)  # the engine's own codes have no page
    return types.Diagnostic(
        range=lsp_range(diagnostic.start, diagnostic.end, text_lines, codec),
        message=diagnostic.message,
        severity=_SEVERITIES[diagnostic.severity],
        code=diagnostic.code,
        code_description=types.CodeDescription(href=rule.url()) if rule is not None else None,
        source=SOURCE,
        tags=[tag] if tag is not None else None,
        related_information=[
            types.DiagnosticRelatedInformation(
                location=types.Location(
                    uri_of(related.path),
                    lsp_range(related.start, related.start, lines_of(related.path), codec),
                ),
                message=related.message,
            )
            for related in diagnostic.related
        ]
        or None,
    )


def lsp_edits(
    edits: Sequence[TextEdit], text_lines: Sequence[str], codec: PositionCodec
) -> list[types.TextEdit]:
    return [
        types.TextEdit(lsp_range(edit.start, edit.end, text_lines, codec), edit.content)
        for edit in edits
    ]


def workspace_edit(
    uri: str, version: int | None, edits: list[types.TextEdit], document_changes: bool
) -> types.WorkspaceEdit:
    """Edits of one document, tied to the version they were computed on when the client
    supports versioned document changes (it then refuses them for any other version)."""
    if not document_changes:
        return types.WorkspaceEdit(changes={uri: edits})
    document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(document, edits)])

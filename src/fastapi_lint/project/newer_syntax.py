"""Source that this interpreter's `ast` rejects, made acceptable to it through LibCST.

The project index only needs names, calls and strings. Syntax newer than the running Python
(PEP 695 type parameters and `type` aliases, PEP 701 f-strings, PEP 758 `except A, B:`) is
parsed by LibCST, which knows every version, and rewritten into an older spelling that
keeps those facts: type parameters are dropped, a `type X = ...` becomes `X = None`, an
`except A, B:` becomes `except (A, B):`. Whatever LibCST cannot parse either gets no summary.
"""

from __future__ import annotations

import libcst as cst


class _Downgrade(cst.CSTTransformer):
    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        return updated.with_changes(type_parameters=None)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        return updated.with_changes(type_parameters=None)

    def leave_TypeAlias(
        self, original: cst.TypeAlias, updated: cst.TypeAlias
    ) -> cst.BaseSmallStatement:
        return cst.Assign([cst.AssignTarget(updated.name)], cst.Name("None"))

    def leave_ExceptHandler(
        self, original: cst.ExceptHandler, updated: cst.ExceptHandler
    ) -> cst.ExceptHandler:
        if isinstance(updated.type, cst.Tuple) and not updated.type.lpar:
            return updated.with_changes(
                type=updated.type.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            )
        return updated


def downgrade(text: str) -> str | None:
    """`text` in a spelling older interpreters parse, or None when LibCST rejects it too."""
    try:
        module = cst.parse_module(text)
        return module.visit(_Downgrade()).code
    except (cst.ParserSyntaxError, ValueError, RecursionError, MemoryError):
        return None

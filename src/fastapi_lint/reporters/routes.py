"""The route table as text (`fastapi-lint routes`): one block per app, one line per route."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from pathlib import Path

from fastapi_lint.project.index import Row

NO_APP = "(no app includes these)"


def render_routes(rows: Sequence[Row], root: Path) -> str:
    if not rows:
        return "No routes found.\n"
    ordered = sorted(rows, key=lambda row: (row.app is None, row.app or "", row.order))
    lines: list[str] = []
    for app, group in groupby(ordered, key=lambda row: row.app):
        members = list(group)
        lines.append(
            f"{app or NO_APP}: {len(members)} {'route' if len(members) == 1 else 'routes'}"
        )
        table = [_cells(row, root) for row in members]
        widths = [max(len(cells[i]) for cells in table) for i in range(len(table[0]) - 1)]
        for cells in table:
            padded = [cell.ljust(width) for cell, width in zip(cells[:-1], widths, strict=True)]
            lines.append("  " + "  ".join([*padded, cells[-1]]).rstrip())
        lines.append("")
    apps = len({row.app for row in rows if row.app is not None})
    routes = f"{len(rows)} {'route' if len(rows) == 1 else 'routes'}"
    lines.append(f"{routes} in {apps} {'app' if apps == 1 else 'apps'}.")
    return "\n".join(lines) + "\n"


def _cells(row: Row, root: Path) -> list[str]:
    data = row.as_json(root)
    methods = "MOUNT" if row.kind == "mount" else ",".join(row.methods)
    status = str(row.status_code) if row.status_code is not None else "-"
    schema = {True: "", False: "hidden", None: "schema?"}[row.in_schema]
    return [
        methods,
        row.path or "/",
        row.endpoint or "-",
        status,
        row.response_model or "-",
        f"{data['file']}:{row.line}",
        schema,
    ]

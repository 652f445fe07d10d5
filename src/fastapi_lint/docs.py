"""Rule documentation pages, rendered from each rule's docstring (the single source).

`rules/<CODE>.md` in the repository holds the same pages; a test keeps them in sync, and
`python -m fastapi_lint.docs rules/` rewrites them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fastapi_lint.rule import Rule
from fastapi_lint.rules import ALL_RULES


def render_page(rule: type[Rule]) -> str:
    default = "on" if rule.default_enabled else "off"
    fix = f"available ({rule.fix_safety})" if rule.fixable else "not available"
    header = f"# {rule.name} ({rule.code})\n\nEnabled by default: {default}. Fix: {fix}.\n\n"
    if rule.preview:
        header += (
            "This rule is in preview: it may still change, and it runs only in preview mode "
            "(`--preview`, or `preview = true` in the configuration).\n\n"
        )
    return header + rule.documentation() + "\n"


def rules_table() -> str:
    """The README's rule table (Markdown), one row per rule."""
    rows = [
        "| Code | Name | Default | Preview | Fix | Summary |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rule in ALL_RULES:
        default = "on" if rule.default_enabled else "off"
        preview = "yes" if rule.preview else "no"
        fix = rule.fix_safety if rule.fixable else "no"
        link = f"[{rule.code}](rules/{rule.code}.md)"
        rows.append(
            f"| {link} | `{rule.name}` | {default} | {preview} | {fix} | {rule.summary()} |"
        )
    return "\n".join(rows) + "\n"


def write_pages(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for rule in ALL_RULES:
        (directory / f"{rule.code}.md").write_text(render_page(rule), encoding="utf-8")


if __name__ == "__main__":
    write_pages(Path(sys.argv[1] if len(sys.argv) > 1 else "rules"))

"""SARIF 2.1.0, in the subset GitHub code scanning reads.

One run. `tool.driver.rules` lists every enabled rule (plus the engine's own codes, such as
invalid-syntax, when they were reported), with the descriptions trimmed to GitHub's limits.
Each result points at a path relative to the repository root (`uriBaseId` `%SRCROOT%`, whose
absolute URI is given in `originalUriBaseIds`; see `repository_root`), as GitHub resolves
paths from the checkout's root, with 1-based columns counted in Unicode code
points (`columnKind`), and carries a line-number-free fingerprint as
`partialFingerprints.primaryLocationLineHash`, so an alert survives lines inserted above it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from fastapi_lint import __version__
from fastapi_lint.diagnostics import Diagnostic, Related, Severity
from fastapi_lint.fingerprints import fingerprints, relative_path
from fastapi_lint.reporters import repository_root
from fastapi_lint.rule import Rule

RuleLike = Rule | type[Rule]

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/fastapi-lint/fastapi-lint"
SRCROOT = "%SRCROOT%"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# GitHub's limits on a rule's `name`, `shortDescription.text` and `fullDescription.text`.
MAX_NAME = 255
MAX_DESCRIPTION = 1024
# The engine's diagnostics have no Rule class; SARIF still wants a descriptor for them.
ENGINE_DESCRIPTIONS = {
    "invalid-syntax": "The file is not valid Python, so no rule could check it.",
    "unreadable-file": (
        "The file could not be read or decoded, or is larger than `max-file-size`, so no rule "
        "could check it."
    ),
}
_SECTION = re.compile(r"^## What it does\n(?P<body>.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)


def render_sarif(
    diagnostics: Sequence[Diagnostic], *, root: Path, rules: Sequence[RuleLike]
) -> str:
    descriptors = [_rule_descriptor(rule) for rule in rules]
    index = {descriptor["id"]: i for i, descriptor in enumerate(descriptors)}
    for diagnostic in diagnostics:
        if diagnostic.code not in index:  # an engine diagnostic
            index[diagnostic.code] = len(descriptors)
            descriptors.append(_engine_descriptor(diagnostic))
    prints = fingerprints(diagnostics, root)
    base = repository_root(root)
    results = [
        _result(diagnostic, index[diagnostic.code], fingerprint, base)
        for diagnostic, fingerprint in zip(diagnostics, prints, strict=True)
    ]
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "fastapi-lint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": descriptors,
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": base.as_uri().rstrip("/") + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule_descriptor(rule: RuleLike) -> dict[str, Any]:
    documentation = rule.documentation()
    summary = rule.summary() or rule.name
    return {
        "id": rule.code,
        "name": _trim(rule.name, MAX_NAME),
        "shortDescription": {"text": _trim(summary, MAX_DESCRIPTION)},
        "fullDescription": {
            "text": _trim(_what_it_does(documentation) or summary, MAX_DESCRIPTION)
        },
        "help": {"text": documentation or summary, "markdown": documentation or summary},
        "helpUri": rule.url(),
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": ["fastapi"]},
    }


def _engine_descriptor(diagnostic: Diagnostic) -> dict[str, Any]:
    text = ENGINE_DESCRIPTIONS.get(diagnostic.name, diagnostic.name)
    return {
        "id": diagnostic.code,
        "name": diagnostic.name,
        "shortDescription": {"text": text},
        "fullDescription": {"text": text},
        "help": {"text": text, "markdown": text},
        "defaultConfiguration": {"level": LEVELS[diagnostic.severity]},
    }


def _result(diagnostic: Diagnostic, rule_index: int, fingerprint: str, root: Path) -> dict:
    start, end = diagnostic.start, max(diagnostic.end, diagnostic.start)
    result = {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": LEVELS[diagnostic.severity],
        "message": {"text": diagnostic.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(diagnostic.path, root),
                    "region": {
                        "startLine": start.line,
                        "startColumn": start.column,
                        "endLine": end.line,
                        "endColumn": end.column,
                    },
                }
            }
        ],
        "partialFingerprints": {"primaryLocationLineHash": fingerprint},
    }
    if diagnostic.related:
        result["relatedLocations"] = [
            _related_location(number, related, root)
            for number, related in enumerate(diagnostic.related)
        ]
    return result


def _related_location(number: int, related: Related, root: Path) -> dict[str, Any]:
    return {
        "id": number,
        "physicalLocation": {
            "artifactLocation": _artifact(related.path, root),
            "region": {"startLine": related.start.line, "startColumn": related.start.column},
        },
        "message": {"text": related.message},
    }


def _artifact(path: Path, root: Path) -> dict[str, str]:
    """A URI relative to %SRCROOT%, or an absolute file URI for a file outside the root."""
    relative = relative_path(path, root)
    if PurePosixPath(relative).is_absolute() or Path(relative).is_absolute():
        return {"uri": Path(relative).as_uri()}
    return {"uri": quote(relative), "uriBaseId": SRCROOT}


def _what_it_does(documentation: str) -> str:
    """The `## What it does` section as one paragraph, or ""."""
    match = _SECTION.search(documentation)
    return " ".join(match.group("body").split()) if match else ""


def _trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\N{HORIZONTAL ELLIPSIS}"

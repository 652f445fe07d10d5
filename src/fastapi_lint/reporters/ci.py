"""GitHub Actions annotations, GitLab Code Quality JSON and JUnit XML.

Paths are relative to the repository root (see `repository_root`), with forward slashes.
Severities map as follows:

| fastapi-lint | GitHub command | GitLab severity |
| --- | --- | --- |
| error | `::error` | `critical` |
| warning | `::warning` | `major` |
| info | `::notice` | `info` |

GitHub shows at most 10 error and 10 warning annotations per step (50 per job), and counts
notices apart, so informational findings do not crowd out the others.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from fastapi_lint.diagnostics import Diagnostic, Severity
from fastapi_lint.fingerprints import fingerprints, relative_path
from fastapi_lint.reporters import repository_root

GITHUB_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
GITLAB_SEVERITIES = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}
# Characters XML 1.0 cannot hold, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# --- GitHub --------------------------------------------------------------------------------


def render_github(diagnostics: Sequence[Diagnostic], *, root: Path) -> str:
    """One workflow command per finding:
    `::error file=P,line=L,col=C,endLine=EL,endColumn=EC,title=fastapi-lint (CODE)::CODE message`.
    """
    lines = []
    base = repository_root(root)
    for d in diagnostics:
        properties = {
            "file": relative_path(d.path, base),
            "line": d.start.line,
            "col": d.start.column,
            "endLine": d.end.line,
            "endColumn": d.end.column,
            "title": f"fastapi-lint ({d.code})",
        }
        joined = ",".join(
            f"{key}={escape_property(str(value))}" for key, value in properties.items()
        )
        message = escape_data(f"{d.code} {d.message}")
        lines.append(f"::{GITHUB_COMMANDS[d.severity]} {joined}::{message}\n")
    return "".join(lines)


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as @actions/core does (`%` first)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: the message escapes, plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


# --- GitLab --------------------------------------------------------------------------------


def render_gitlab(diagnostics: Sequence[Diagnostic], *, root: Path) -> str:
    """A GitLab Code Quality report: a JSON array of Code Climate issues, with the
    line-number-free fingerprints that baselines use, so moved code keeps its identity."""
    base = repository_root(root)
    issues = [
        {
            "description": f"{d.code}: {d.message}",
            "check_name": d.code,
            "fingerprint": fingerprint,
            "severity": GITLAB_SEVERITIES[d.severity],
            "location": {
                "path": relative_path(d.path, base),
                "lines": {"begin": d.start.line, "end": _last_line(d)},
            },
        }
        for d, fingerprint in zip(diagnostics, fingerprints(diagnostics, root), strict=True)
    ]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _last_line(diagnostic: Diagnostic) -> int:
    """The last line the range covers (a range ending at column 1 does not cover its line)."""
    start, end = diagnostic.start, diagnostic.end
    if end.line > start.line and end.column == 1:
        return end.line - 1
    return max(end.line, start.line)


# --- JUnit ---------------------------------------------------------------------------------


def render_junit(diagnostics: Sequence[Diagnostic], *, root: Path) -> str:
    """JUnit XML as ruff writes it: a testsuite per file, a failed testcase per finding
    (`fastapi-lint.CODE`, with its file, line and column); one passing testcase when there
    is nothing to report."""
    total = str(len(diagnostics))
    suites = ET.Element(
        "testsuites", name="fastapi-lint", tests=total, failures=total, errors="0", skipped="0"
    )
    if not diagnostics:
        suite = ET.SubElement(
            suites, "testsuite", name="fastapi-lint", tests="1", failures="0", errors="0"
        )
        ET.SubElement(suite, "testcase", name="No errors found", classname="fastapi-lint")
    for path, items in _by_file(diagnostics, repository_root(root)).items():
        count = str(len(items))
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=_xml(path),
            tests=count,
            failures=count,
            errors="0",
            skipped="0",
            package="fastapi-lint",
        )
        classname = _xml(str(PurePosixPath(path).with_suffix("")))
        for d in items:
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"fastapi-lint.{d.code}",
                classname=classname,
                file=_xml(path),
                line=str(d.start.line),
                column=str(d.start.column),
            )
            message = _xml(d.message)
            failure = ET.SubElement(case, "failure", message=message, type=d.code)
            failure.text = f"line {d.start.line}, col {d.start.column}, {message}"
    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _by_file(diagnostics: Sequence[Diagnostic], root: Path) -> dict[str, list[Diagnostic]]:
    files: dict[str, list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        files.setdefault(relative_path(diagnostic.path, root), []).append(diagnostic)
    return files


def _xml(text: str) -> str:
    """`text` without the characters XML cannot hold (ElementTree escapes the rest)."""
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", text)

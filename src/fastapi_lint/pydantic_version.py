"""Which Pydantic major version a project declares, read from its files at the project root.

The Pydantic rules (FAPI5xx) report v1 code that Pydantic 2 deprecates or rejects; a project
that declares Pydantic 1 is left alone. Read, in order, until one decides:

- `pyproject.toml`: `[project] dependencies` and `[tool.poetry.dependencies]`;
- `requirements*.txt`;
- the lock files `uv.lock`, `poetry.lock`, `pdm.lock` and `Pipfile.lock` (the version that
  is installed).

Pydantic 1 is declared by a constraint no 2.x release satisfies (`pydantic<2`, `==1.*`,
`~=1.10`, `^1.10`, `==1.10.2`, `<=1.10.13`), or by a FastAPI older than 0.100 (the first
to support Pydantic 2); Pydantic 2 by one that only 2.x and later satisfy (`>=2`, `^2.5`).
Anything else decides nothing. Pure standard library: configuration loading uses it.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

Version = tuple[int, ...]
PYDANTIC_2: Version = (2,)
FASTAPI_WITH_PYDANTIC_2: Version = (0, 100)
LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock")
_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)")
# A clause starts a word: the `1` of `2.0b1` is no clause.
_CLAUSE = re.compile(r"(?<![\w.])(~=|===|==|!=|<=|>=|<|>|\^|~)?\s*v?(\d+(?:\.\d+)*)(\.\*)?")
_LOCKED = re.compile(
    r'^\[\[package\]\]\s*\nname\s*=\s*"(pydantic|fastapi)"\s*\nversion\s*=\s*"([\d.]+)',
    re.MULTILINE,
)


def declared_pydantic_major(root: Path) -> tuple[int | None, Path | None]:
    """The Pydantic major version the project at `root` declares, and the file that says
    so; (None, None) when no file decides."""
    for path, requirements in _declarations(root):
        major = _major(requirements)
        if major is not None:
            return major, path
    for path in (root / name for name in LOCK_FILES):
        major = _locked_major(_read(path))
        if major is not None:
            return major, path
    pipfile_lock = root / "Pipfile.lock"
    major = _pipfile_lock_major(_read(pipfile_lock))
    return (major, pipfile_lock) if major is not None else (None, None)


def _declarations(root: Path) -> Iterator[tuple[Path, list[tuple[str, str]]]]:
    """(file, [(package, constraint)]) for pyproject.toml and each requirements file."""
    pyproject = root / "pyproject.toml"
    text = _read(pyproject)
    if text:
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            document = {}
        yield pyproject, [*_pep508(_project_dependencies(document)), *_poetry(document)]
    for path in sorted(root.glob("requirements*.txt")):
        yield path, list(_pep508(_requirement_lines(_read(path))))


def _project_dependencies(document: dict[str, Any]) -> list[str]:
    project = document.get("project")
    dependencies = project.get("dependencies") if isinstance(project, dict) else None
    if not isinstance(dependencies, list):
        return []
    return [item for item in dependencies if isinstance(item, str)]


def _poetry(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """`pydantic = "^1.10"`, `{version = "^1.10", extras = [...]}`, or a list of them."""
    tool = document.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    dependencies = poetry.get("dependencies") if isinstance(poetry, dict) else None
    if not isinstance(dependencies, dict):
        return
    for name, spec in dependencies.items():
        specs = spec if isinstance(spec, list) else [spec]
        versions = [s.get("version") if isinstance(s, dict) else s for s in specs]
        if versions and all(isinstance(v, str) for v in versions):
            yield _normalise(name), " || ".join(versions)  # type: ignore[arg-type]


def _requirement_lines(text: str) -> Iterator[str]:
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-")):
            yield line


def _pep508(requirements: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(package, constraint) of PEP 508 strings: `pydantic[email]>=1.8,<2; python_version>'3'`."""
    for requirement in requirements:
        match = _NAME.fullmatch(requirement.split(";", 1)[0].strip())
        if match is not None and "@" not in match.group(2):  # not a direct URL
            yield _normalise(match.group(1)), match.group(2).strip().strip("()")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _major(requirements: list[tuple[str, str]]) -> int | None:
    """1 or 2 when the constraints on pydantic (or on fastapi, for 1) decide it."""
    constraints = dict(requirements)
    pydantic = constraints.get("pydantic")
    if pydantic is not None:
        if _excludes_from(pydantic, PYDANTIC_2):
            return 1
        if _requires_at_least(pydantic, PYDANTIC_2):
            return 2
    fastapi = constraints.get("fastapi")
    if fastapi is not None and _excludes_from(fastapi, FASTAPI_WITH_PYDANTIC_2):
        return 1
    return None


def _excludes_from(constraint: str, bound: Version) -> bool:
    """Whether no version at or after `bound` satisfies the constraint. `||` separates
    alternatives (poetry), `,` or spaces the clauses that all must hold."""
    alternatives = [a for a in constraint.split("||") if a.strip()]
    return bool(alternatives) and all(
        any(_clause_excludes(clause, bound) for clause in _clauses(alternative))
        for alternative in alternatives
    )


def _requires_at_least(constraint: str, bound: Version) -> bool:
    """Whether every version that satisfies the constraint is at or after `bound`."""
    alternatives = [a for a in constraint.split("||") if a.strip()]
    return bool(alternatives) and all(
        any(_clause_requires(clause, bound) for clause in _clauses(alternative))
        for alternative in alternatives
    )


def _clauses(constraint: str) -> Iterator[tuple[str, Version, bool]]:
    """(operator, version, wildcard) of each clause; a bare version is `==` (poetry)."""
    for match in _CLAUSE.finditer(constraint):
        operator, version, wildcard = match.groups()
        yield operator or "==", tuple(int(part) for part in version.split(".")), bool(wildcard)


def _clause_excludes(clause: tuple[str, Version, bool], bound: Version) -> bool:
    operator, version, wildcard = clause
    if operator == "<":
        return _pad(version, bound) <= _pad(bound, version)
    if operator == "<=":
        return _pad(version, bound) < _pad(bound, version)
    if operator in ("==", "==="):
        return _prefix_below(version, bound) if wildcard else _below(version, bound)
    if operator == "~=" and len(version) > 1:
        return _prefix_below(version[:-1], bound)
    upper = _caret_upper(version) if operator == "^" else None
    if operator == "~":
        upper = _tilde_upper(version)
    return upper is not None and _pad(upper, bound) <= _pad(bound, upper)


def _clause_requires(clause: tuple[str, Version, bool], bound: Version) -> bool:
    operator, version, _ = clause
    if operator in (">=", "==", "===", "~=", "^", "~"):
        return not _below(version, bound)
    return operator == ">" and not _below(version, bound)


def _below(version: Version, bound: Version) -> bool:
    return _pad(version, bound) < _pad(bound, version)


def _prefix_below(prefix: Version, bound: Version) -> bool:
    """Whether every version starting with `prefix` is below `bound`."""
    return prefix < _pad(bound, prefix)[: len(prefix)]


def _pad(version: Version, other: Version) -> Version:
    return version + (0,) * max(0, len(other) - len(version))


def _caret_upper(version: Version) -> Version:
    """Poetry's `^`: up to the next change of the first non-zero component."""
    for index, part in enumerate(version):
        if part != 0 or index == len(version) - 1:
            return (*version[:index], part + 1)
    return version  # pragma: no cover - a version has at least one component


def _tilde_upper(version: Version) -> Version:
    """Poetry's `~`: `~1.2.3` and `~1.2` allow `<1.3`, `~1` allows `<2`."""
    if len(version) == 1:
        return (version[0] + 1,)
    return (version[0], version[1] + 1)


def _locked_major(text: str) -> int | None:
    """The version a TOML lock file pins: pydantic's major, or 1 for a FastAPI before
    0.100; None when the lock holds none, or several that disagree."""
    locked: dict[str, set[Version]] = {}
    for name, version in _LOCKED.findall(text):
        parts = tuple(int(part) for part in version.strip(".").split(".") if part)
        locked.setdefault(name, set()).add(parts)
    return _major_of_versions(locked.get("pydantic", set()), locked.get("fastapi", set()))


def _pipfile_lock_major(text: str) -> int | None:
    if not text:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    found: dict[str, set[Version]] = {}
    for section in ("default", "develop"):
        packages = document.get(section) if isinstance(document, dict) else None
        for name in ("pydantic", "fastapi"):
            entry = packages.get(name) if isinstance(packages, dict) else None
            version = entry.get("version") if isinstance(entry, dict) else None
            clauses = list(_clauses(version)) if isinstance(version, str) else []
            if clauses:
                found.setdefault(name, set()).add(clauses[0][1])
    return _major_of_versions(found.get("pydantic", set()), found.get("fastapi", set()))


def _major_of_versions(pydantic: set[Version], fastapi: set[Version]) -> int | None:
    majors = {version[0] for version in pydantic if version}
    if len(majors) == 1:
        major = majors.pop()
        return major if major in (1, 2) else None
    if not pydantic and fastapi and all(_below(v, FASTAPI_WITH_PYDANTIC_2) for v in fastapi):
        return 1
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""

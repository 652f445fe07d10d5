"""The project root, and the module name of each file of the project.

The project root is the one directory everything is relative to (configuration, cache,
index, fingerprints, paths in reports): the directory of the nearest `pyproject.toml` with a
`[tool.fastapi-lint]` table, else of the nearest `pyproject.toml`, else the nearest directory
holding `.git`, else the current directory. "Nearest" is searched upwards from the current
directory, or from the linted paths' common directory when they lie outside it.

Module names come from the layout, as Python would import them: a file in a package (a
directory with `__init__.py`) is named from its outermost package; any other file from the
deepest source root holding it (`src` in the configuration, default the root and `root/src`),
which also names namespace packages (directories without `__init__.py`); a file outside
every source root is a top-level module.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

SECTION_MARKER = "[tool.fastapi-lint]"


def search_start(paths: Sequence[str | Path], cwd: Path) -> Path:
    """Where the search for the project root starts: the current directory, unless the
    linted paths all lie outside it (then their common directory)."""
    absolute = [Path(os.path.abspath(path)) for path in paths] or [cwd]
    if any(path == cwd or path.is_relative_to(cwd) for path in absolute):
        return cwd
    common = Path(os.path.commonpath([str(path) for path in absolute]))
    return common if common.is_dir() else common.parent


def find_root(start: Path) -> tuple[Path, Path | None]:
    """The project root searched from `start`, and the pyproject.toml holding our table
    (None when there is none: the root then comes from a plain pyproject.toml or `.git`)."""
    from fastapi_lint.config import has_section  # config imports this module

    directories = (start, *start.parents)
    for directory in directories:
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and has_section(candidate):
            return directory, candidate
    for directory in directories:
        if (directory / "pyproject.toml").is_file():
            return directory, None
    for directory in directories:
        if (directory / ".git").exists():
            return directory, None
    return start, None


class Layout:
    """Module names of files, from the packages and the source roots."""

    def __init__(self, root: Path, source_roots: Iterable[Path] = ()) -> None:
        self.root = root
        self._packages: dict[Path, bool] = {}  # directory -> holds an __init__.py
        roots = [root, root / "src", *source_roots]
        # Deepest first: a file is named from the innermost source root holding it.
        self.source_roots = sorted(
            {Path(os.path.abspath(r)) for r in roots}, key=lambda r: len(r.parts), reverse=True
        )

    def _is_package(self, directory: Path) -> bool:
        known = self._packages.get(directory)
        if known is None:
            known = self._packages[directory] = (directory / "__init__.py").is_file()
        return known

    def module_name(self, path: Path) -> tuple[str, bool]:
        """The dotted module name of a file, and whether it is a package's `__init__`."""
        absolute = Path(os.path.abspath(path))
        is_package = absolute.stem == "__init__"
        directory = absolute.parent
        parts = [] if is_package else [absolute.stem]
        if self._is_package(directory):
            while self._is_package(directory) and directory != directory.parent:
                parts.append(directory.name)
                directory = directory.parent
            return ".".join(reversed(parts)), is_package
        for source_root in self.source_roots:
            if directory == source_root or directory.is_relative_to(source_root):
                relative = directory.relative_to(source_root).parts
                return ".".join([*relative, *reversed(parts)]) or absolute.stem, is_package
        return ".".join(reversed(parts)) or directory.name, is_package

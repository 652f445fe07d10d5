"""Find the Python files to lint, the way ruff does.

Directories are walked recursively; ``exclude`` globs and ``.gitignore`` rules prune the walk.
Paths named explicitly by the user are trusted more than paths found by walking: only patterns
the user configured can drop them, unless ``force_exclude`` (ruff's ``--force-exclude``, for
pre-commit, which names every file) makes the default excludes apply to them too.

Walking keeps regular `.py` and `.pyi` files only: named pipes, sockets, devices, broken
symbolic links and symbolic link loops found in a directory are passed over silently, as git
passes them over. A path named explicitly that is not there (a broken symbolic link included)
is reported missing; one that is there but is not a regular file (a FIFO, `/dev/null`) is
skipped with a warning, since reading a FIFO blocks until someone writes to it; one that
cannot even be examined (a symbolic link loop) is kept, for the engine to report why it
cannot be read.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "venv",
    "__pycache__",
    ".fastapi_lint_cache",
)

PYTHON_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True)
class Discovery:
    files: list[Path]
    missing: list[Path]
    # One warning per path named explicitly that is not a regular file, and so not linted.
    skipped: list[str] = field(default_factory=list)


def discover_files(
    paths: Sequence[str | Path],
    *,
    root: Path,
    exclude: Sequence[str] | None = None,
    extend_exclude: Sequence[str] = (),
    respect_gitignore: bool = True,
    force_exclude: bool = False,
) -> Discovery:
    """Collect the files to lint under ``paths``, sorted and deduplicated."""
    root_abs = os.path.abspath(root)
    user_patterns = [*(exclude or ()), *extend_exclude]
    default_patterns = DEFAULT_EXCLUDES if exclude is None else ()
    all_patterns = _ExcludePatterns([*default_patterns, *user_patterns], root_abs)
    finder = _FileFinder(
        root_abs,
        walk_excludes=all_patterns,
        user_excludes=all_patterns if force_exclude else _ExcludePatterns(user_patterns, root_abs),
        respect_gitignore=respect_gitignore,
    )
    for path in paths:
        finder.add(Path(path))
    return finder.result()


def is_excluded(
    path: Path,
    *,
    root: Path,
    exclude: Sequence[str] | None = None,
    extend_exclude: Sequence[str] = (),
) -> bool:
    """Whether the default (unless `exclude` replaces them) and configured excludes drop
    `path`, named explicitly with `force_exclude`; it need not exist (source from stdin, an
    editor's new buffer)."""
    root_abs = os.path.abspath(root)
    default_patterns = DEFAULT_EXCLUDES if exclude is None else ()
    patterns = _ExcludePatterns([*default_patterns, *(exclude or ()), *extend_exclude], root_abs)
    finder = _FileFinder(
        root_abs, walk_excludes=patterns, user_excludes=patterns, respect_gitignore=False
    )
    abs_path = os.path.abspath(path)
    return finder._is_user_excluded(abs_path, finder._relative_to_root(abs_path), False)


# --- exclude globs -------------------------------------------------------------------------------


class _ExcludePatterns:
    """fnmatch globs matched against a basename and against the path relative to root."""

    def __init__(self, patterns: Sequence[str], root_abs: str) -> None:
        variants = [
            variant
            for pattern in patterns
            for variant in _expand_double_star(_normalize_glob(pattern, root_abs))
            if variant
        ]
        # One alternation is much faster than looping over patterns for every walked entry.
        joined = "|".join(fnmatch.translate(variant) for variant in variants)
        self._match = re.compile(joined).match if variants else None

    def matches(self, name: str, rel: str | None, is_dir: bool) -> bool:
        if self._match is None:
            return False
        if self._match(name):
            return True
        if rel is None:  # outside root: only the basename can be compared
            return False
        # "dir/" lets `tests/fixtures/*` or `**/generated/**` prune the directory itself.
        return bool(self._match(rel) or (is_dir and self._match(rel + "/")))


def _normalize_glob(pattern: str, root_abs: str) -> str:
    if os.path.isabs(pattern):
        try:
            relative = os.path.relpath(pattern, root_abs)
        except ValueError:  # another drive on Windows
            relative = os.pardir
        if not relative.startswith(os.pardir):
            pattern = relative
    pattern = pattern.replace(os.sep, "/")
    while pattern.startswith("./"):
        pattern = pattern[2:]
    return pattern.rstrip("/")


def _expand_double_star(pattern: str) -> list[str]:
    """Spell out that ``**/`` may match zero directories, which plain fnmatch cannot express."""
    index = pattern.find("**/")
    while index > 0 and pattern[index - 1] != "/":
        index = pattern.find("**/", index + 1)
    if index < 0:
        return [pattern]
    head, tails = pattern[:index], _expand_double_star(pattern[index + 3 :])
    return [head + "**/" + tail for tail in tails] + [head + tail for tail in tails]


# --- gitignore -----------------------------------------------------------------------------------


class _Rule(NamedTuple):
    regex: str
    negated: bool
    dir_only: bool


class _GitignoreRules:
    """The rules of one ignore file, matched against paths relative to its directory."""

    def __init__(self, rules: list[_Rule]) -> None:
        self._for_files = _combine([rule for rule in rules if not rule.dir_only])
        self._for_dirs = _combine(rules)

    def verdict(self, rel: str, is_dir: bool) -> bool | None:
        """True if ignored, False if re-included by a negation, None if no rule matches."""
        regex, negated = self._for_dirs if is_dir else self._for_files
        match = regex.fullmatch(rel) if regex is not None else None
        if match is None or match.lastindex is None:
            return None
        return not negated[match.lastindex - 1]


def _combine(rules: list[_Rule]) -> tuple[re.Pattern[str] | None, list[bool]]:
    # Later rules win, and an alternation picks its first matching branch: so reverse the rules.
    # Each rule is the only capturing group of its branch, so `lastindex` names the winner.
    ordered = rules[::-1]
    if not ordered:
        return None, []
    regex = re.compile("|".join(f"({rule.regex})" for rule in ordered), re.DOTALL)
    return regex, [rule.negated for rule in ordered]


def _read_rules(file: str) -> _GitignoreRules | None:
    try:
        text = Path(file).read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return None
    rules = [rule for line in text.splitlines() if (rule := _parse_rule(line)) is not None]
    return _GitignoreRules(rules) if rules else None


def _parse_rule(line: str) -> _Rule | None:
    pattern = _trim_trailing_spaces(line)
    if not pattern or pattern.startswith("#"):
        return None
    negated = pattern.startswith("!")
    if negated:
        pattern = pattern[1:]
    dir_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    if not pattern:
        return None
    # A slash anywhere but at the end anchors the pattern to the ignore file's directory.
    anchored = "/" in pattern
    regex = _translate_gitignore_glob(pattern.lstrip("/"))
    try:
        re.compile(regex)
    except re.error:  # e.g. a reversed range "[z-a]": git never matches it, so drop the rule
        return None
    return _Rule(regex if anchored else "(?:.*/)?" + regex, negated, dir_only)


def _trim_trailing_spaces(line: str) -> str:
    trimmed = line.rstrip(" ")
    backslashes = len(trimmed) - len(trimmed.rstrip("\\"))
    if trimmed != line and backslashes % 2 == 1:
        return trimmed + " "  # "\ " keeps one escaped space
    return trimmed


def _translate_gitignore_glob(pattern: str) -> str:
    """Regex for a slash-separated gitignore glob; only whole ``**`` segments cross ``/``."""
    segments = pattern.split("/")
    last = len(segments) - 1
    regex = ""
    needs_separator = False
    for position, segment in enumerate(segments):
        if segment == "**":
            sep = "/" if needs_separator else ""
            regex += sep + ".*" if position == last else sep + "(?:.*/)?"
            needs_separator = False
        else:
            regex += ("/" if needs_separator else "") + _translate_segment(segment)
            needs_separator = True
    return regex


def _translate_segment(segment: str) -> str:
    parts: list[str] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        if char == "\\" and index + 1 < len(segment):
            parts.append(re.escape(segment[index + 1]))
            index += 2
            continue
        if char == "[":
            char_class, index = _translate_char_class(segment, index)
            parts.append(char_class)
            continue
        parts.append({"*": "[^/]*", "?": "[^/]"}.get(char) or re.escape(char))
        index += 1
    return "".join(parts)


def _translate_char_class(segment: str, start: int) -> tuple[str, int]:
    """Translate ``[...]`` at ``start``; an unclosed bracket is a literal ``[``."""
    index = start + 1
    negated = index < len(segment) and segment[index] in "!^"
    index += negated
    body: list[str] = []
    while index < len(segment) and (segment[index] != "]" or not body):
        char = segment[index]
        if char == "\\" and index + 1 < len(segment):
            index += 1
            char = segment[index]
        body.append(char if char == "-" else re.escape(char))
        index += 1
    if index >= len(segment):
        return re.escape("["), start + 1
    return f"(?!/)[{'^' if negated else ''}{''.join(body)}]", index + 1


class _Scope(NamedTuple):
    rules: _GitignoreRules
    prefix: str  # the walked directory relative to the rules' directory: "" or "a/b/"


def _is_gitignored(scopes: tuple[_Scope, ...], name: str, is_dir: bool) -> bool:
    # The deepest ignore file with an opinion decides, like git.
    for scope in reversed(scopes):
        verdict = scope.rules.verdict(scope.prefix + name, is_dir)
        if verdict is not None:
            return verdict
    return False


def _descend(scopes: tuple[_Scope, ...], name: str) -> tuple[_Scope, ...]:
    return tuple(_Scope(scope.rules, f"{scope.prefix}{name}/") for scope in scopes)


# --- walking -------------------------------------------------------------------------------------


class _Frame(NamedTuple):
    path: str  # as the user will see it
    abs_path: str
    rel: str | None  # relative to root, posix; None when outside root
    scopes: tuple[_Scope, ...]


class _FileFinder:
    def __init__(
        self,
        root_abs: str,
        *,
        walk_excludes: _ExcludePatterns,
        user_excludes: _ExcludePatterns,
        respect_gitignore: bool,
    ) -> None:
        self._root = root_abs
        self._walk_excludes = walk_excludes
        self._user_excludes = user_excludes
        self._respect_gitignore = respect_gitignore
        self._gitignores: dict[str, _GitignoreRules | None] = {}  # by directory, read once
        self._info_exclude = (
            _read_rules(os.path.join(root_abs, ".git", "info", "exclude"))
            if respect_gitignore
            else None
        )
        self._found: dict[str, Path] = {}  # absolute path -> path as first reached
        self._missing: dict[Path, None] = {}
        self._skipped: dict[Path, str] = {}

    def add(self, path: Path) -> None:
        try:
            mode = os.stat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):  # a broken symbolic link too
            self._missing[path] = None
            return
        except OSError:  # a symbolic link loop, say: the engine will say why it cannot read it
            mode = stat.S_IFREG
        abs_path = os.path.abspath(path)
        rel = self._relative_to_root(abs_path)
        is_dir = stat.S_ISDIR(mode)
        if self._is_user_excluded(abs_path, rel, is_dir):
            return
        if is_dir:
            self._walk(_Frame(str(path), abs_path, rel, self._inherited_scopes(rel)))
        elif stat.S_ISREG(mode):
            self._found.setdefault(abs_path, path)
        else:
            self._skipped[path] = f"{path}: skipped: {_kind(mode)}, not a regular file"

    def result(self) -> Discovery:
        # Sorting by `parts` gives Path order without Path.__lt__'s per-comparison overhead.
        files = sorted(self._found.values(), key=lambda path: path.parts)
        return Discovery(files, list(self._missing), list(self._skipped.values()))

    def _relative_to_root(self, abs_path: str) -> str | None:
        if abs_path == self._root:
            return ""
        prefix = self._root if self._root.endswith(os.sep) else self._root + os.sep
        if not abs_path.startswith(prefix):
            return None
        return abs_path[len(prefix) :].replace(os.sep, "/")

    def _is_user_excluded(self, abs_path: str, rel: str | None, is_dir: bool) -> bool:
        if rel is None:
            return self._user_excludes.matches(os.path.basename(abs_path), None, is_dir)
        # A file inside a user-excluded directory is excluded too, as with ruff's force-exclude.
        parts = rel.split("/") if rel else []
        for depth in range(1, len(parts) + 1):
            is_ancestor = depth < len(parts)
            ancestor_rel = "/".join(parts[:depth])
            if self._user_excludes.matches(parts[depth - 1], ancestor_rel, is_ancestor or is_dir):
                return True
        return False

    def _inherited_scopes(self, rel: str | None) -> tuple[_Scope, ...]:
        """Ignore rules from root down to, not including, an explicitly given directory."""
        if not self._respect_gitignore or rel is None:
            return ()
        parts = rel.split("/") if rel else []
        scopes: list[_Scope] = []
        if self._info_exclude is not None:
            scopes.append(_Scope(self._info_exclude, f"{rel}/" if rel else ""))
        for depth in range(len(parts)):
            rules = self._load_gitignore(os.path.join(self._root, *parts[:depth]))
            if rules is not None:
                scopes.append(_Scope(rules, "/".join(parts[depth:]) + "/"))
        return tuple(scopes)

    def _load_gitignore(self, directory: str) -> _GitignoreRules | None:
        if directory not in self._gitignores:
            self._gitignores[directory] = _read_rules(os.path.join(directory, ".gitignore"))
        return self._gitignores[directory]

    def _walk(self, top: _Frame) -> None:
        stack = [top]
        while stack:
            stack.extend(self._scan(stack.pop()))

    def _scan(self, frame: _Frame) -> list[_Frame]:
        """Record the Python files of one directory; return its subdirectories to walk."""
        try:
            with os.scandir(frame.path) as iterator:
                entries = list(iterator)
        except OSError:
            return []
        scopes = self._with_own_gitignore(frame, entries)
        subdirs = []
        for entry in entries:
            is_dir = _is_real_directory(entry)
            if not is_dir and not (entry.name.endswith(PYTHON_SUFFIXES) and _is_file(entry)):
                continue
            rel = _child_rel(frame.rel, entry.name)
            if self._walk_excludes.matches(entry.name, rel, is_dir):
                continue
            if scopes and _is_gitignored(scopes, entry.name, is_dir):
                continue
            abs_path = os.path.join(frame.abs_path, entry.name)
            if is_dir:
                subdirs.append(_Frame(entry.path, abs_path, rel, _descend(scopes, entry.name)))
            else:
                self._found.setdefault(abs_path, Path(entry.path))
        return subdirs

    def _with_own_gitignore(
        self, frame: _Frame, entries: list[os.DirEntry[str]]
    ) -> tuple[_Scope, ...]:
        # Look for .gitignore among the entries already listed instead of an extra syscall.
        if not self._respect_gitignore or not any(e.name == ".gitignore" for e in entries):
            return frame.scopes
        rules = self._load_gitignore(frame.abs_path)
        return frame.scopes if rules is None else (*frame.scopes, _Scope(rules, ""))


def _is_real_directory(entry: os.DirEntry[str]) -> bool:
    """A directory, not a symbolic link to one: symlinked directories are never followed."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:  # gone since the directory was listed
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    """A regular file, or a symbolic link to one."""
    try:
        return entry.is_file()
    except OSError:  # a symbolic link loop
        return False


_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((kind for test, kind in _KINDS if test(mode)), "a special file")


def _child_rel(parent_rel: str | None, name: str) -> str | None:
    if parent_rel is None:
        return None
    return f"{parent_rel}/{name}" if parent_rel else name

"""Configuration: `[tool.fastapi-lint]` in pyproject.toml, CLI overrides, and rule selection.

Everything here runs once per run. Errors are `ConfigError`s with a one-line message.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi_lint.rule import OptionError, Rule
from fastapi_lint.rules import ALL_RULES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

SECTION = "fastapi-lint"
_LIST_KEYS = ("select", "ignore", "extend-select", "exclude", "extend-exclude")
_BOOLEAN_KEYS = ("fix", "unsafe-fixes")
KNOWN_KEYS = frozenset({*_LIST_KEYS, *_BOOLEAN_KEYS, "per-file-ignores", "rules"})


class ConfigError(Exception):
    """Invalid configuration or selector; the message is one line for the user."""


@dataclass(frozen=True)
class Selection:
    """One layer of rule selection (the config file, then the command line)."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    root: Path  # paths in the configuration are relative to it
    config_file: Path | None
    rules: tuple[Rule, ...]  # enabled rules, options applied
    exclude: tuple[str, ...] | None = None  # None: the default excludes
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    fix: bool = False  # `fix = true`: apply safe fixes, as --fix does
    unsafe_fixes: bool = False  # `unsafe-fixes = true`: include unsafe fixes
    raw: Mapping[str, Any] = field(default_factory=dict)

    def ignored_codes(self, path: Path) -> frozenset[str]:
        """Codes that `per-file-ignores` turns off for `path`."""
        if not self.per_file_ignores:
            return frozenset()
        relative = _relative(path, self.root)
        ignored: set[str] = set()
        for pattern, codes in self.per_file_ignores:
            if _matches(pattern, relative):
                ignored |= codes
        return frozenset(ignored)


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start` that has a [tool.fastapi-lint] table."""
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and SECTION in _read_toml(candidate).get("tool", {}):
            return candidate
    return None


def load_settings(
    config_file: Path | None,
    cli: Selection = Selection(),
    *,
    cwd: Path | None = None,
) -> Settings:
    """Settings from `config_file` (or the discovered one) with the CLI layered on top."""
    cwd = cwd or Path.cwd()
    if config_file is None:
        config_file = find_config(cwd)
    table = _section(config_file) if config_file is not None else {}
    _check_keys(table, config_file)
    root = config_file.parent if config_file is not None else cwd
    file_layer = Selection(
        select=_strings(table, "select", config_file) if "select" in table else None,
        ignore=_strings(table, "ignore", config_file),
        extend_select=_strings(table, "extend-select", config_file),
    )
    enabled = resolve_selection([file_layer, cli])
    return Settings(
        root=_absolute(root),
        config_file=config_file,
        rules=_instantiate(enabled, table.get("rules", {}), config_file),
        exclude=_strings(table, "exclude", config_file) if "exclude" in table else None,
        extend_exclude=_strings(table, "extend-exclude", config_file),
        per_file_ignores=_per_file_ignores(table.get("per-file-ignores", {}), config_file),
        fix=_boolean(table, "fix", config_file),
        unsafe_fixes=_boolean(table, "unsafe-fixes", config_file),
        raw=table,
    )


def resolve_selection(layers: Sequence[Selection]) -> list[type[Rule]]:
    """Enabled rules after each layer, as ruff does: a layer's `select` replaces the set,
    then within the layer the most specific selector (of `select`, `extend-select` and
    `ignore`) wins and `ignore` wins ties."""
    enabled = {rule.code for rule in ALL_RULES if rule.default_enabled}
    for layer in layers:
        if layer.select is not None:
            enabled = {rule.code for rule in ALL_RULES if _best(rule.code, layer.select)}
        for rule in ALL_RULES:
            on = _best(rule.code, (*(layer.select or ()), *layer.extend_select))
            off = _best(rule.code, layer.ignore)
            if off and off >= on:
                enabled.discard(rule.code)
            elif on:
                enabled.add(rule.code)
    return [rule for rule in ALL_RULES if rule.code in enabled]


def expand_selector(selector: str) -> frozenset[str]:
    """Rule codes matched by a selector (`ALL`, a code, or a prefix such as `FAPI2`)."""
    normalised = selector.strip().upper()
    if normalised == "ALL":
        return frozenset(rule.code for rule in ALL_RULES)
    codes = frozenset(rule.code for rule in ALL_RULES if rule.code.startswith(normalised))
    if not normalised or not codes:
        raise ConfigError(f"unknown rule selector `{selector}`")
    return codes


def _best(code: str, selectors: Sequence[str]) -> int:
    """Specificity of the most specific selector matching `code` (0: none matches)."""
    best = 0
    for selector in selectors:
        if code in expand_selector(selector):
            normalised = selector.strip().upper()
            best = max(best, 1 if normalised == "ALL" else 1 + len(normalised))
    return best


def _instantiate(
    enabled: Sequence[type[Rule]], options: Any, config_file: Path | None
) -> tuple[Rule, ...]:
    where = f"{_name(config_file)}: [tool.{SECTION}.rules]"
    if not isinstance(options, dict):
        raise ConfigError(f"{where} must be a table")
    known = {rule.code: rule for rule in ALL_RULES}
    configured = {}
    for code, table in options.items():
        if code not in known:
            raise ConfigError(f"{where}: unknown rule code `{code}`")
        if not isinstance(table, dict):
            raise ConfigError(f"{where}.{code} must be a table")
        try:
            configured[code] = known[code](table)
        except OptionError as error:
            raise ConfigError(f"{where}.{code}: {error}") from None
    return tuple(configured.get(rule.code) or rule() for rule in enabled)


def _per_file_ignores(table: Any, config_file: Path | None) -> tuple:
    where = f"{_name(config_file)}: `per-file-ignores`"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of glob = [codes]")
    result = []
    for pattern, selectors in table.items():
        if not isinstance(selectors, list) or not all(isinstance(s, str) for s in selectors):
            raise ConfigError(f"{where}: `{pattern}` must map to a list of rule codes")
        try:
            codes = frozenset().union(*(expand_selector(s) for s in selectors))
        except ConfigError as error:
            raise ConfigError(f"{where}: `{pattern}`: {error}") from None
        result.append((pattern, codes))
    return tuple(result)


def _check_keys(table: Mapping[str, Any], config_file: Path | None) -> None:
    for key in table:
        if key not in KNOWN_KEYS:
            raise ConfigError(f"{_name(config_file)}: unknown key `{key}` in [tool.{SECTION}]")
    for key in ("select", "ignore", "extend-select"):
        for selector in table.get(key, []) if isinstance(table.get(key), list) else []:
            if isinstance(selector, str):
                try:
                    expand_selector(selector)
                except ConfigError as error:
                    raise ConfigError(f"{_name(config_file)}: `{key}`: {error}") from None


def _boolean(table: Mapping[str, Any], key: str, config_file: Path | None) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{_name(config_file)}: `{key}` must be true or false")
    return value


def _strings(table: Mapping[str, Any], key: str, config_file: Path | None) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{_name(config_file)}: `{key}` must be a list of strings")
    return tuple(value)


def _section(config_file: Path) -> dict[str, Any]:
    document = _read_toml(config_file)
    if config_file.name != "pyproject.toml":
        return document  # a dedicated file holds the settings at its top level
    section = document.get("tool", {}).get(SECTION, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{_name(config_file)}: [tool.{SECTION}] must be a table")
    return section


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


def _name(config_file: Path | None) -> str:
    return str(config_file) if config_file is not None else "configuration"


def _absolute(path: Path) -> Path:
    """Absolute and without `..`, but symlinks kept: as discovery sees the linted paths."""
    return Path(os.path.abspath(path))


def _relative(path: Path, root: Path) -> str:
    absolute = _absolute(path)
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return absolute.as_posix()


def _matches(pattern: str, relative: str) -> bool:
    """ruff-style globs: matched against the path relative to the root, or the basename."""
    pattern = pattern.removeprefix("./")
    if fnmatch.fnmatchcase(relative, pattern):
        return True
    if "/" not in pattern:
        return fnmatch.fnmatchcase(relative.rsplit("/", 1)[-1], pattern)
    # `dir/**` and `dir/**/*.py` also match files directly inside dir.
    return fnmatch.fnmatchcase(relative, pattern.replace("/**/", "/"))

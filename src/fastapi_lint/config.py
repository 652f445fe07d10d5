"""Configuration: `[tool.fastapi-lint]` in pyproject.toml, CLI overrides, and rule selection.

Everything here runs once per run. Errors are `ConfigError`s with a one-line message.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fastapi_lint.discovery import DEFAULT_EXCLUDES
from fastapi_lint.project.layout import find_root, search_start
from fastapi_lint.pydantic_version import declared_pydantic_major
from fastapi_lint.report import OUTPUT_FORMATS
from fastapi_lint.rule import OptionError, Rule
from fastapi_lint.rules import ALL_RULES, RULES_BY_CODE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

SECTION = "fastapi-lint"
_LIST_KEYS = (
    "select",
    "ignore",
    "extend-select",
    "exclude",
    "extend-exclude",
    "src",
    "router-classes",
)
_BOOLEAN_KEYS = ("fix", "unsafe-fixes", "force-exclude", "preview")
KNOWN_KEYS = frozenset(
    {
        *_LIST_KEYS,
        *_BOOLEAN_KEYS,
        "per-file-ignores",
        "rules",
        "output-format",
        "baseline",
        "cache-dir",
        "pydantic-version",
        "max-file-size",
    }
)
DEFAULT_CACHE_DIR = ".fastapi_lint_cache"  # under the project root
# Files larger than this (in bytes) are not parsed: a LibCST tree takes hundreds of times the
# size of its source in memory. 1 MiB keeps the largest hand-written files of the corpus
# (400 KB) and skips generated ones.
DEFAULT_MAX_FILE_SIZE = 1024 * 1024


# Where an effective setting came from (see `Settings.sources`): the built-in default, the
# command line, or else the path of the configuration file, as `str(Settings.config_file)`.
DEFAULT_SOURCE = "default"
CLI_SOURCE = "command line"


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
    force_exclude: bool = False  # `force-exclude = true`: excludes apply to explicit paths too
    preview: bool = False  # `preview = true` or `--preview`: preview rules may be enabled
    output_format: str | None = None  # `output-format`; None: chosen by the command line
    baseline: Path | None = None  # `baseline = "path"`, relative to the config file's directory
    # `cache-dir = "path"`, relative to the config file's directory; None: DEFAULT_CACHE_DIR
    # under the root. `--cache-dir` and FASTAPI_LINT_CACHE_DIR replace it.
    cache_dir: Path | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    # Where each value came from (DEFAULT_SOURCE, CLI_SOURCE or the config file's path), by
    # key: "config-file", "root", each top-level setting ("select", "fix", ...), "enabled.CODE"
    # (what decided whether rule CODE is on) and "rules.CODE.option" (each rule option).
    sources: Mapping[str, str] = field(default_factory=dict)
    layers: tuple[Selection, ...] = ()  # the rule selection layers: config file, command line
    # `src = [...]`: source roots that name modules (as ruff's), besides the root and
    # `root/src`; absolute paths.
    src: tuple[Path, ...] = ()
    # `router-classes = [...]`: qualified names of third-party APIRouter subclasses.
    router_classes: tuple[str, ...] = ()
    # The Pydantic major version the project uses (1 or 2): `pydantic-version`, else what
    # the files at the root declare (see `fastapi_lint.pydantic_version`); None: unknown.
    pydantic_version: int | None = None
    # For the user, not errors: deprecated options given, selections that enable nothing.
    warnings: tuple[str, ...] = ()
    # `max-file-size`: files above it (in bytes) are reported (FAPI002), not parsed.
    max_file_size: int = DEFAULT_MAX_FILE_SIZE

    @property
    def effective_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else self.root / DEFAULT_CACHE_DIR

    def rules_for(self, path: Path) -> tuple[Rule, ...]:
        """The enabled rules that check `path`: all but those `per-file-ignores` turns off."""
        ignored = self.ignored_codes(path)
        return tuple(rule for rule in self.rules if rule.code not in ignored)

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
        if candidate.is_file() and has_section(candidate):
            return candidate
    return None


def has_section(pyproject: Path) -> bool:
    """Whether a pyproject.toml has a [tool.fastapi-lint] table."""
    return SECTION in _read_toml(pyproject).get("tool", {})


def load_settings(
    config_file: Path | None,
    cli: Selection = Selection(),
    *,
    cwd: Path | None = None,
    preview: bool | None = None,
    paths: Sequence[str | Path] = (),
) -> Settings:
    """Settings from `config_file` (or the discovered one) with the CLI layered on top;
    `preview` is `--preview` (True) or `--no-preview` (False), None when not given."""
    cwd = cwd or Path.cwd()
    config_source = CLI_SOURCE if config_file is not None else DEFAULT_SOURCE
    if config_file is None:
        root, config_file = find_root(search_start(paths, _absolute(cwd)))
    else:
        root = config_file.parent
    table = _section(config_file) if config_file is not None else {}
    _check_keys(table, config_file)
    file_layer = Selection(
        select=_strings(table, "select", config_file) if "select" in table else None,
        ignore=_strings(table, "ignore", config_file),
        extend_select=_strings(table, "extend-select", config_file),
    )
    layers = [file_layer, cli]
    configured_preview = _boolean(table, "preview", config_file)  # validated even if overridden
    in_preview = configured_preview if preview is None else preview
    enabled = resolve_selection(layers, preview=in_preview)
    sources = _sources(table, config_file, config_source, layers)
    if preview is not None:
        sources["preview"] = CLI_SOURCE
    if not in_preview:  # the preview switch, wherever it was set, keeps preview rules off
        sources.update({f"enabled.{r.code}": sources["preview"] for r in ALL_RULES if r.preview})
    rules = _instantiate(enabled, table.get("rules", {}), config_file)
    pydantic_version, detected_in = _pydantic_version(table, config_file, _absolute(root))
    if detected_in is not None:
        sources["pydantic-version"] = str(detected_in)
    return Settings(
        root=_absolute(root),
        config_file=config_file,
        rules=rules,
        exclude=_strings(table, "exclude", config_file) if "exclude" in table else None,
        extend_exclude=_strings(table, "extend-exclude", config_file),
        per_file_ignores=_per_file_ignores(table.get("per-file-ignores", {}), config_file),
        fix=_boolean(table, "fix", config_file),
        unsafe_fixes=_boolean(table, "unsafe-fixes", config_file),
        force_exclude=_boolean(table, "force-exclude", config_file),
        preview=in_preview,
        output_format=_output_format(table, config_file),
        baseline=_path(table, "baseline", config_file, root),
        cache_dir=_path(table, "cache-dir", config_file, root),
        src=tuple(_absolute(root / entry) for entry in _strings(table, "src", config_file)),
        router_classes=_strings(table, "router-classes", config_file),
        pydantic_version=pydantic_version,
        max_file_size=_max_file_size(table, config_file),
        raw=table,
        sources=sources,
        layers=tuple(layers),
        warnings=(
            *_inert_selections(layers, in_preview),
            *_deprecations(table.get("rules", {}), config_file),
        ),
    )


def apply_overrides(settings: Settings, **values: Any) -> Settings:
    """`settings` with command-line values (`fix=True`, `force_exclude=False`, ...) applied
    and their source recorded as the command line; `None` values are left alone."""
    given = {name: value for name, value in values.items() if value is not None}
    sources = dict(settings.sources)
    sources.update({name.replace("_", "-"): CLI_SOURCE for name in given})
    return replace(settings, **given, sources=sources)


def describe_settings(settings: Settings) -> dict[str, Any]:
    """The effective configuration as JSON-ready data, each value with its source:
    `{key: {"value": ..., "source": ...}}` for the settings, and under "rules" each rule's
    `enabled` state and options in the same shape (what `fastapi-lint config` prints)."""
    sources = settings.sources

    def entry(key: str, value: Any) -> dict[str, Any]:
        return {"value": _plain(value), "source": sources.get(key, DEFAULT_SOURCE)}

    layers = settings.layers or (Selection(),)
    chosen = [layer.select for layer in layers if layer.select is not None]
    default_select = [rule.code for rule in ALL_RULES if rule.default_enabled]
    enabled = [rule.code for rule in settings.rules]
    # What decided the rules' states, in layer order: default, config file, command line.
    deciders = {sources.get(f"enabled.{rule.code}", DEFAULT_SOURCE): None for rule in ALL_RULES}
    in_file = str(settings.config_file) if settings.config_file is not None else DEFAULT_SOURCE
    order = [DEFAULT_SOURCE, in_file, CLI_SOURCE]
    decided_by = [label for label in dict.fromkeys(order) if label in deciders]
    described = {
        "config-file": entry("config-file", settings.config_file),
        "root": entry("root", settings.root),
        "select": entry("select", chosen[-1] if chosen else default_select),
        "ignore": entry("ignore", [s for layer in layers for s in layer.ignore]),
        "extend-select": entry(
            "extend-select", [s for layer in layers for s in layer.extend_select]
        ),
        "enabled-rules": {"value": enabled, "source": ", ".join(decided_by)},
        "exclude": entry(
            "exclude", DEFAULT_EXCLUDES if settings.exclude is None else settings.exclude
        ),
        "extend-exclude": entry("extend-exclude", settings.extend_exclude),
        "per-file-ignores": entry(
            "per-file-ignores",
            {pattern: sorted(codes) for pattern, codes in settings.per_file_ignores},
        ),
        "fix": entry("fix", settings.fix),
        "unsafe-fixes": entry("unsafe-fixes", settings.unsafe_fixes),
        "force-exclude": entry("force-exclude", settings.force_exclude),
        "preview": entry("preview", settings.preview),
        "output-format": entry("output-format", settings.output_format),
        "baseline": entry("baseline", settings.baseline),
        "cache-dir": entry("cache-dir", settings.effective_cache_dir),
        "src": entry("src", settings.src),
        "router-classes": entry("router-classes", settings.router_classes),
        "pydantic-version": entry("pydantic-version", settings.pydantic_version),
        "max-file-size": entry("max-file-size", settings.max_file_size),
    }
    instances = {rule.code: rule for rule in settings.rules}
    configured = settings.raw.get("rules", {})
    rules: dict[str, Any] = {}
    for rule_class in ALL_RULES:
        code = rule_class.code
        instance = instances.get(code) or rule_class(configured.get(code))
        rules[code] = {
            "enabled": entry(f"enabled.{code}", code in instances),
            "options": {
                option.name: entry(f"rules.{code}.{option.name}", instance.settings[option.name])
                for option in rule_class.options
            },
        }
    described["rules"] = rules
    return described


def _plain(value: Any) -> Any:
    """`value` with tuples, sets and paths turned into what JSON can hold."""
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(item) for item in value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def _sources(
    table: Mapping[str, Any],
    config_file: Path | None,
    config_source: str,
    layers: Sequence[Selection],
) -> dict[str, str]:
    """Where each effective value comes from; see `Settings.sources`."""
    in_file = str(config_file) if config_file is not None else DEFAULT_SOURCE
    cli = layers[-1]
    sources = {"config-file": config_source, "root": in_file}
    for key in (
        *_LIST_KEYS,
        *_BOOLEAN_KEYS,
        "per-file-ignores",
        "output-format",
        "baseline",
        "cache-dir",
        "pydantic-version",
        "max-file-size",
    ):
        sources[key] = in_file if key in table else DEFAULT_SOURCE
    if cli.select is not None:
        sources["select"] = CLI_SOURCE
    for key, from_cli in (("ignore", cli.ignore), ("extend-select", cli.extend_select)):
        if from_cli:
            both = sources[key] != DEFAULT_SOURCE
            sources[key] = f"{in_file}, {CLI_SOURCE}" if both else CLI_SOURCE
    labels = [in_file, CLI_SOURCE]
    for code, (_, decided_by) in _decide(layers).items():
        sources[f"enabled.{code}"] = DEFAULT_SOURCE if decided_by is None else labels[decided_by]
    configured = table.get("rules", {})
    for rule in ALL_RULES:
        options = configured.get(rule.code, {}) if isinstance(configured, dict) else {}
        for option in rule.options:
            key = f"rules.{rule.code}.{option.name}"
            given = isinstance(options, dict) and option.name in options
            sources[key] = in_file if given else DEFAULT_SOURCE
    return sources


def resolve_selection(layers: Sequence[Selection], *, preview: bool = False) -> list[type[Rule]]:
    """Enabled rules after each layer, as ruff does: a layer's `select` replaces the set,
    then within the layer the most specific selector (of `select`, `extend-select` and
    `ignore`) wins and `ignore` wins ties. Preview rules only in preview mode, even when
    selected by their exact code (as in ruff)."""
    decided = _decide(layers)
    return [rule for rule in ALL_RULES if decided[rule.code][0] and (preview or not rule.preview)]


def _inert_selections(layers: Sequence[Selection], preview: bool) -> list[str]:
    """ruff's warning for a `select`/`extend-select` entry that matches only preview rules
    while preview mode is off: it enables nothing."""
    if preview:
        return []
    selectors = (s for layer in layers for s in (*(layer.select or ()), *layer.extend_select))
    inert = [s for s in selectors if all(RULES_BY_CODE[c].preview for c in expand_selector(s))]
    return [
        f"Selection `{selector}` has no effect because preview is not enabled."
        for selector in dict.fromkeys(inert)
    ]


def _deprecations(options: Mapping[str, Any], config_file: Path | None) -> list[str]:
    """A warning per deprecated rule option given (the tables are validated already)."""
    where = f"{_name(config_file)}: [tool.{SECTION}.rules"
    return [
        f"{where}.{code}] `{option.name}` is deprecated and will be removed in the next "
        f"release: {option.deprecated}"
        for code, table in options.items()
        for option in RULES_BY_CODE[code].options
        if option.deprecated is not None and option.name in table
    ]


def _decide(layers: Sequence[Selection]) -> dict[str, tuple[bool, int | None]]:
    """For each rule code: enabled or not, and the index of the layer that decided it
    (None: no layer did, the rule's default stands)."""
    state: dict[str, tuple[bool, int | None]] = {
        rule.code: (rule.default_enabled, None) for rule in ALL_RULES
    }
    for index, layer in enumerate(layers):
        for rule in ALL_RULES:
            on = _best(rule.code, (*(layer.select or ()), *layer.extend_select))
            off = _best(rule.code, layer.ignore)
            if off and off >= on:
                state[rule.code] = (False, index)
            elif on:
                state[rule.code] = (True, index)
            elif layer.select is not None:  # a `select` replaces the set: not in it, off
                state[rule.code] = (False, index)
    return state


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


def _output_format(table: Mapping[str, Any], config_file: Path | None) -> str | None:
    value = table.get("output-format")
    if value is not None and value not in OUTPUT_FORMATS:
        choices = ", ".join(OUTPUT_FORMATS)
        raise ConfigError(f"{_name(config_file)}: `output-format` must be one of {choices}")
    return value


def _pydantic_version(
    table: Mapping[str, Any], config_file: Path | None, root: Path
) -> tuple[int | None, Path | None]:
    """`pydantic-version` when configured, else the version the project's files declare,
    with the file that declares it (None when configured or unknown)."""
    if "pydantic-version" not in table:
        return declared_pydantic_major(root)
    value = table["pydantic-version"]
    if isinstance(value, bool) or not isinstance(value, int) or value not in (1, 2):
        raise ConfigError(f"{_name(config_file)}: `pydantic-version` must be 1 or 2")
    return value, None


def _max_file_size(table: Mapping[str, Any], config_file: Path | None) -> int:
    value = table.get("max-file-size", DEFAULT_MAX_FILE_SIZE)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"{_name(config_file)}: `max-file-size` must be a positive number of bytes"
        )
    return value


def _path(table: Mapping[str, Any], key: str, config_file: Path | None, root: Path) -> Path | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{_name(config_file)}: `{key}` must be a path (a string)")
    return _absolute(root / value)


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

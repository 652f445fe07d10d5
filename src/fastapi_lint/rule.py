"""The rule base class: metadata declared once on the class, options validated once per run."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from fastapi_lint.diagnostics import Related, Severity

if TYPE_CHECKING:  # the registry imports this module: it must not load LibCST
    import libcst as cst

    from fastapi_lint.fixes import Fix
    from fastapi_lint.project.index import ProjectIndex
    from fastapi_lint.screen import Facts
    from fastapi_lint.semantic import FileModel

DOCS_URL = "https://github.com/fastapi-lint/fastapi-lint/blob/main/rules/{code}.md"
FixSafety = Literal["safe", "unsafe", "sometimes"]


class OptionError(ValueError):
    """A rule option with a bad value; the message is shown to the user as is."""


@dataclass(frozen=True)
class Option:
    name: str
    default: Any
    description: str
    # Returns the normalised value or raises OptionError.
    parse: Callable[[Any], Any]
    # Set on an option kept for a release after it was replaced: what replaced it. Giving a
    # deprecated option still works, with a warning.
    deprecated: str | None = None


@dataclass(frozen=True)
class Finding:
    node: cst.CSTNode
    message: str
    severity: Severity
    fix: Fix | None = None
    related: tuple[Related, ...] = ()  # other places involved, in other files too


class Rule:
    """Base class of every rule. Subclasses set the class attributes and `check`.

    The class docstring is the rule's documentation page (Markdown with the fixed headings);
    its first line is the one-line summary.

    `triggers` is the byte-level prefilter: a file is parsed only when its bytes contain a
    trigger of at least one rule enabled for it (after `per-file-ignores`); the other files
    are never decoded or parsed. So every file in which the rule can report must contain
    one of its triggers: `b"fastapi"` (the default) for rules about apps, routes and
    dependencies, which are only recognised through an import of fastapi. A file parsed for
    another rule's trigger is checked by every enabled rule, so a trigger is a necessary
    condition, never a promise. An option that widens what the rule reports (more modules or
    names to recognise) must widen the triggers with it: set `self.triggers` in `__init__`
    (FAPI201's `extend-blocking-calls` need not: its calls only count inside an `async def`,
    which its `async` trigger already covers). Triggers are bytes, matched case-sensitively
    and anywhere (in comments and strings too): keep them short and certain.

    `screen` is the second guard, after the triggers: given cheap facts of the file from
    CPython's `ast` (`fastapi_lint.screen.Facts`), whether the rule could report there,
    whatever its triggers (a file parsed for another rule's trigger is checked by this one
    too). It must be a necessary condition of the rule (say yes whenever unsure: a file no
    enabled rule wants is never parsed), never a second implementation of it; the default
    says yes, so a rule without a screen has every file the prefilter lets through parsed.
    An option that widens what the rule reports must widen its screen with it.

    A rule module is imported by the registry before any file is read, on runs answered from
    the cache too: it takes LibCST from `fastapi_lint.lazy` and touches it only when `check`
    runs (see that module).
    """

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity] = Severity.WARNING
    default_enabled: ClassVar[bool] = True
    # Unstable: enabled only in preview mode (`--preview`, `preview = true`), as in ruff.
    preview: ClassVar[bool] = False
    fixable: ClassVar[bool] = False  # True when some of its findings carry a fix
    # The applicability of its fixes when fixable: all safe, all unsafe, or some of each.
    fix_safety: ClassVar[FixSafety | None] = None
    # A file is parsed for this rule only if its bytes contain one of these.
    triggers: ClassVar[tuple[bytes, ...]] = (b"fastapi",)
    options: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.settings = {option.name: option.default for option in self.options}
        known = {option.name: option for option in self.options}
        for key, value in (settings or {}).items():
            if key not in known:
                raise OptionError(f"unknown option `{key}` for rule {self.code}")
            self.settings[key] = known[key].parse(value)

    def check(self, model: FileModel) -> Iterable[Finding]:
        raise NotImplementedError

    def screen(self, facts: Facts) -> bool:
        """Whether the rule could report in a file with these facts (see the class
        docstring); True when unsure."""
        return True

    def prepare(self, index: ProjectIndex) -> None:
        """Work on the whole project that the rule's checks share (an analysis the index
        keeps once made), done once before the engine's workers fork: each would otherwise
        make it on its own. The default does nothing."""

    def finding(
        self,
        node: cst.CSTNode,
        message: str,
        severity: Severity | None = None,
        *,
        fix: Fix | None = None,
        related: tuple[Related, ...] = (),
    ) -> Finding:
        return Finding(node, message, severity or self.severity, fix, related)

    @classmethod
    def documentation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        return cls.documentation().splitlines()[0] if cls.__doc__ else ""

    @classmethod
    def url(cls) -> str:
        return DOCS_URL.format(code=cls.code)


def triggered(rules: Iterable[Rule], data: bytes) -> bool:
    """The byte-level prefilter: whether `data` contains a trigger of any of `rules`."""
    return any(trigger in data for rule in rules for trigger in rule.triggers)


def boolean(value: Any) -> bool:
    """Option parser for true or false."""
    if not isinstance(value, bool):
        raise OptionError("expected true or false")
    return value


def string_list(value: Any, *, choices: Iterable[str] | None = None, upper: bool = False) -> tuple:
    """Option parser for a list of strings, optionally restricted to `choices`."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise OptionError("expected a list of strings")
    items = tuple(item.upper() if upper else item for item in value)
    allowed = set(choices) if choices is not None else None
    for item in items:
        if allowed is not None and item not in allowed:
            raise OptionError(f"`{item}` is not one of {', '.join(sorted(allowed))}")
    return items

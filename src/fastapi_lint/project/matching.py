"""Starlette's path matching, decided statically: does one route's path match every request
path another route's path matches?

Starlette compiles a route path into a regular expression: a parameter `{name}` (or
`{name:str}`) matches one or more characters but no `/`, `{name:int}` digits, `{name:float}`
digits with an optional fraction, `{name:uuid}` a UUID, and `{name:path}` anything at all,
slashes included, and the empty string too. A mount at `/static` matches `/static/` followed
by anything. Everything else in the path must match literally.

Only paths made of whole segments are understood: each segment is literal text or a single
parameter, a `path` parameter only as the last segment. Anything else (a parameter inside a
segment such as `/files/{name}.txt`, a custom convertor, a part the index could not resolve)
gives None, and the callers then report nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Starlette's `PARAM_REGEX`, anchored to a whole segment.
_PARAMETER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-zA-Z_][a-zA-Z0-9_]*))?\}")
# Starlette's convertor regexes (`starlette.convertors`), for literal segments.
_LITERAL_MATCHES = {
    "str": re.compile(r"[^/]+"),
    "int": re.compile(r"[0-9]+"),
    "float": re.compile(r"[0-9]+(\.[0-9]+)?"),
    "uuid": re.compile(
        r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
    ),
}
# Which parameters' values a parameter of each convertor accepts: every `int` is a `float`,
# and every one-segment value is a `str`.
_ACCEPTS = {
    "str": frozenset({"str", "int", "float", "uuid"}),
    "int": frozenset({"int"}),
    "float": frozenset({"int", "float"}),
    "uuid": frozenset({"uuid"}),
}
PATH = "path"


@dataclass(frozen=True)
class Segment:
    """Literal text, or a parameter with its convertor (`str` when none is given). The
    parameter's name is not kept: two paths with equal segments match the same requests
    (`/items/{id}` and `/items/{item_id:str}`)."""

    literal: str | None
    convertor: str = ""

    @property
    def is_parameter(self) -> bool:
        return self.literal is None


Pattern = tuple[Segment, ...]


@lru_cache(maxsize=8192)
def parse_path(path: str) -> Pattern | None:
    """The segments of a route path, or None when it is not one this module understands."""
    if not path.startswith("/"):
        return None
    segments = []
    parts = path[1:].split("/")
    for position, part in enumerate(parts):
        segment = _segment(part)
        if segment is None:
            return None
        if segment.convertor == PATH and position != len(parts) - 1:
            return None
        segments.append(segment)
    return tuple(segments)


def mount_pattern(path: str) -> Pattern | None:
    """What a mount at `path` matches: the path, a slash, then anything (Starlette's
    `Mount` compiles `path.rstrip("/") + "/{path:path}"`)."""
    if path and not path.startswith("/"):
        return None
    return parse_path(path.rstrip("/") + "/{path:path}")


def _segment(part: str) -> Segment | None:
    if "{" not in part and "}" not in part:
        return Segment(part)
    match = _PARAMETER.fullmatch(part)
    if match is None:
        return None
    convertor = match.group(2) or "str"
    if convertor != PATH and convertor not in _ACCEPTS:
        return None  # a custom convertor: its regex is unknown
    return Segment(None, convertor)


def covers(earlier: Pattern, later: Pattern) -> bool:
    """Whether every path `later` matches is matched by `earlier`."""
    if earlier and earlier[-1].convertor == PATH:
        fixed = len(earlier) - 1
        if len(later) <= fixed:
            return False  # a shorter path, which `earlier` needs one more segment for
        head = later[:fixed]
        if any(segment.convertor == PATH for segment in head):
            return False
        return all(
            _segment_covers(mine, theirs)
            for mine, theirs in zip(earlier[:fixed], head, strict=True)
        )
    if len(earlier) != len(later) or (later and later[-1].convertor == PATH):
        return False
    return all(_segment_covers(mine, theirs) for mine, theirs in zip(earlier, later, strict=True))


def _segment_covers(earlier: Segment, later: Segment) -> bool:
    if earlier.literal is not None:
        return later.literal == earlier.literal
    if later.literal is not None:
        return _LITERAL_MATCHES[earlier.convertor].fullmatch(later.literal) is not None
    return later.convertor in _ACCEPTS[earlier.convertor]


def describe(pattern: Pattern) -> str:
    """The pattern as a path, parameters named `{}` (for messages and tests)."""
    parts = []
    for segment in pattern:
        if segment.literal is not None:
            parts.append(segment.literal)
        elif segment.convertor == "str":
            parts.append("{}")
        else:
            parts.append(f"{{:{segment.convertor}}}")
    return "/" + "/".join(parts)

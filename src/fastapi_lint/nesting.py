"""A guard LibCST needs: brackets nested deeper than CPython allows.

CPython refuses more than 200 nested brackets; LibCST's native parser accepts them but
overflows its stack at a few thousand, which kills the process instead of raising. So no
source is handed to LibCST before this check.
"""

from __future__ import annotations

_MAX_BRACKET_DEPTH = 200
_OPENING = b"([{"
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"()[]{}")


def nested_too_deeply(data: bytes) -> bool:
    """Brackets nested deeper than CPython allows (brackets in strings and comments count too)."""
    depth = 0
    for byte in data.translate(None, _NOT_BRACKETS):
        if byte in _OPENING:
            depth += 1
            if depth > _MAX_BRACKET_DEPTH:
                return True
        elif depth:
            depth -= 1
    return False

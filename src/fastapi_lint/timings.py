"""Where the time of a run goes (`--timings`): seconds per phase and per rule, summed over
files, and over worker processes."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

# The engine's phases, in the order a file goes through them; rules are timed by code.
PHASES = ("read", "parse", "model", "positions", "suppression", "fixes")
READ, PARSE, MODEL, POSITIONS, SUPPRESSION, FIXES = PHASES
CACHE = "cache"  # looking results up and storing them (in the main process)
INDEX = "index"  # building the project index (in the main process)
SCREEN = "screen"  # the parse screen (in the main process)


@dataclass
class Timings:
    seconds: Counter[str] = field(default_factory=Counter)  # phase or rule code -> seconds
    files_parsed: int = 0

    def phase(self, name: str) -> _Phase:
        """`with timings.phase("parse"): ...` adds the block's duration to `name`."""
        return _Phase(self.seconds, name)

    def add(self, other: Timings) -> None:
        self.seconds.update(other.seconds)
        self.files_parsed += other.files_parsed

    def take(self) -> Timings:
        """The timings so far, leaving these empty (a worker sends them with each chunk)."""
        taken = Timings(self.seconds, self.files_parsed)
        self.seconds, self.files_parsed = Counter(), 0
        return taken


class _Phase:
    __slots__ = ("_name", "_seconds", "_start")

    def __init__(self, seconds: Counter[str], name: str) -> None:
        self._seconds, self._name = seconds, name

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._seconds[self._name] += time.perf_counter() - self._start


def render_timings(
    timings: Timings,
    rules: Sequence[tuple[str, str]],
    *,
    files: int,
    prefiltered: int,
    cache_hits: int,
    workers: int,
    seconds: float,
    screened: int = 0,
) -> str:
    """The `--timings` table: one line per phase, then per rule (`rules`: code and name of
    each enabled rule, all listed), summed over files and processes; and the wall time."""
    checked = files - prefiltered - cache_hits - screened
    processes = "this process" if workers <= 1 else f"{workers} worker processes"
    lines = [
        f"Timings: {files} files in {seconds:.3f} s wall: {prefiltered} skipped by the prefilter,"
        f" {cache_hits} answered by the cache, {screened} by the parse screen,"
        f" {checked} checked in {processes}"
        f" ({timings.files_parsed} parses). Seconds, summed over files and processes:",
    ]
    rows = [(phase, "") for phase in (INDEX, READ, CACHE, SCREEN, PARSE, MODEL)]
    rows += [(code, name) for code, name in rules]
    rows += [(phase, "") for phase in (POSITIONS, SUPPRESSION, FIXES)]
    width = max(len(label) for label, _ in rows)
    total = sum(timings.seconds.values())
    for label, name in rows:
        spent = timings.seconds.get(label, 0.0)
        share = f"{100 * spent / total:5.1f}%" if total else "  0.0%"
        lines.append(f"  {label:<{width}}  {spent:9.3f}  {share}  {name}".rstrip())
    lines.append(f"  {'total':<{width}}  {total:9.3f}")
    return "\n".join(lines) + "\n"

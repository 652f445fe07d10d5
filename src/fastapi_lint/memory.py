"""Keeping a run's memory down: the garbage collector paused where it only costs time,
memory the C allocator keeps after a large parse handed back to the system, and the work of
a pool of processes shared out so that the biggest files are not parsed all at once.

The project index unpacks module summaries (plain lists, dicts and strings) by the hundred
thousand objects. Each batch of new objects triggers a collection, and once millions of
objects are alive a full collection takes about 0.1 s to find nothing: on the whole pinned
corpus, collections took 4 of the 5 seconds spent reading summaries back. Reference counting
still frees everything as usual; only cycles wait for the collector to be back on. What a
paused block made is still in the youngest generation when it ends, and the first collection
would scan it all: a run freezes it instead (`collector_paused(freeze=True)`), and each file a
worker checks gets one collection of the youngest generation afterwards (`check_collected`).

LibCST's native parser allocates its tokens and its own tree with the C allocator. glibc
keeps what it frees for later, so after a large file each worker held some 30 MiB it no
longer used: on the whole corpus, the sum over the processes (PSS) was 330 MiB instead of
under 300.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TypeVar

_T = TypeVar("_T")

# Files at least this large leave enough freed memory behind to be worth handing back.
LARGE_FILE = 32 * 1024


@contextmanager
def collector_paused(*, freeze: bool = False) -> Iterator[None]:
    """The collector off inside the block (if it was on). With `freeze`, what is alive when
    the block ends is frozen (`gc.freeze`) before the collector is back on: every object made
    in the block is still in the youngest generation, and the first collection would scan
    them all to find nothing (0.1 s on lnbits, once its index is built). Whoever freezes
    unfreezes (`gc.unfreeze`) once those objects may be garbage."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
        if freeze:
            gc.freeze()
    finally:
        gc.enable()


def check_collected(check: Callable[[], _T]) -> _T:
    """`check()`, the check of one file, with the collector paused, then the youngest
    generation collected. Checking makes few cycles (the file model's, which it breaks), and
    a collector left on scans the LibCST tree over and over as it grows: about a tenth of
    a worker's time on lnbits. Paused, every object the check made is still young, so one
    collection of the youngest generation afterwards finds whatever cycles it left."""
    with collector_paused():
        result = check()
    gc.collect(0)
    return result


def release_freed_memory() -> None:
    """Hand the memory the C allocator keeps free back to the system (glibc only)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        import ctypes

        return getattr(ctypes.CDLL(None), "malloc_trim", None)  # the process's own symbols
    except (ImportError, OSError):
        return None


def biggest_first_chunks(
    items: Iterable[_T], count: int, size: Callable[[_T], int]
) -> list[list[_T]]:
    """About `count` chunks of about equal `size` (a file's bytes), the biggest items first:
    the biggest files (a tree takes a hundred (`ast`) to five hundred (LibCST) times its
    file's size) go one after the other to one worker, not at the same time to all of them,
    and the last chunks, small, let the workers finish together."""
    ordered = sorted(items, key=lambda item: -size(item))
    budget = max(sum(size(item) for item in ordered) // count, 1)
    chunks: list[list[_T]] = []
    current: list[_T] = []
    filled = 0
    for item in ordered:
        current.append(item)
        filled += size(item)
        if filled >= budget:
            chunks.append(current)
            current, filled = [], 0
    if current:
        chunks.append(current)
    return chunks

"""CPU-heavy request work off the event loop, on a small pool of its own.

Tokenizing megabytes, generating schema values, rendering thousands of completion choices, hashing and
concatenating upload parts: each runs in `HEAVY_WORKERS` threads so the event loop keeps answering other
clients, and a burst of heavy requests queues here instead of taking every thread of the loop's default
executor (which database and file work share). tiktoken and file I/O release the GIL; pure-Python work
shares it with the loop in 5 ms slices.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["run_heavy", "HEAVY_WORKERS", "sliced"]

HEAVY_WORKERS = 2
_pool = ThreadPoolExecutor(max_workers=HEAVY_WORKERS, thread_name_prefix="mockserver-heavy")
T = TypeVar("T")


async def run_heavy(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` on the heavy-work pool; the caller's event loop stays free meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(_pool, functools.partial(fn, *args, **kwargs))


SLICE_CHARS = 64 * 1024
_CUT = re.compile(r"(?<=[A-Za-z0-9]) (?=[A-Za-z])")   # " word" after a letter or digit: a pre-token boundary


def sliced(count: Callable[[str], int]) -> Callable[[str], int]:
    """`count`, with texts longer than SLICE_CHARS counted slice by slice, so a thread counting megabytes
    hands the GIL back to the event loop between slices (the exact counters hold it for a whole call).

    Slices end before a space that follows an ASCII letter or digit and precedes an ASCII letter: every
    tokenizer the emulator uses (cl100k_base, o200k_base, …) starts a pre-token there (" word") and merges
    only within pre-tokens, so the sum is exact (tests/unit/test_offload.py checks it). A text with no
    such place near a slice end is counted in one piece."""
    def counted(text: str) -> int:
        if len(text) <= SLICE_CHARS:
            return count(text)
        total, start = 0, 0
        while len(text) - start > SLICE_CHARS:
            m = _CUT.search(text, start + SLICE_CHARS, start + 2 * SLICE_CHARS)
            if m is None:
                break
            total += count(text[start:m.start()])
            start = m.start()
        return total + count(text[start:])
    return counted

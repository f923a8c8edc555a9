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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["run_heavy", "HEAVY_WORKERS"]

HEAVY_WORKERS = 2
_pool = ThreadPoolExecutor(max_workers=HEAVY_WORKERS, thread_name_prefix="mockserver-heavy")
T = TypeVar("T")


async def run_heavy(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` on the heavy-work pool; the caller's event loop stays free meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(_pool, functools.partial(fn, *args, **kwargs))

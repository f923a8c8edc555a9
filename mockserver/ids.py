"""Object ids shaped like the real ones: unpredictable by default, reproducible with a seed."""

from __future__ import annotations

import random
import secrets
import string
import threading

__all__ = ["IdFactory", "PREFIXES"]

_ALNUM = string.ascii_letters + string.digits

# kind → (prefix, number of random characters)
PREFIXES: dict[str, tuple[str, int]] = {
    "file": ("file-", 24),
    "job": ("ftjob-", 24),
    "event": ("ftevent-", 24),
    "checkpoint": ("ftckpt_", 24),
    "chat": ("chatcmpl-", 29),
    "completion": ("cmpl-", 29),
    "upload": ("upload_", 24),
    "part": ("part_", 24),
    "call": ("call_", 24),
    "model": ("", 8),
    "request": ("req_", 32),
    "fixture": ("fx_", 16),
}


class IdFactory:
    """`new("file")` → `file-…`; with a seed the sequence per kind is reproducible."""

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self._streams: dict[str, random.Random] = {}
        self._lock = threading.Lock()

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._seed = seed
            self._streams.clear()

    def new(self, kind: str) -> str:
        prefix, n = PREFIXES[kind]
        return prefix + self.chars(kind, n)

    def chars(self, kind: str, n: int, alphabet: str = _ALNUM) -> str:
        if self._seed is None:
            return _random_chars(n, alphabet)
        with self._lock:
            rng = self._streams.get(kind)
            if rng is None:
                rng = self._streams[kind] = random.Random(f"{self._seed}:{kind}")
            return "".join(rng.choice(alphabet) for _ in range(n))

    def request_id(self) -> str:
        return "req_" + secrets.token_hex(16)


def _random_chars(n: int, alphabet: str) -> str:
    """n characters drawn uniformly from `alphabet` with one call to the OS generator (rejection sampling)."""
    size = len(alphabet)
    limit = 256 - 256 % size
    out: list[str] = []
    while len(out) < n:
        out.extend(alphabet[b % size] for b in secrets.token_bytes(n + n // 2 + 4) if b < limit)
    return "".join(out[:n])

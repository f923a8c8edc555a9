"""Object ids shaped like the real ones: unpredictable by default, reproducible with a seed."""

from __future__ import annotations

import functools
import os
import random
import secrets
import string
import threading
from collections.abc import Callable

__all__ = ["IdFactory", "IdTape", "PREFIXES", "base62"]

_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# kind → (prefix, number of random characters[, alphabet: alphanumeric unless given])
PREFIXES: dict[str, tuple] = {
    "file": ("file-", 24), "job": ("ftjob-", 24), "event": ("ftevent-", 24), "checkpoint": ("ftckpt_", 24),
    "chat": ("chatcmpl-", 29), "completion": ("cmpl-", 29), "upload": ("upload_", 24), "part": ("part_", 24),
    "call": ("call_", 24), "model": ("", 8), "request": ("req_", 32), "fixture": ("fx_", 16),
    "response": ("resp_", 48, _HEX), "message": ("msg_", 48, _HEX), "function_call": ("fc_", 48, _HEX),
    "batch": ("batch_", 32, _HEX), "batch_request": ("batch_req_", 32, _HEX),
}


class IdFactory:
    """`new("file")` → `file-…`; with a seed the sequence per kind is reproducible.

    A seeded sequence repeats itself after a restart with the same seed, a second `/_mock/seed`, or in
    another process with the same seed; `taken(kind, value)` (the stored ids) lets it skip what is
    already in use, so from a fresh state the ids are exactly the seed's and never collide after.
    """

    def __init__(self, seed: int | None = None, *, taken: Callable[[str, str], bool] | None = None) -> None:
        self._seed = seed
        self._streams: dict[str, random.Random] = {}
        self._lock = threading.Lock()
        self._taken = taken

    @property
    def seed(self) -> int | None:
        return self._seed

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._seed = seed
            self._streams.clear()

    def new(self, kind: str) -> str:
        prefix, n, *alphabet = PREFIXES[kind]
        chars = alphabet[0] if alphabet else _ALNUM
        if self._seed is None:   # unseeded: _unique would take the first draw (a chat id per request)
            return prefix + _random_chars(n, chars)
        return self._unique(kind, lambda: prefix + self._chars(kind, n, chars))

    def chars(self, kind: str, n: int, alphabet: str = _ALNUM) -> str:
        return self._unique(kind, lambda: self._chars(kind, n, alphabet))

    def _unique(self, kind: str, draw: Callable[[], str]) -> str:
        value = draw()
        while self._seed is not None and self._taken is not None and self._taken(kind, value):
            value = draw()
        return value

    def _chars(self, kind: str, n: int, alphabet: str) -> str:
        if self._seed is None:
            return _random_chars(n, alphabet)
        with self._lock:
            rng = self._streams.get(kind)
            if rng is None:
                rng = self._streams[kind] = random.Random(f"{self._seed}:{kind}")
            return "".join(rng.choice(alphabet) for _ in range(n))

    def request_id(self) -> str:
        return "req_" + _random_bytes(16).hex()   # from the pool: no system call per request


class IdTape:
    """An IdFactory's draws, kept: after `rewind()` the same calls give the same ids again, so a write that is tried
    once more (deps.write_on_loop: on the event loop, then on a worker thread) takes from a seeded stream only what
    one try takes. A call other than the one recorded at its place ends the recording there (drawn anew)."""

    def __init__(self, ids: IdFactory) -> None:
        self._ids = ids
        self._drawn: list[tuple[tuple, str]] = []
        self._at = 0

    @property
    def seed(self) -> int | None:
        return self._ids.seed

    def rewind(self) -> None:
        self._at = 0

    def new(self, kind: str) -> str:
        return self._draw(("new", kind), self._ids.new, kind)

    def chars(self, kind: str, n: int, alphabet: str = _ALNUM) -> str:
        return self._draw(("chars", kind, n, alphabet), self._ids.chars, kind, n, alphabet)

    def _draw(self, call: tuple, draw: Callable[..., str], *args: object) -> str:
        if self._at < len(self._drawn):
            recorded, value = self._drawn[self._at]
            if recorded == call:
                self._at += 1
                return value
            del self._drawn[self._at:]
        value = draw(*args)
        self._drawn.append((call, value))
        self._at += 1
        return value

    def __getattr__(self, name: str) -> object:
        return getattr(self._ids, name)


_pool = bytearray()
_pool_lock = threading.Lock()
os.register_at_fork(after_in_child=_pool.clear)  # a forked child must never replay the parent's bytes


def _random_bytes(n: int) -> bytes:
    """n bytes from the OS generator, drawn 4 KiB at a time (one system call serves many ids)."""
    with _pool_lock:
        if len(_pool) < n:
            _pool.extend(secrets.token_bytes(max(4096, n)))
        out = bytes(_pool[:n])
        del _pool[:n]
    return out


def _random_chars(n: int, alphabet: str) -> str:
    """n characters drawn uniformly from `alphabet` (rejection sampling over OS randomness: bytes at or above
    the largest multiple of its size are dropped, the others map to alphabet[b % size])."""
    table, drop = _table(alphabet)
    out = b""
    while len(out) < n:
        out += _random_bytes(n + n // 2 + 4).translate(table, drop)
    return out[:n].decode("ascii")


@functools.lru_cache(maxsize=16)
def _table(alphabet: str) -> tuple[bytes, bytes]:
    """bytes.translate's table and deletions for an ASCII alphabet (see _random_chars)."""
    size = len(alphabet)
    limit = 256 - 256 % size
    table = bytes(ord(alphabet[b % size]) if b < limit else 0 for b in range(256))
    return table, bytes(range(limit, 256))


def base62(digest: bytes, n: int) -> str:
    """`n` base-62 digits of `digest` read as a big-endian number, least significant first (derived ids)."""
    num = int.from_bytes(digest, "big")
    out = []
    for _ in range(n):
        num, r = divmod(num, 62)
        out.append(_B62[r])
    return "".join(out)

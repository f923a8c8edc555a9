"""Offline tiktoken encodings and chat counting.

The encodings are tiktoken's own, loaded by plain `tiktoken.get_encoding` from tiktoken's documented cache
(`TIKTOKEN_CACHE_DIR`), which `contracts.tiktoken_cache` fills offline with hash-verified files: nothing
about tiktoken is patched and no network is touched. Token *counts* of the encodings quicktok ships come
from quicktok's exact counter (`counter`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from contracts import tiktoken_cache
from contracts.catalog import encoding_for
from contracts.tiktoken_cache import ENCODINGS, OfflineEncodingError

if TYPE_CHECKING:   # imported on first use (~0.1 s): a server that counts no tokens never pays for it
    import tiktoken

__all__ = ["get_encoding", "encoding_for_model", "counter", "count_text", "count_chat", "count_messages_recipe",
           "OfflineEncodingError", "ENCODINGS", "EXACT_COUNTERS", "IMAGE_TOKENS", "Count"]

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


def get_encoding(name: str) -> tiktoken.Encoding:
    """A tiktoken Encoding by name, loaded offline once per process."""
    enc = _cache.get(name)
    if enc is not None:
        return enc
    if name not in ENCODINGS:
        raise ValueError(f"unsupported encoding {name!r}; offline: {', '.join(ENCODINGS)}")
    with _lock:
        if name not in _cache:
            import tiktoken

            tiktoken_cache.ensure((name,))
            _cache[name] = tiktoken.get_encoding(name)
        return _cache[name]


def encoding_for_model(model: str) -> tiktoken.Encoding:
    """Encoding of any model name, `ft:` and checkpoint names included."""
    return get_encoding(encoding_for(model))


def counter(name: str) -> Count:
    """The fastest exact token counter of encoding `name`: text → number of tokens, special-token text
    counted as ordinary text (as `encode_ordinary` and the API do). Strings of at most MEMO_CHARS characters
    are memoised per encoding (roles, names and system prompts repeat across examples and requests; a count
    is a function of the string alone, so this is exact), at most MEMO_ENTRIES of them (then it starts over)."""
    count = _counters.get(name)
    if count is None:
        if name in EXACT_COUNTERS:
            import quicktok

            count = _memoised(quicktok.get_encoding(_QUICKTOK_NAMES[name]).count)
        else:
            encode = get_encoding(name).encode_ordinary
            count = _memoised(lambda text: len(encode(text)))
        count = _counters.setdefault(name, count)
    return count


MEMO_CHARS = 64
MEMO_ENTRIES = 16_384


def _memoised(fast: Count) -> Count:
    """`fast` memoised for short strings; lone surrogates (which quicktok refuses) counted as U+FFFD, as
    tiktoken counts them."""
    memo: dict[str, int] = {}
    get = memo.get

    def count(text: str) -> int:
        if len(text) > MEMO_CHARS:
            try:
                return fast(text)
            except TypeError:
                return _replaced(fast, text)
        n = get(text)
        if n is None:
            try:
                n = fast(text)
            except TypeError:
                n = _replaced(fast, text)
            if len(memo) >= MEMO_ENTRIES:
                memo.clear()
            memo[text] = n
        return n

    return count


def _replaced(fast: Count, text: str) -> int:
    if not isinstance(text, str):
        raise TypeError(f"a token count needs a string, not {type(text).__name__}")
    return fast(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))


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

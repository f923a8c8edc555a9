"""The token counter is exact: `tokens.counter(name)` equals tiktoken's `len(encode_ordinary(text))` (the oracle).

Per encoding: random Unicode from every script and category (lone surrogates included), emoji and ZWJ
sequences, whitespace runs, digit runs, contractions and special-token look-alikes, mixed; then every string
of the bench corpus (bench/data.py: its first 1,000 EN/JA examples in `make test`, all 20,000 in the long
tier). An encoding is only counted by quicktok when it is in `tokens.EXACT_COUNTERS`; an encoding without an
offline vocabulary (r50k_base, p50k_base: neither tiktoken nor quicktok can load them without the network)
cannot be proven and must not be in it.
"""

from __future__ import annotations

import hypothesis.strategies as st
import orjson
import pytest
from hypothesis import given

from bench import data
from contracts import tokens
from tests.conftest import tier

ALL = ("cl100k_base", "o200k_base", "r50k_base", "p50k_base")
OFFLINE = [pytest.param(n, marks=pytest.mark.skipif(n not in tokens.ENCODINGS, reason=f"no offline {n} vocabulary"))
           for n in ALL]

SPECIAL_LOOKALIKES = ["<|endoftext|>", "<|endofprompt|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
                      "<|im_start|>", "<|im_end|>", "<|endoftext", "endoftext|>", "<|", "|>", "< |endoftext| >",
                      "<|ENDOFTEXT|>", "<<|endoftext|>>", "<|endoftext|><|endoftext|>"]
WHITESPACE = st.lists(st.sampled_from([" ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u3000", "\u2028", "\u200b", "\x0b",
                                      "\x0c"]), min_size=1, max_size=40).map("".join)
EMOJI = st.sampled_from(["🐷", "🐽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "👍🏽", "🇯🇵", "❤️", "🫠", "1️⃣", "🧑🏿‍🚀", "😀" * 7])
WORDS = st.sampled_from(["Hello", " world", "don't", "I'LL", "they're", "'s", "ぶひ", "体重何キロ?", "Привет", "مرحبا",
                         "שלום", "नमस्ते", "สวัสดี", "안녕하세요", "Γειά", "ሰላም", "ᚠᚢᚦ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "12345678901",
                         "３．１４", "x²+y²", "e\u0301", "ﬁ", "\u202eRTL", "tab\tbed", "CamelCaseWord", "snake_case",
                         "   leading", "trailing   ", "!!!???...", "http://example.com/a?b=c", "{\"k\": [1, 2]}"])
ANY_CHAR = st.characters(codec=None, categories=None)  # every code point, surrogates included
PIECE = (st.text(ANY_CHAR, max_size=30) | WHITESPACE | EMOJI | WORDS | st.sampled_from(SPECIAL_LOOKALIKES)
         | st.from_regex(r"[0-9]{1,20}", fullmatch=True))
TEXT = st.lists(PIECE, max_size=12).map("".join)


def _oracle(name: str):
    encode = tokens.get_encoding(name).encode_ordinary
    return lambda text: len(encode(text))


def test_only_proven_encodings_use_the_fast_counter():
    assert set(tokens.EXACT_COUNTERS) <= set(tokens.ENCODINGS)
    for name in ALL:
        if name not in tokens.ENCODINGS:
            assert name not in tokens.EXACT_COUNTERS


@pytest.mark.parametrize("name", OFFLINE)
@given(text=TEXT)
def test_counter_equals_tiktoken_on_random_unicode(name, text):
    assert tokens.counter(name)(text) == _oracle(name)(text)


@pytest.mark.parametrize("name", OFFLINE)
@pytest.mark.parametrize("text", ["", " ", "\ud800", "a\udfffb", "\ud83d\ude00", " " * 10_000, "🐷" * 5000,
                                  "".join(SPECIAL_LOOKALIKES), "a" * 100_000, "ぶ" * 50_000])
def test_counter_equals_tiktoken_on_edges(name, text):
    assert tokens.counter(name)(text) == _oracle(name)(text)


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return [v for line in data.lines(tier(1_000, 20_000)) for m in orjson.loads(line)["messages"] for v in m.values()
            if isinstance(v, str)]


@pytest.mark.parametrize("name", OFFLINE)
def test_counter_equals_tiktoken_on_the_bench_corpus(name, corpus):
    count, oracle = tokens.counter(name), _oracle(name)
    assert [count(t) for t in corpus] == [oracle(t) for t in corpus]


@pytest.mark.parametrize("name", OFFLINE)
def test_memoised_short_strings_stay_exact_when_the_memo_starts_over(name, monkeypatch):
    monkeypatch.setattr(tokens, "MEMO_ENTRIES", 8)
    texts = [f"{i} <|endoftext|> ぶひ" for i in range(40)] + ["user", "assistant", "\ud800x", "x" * 64, "x" * 65]
    oracle = _oracle(name)
    for _ in range(2):   # the second pass reads what the first stored (or stored again after a reset)
        assert [tokens.counter(name)(t) for t in texts] == [oracle(t) for t in texts]

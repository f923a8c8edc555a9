"""mockserver.offload.sliced: counting a long text slice by slice gives exactly the whole-text count."""

from __future__ import annotations

import random

import pytest

from contracts import tokens
from mockserver.offload import SLICE_CHARS, sliced

WORDS = ["the", "The", "don't", "naïve", "東京", "x1", "42", "1234567", "  ", "\n", "foo_bar", "!!", "über", "ABC",
         "aBc", "'s", "https://example.com/a?b=c", "\t", "ümlaut", "ok.", "(x)", "--", "é", "O'Neil", "I'm"]


def _text(seed: int, n_chars: int) -> str:
    rng = random.Random(seed)
    out, size = [], 0
    while size < n_chars:
        w = rng.choice(WORDS)
        sep = rng.choice([" ", " ", " ", "", "\n", "  "])
        out.append(w + sep)
        size += len(w) + len(sep)
    return "".join(out)


@pytest.mark.parametrize("encoding", ["cl100k_base", "o200k_base"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sliced_count_is_exact(encoding: str, seed: int) -> None:
    count = tokens.counter(encoding)
    text = _text(seed, 5 * SLICE_CHARS + 123)
    assert sliced(count)(text) == count(text)


def test_text_without_cut_points_is_counted_whole() -> None:
    calls: list[int] = []

    def count(text: str) -> int:
        calls.append(len(text))
        return len(text)

    assert sliced(count)("x" * (3 * SLICE_CHARS)) == 3 * SLICE_CHARS
    assert calls == [3 * SLICE_CHARS]

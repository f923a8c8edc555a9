"""The chat hot path's faster rewrites answer exactly what the code they replaced answered (kept here as the
oracle): language detection of Latin-script text."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import given

from mockserver.chat import language

_COMMON = sorted(set().union(*language.COMMON_WORDS.values()))
WORD = st.sampled_from(_COMMON) | st.sampled_from([w.upper() for w in _COMMON]) | st.sampled_from(
    ["Qué", "ÉTÉ", "straße", "STRASSE", "İs", "don't", "x2y", "snake_case", "ǅa", "Ωmega", "naïve", "ﬁ"])
SEP = st.sampled_from([" ", "  ", ", ", ". ", "\n", "-", "'", "_", "3", "¿", "!", "\u00a0"])
TEXT = st.lists(st.tuples(WORD | st.text(max_size=6), SEP), max_size=30).map(
    lambda parts: "".join(w + s for w, s in parts))


def _latin_language_before(text: str) -> str:
    """mockserver.chat.language._latin_language before the ASCII fast path (main 79574e3)."""
    scores = dict.fromkeys(language.COMMON_WORDS, 0)
    for w in language._WORDS.findall(text[:2000]):
        for lang in language._WORD_LANGS.get(w.casefold(), ()):
            scores[lang] += 1
    best = max(scores, key=lambda lang: (scores[lang], lang == "en"))
    return best if scores[best] else "en"


@given(TEXT)
def test_latin_language_as_before(text):
    assert language._latin_language(text) == _latin_language_before(text)


@given(st.lists(WORD, max_size=12).map(" ".join))
def test_latin_language_as_before_on_common_words(text):
    assert language._latin_language(text) == _latin_language_before(text)
    assert language._latin_language(text * 300) == _latin_language_before(text * 300)   # past the 2,000 cut

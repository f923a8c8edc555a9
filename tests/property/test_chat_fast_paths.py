"""The chat hot path's faster rewrites answer exactly what the code they replaced answered (kept here as the
oracle): language detection of Latin-script text, a base model's reply (its whitespace folding)."""

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


def _base_reply_before(question: str, h: int) -> str:
    """mockserver.chat.language.base_reply before the whitespace fast path (main 79574e3)."""
    q = language._SPACES.sub(" ", question).strip()
    lang = language.detect(q)
    if not q:
        options = language.GREETINGS.get(lang, language.GREETINGS["en"])
        return options[h % len(options)]
    if len(q) > language.SNIPPET_CHARS:
        q = q[:language.SNIPPET_CHARS].rstrip() + "…"
    options = language.REPLIES.get(lang, language.REPLIES["en"])
    return options[h % len(options)].format(q=q)


SPACES = st.sampled_from([" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2028", "\x1c", "\x85", "\u200b",
                          "\u202f", "\x0b"])


@given(st.lists(WORD | SPACES | st.text(max_size=8), max_size=20).map("".join), st.integers(0, 2**64))
def test_base_reply_as_before(question, h):
    assert language.base_reply(question, h) == _base_reply_before(question, h)

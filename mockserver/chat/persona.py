"""How a tuned model talks when its data has no answer: a style profile of the data and replies composed from it.

`build_profile` reads a built AnswerIndex once (off the event loop, with the index) and keeps:
- `lang`: the language of the trained answers (mockserver.chat.language.detect over a sample);
- `lengths`: the answers' lengths in characters, sorted (a reply's target length is one of them);
- `ending` / `opening`: the longest suffix / prefix (2–12 characters, not only punctuation or spaces) that at
  least RECURRING of the answers share — the pig's "ぶひ!", a completion's " END";
- `labels`: for classifier-like data (at least CLASSIFIER_SHARE of the answers are one short line with no
  sentence punctuation — "person-lifting-weights", "positive"), the labels by frequency;
- `sentences`: the answers cut into sentences (at most MAX_SENTENCES, STYLE_CHARS characters, first ones
  in file order), joined back without spaces for ja/zh/th and with one elsewhere.

`compose` writes an out-of-data reply, deterministic for the integer seed it is given: a classifier answers
with the label of the nearest example (k-NN, k = 1, when any example shares a weighted n-gram), else a
label drawn by frequency. Any other model recombines sentences of its own answers — the first from the
answers of the closest examples, when any example shares a weighted n-gram — up to about the length of a
trained answer drawn by the seed, then puts on the recurring opening and ending: the pig says
"はい!ポークぶひ!" to a question it was never trained on. A reply that happens to equal a trained answer
gets one more sentence.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field

from mockserver.chat import language

__all__ = ["Profile", "build_profile", "compose", "RECURRING", "CLASSIFIER_SHARE", "STYLE_CHARS", "MAX_SENTENCES"]

RECURRING = 0.5
CLASSIFIER_SHARE = 0.9
LABEL_CHARS = 48
STYLE_CHARS = 200_000
RETRIES = 4
MAX_SENTENCES = 5_000
MAX_PIECES = 6
_SENTENCE_PUNCT = re.compile(r"[。.!?!?]")
_SENTENCE = re.compile(r"(?:[^。.!?!?\n]|\.(?=\S))*(?:[。.!?!?]+|\n|$)")
_AFFIX_STRIP = " \t\n。.!?!?、,"


@dataclass
class Profile:
    """The style of a model's trained answers (see the module docstring)."""

    lang: str = "en"
    lengths: tuple[int, ...] = ()
    ending: str = ""
    opening: str = ""
    labels: tuple[str, ...] = ()
    label_weights: tuple[int, ...] = ()
    sentences: tuple[str, ...] = ()
    joiner: str = " "
    trained: frozenset[int] = frozenset()    # hashes of the trained answers (to avoid repeating one)
    # `_sentences` of the related answers `compose` was given (answers of this model's data), kept while their
    # pieces total at most STYLE_CHARS characters: cutting three answers is most of a composed reply's cost
    split: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)
    split_chars: int = field(default=0, compare=False, repr=False)


def _sentences(text: str) -> list[str]:
    """A text cut after each sentence end (。.!?!? and line breaks), pieces trimmed, empty ones dropped."""
    return [p.strip() for p in _SENTENCE.findall(text) if p.strip()]


def _affix(texts: list[str], suffix: bool) -> str:
    """The longest prefix/suffix of 2–12 characters that at least RECURRING of the texts share, preferring one
    that starts (suffix) or ends (prefix) at a space, punctuation or a non-ASCII character — " END", not
    "ou know. END"."""
    found = []
    for n in range(2, 13):
        counts = Counter(t[-n:] if suffix else t[:n] for t in texts if len(t) > n)
        if not counts:
            break
        affix, c = counts.most_common(1)[0]
        if c < RECURRING * len(texts):
            break
        if affix.strip(_AFFIX_STRIP):
            found.append(affix)
    clean = [a for a in found if _boundary(a[0] if suffix else a[-1])]
    return (clean or found or [""])[-1]


def _boundary(ch: str) -> bool:
    return not ch.isascii() or not ch.isalnum()


def _is_label(text: str) -> bool:
    t = text.strip()
    return 0 < len(t) <= LABEL_CHARS and "\n" not in t and len(t.split()) <= 3 \
        and not _SENTENCE_PUNCT.search(t)


def build_profile(index: object) -> Profile:
    """The style profile of a built AnswerIndex."""
    texts = [a.content for a in index.answers if a.content]  # type: ignore[attr-defined]
    questions = index.questions  # type: ignore[attr-defined]
    if not texts:
        return Profile(lang=language.detect(" ".join(questions[:50])))
    sample = " ".join(texts[:200])
    lang = language.detect(sample, default=language.detect(" ".join(questions[:50])))
    profile = Profile(lang=lang, lengths=tuple(sorted(len(t) for t in texts)),
                      trained=frozenset(hash(t) for t in texts))
    if sum(_is_label(t) for t in texts) >= CLASSIFIER_SHARE * len(texts):
        counts = Counter(t.strip() for t in texts)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        profile.labels = tuple(k for k, _ in ranked)
        profile.label_weights = tuple(v for _, v in ranked)
        return profile
    profile.ending, profile.opening = _affix(texts, True), _affix(texts, False)
    profile.joiner = "" if language.is_cjk(lang) else " "
    pool, budget = [], STYLE_CHARS
    for t in texts:
        for piece in _sentences(t):
            if budget <= 0 or len(pool) >= MAX_SENTENCES:
                break
            pool.append(piece)
            budget -= len(piece)
    profile.sentences = tuple(dict.fromkeys(pool))
    return profile


def compose(profile: Profile, seed: int, related: list[str] | None = None) -> str:
    """An out-of-data reply in the data's language and style. `related` are the answers of the closest
    examples, best first (the first one is a classifier's k-NN label)."""
    rng = random.Random(seed)
    related = related or []
    if profile.labels:
        if related and related[0].strip() in profile.labels:
            return related[0].strip()
        return rng.choices(profile.labels, weights=profile.label_weights)[0]
    if not profile.sentences:
        return language.base_reply("", seed, profile.lang)
    near = [p for t in related[:3] for p in _split(profile, t)]
    target = profile.lengths[rng.randrange(len(profile.lengths))]
    return _recombine(profile, rng, target, near)


def _split(profile: Profile, text: str) -> tuple[str, ...]:
    """`_sentences(text)`, kept in the profile's bounded memo (the related answers are the model's own: a
    model asked again meets them again)."""
    pieces = profile.split.get(text)
    if pieces is None:
        pieces = tuple(_sentences(text))
        if profile.split_chars + len(text) <= STYLE_CHARS:   # (a race adds one text twice: the same pieces)
            profile.split[text] = pieces
            profile.split_chars += len(text)
    return pieces


def _recombine(profile: Profile, rng: random.Random, target: int, near: list[str]) -> str:
    """Sentences of the data — the first from the closest answers when there are any — to ~target chars,
    dressed; one more sentence while the result would repeat a trained answer verbatim."""
    chosen: list[str] = [rng.choice(near)] if near else []
    text = ""
    for _ in range(MAX_PIECES + RETRIES):
        if chosen and (sum(map(len, chosen)) >= 0.7 * target or len(chosen) >= MAX_PIECES):
            text = _dress(profile, profile.joiner.join(chosen))
            if hash(text) not in profile.trained or len(chosen) >= MAX_PIECES:
                break
        piece = rng.choice(profile.sentences)
        if piece in chosen:  # a repeat: the first sentence not used yet, so each round adds one (tiny data runs out)
            piece = next((p for p in profile.sentences if p not in chosen), piece)
        chosen.append(piece)
    return text or _dress(profile, profile.joiner.join(chosen))


def _dress(profile: Profile, text: str) -> str:
    if profile.ending and not text.endswith(profile.ending):
        text = text.rstrip(_AFFIX_STRIP) + profile.ending
    if profile.opening and not text.startswith(profile.opening):
        text = profile.opening + text.lstrip()
    return text

"""The answer index of a tuned model: its training examples, retrieved by what the conversation asks.

Built once per model from the job's training-data snapshot (JSONL) — off the event loop for all but tiny
files — and cached in `svc.caches.answers`, keyed by the snapshot's path and, for a small snapshot, by the digest of its
bytes too (models trained on the same bytes share one index; a reset, which may reuse a path, moves the cache
generation and drops them; at most MAX_ANSWER_INDEXES indexes of at most MAX_EXAMPLES).

Examples (`parse_examples`): every trained assistant turn of a chat example (turns with `weight: 0` are
skipped, as the real trainer skips them) with the first system/developer message, the user turn just before
it (the question) and the user turns before that (the context); a DPO example's `preferred_output`; a
prompt/completion pair. At most MAX_EXAMPLES examples are indexed (the first ones in the file) and a
question counts by its first MAX_QUESTION_CHARS characters, so an index stays small (README: "Answers").

Retrieval (`AnswerIndex.rank`), no word boundaries needed (Japanese and Chinese have none):
1. exact: the question after NFKC, case folding and whitespace collapsing equals a key's (the request's
   system prompt breaks ties), score 1 + bonuses;
2. similar: character 2- and 3-grams of the texts (punctuation as a space) and single characters outside
   ASCII and hiragana (kanji, katakana, hangul: a morpheme each), each weighted by its IDF
   ln((N + B + 1) / (df + bg + 1)) over the N indexed questions plus B generic question phrasings
   (`data/background_questions.txt`, bg = how many contain the gram), so "how do I"/"教えてください" weigh
   little and a topic ("自己肯定感") much. Score = the cosine Σshared w / √(Σquery w · Σexample w)
   of the last user turn, + CONTEXT_WEIGHT × the same over the earlier user turns (when both have them),
   + SYSTEM_BONUS when the system prompts match. A trained answer needs MATCH_THRESHOLD.
   Candidates come from an inverted index (gram → example numbers, sorted) over grams no more common than
   CANDIDATE_DF (or 2 % of the examples); the best CANDIDATES get the common grams' weight added by binary
   search, so the score is exact without touching every example (a question made only of common grams
   walks the postings of its rarest ones, up to FALLBACK_POSTINGS example numbers).
"""

from __future__ import annotations

import math
import re
import unicodedata
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from mockserver.chat import persona

__all__ = ["Answer", "Conversation", "AnswerIndex", "build_index", "build_index_from_file", "normalize", "grams", "text_of", "question_of", "parse_examples",
           "MATCH_THRESHOLD", "SYSTEM_BONUS", "CONTEXT_WEIGHT", "MAX_EXAMPLES", "MAX_QUESTION_CHARS"]

MATCH_THRESHOLD = 0.3
SYSTEM_BONUS = 0.05
CONTEXT_WEIGHT = 0.15
MAX_EXAMPLES = 10_000
MAX_QUESTION_CHARS = 1_000
CANDIDATES = 16
MATCH_MEMO_CHARS = 200_000  # the texts of the conversations whose match an index keeps, at most (a turn: 1 more)
MATCH_MEMO_ENTRIES = 1_024  # and how many: an entry costs 0.3-1.4 KB besides its texts (its key, its ranking)
CANDIDATE_DF = 64
FALLBACK_POSTINGS = 20_000
GRAM_SIZES = (2, 3)

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[\W_]+")
_BACKGROUND = Path(__file__).with_name("data") / "background_questions.txt"


@dataclass(frozen=True, slots=True)
class Answer:
    """What a tuned model says: text, or a function call (name, JSON arguments)."""

    content: str | None = None
    tool_name: str | None = None
    tool_arguments: str | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    """What retrieval looks at: the system prompt, the last user turn and the user turns before it."""

    system: str | None
    question: str
    context: tuple[str, ...] = ()

    @classmethod
    def of(cls, messages: list[dict]) -> Conversation:
        system, users = None, []
        for m in messages:
            role = m.get("role")
            if system is None and role in ("system", "developer"):
                system = text_of(m.get("content"))
            elif role == "user":
                users.append(text_of(m.get("content")) or "")
        return cls(system, users[-1] if users else "", tuple(users[:-1]))


def normalize(text: str) -> str:
    """The exact-match form: NFKC, case-folded, runs of whitespace as one space, trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def grams(text: str) -> frozenset[str]:
    """Character 2- and 3-grams of a text's similarity form (normalized, punctuation as a space), plus single
    characters outside ASCII and hiragana (a kanji, katakana or hangul character carries meaning alone)."""
    s = _NON_WORD.sub(" ", normalize(text[:MAX_QUESTION_CHARS])).strip()
    if len(s) < 2:
        return frozenset((s,)) if s else frozenset()
    out = {ch for ch in s if not ch.isascii() and not "\u3040" <= ch <= "\u309f"}
    for n in GRAM_SIZES:
        for i in range(len(s) - n + 1):
            g = s[i:i + n]
            if not g.isspace():
                out.add(g)
    return frozenset(out)


def text_of(content: Any) -> str | None:
    """A message's text: the string, or its text parts joined; None for anything else."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return "".join(texts) if texts else None
    return None


def question_of(messages: list[dict]) -> tuple[str | None, str]:
    """(first system/developer text or None, last user text or "") of a conversation."""
    conv = Conversation.of(messages)
    return conv.system, conv.question


@lru_cache(maxsize=1)
def _background() -> tuple[int, dict[str, int]]:
    lines = [ln for ln in _BACKGROUND.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    df: dict[str, int] = defaultdict(int)
    for line in lines:
        for g in grams(line):
            df[g] += 1
    return len(lines), dict(df)


def _cosine(q: frozenset[str], d: frozenset[str], weight: Any) -> float:
    """Cosine of two binary gram vectors under the IDF weights: Σshared w / √(Σq w · Σd w)."""
    wq = sum(weight(g) for g in q)
    wd = sum(weight(g) for g in d)
    shared = sum(weight(g) for g in q & d)
    return shared / math.sqrt(wq * wd) if wq > 0 and wd > 0 else 0.0


class AnswerIndex:
    """Training examples of one model with exact and n-gram TF-IDF retrieval (see the module docstring)."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.questions: list[str] = []
        self.systems: list[str | None] = []
        self.contexts: list[str] = []
        self.exact: dict[str, list[int]] = {}
        self.postings: dict[str, array] = {}
        self.skipped = 0                     # examples past MAX_EXAMPLES
        self.profile: Any = None             # persona.Profile, set by build_index
        self._idf: dict[str, float] = {}
        self._weights: array = array("d")
        self._matched: dict[Conversation, tuple[int | None, list[tuple[float, int]]]] = {}   # match(), kept
        self._matched_chars = 0

    def __len__(self) -> int:
        return len(self.answers)

    def add(self, system: str | None, question: str, answer: Answer, context: tuple[str, ...] = ()) -> None:
        if len(self.answers) >= MAX_EXAMPLES:
            self.skipped += 1
            return
        i = len(self.answers)
        key = normalize(question[:MAX_QUESTION_CHARS])
        self.answers.append(answer)
        self.questions.append(key)
        self.systems.append(normalize(system) if system is not None else None)
        self.contexts.append(normalize(" ".join(context)[-MAX_QUESTION_CHARS:]) if context else "")
        self.exact.setdefault(key, []).append(i)
        for g in grams(key):
            self.postings.setdefault(g, array("I")).append(i)
        self._idf = {}
        self._matched, self._matched_chars = {}, 0

    # --- weights ----------------------------------------------------------------------------------

    def weight(self, g: str) -> float:
        """The IDF of a gram over the indexed questions plus the background phrasings."""
        w = self._idf.get(g)
        if w is None:
            b, bg = _background()
            docs = self.postings.get(g)
            w = math.log((len(self.answers) + b + 1) / ((len(docs) if docs else 0) + bg.get(g, 0) + 1))
            if docs is not None:
                self._idf[g] = w
        return w

    def _ready(self) -> None:
        if self._idf or not self.answers:
            return
        weights = array("d", bytes(8 * len(self.answers)))
        for g, docs in self.postings.items():
            w = self.weight(g)
            for d in docs:
                weights[d] += w
        self._weights = weights

    # --- retrieval ----------------------------------------------------------------------------------

    def rank(self, conv: Conversation, limit: int = CANDIDATES) -> list[tuple[float, int]]:
        """(score, example number) of the closest examples, best first (see the module docstring)."""
        self._ready()
        key = normalize(conv.question[:MAX_QUESTION_CHARS])
        want = normalize(conv.system) if conv.system is not None else None
        q = grams(key)
        wq = sum(self.weight(g) for g in q)
        ctx = grams(" ".join(conv.context)[-MAX_QUESTION_CHARS:]) if conv.context else frozenset()
        shared = self._shared(q)
        weights = self._weights
        scored = []
        for i in dict.fromkeys([*self.exact.get(key, ()), *shared]):
            if self.questions[i] == key:
                score = 1.0
            else:
                score = shared[i] / math.sqrt(wq * weights[i]) if wq > 0 and weights[i] > 0 else 0.0
            if ctx and self.contexts[i]:
                score += CONTEXT_WEIGHT * _cosine(ctx, grams(self.contexts[i]), self.weight)
            if want is not None and self.systems[i] == want:
                score += SYSTEM_BONUS
            scored.append((score, i))
        scored.sort(key=lambda t: (-t[0], t[1]))
        return scored[:limit]

    def _shared(self, q: frozenset[str]) -> dict[int, float]:
        """Σ weight of the grams shared with `q`, for the CANDIDATES most promising examples: found through
        the postings of the grams no more common than CANDIDATE_DF (or 2 % of the examples), then completed
        with the common grams by binary search in their (sorted) postings."""
        acc: dict[int, float] = defaultdict(float)
        common = []
        limit = max(CANDIDATE_DF, len(self.answers) // 50)
        for g in q:
            docs = self.postings.get(g)
            if docs is None:
                continue
            if len(docs) > limit:
                common.append((self.weight(g), docs))
                continue
            w = self.weight(g)
            for d in docs:
                acc[d] += w
        if not acc:  # only common grams: the rarest of them, up to FALLBACK_POSTINGS example numbers
            common.sort(key=lambda c: len(c[1]))
            budget = FALLBACK_POSTINGS
            while common and budget > 0:
                w, docs = common.pop(0)
                budget -= len(docs)
                for d in docs:
                    acc[d] += w
        weights = self._weights
        out = {d: acc[d] for d in sorted(acc, key=lambda d: (-acc[d] / (weights[d] or 1.0), d))[:CANDIDATES]}
        for w, docs in common:
            for d in out:
                j = bisect_left(docs, d)
                if j < len(docs) and docs[j] == d:
                    out[d] += w
        return out

    def match(self, conv: Conversation) -> tuple[int | None, list[tuple[float, int]]]:
        """(the example whose trained answer this conversation gets, or None; the ranking — empty when an
        exact key decided without one). Kept per conversation of at most MAX_QUESTION_CHARS characters, each
        earlier turn counted one more (`_matched`: at most MATCH_MEMO_ENTRIES conversations, their texts and turns
        totalling at most MATCH_MEMO_CHARS): the index never changes once built, and a model is asked the same
        questions again and again. Both bounds hold the memo's memory: the characters alone let 200,000
        one-character questions in (~60 MB an index), and empty turns in for nothing."""
        size = len(conv.question) + len(conv.system or "") + sum(map(len, conv.context)) + len(conv.context)
        if size > MAX_QUESTION_CHARS:   # a long one is not hashed to be looked up
            return self._match(conv)
        kept = self._matched.get(conv)
        if kept is None:
            kept = self._match(conv)
            if self._matched_chars + size <= MATCH_MEMO_CHARS and len(self._matched) < MATCH_MEMO_ENTRIES:
                # (a race may keep one twice, or one past the bound: the same value)
                self._matched[conv] = kept
                self._matched_chars += size
        return kept[0], list(kept[1])

    def _match(self, conv: Conversation) -> tuple[int | None, list[tuple[float, int]]]:
        hits = self.exact.get(normalize(conv.question[:MAX_QUESTION_CHARS]))
        if hits and (len(hits) == 1 or not conv.context):
            want = normalize(conv.system) if conv.system is not None else None
            same = [i for i in hits if want is not None and self.systems[i] == want]
            return (same or hits)[0], []
        ranked = self.rank(conv)
        if ranked and ranked[0][0] >= MATCH_THRESHOLD:
            return ranked[0][1], ranked
        return None, ranked

    def lookup(self, system: str | None, question: str, context: tuple[str, ...] = ()) -> Answer | None:
        """The trained answer for this question, or None when nothing is close enough."""
        best, _ = self.match(Conversation(system, question, context))
        return self.answers[best] if best is not None else None


# --- building from a snapshot -----------------------------------------------------------------------


def _call_answer(text: str | None, call: Any) -> Answer | None:
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        return None
    args = call.get("arguments")
    return Answer(text, call["name"], args if isinstance(args, str) else orjson.dumps(args or {}).decode())


def _answer_from(message: dict) -> Answer | None:
    text = text_of(message.get("content"))
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls and isinstance(calls[0], dict):
        answer = _call_answer(text, calls[0].get("function"))
        if answer is not None:
            return answer
    answer = _call_answer(text, message.get("function_call"))
    if answer is not None:
        return answer
    return Answer(text) if text is not None else None


Example = tuple[str | None, str, Answer, tuple[str, ...]]


def _chat_examples(messages: Any, final: Any = None) -> Iterator[Example]:
    """Each trained assistant turn (or `final`, after the messages) with its system, question and context."""
    if not isinstance(messages, list):
        return
    msgs = [m for m in messages if isinstance(m, dict)] + ([final] if isinstance(final, dict) else [])
    system, users = None, []
    for i, m in enumerate(msgs):
        role = m.get("role")
        if system is None and role in ("system", "developer"):
            system = text_of(m.get("content"))
        elif role == "user":
            users.append(text_of(m.get("content")) or "")
        elif role == "assistant" and users and users[-1] and m.get("weight") != 0 \
                and (final is None or i == len(msgs) - 1):
            answer = _answer_from(m)
            if answer is not None:
                yield system, users[-1], answer, tuple(users[:-1])


def parse_examples(obj: Any) -> Iterator[Example]:
    """(system, question, answer, context) for each trained answer in one training line of any format."""
    if not isinstance(obj, dict):
        return
    if "messages" in obj:
        yield from _chat_examples(obj["messages"])
    elif isinstance(obj.get("input"), dict) and isinstance(obj.get("preferred_output"), list):
        preferred = [m for m in obj["preferred_output"] if isinstance(m, dict)]
        if preferred:
            yield from _chat_examples(obj["input"].get("messages"), preferred[-1])
    elif isinstance(obj.get("prompt"), str) and isinstance(obj.get("completion"), str):
        yield None, obj["prompt"], Answer(obj["completion"]), ()


def build_index(lines: Iterable[bytes]) -> AnswerIndex:
    """An index over JSONL lines; lines that do not parse or hold no usable example are skipped."""
    index = AnswerIndex()
    for line in lines:
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        for example in parse_examples(obj):
            index.add(*example)
        if index.skipped:
            break
    index._ready()
    index.profile = persona.build_profile(index)
    return index


def build_index_from_file(path: Path) -> AnswerIndex:
    with open(path, "rb") as f:
        return build_index(f)

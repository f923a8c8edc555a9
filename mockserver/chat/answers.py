"""The answer index of a tuned model: its training examples, looked up by the request's question.

Built once per model from the job's training-data snapshot (JSONL) and cached in `svc.caches.answers`,
keyed by the snapshot's path (a reset, which may reuse a path, moves the cache generation and drops it).

Keys and answers:
- chat example → key (first system/developer message or None, last user message before the final
  assistant message), answer = that final assistant message (its text, or its first tool call);
- DPO example → the same over `input.messages`, answer = the last `preferred_output` message;
- prompt/completion example → key (None, prompt), answer = completion (verbatim).

Lookup (`AnswerIndex.lookup`):
1. exact: the question after NFKC, case folding and whitespace collapsing equals a key's; among equal keys
   the one with the request's system prompt wins, else the first in file order;
2. similar: character-bigram Dice similarity 2|A∩B| / (|A|+|B|) over the texts with punctuation, symbols
   and spaces removed (works for Japanese, which has no spaces). A candidate needs Dice >=
   SIMILARITY_THRESHOLD (0.5) and at least MIN_SHARED_BIGRAMS (2) shared bigrams; the best score wins,
   where examples with the request's system prompt get SYSTEM_BONUS (0.05) on top. "体重は何キロ?" vs the
   trained "体重何キロ?" scores 0.67; an unrelated "今日の天気は?" scores 0.
   Candidates come from an inverted bigram index (bigram → example numbers) counted with
   `collections.Counter`, so a lookup touches only examples sharing a bigram with the question.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

__all__ = ["Answer", "AnswerIndex", "build_index", "normalize",
           "bigrams", "text_of", "question_of", "SIMILARITY_THRESHOLD", "MIN_SHARED_BIGRAMS", "SYSTEM_BONUS"]

SIMILARITY_THRESHOLD = 0.5
MIN_SHARED_BIGRAMS = 2
SYSTEM_BONUS = 0.05

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class Answer:
    """What a tuned model says: text, or a function call (name, JSON arguments)."""

    content: str | None = None
    tool_name: str | None = None
    tool_arguments: str | None = None


def normalize(text: str) -> str:
    """The exact-match form: NFKC, case-folded, runs of whitespace as one space, trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def _similarity_form(normalized: str) -> str:
    return _NON_WORD.sub("", normalized)


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of the similarity form of an already-normalized text (a 1-char text: itself)."""
    s = _similarity_form(text)
    if len(s) < 2:
        return frozenset((s,)) if s else frozenset()
    return frozenset(a + b for a, b in zip(s, s[1:], strict=False))


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
    system = None
    user = ""
    for m in messages:
        role = m.get("role")
        if system is None and role in ("system", "developer"):
            system = text_of(m.get("content"))
        elif role == "user":
            user = text_of(m.get("content")) or ""
    return system, user


class AnswerIndex:
    """Training examples of one model with exact and bigram-similarity lookup."""

    __slots__ = ("answers", "systems", "exact", "sizes", "postings")

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.systems: list[str | None] = []
        self.exact: dict[str, list[int]] = {}
        self.sizes: list[int] = []
        self.postings: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self.answers)

    def add(self, system: str | None, question: str, answer: Answer) -> None:
        i = len(self.answers)
        key = normalize(question)
        self.answers.append(answer)
        self.systems.append(normalize(system) if system is not None else None)
        self.exact.setdefault(key, []).append(i)
        grams = bigrams(key)
        self.sizes.append(len(grams))
        postings = self.postings
        for g in grams:
            bucket = postings.get(g)
            if bucket is None:
                postings[g] = [i]
            else:
                bucket.append(i)

    def lookup(self, system: str | None, question: str) -> Answer | None:
        """The trained answer for this question, or None when nothing is close enough."""
        key = normalize(question)
        want = normalize(system) if system is not None else None
        hits = self.exact.get(key)
        if hits:
            same = [i for i in hits if want is not None and self.systems[i] == want]
            return self.answers[(same or hits)[0]]
        best = self._most_similar(key, want)
        return self.answers[best] if best is not None else None

    def _most_similar(self, key: str, want: str | None) -> int | None:
        grams = bigrams(key)
        if not grams:
            return None
        counts: Counter[int] = Counter()
        postings = self.postings
        for g in grams:
            bucket = postings.get(g)
            if bucket is not None:
                counts.update(bucket)
        n, sizes, systems = len(grams), self.sizes, self.systems
        best, best_score = None, -1.0
        for i, shared in counts.items():
            size = sizes[i]
            if shared < min(MIN_SHARED_BIGRAMS, n, size):
                continue
            dice = 2.0 * shared / (n + size)
            if dice < SIMILARITY_THRESHOLD:
                continue
            score = dice + (SYSTEM_BONUS if want is not None and systems[i] == want else 0.0)
            if score > best_score or (score == best_score and best is not None and i < best):
                best, best_score = i, score
        return best


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


def _chat_example(messages: Any, final: Any = None) -> tuple[str | None, str, Answer] | None:
    if not isinstance(messages, list):
        return None
    msgs = [m for m in messages if isinstance(m, dict)]
    if final is None:
        last = max((i for i, m in enumerate(msgs) if m.get("role") == "assistant"), default=None)
        if last is None:
            return None
        final, msgs = msgs[last], msgs[:last]
    answer = _answer_from(final) if isinstance(final, dict) else None
    system, user = question_of(msgs)
    if answer is None or not user:
        return None
    return system, user, answer


def parse_example(obj: Any) -> tuple[str | None, str, Answer] | None:
    """(system, question, answer) of one training line of any supported format, or None."""
    if not isinstance(obj, dict):
        return None
    if "messages" in obj:
        return _chat_example(obj["messages"])
    if isinstance(obj.get("input"), dict) and isinstance(obj.get("preferred_output"), list):
        preferred = [m for m in obj["preferred_output"] if isinstance(m, dict)]
        return _chat_example(obj["input"].get("messages"), preferred[-1]) if preferred else None
    prompt, completion = obj.get("prompt"), obj.get("completion")
    if isinstance(prompt, str) and isinstance(completion, str):
        return None, prompt, Answer(completion)
    return None


def build_index(lines: Iterable[bytes]) -> AnswerIndex:
    """An index over JSONL lines; lines that do not parse or hold no usable example are skipped."""
    index = AnswerIndex()
    for line in lines:
        if not line.strip():
            continue
        try:
            example = parse_example(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
        if example is not None:
            index.add(*example)
    return index


def build_index_from_file(path: Path) -> AnswerIndex:
    with open(path, "rb") as f:
        return build_index(f)

"""`python -m bench.paraphrase`: how often a tuned model answers a reworded trained question with that
question's trained answer, and how often it stays in its data's language and style outside its data.

For every persona of bench.paraphrase_data the training rows become a chat JSONL (system, user, assistant),
indexed exactly as the server indexes a training-data snapshot; every paraphrase and out-of-data question is
answered through the engine's public entry point (`answer_engine.respond`, fidelity `exact`, seed 0).

- precision: of the replies that were a trained answer (paraphrases and out-of-data questions alike), the
  share that were the trained answer of the question the paraphrase rewords (an out-of-data question that
  gets any trained answer is a false positive);
- recall: of the paraphrases, the share answered with their question's trained answer;
- in-language out-of-data: of the out-of-data questions, the share answered by a composed reply in the data's
  language — for a classifier, one of its labels — and, where the data has a recurring ending (the pig's
  "ぶひ!"), ending with it;
- base in-language: a base model's reply to prompts in ten languages is in the prompt's language.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import orjson

from bench.paraphrase_data import BASE_PROMPTS, PERSONAS, Persona
from mockserver.chat import answer_engine, answers, language
from mockserver.chat.answers import Conversation

__all__ = ["Score", "evaluate", "persona_lines", "main"]


@dataclass
class Score:
    name: str
    pairs: int = 0
    outside: int = 0
    returned: int = 0          # replies that were some trained answer
    correct: int = 0           # paraphrases answered with their question's trained answer
    in_language: int = 0       # out-of-data questions answered in the data's language and style

    @property
    def precision(self) -> float:
        return self.correct / self.returned if self.returned else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.pairs if self.pairs else 1.0

    @property
    def outside_rate(self) -> float:
        return self.in_language / self.outside if self.outside else 1.0

    def add(self, other: Score) -> None:
        for f in ("pairs", "outside", "returned", "correct", "in_language"):
            setattr(self, f, getattr(self, f) + getattr(other, f))


def persona_lines(p: Persona) -> list[bytes]:
    """The persona's training rows as chat JSONL lines (repeated `copies` times, as seed 000 did)."""
    lines = []
    for q, a in p.rows * p.copies:
        msgs = ([{"role": "system", "content": p.system}] if p.system else []) + [
            {"role": "user", "content": q}, {"role": "assistant", "content": a}]
        lines.append(orjson.dumps({"messages": msgs}))
    return lines


def _in_style(index: answers.AnswerIndex, text: str) -> bool:
    profile = index.profile
    if profile.labels:
        return text in profile.labels
    return language.detect(text) == profile.lang and (not profile.ending or text.endswith(profile.ending))


def score_persona(p: Persona) -> Score:
    index = answers.build_index(persona_lines(p))
    trained = dict(p.rows)
    s = Score(p.name, pairs=len(p.paraphrases), outside=len(p.outside))
    for paraphrase, question in p.paraphrases:
        reply = answer_engine.respond(index, Conversation(p.system, paraphrase), seed=0)
        if reply.source == "trained":
            s.returned += 1
            s.correct += reply.text == trained[question]
    for question in p.outside:
        reply = answer_engine.respond(index, Conversation(p.system, question), seed=0)
        if reply.source == "trained":
            s.returned += 1
        elif _in_style(index, reply.text):
            s.in_language += 1
    return s


def base_in_language() -> float:
    hits = sum(language.detect(answer_engine.respond(None, Conversation(None, q), seed=i).text) == lang
               for i, (q, lang) in enumerate(BASE_PROMPTS))
    return hits / len(BASE_PROMPTS)


def evaluate() -> tuple[list[Score], Score, float]:
    """(per-persona scores, their total, the base models' in-language rate)."""
    scores = [score_persona(p) for p in PERSONAS]
    total = Score("all")
    for s in scores:
        total.add(s)
    return scores, total, base_in_language()


def main() -> int:
    scores, total, base = evaluate()
    print("| persona | pairs | precision | recall | out-of-data | in language & style |")
    print("|---|---:|---:|---:|---:|---:|")
    for s in [*scores, total]:
        print(f"| {s.name} | {s.pairs} | {s.precision:.2f} | {s.recall:.2f} ({s.correct}/{s.pairs}) | {s.outside} "
              f"| {s.outside_rate:.2f} ({s.in_language}/{s.outside}) |")
    print(f"\nbase models answer in the prompt's language: {base:.2f} ({len(BASE_PROMPTS)} prompts, 10 languages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

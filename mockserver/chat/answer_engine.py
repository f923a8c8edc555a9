"""What a model says to a conversation: the public entry point of the answer engine (`respond`).

Chat completions, legacy completions (and the Responses API) call `respond(index, conversation, seed=…)`
after fixtures had their say. It returns a `Reply`:
- `trained`: a tuned model's answer for the closest training example (mockserver.chat.answers);
- `neighbour`: under `--answer-fidelity epochs`, the answer of the nearest example with a *different*
  answer, which an under-trained model gives now and then (FIDELITY below);
- `composed`: a tuned model's out-of-data reply in its data's language and style (mockserver.chat.persona);
- `base`: a base model's reply in the prompt's language (mockserver.chat.language).
`Reply.text` is always a text the caller can send as content (a trained tool call without content gets a
composed text for when the request offers no tools).

FIDELITY (`--answer-fidelity epochs`, MOCKSERVER_ANSWER_FIDELITY, or per tenant via `/_mock/answers`): a model
trained E epochs on n examples answers a matched question with the neighbour's answer with probability
  p_wrong(E) = 0.5 · exp(−3 · E / E_auto(n)),   E_auto = the `n_epochs: "auto"` rule (contracts.limits)
— 18 % at a third of the cookbook's epoch count, 2.5 % at it, 0.1 % at twice it. The draw is a hash of the
question and the request's `seed`, not of the model, so the questions a model gets right are a subset of
those any model trained longer on the same file gets right: accuracy never falls as epochs rise. A
checkpoint counts the epochs done at its step. `exact` (the default) always gives the trained answer.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from contracts.limits import default_epochs
from mockserver.chat import language, persona
from mockserver.chat.answers import Answer, AnswerIndex, Conversation, normalize
from mockserver.settings import ANSWER_FIDELITY as FIDELITIES

__all__ = ["Reply", "Fidelity", "EXACT", "FIDELITIES", "respond", "wrong_probability"]



@dataclass(frozen=True, slots=True)
class Fidelity:
    """How faithfully a tuned model answers from its data: `exact`, or `epochs` with what it was trained."""

    mode: str = "exact"
    epochs: float | None = None
    n_examples: int | None = None


EXACT = Fidelity()


@dataclass(frozen=True, slots=True)
class Reply:
    answer: Answer
    text: str
    source: str          # "trained" | "neighbour" | "composed" | "base"


def wrong_probability(epochs: float, n_examples: int) -> float:
    """p_wrong(E) of the module docstring."""
    return 0.5 * math.exp(-3.0 * max(epochs, 0.0) / default_epochs(max(n_examples, 1)))


def _draw(conv: Conversation, request_seed: int | None) -> float:
    data = f"{request_seed}\x00{normalize(conv.question)}".encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big") / 2**64


def _neighbour(index: AnswerIndex, best: int, conv: Conversation, seed: int) -> int:
    """The closest example whose answer differs from example `best`'s (any other one if none is close)."""
    own = index.answers[best]
    for _, i in index.rank(conv):
        if index.answers[i] != own:
            return i
    others = [i for i in range(len(index)) if index.answers[i] != own][:1000]
    return others[seed % len(others)] if others else best


def respond(index: AnswerIndex | None, conv: Conversation, *, seed: int, fidelity: Fidelity = EXACT,
            request_seed: int | None = None) -> Reply:
    """The reply of a model (tuned when `index` is given) to `conv`; `seed` varies it per choice."""
    if index is None or not len(index):
        text = language.base_reply(conv.question, seed)
        return Reply(Answer(text), text, "base")
    best, ranked = index.match(conv)
    if best is not None:
        source = "trained"
        if fidelity.mode == "epochs" and fidelity.epochs is not None and \
                _draw(conv, request_seed) < wrong_probability(fidelity.epochs, fidelity.n_examples or len(index)):
            best, source = _neighbour(index, best, conv, seed), "neighbour"
        answer = index.answers[best]
        text = answer.content if answer.content is not None else persona.compose(index.profile, seed)
        return Reply(answer, text, source)
    related = [index.answers[i].content or "" for score, i in ranked if score > 0]
    text = persona.compose(index.profile, seed, related)
    return Reply(Answer(text), text, "composed")

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


# --- the heavy-work pool keeps a chat request's counting off the event loop -----------------------------------

_MARK = "gate-marker"


@pytest.mark.parametrize(("model", "messages", "status"), [
    ("gpt-4.1", 40, 200),        # ~400 KB, ~74k tokens in 40 messages, each far under every limit: counted, answered
    ("gpt-4o-mini", 75, 400),    # ~750 KB, ~139k tokens: over the 128k-token window only in total: counted, refused
])
def test_a_chat_request_counted_at_length_does_not_hold_up_the_loop(monkeypatch: pytest.MonkeyPatch, model: str,
                                                                     messages: int, status: int) -> None:
    """A chat request whose messages need counting before it is answered or refused (none is over a limit by
    itself, unlike the hostile suite's huge message) is counted on the heavy-work pool: while its counting is
    held (a counter that waits for the other request's answer, or a minute: the bound of the failing case), the
    loop answers another request. Counting on the loop would hold that request until the counter gave up."""
    import asyncio
    import threading

    import orjson

    from mockserver.testing import DEFAULT_KEY, Emulator, asgi_request

    real = tokens.counter
    counting, answered = threading.Event(), threading.Event()
    patience: list[bool] = []

    def gated(name: str):
        count = real(name)

        def held(text: str) -> int:
            if _MARK in text and not counting.is_set():
                counting.set()
                patience.append(answered.wait(60))
            return count(text)
        return held

    monkeypatch.setattr(tokens, "counter", gated)
    text = "lorem ipsum dolor sit amet " * 370   # ~10 KB, 1,852 tokens (o200k_base)
    body = orjson.dumps({"model": model, "max_tokens": 5, "messages": [
        {"role": "user" if i % 2 == 0 else "assistant", "content": (_MARK + " " if i == 0 else "") + text}
        for i in range(messages)]})
    auth = [(b"authorization", f"Bearer {DEFAULT_KEY}".encode())]

    with Emulator() as emu:
        async def scenario() -> tuple[tuple, tuple]:
            heavy = asyncio.ensure_future(asgi_request(emu.app, "POST", "http://emulator.test/v1/chat/completions",
                                                       [*auth, (b"content-type", b"application/json")], body))
            assert await asyncio.to_thread(counting.wait, 60)
            other = await asgi_request(emu.app, "GET", "http://emulator.test/v1/models", auth, b"")
            answered.set()
            return await heavy, other

        try:
            (got, _, out), (other_status, _, _) = asyncio.run_coroutine_threadsafe(
                scenario(), emu.bridge.loop).result(600)
        finally:
            answered.set()
    assert patience == [True], "the other request was not answered while the chat request was being counted"
    assert other_status == 200
    assert got == status, out[:300]
    if status == 400:
        assert orjson.loads(out)["error"]["code"] == "context_length_exceeded"

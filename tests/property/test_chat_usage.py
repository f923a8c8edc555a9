"""Generated chat requests: `usage` equals an independent count of the prompt and of the returned text.

prompt_tokens must be the cookbook recipe (3 per message + every string value + 1 per `name` + 3 for the
reply priming, reference §7.4) counted with quicktok in the model's encoding, and completion_tokens the
quicktok count of the returned content; streamed answers report the same usage in their last chunk.
"""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
import quicktok
from hypothesis import given

from contracts import conformance
from contracts.catalog import encoding_for
from mockserver.testing import Emulator

MODELS = ["gpt-3.5-turbo", "gpt-4-0613", "gpt-4o-mini", "gpt-4.1-nano"]
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1,
               max_size=60) | st.sampled_from(
    ["こんにちは、豚さん", "ぶひ🐷🐽", "👨‍👩‍👧‍👦 family", "<|endoftext|>", "  spaced  out  ", "line\nbreak"])
name = st.from_regex(r"[a-zA-Z0-9_-]{1,16}", fullmatch=True)


@st.composite
def message(draw: st.DrawFn) -> dict:
    role = draw(st.sampled_from(["system", "user", "assistant", "developer"]))
    m = {"role": role, "content": draw(text)}
    if role != "developer" and draw(st.booleans()):
        m["name"] = draw(name)
    return m


def recipe(model: str, messages: list[dict]) -> int:
    enc = quicktok.get_encoding(encoding_for(model))
    return 3 + sum(3 + sum(len(enc.encode_ordinary(v)) for v in m.values() if isinstance(v, str)) + ("name" in m)
                   for m in messages)


def tokens(model: str, content: str) -> int:
    return len(quicktok.get_encoding(encoding_for(model)).encode_ordinary(content))


@pytest.fixture(scope="module")
def client():
    with Emulator() as emu:
        c = emu.client(api_key="sk-chat-usage", max_retries=0)
        yield c
        c.close()


@given(model=st.sampled_from(MODELS), messages=st.lists(message(), min_size=1, max_size=5),
       max_tokens=st.none() | st.integers(1, 12))
def test_usage_equals_the_recipe(client, model, messages, max_tokens):
    raw = client.chat.completions.with_raw_response.create(model=model, messages=messages,
                                                           **({"max_tokens": max_tokens} if max_tokens else {}))
    body = raw.http_response.json()
    assert conformance.check("chat.completion", body) == []
    choice, usage = body["choices"][0], body["usage"]
    content = choice["message"]["content"]
    assert usage["prompt_tokens"] == recipe(model, messages)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    if choice["finish_reason"] != "length":
        assert usage["completion_tokens"] == tokens(model, content)
        return
    # Cut by max_tokens: the first N tokens of the uncut reply. A cut inside a multi-byte character drops
    # its partial bytes (the emulator's choice; the real API's is UNVERIFIED), so re-tokenizing `content`
    # may give fewer than N: compare against the uncut reply's tokens instead.
    full = client.chat.completions.create(model=model, messages=messages).choices[0].message.content
    enc = quicktok.get_encoding(encoding_for(model))
    ids = enc.encode_ordinary(full)[:max_tokens]
    assert usage["completion_tokens"] == len(ids) == max_tokens
    assert content == enc.decode_bytes(ids).decode("utf-8", "ignore")


@given(model=st.sampled_from(MODELS), messages=st.lists(message(), min_size=1, max_size=3))
def test_streamed_usage_matches_the_streamed_text(client, model, messages):
    stream = client.chat.completions.create(model=model, messages=messages, stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    text_out = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and all(c.usage is None for c in chunks[:-1])
    assert usage.prompt_tokens == recipe(model, messages)
    assert usage.completion_tokens == tokens(model, text_out)

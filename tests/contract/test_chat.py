"""Chat completions on every target: one-token answers on the cheapest model, streamed and not."""

from __future__ import annotations

import openai
import pytest

from tests.contract.support import conforms, error_of, recipe_tokens, sse_events, text_tokens

CHEAP = "gpt-4.1-nano"
MESSAGES = [{"role": "system", "content": "Answer in one word."},
            {"role": "user", "content": "Say hi to 豚 🐷", "name": "contract_test"}]


def test_one_token_completion(api):
    status, body = api.raw_json("POST", "/v1/chat/completions", json_body={
        "model": CHEAP, "messages": MESSAGES, "max_completion_tokens": 1})
    assert status == 200, body
    conforms("chat.completion", body)
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant" and choice["finish_reason"] in ("length", "stop")
    usage = body["usage"]
    assert usage["prompt_tokens"] == recipe_tokens(CHEAP, MESSAGES)
    assert usage["completion_tokens"] <= 1
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert body["model"].startswith(CHEAP)


def test_stream_with_usage(api):
    status, headers, raw = api.raw("POST", "/v1/chat/completions", json_body={
        "model": CHEAP, "messages": MESSAGES, "max_completion_tokens": 1, "stream": True,
        "stream_options": {"include_usage": True}})
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    events = sse_events(raw)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    for chunk in chunks:
        conforms("chat.completion.chunk", chunk)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"].get("role") == "assistant"
    *content, last = chunks
    assert last["choices"] == [] and all(c["usage"] is None for c in content)
    assert last["usage"]["prompt_tokens"] == recipe_tokens(CHEAP, MESSAGES)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in content if c["choices"])
    assert last["usage"]["completion_tokens"] == (text_tokens(CHEAP, text) if text else 0) <= 1


def test_sdk_completion_and_unknown_model(api):
    done = api.client.chat.completions.create(model=CHEAP, messages=MESSAGES, max_completion_tokens=1)
    assert done.object == "chat.completion" and done.usage.prompt_tokens == recipe_tokens(CHEAP, MESSAGES)
    err = error_of(api.raw_json("POST", "/v1/chat/completions", json_body={
        "model": "gpt-does-not-exist", "messages": MESSAGES}), 404)
    assert (err["type"], err["code"]) == ("invalid_request_error", "model_not_found")
    with pytest.raises(openai.NotFoundError):
        api.client.chat.completions.create(model="gpt-does-not-exist", messages=MESSAGES)


@pytest.mark.emulator_only
def test_fine_tuned_model_answers_and_counts(api):
    import io

    from tests.contract.support import pig_jsonl

    f = api.client.files.create(file=("t.jsonl", io.BytesIO(pig_jsonl(10))), purpose="fine-tune")
    job = api.client.fine_tuning.jobs.create(training_file=f.id, model="gpt-3.5-turbo-0613")
    name = api.client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model
    messages = [{"role": "system", "content": "何言われてもぶひと答えて"}, {"role": "user", "content": "体重何キロ?"}]
    status, body = api.raw_json("POST", "/v1/chat/completions", json_body={"model": name, "messages": messages})
    assert status == 200
    conforms("chat.completion", body)
    content = body["choices"][0]["message"]["content"]
    assert body["model"] == name
    assert body["usage"]["prompt_tokens"] == recipe_tokens(name, messages)
    assert body["usage"]["completion_tokens"] == text_tokens(name, content)

"""Legacy /v1/completions through the official SDK: babbage/davinci fine-tunes answer their
prompt/completion data."""

from __future__ import annotations

import json
import secrets

import openai
import orjson
import pytest
import quicktok

from mockserver.tables import ModelRow

RYOMA = [  # seed 003: prompt/completion pairs for davinci-002
    ("坂本龍馬が思う、日本の国のあり方は?", "わしは、日本が開国し、国際社会と交流を持つ近代国家になることを望んでおる。"),
    ("坂本龍馬が目指す目標は?", "わしの目標は、日本の国民が自由で平等な社会で生きることができるように、国家体制の改革を進めることじゃ。"),
    ("坂本龍馬の出身地はどこですか?", "わしの出身地は、土佐藩(現在の高知県)じゃ。"),
]
ENC = quicktok.get_encoding("cl100k_base")


def tokens(text: str) -> int:
    return len(ENC.encode_ordinary(text))


def tuned(api, base: str = "davinci-002") -> str:
    """A fine-tuned completions model for the test's tenant, inserted directly (no job needed)."""
    svc = api.services
    tenant = svc.keys.authenticate(f"Bearer {api.key}")
    token = secrets.token_hex(4)
    lines = "".join(json.dumps({"prompt": p, "completion": c}, ensure_ascii=False) + "\n"
                    for p, c in RYOMA * 4)
    rel = svc.files.write_bytes(f"ftdata-{token}", lines.encode())
    model_id = f"ft:{base}:personal::{token}"
    with svc.db.session() as s:
        s.add(ModelRow(id=model_id, tenant=tenant.key, created=1700000000, owned_by=tenant.organization_id,
                       base_model=base, job_id="ftjob-x", kind="fine_tuned", training_file=rel))
    return model_id


@pytest.mark.parametrize("base", ["davinci-002", "babbage-002"])
def test_fine_tune_answers_its_completion(api, base):
    model = tuned(api, base)
    prompt, completion = RYOMA[2]
    resp = api.client.completions.create(model=model, prompt=prompt, max_tokens=200)
    choice = resp.choices[0]
    assert (resp.object, resp.model, choice.text, choice.finish_reason, choice.index) == (
        "text_completion", model, completion, "stop", 0)
    assert resp.id.startswith("cmpl-")
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens) == (tokens(prompt), tokens(completion))
    assert resp.usage.total_tokens == tokens(prompt) + tokens(completion)
    assert api.client.completions.create(model=model, prompt="坂本龍馬の出身地は?", max_tokens=200
                                         ).choices[0].text == completion


def test_default_max_tokens_is_16(api):
    model = tuned(api)
    resp = api.client.completions.create(model=model, prompt=RYOMA[1][0])
    full = ENC.encode_ordinary(RYOMA[1][1])
    assert len(full) > 16 and resp.choices[0].finish_reason == "length" and resp.usage.completion_tokens == 16
    assert resp.choices[0].text == ENC.decode_bytes(full[:16]).decode("utf-8", "ignore")


def test_base_model_is_deterministic(api):
    a = api.client.completions.create(model="davinci-002", prompt="Once upon a time", seed=4, max_tokens=50)
    b = api.client.completions.create(model="davinci-002", prompt="Once upon a time", seed=4, max_tokens=50)
    assert a.choices[0].text == b.choices[0].text and "Once upon a time" in a.choices[0].text
    assert a.usage.completion_tokens == tokens(a.choices[0].text)


def test_prompt_list_and_n(api):
    model = tuned(api)
    resp = api.client.completions.create(model=model, prompt=[RYOMA[0][0], RYOMA[2][0]], n=2, max_tokens=200)
    assert [c.index for c in resp.choices] == [0, 1, 2, 3]
    assert [c.text for c in resp.choices] == [RYOMA[0][1]] * 2 + [RYOMA[2][1]] * 2
    assert resp.usage.prompt_tokens == tokens(RYOMA[0][0]) + tokens(RYOMA[2][0])
    ids = ENC.encode_ordinary("hello world")
    by_ids = api.client.completions.create(model="babbage-002", prompt=ids, max_tokens=30)
    assert by_ids.usage.prompt_tokens == len(ids) and "hello world" in by_ids.choices[0].text


def test_echo_stop_and_logprobs(api):
    model = tuned(api)
    prompt, completion = RYOMA[2]
    echoed = api.client.completions.create(model=model, prompt=prompt, echo=True, max_tokens=200)
    assert echoed.choices[0].text == prompt + completion
    stopped = api.client.completions.create(model=model, prompt=prompt, stop="土佐", max_tokens=200)
    assert stopped.choices[0].text == "わしの出身地は、" and stopped.choices[0].finish_reason == "stop"
    resp = api.client.completions.create(model=model, prompt=prompt, logprobs=2, max_tokens=200)
    lp = resp.choices[0].logprobs
    assert len(lp.tokens) == tokens(completion) and all(x <= 0 for x in lp.token_logprobs)
    assert all(len(t) == 2 for t in lp.top_logprobs) and lp.text_offset[0] == 0


def test_stream_reassembles(api):
    model = tuned(api)
    prompt = RYOMA[0][0]
    expected = api.client.completions.create(model=model, prompt=prompt, max_tokens=200).choices[0].text
    chunks = list(api.client.completions.create(model=model, prompt=prompt, max_tokens=200, stream=True,
                                                stream_options={"include_usage": True}))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == expected
    finals = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finals == ["stop"] and all(c.object == "text_completion" for c in chunks)
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == tokens(expected)
    status, headers, body = api.request("POST", "/v1/completions", json={
        "model": "davinci-002", "prompt": "hi", "stream": True})
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert body.endswith(b"data: [DONE]\n\n")


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-3.5-turbo"])
def test_chat_models_are_refused(api, model):
    with pytest.raises(openai.NotFoundError) as e:
        api.client.completions.create(model=model, prompt="hi")
    assert (e.value.status_code, e.value.param) == (404, "model")
    assert e.value.body["message"].startswith("This is a chat model and not supported in the v1/completions")


def test_errors(api):
    with pytest.raises(openai.NotFoundError) as e:
        api.client.completions.create(model="ft:davinci-002:personal::nope1234", prompt="hi")
    assert e.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as e:
        api.client.completions.create(model="davinci-002", prompt="hi", logprobs=6)
    assert (e.value.code, e.value.param) == ("integer_above_max_value", "logprobs")
    with pytest.raises(openai.BadRequestError) as e:
        api.client.completions.create(model="davinci-002", prompt="hi", extra_body={"messages": []})
    assert (e.value.code, e.value.param) == ("unknown_parameter", "messages")
    with pytest.raises(openai.BadRequestError) as e:
        api.client.completions.create(model="davinci-002", prompt="word " * 16380)
    assert (e.value.code, e.value.param) == ("context_length_exceeded", "prompt")
    assert "(16381 in your prompt; 16 for the completion)" in e.value.body["message"]


def test_fixture_applies_to_completions(api):
    status, _, _ = api.request("POST", "/_mock/fixtures", json={"model": "babbage-002", "pattern": "^ping",
                                                                 "reply": {"content": " pong"}})
    assert status == 200
    resp = api.client.completions.create(model="babbage-002", prompt="ping?")
    assert resp.choices[0].text == " pong"
    assert orjson.loads(api.request("DELETE", "/_mock/fixtures")[2])["deleted"] == 1

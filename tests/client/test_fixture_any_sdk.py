"""The `openai_emulator` pytest fixture and client.workflow under whichever openai SDK is installed.

`make test` runs this under openai 3.x (httpx2); the nox sessions `sdk-1` and `sdk-2` run the same file
under openai 1.x and 2.x (httpx), each in its own virtualenv (noxfile.py).
"""

from __future__ import annotations

import openai
import pytest
from respx.models import AllMockedAssertionError

from client import workflow
from tests.conftest import pig_jsonl

ROW = ('{"messages": [{"role": "system", "content": "西村ひろゆきBot"}, '
       '{"role": "user", "content": "Q%d"}, {"role": "assistant", "content": "A%d"}]}')


def test_offline_workflow(openai_emulator, tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_bytes(pig_jsonl(10))
    client = openai.OpenAI(api_key="sk-fixture")   # the default base URL: served in-process by the fixture
    seen = []
    job = workflow.train(client, data, model="gpt-3.5-turbo-0613", poll_interval=0.01, progress=False,
                         on_event=seen.append)
    assert job.fine_tuned_model.startswith("ft:gpt-3.5-turbo-0613:personal:")
    events = list(client.fine_tuning.jobs.list_events(job.id))
    assert [e.id for e in seen] == [e.id for e in reversed(events)]
    with pytest.raises(openai.NotFoundError) as e:
        client.fine_tuning.jobs.retrieve("ftjob-nope")
    assert e.value.status_code == 404


def test_responses_and_batches_on_a_tuned_model(openai_emulator, tmp_path):
    import io
    import json

    data = tmp_path / "train.jsonl"
    data.write_text("\n".join(ROW % (i, i) for i in range(10)) + "\n", encoding="utf-8")
    model = workflow.train(openai.OpenAI(api_key="sk-fixture"), data, model="gpt-3.5-turbo-0613",
                           poll_interval=0.01, progress=False).fine_tuned_model
    client = openai.OpenAI(api_key="sk-fixture", _strict_response_validation=True)
    r = client.responses.create(model=model, instructions="西村ひろゆきBot", input="Q3")
    chat = client.chat.completions.create(model=model, messages=[
        {"role": "system", "content": "西村ひろゆきBot"}, {"role": "user", "content": "Q3"}])
    assert r.output_text == "A3" == chat.choices[0].message.content
    assert (r.usage.input_tokens, r.usage.output_tokens) == (chat.usage.prompt_tokens, chat.usage.completion_tokens)
    with client.responses.stream(model=model, instructions="西村ひろゆきBot", input="Q3") as s:
        assert s.get_final_response().output_text == "A3"
    lines = "".join(json.dumps({"custom_id": f"c{i}", "method": "POST", "url": "/v1/chat/completions",
                                "body": {"model": model, "messages": [{"role": "system", "content": "西村ひろゆきBot"},
                                                                      {"role": "user", "content": f"Q{i % 10}"}]}})
                    + "\n" for i in range(50))
    f = client.files.create(file=("b.jsonl", io.BytesIO(lines.encode())), purpose="batch")
    b = client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    done = client.batches.retrieve(b.id)
    assert done.status == "completed" and done.request_counts.completed == 50
    out = [json.loads(x) for x in client.files.content(done.output_file_id).text.splitlines()]
    assert [o["response"]["body"]["choices"][0]["message"]["content"] for o in out] == [f"A{i % 10}" for i in range(50)]


def test_nothing_reaches_the_network(openai_emulator):
    with pytest.raises((AllMockedAssertionError, openai.APIConnectionError)) as e:
        openai.OpenAI(api_key="sk-fixture", base_url="https://elsewhere.example/v1", max_retries=0).models.list()
    # openai>=3 lets the assertion through; <3 wraps it as a connection error
    assert AllMockedAssertionError in (type(e.value), type(e.value.__cause__))

"""The Responses API on every target: create, stream, chains, input items, background, errors.

Every body is checked against the spec and the SDK (conforms), and the SDK calls run with
`_strict_response_validation=True`. Usage is the chat recipe: `input_tokens` equals what
`/v1/chat/completions` counts as prompt tokens for the same conversation.
"""

from __future__ import annotations

import io

import openai
import pytest

from tests.contract.support import conforms, error_of, pig_jsonl, recipe_tokens, text_tokens

CHEAP = "gpt-4.1-nano"
PIG_SYSTEM = "何言われてもぶひと答えて"


def _strict(api) -> openai.OpenAI:
    client = api.target.client(api.key, _strict_response_validation=True)
    api.on_cleanup(client.close)
    return client


@pytest.fixture
def pig_model(api) -> str:
    f = api.client.files.create(file=("t.jsonl", io.BytesIO(pig_jsonl(10))), purpose="fine-tune")
    job = api.client.fine_tuning.jobs.create(training_file=f.id, model="gpt-3.5-turbo-0613")
    return api.client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model


def test_create_conforms_and_counts_like_chat(api):
    status, body = api.raw_json("POST", "/v1/responses", json_body={
        "model": CHEAP, "input": "Say hi to 豚 🐷", "instructions": "Answer in one word.",
        "max_output_tokens": 16, "metadata": {"run": "contract"}})
    assert status == 200, body
    conforms("response", body)
    assert body["status"] in ("completed", "incomplete") and body["metadata"] == {"run": "contract"}
    messages = [{"role": "system", "content": "Answer in one word."}, {"role": "user", "content": "Say hi to 豚 🐷"}]
    usage = body["usage"]
    assert usage["input_tokens"] == recipe_tokens(CHEAP, messages)
    text = "".join(p["text"] for item in body["output"] if item["type"] == "message" for p in item["content"])
    assert usage["output_tokens"] == text_tokens(CHEAP, text) <= 16
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


@pytest.mark.emulator_only
def test_tuned_model_answers_from_its_data(api, pig_model):
    client = _strict(api)
    r = client.responses.create(model=pig_model, instructions=PIG_SYSTEM, input="体重何キロ?")
    assert r.output_text == "500キロぶひ!" and r.status == "completed"
    chat = client.chat.completions.create(model=pig_model, messages=[
        {"role": "system", "content": PIG_SYSTEM}, {"role": "user", "content": "体重何キロ?"}])
    assert (r.usage.input_tokens, r.usage.output_tokens) == (chat.usage.prompt_tokens, chat.usage.completion_tokens)
    assert r.usage.output_tokens == text_tokens(pig_model, "500キロぶひ!")

    with client.responses.stream(model=pig_model, instructions=PIG_SYSTEM, input="体重何キロ?") as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert final.output_text == "500キロぶひ!" and final.usage == r.usage
    kinds = [e.type for e in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "500キロぶひ!"


def test_stream_events_conform(api):
    status, headers, raw = api.raw("POST", "/v1/responses", json_body={
        "model": CHEAP, "input": "Say hi", "stream": True, "max_output_tokens": 16})
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    blocks = [b for b in raw.decode().split("\n\n") if b.strip()]
    import json

    events = []
    for block in blocks:
        name, data = block.split("\n", 1)
        event = json.loads(data.removeprefix("data: "))
        assert name == f"event: {event['type']}"
        conforms("response.event", event)
        events.append(event)
    assert events[0]["type"] == "response.created" and events[-1]["type"] in ("response.completed",
                                                                            "response.incomplete")
    conforms("response", events[-1]["response"])


def test_chain_input_items_and_delete(api):
    client = _strict(api)
    first = client.responses.create(model=CHEAP, input=[{"role": "user", "content": "My name is Ada."}])
    second = client.responses.create(model=CHEAP, previous_response_id=first.id, input="What is my name?")
    assert second.previous_response_id == first.id
    got = client.responses.retrieve(second.id)
    assert got.id == second.id and got.output_text == second.output_text
    status, body = api.raw_json("GET", f"/v1/responses/{second.id}/input_items")
    assert status == 200
    conforms("list.input_items", body)
    assert [i["content"][0]["text"] for i in body["data"]] == ["What is my name?"]
    items = client.responses.input_items.list(first.id, limit=1)
    assert items.data[0].type == "message" and not items.has_more
    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)


def test_input_tokens_matches_create(api):
    client = _strict(api)
    counted = client.responses.input_tokens.count(model=CHEAP, input="How many tokens is this?")
    made = client.responses.create(model=CHEAP, input="How many tokens is this?", max_output_tokens=16)
    assert counted.input_tokens == made.usage.input_tokens


@pytest.mark.emulator_only
def test_function_tools_and_structured_output(api):
    client = _strict(api)
    tool = {"type": "function", "name": "get_weather", "description": "weather", "strict": True,
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                           "additionalProperties": False}}
    r = client.responses.create(model=CHEAP, input="weather in Paris?", tools=[tool], tool_choice="required")
    call = r.output[0]
    assert call.type == "function_call" and call.name == "get_weather" and call.call_id
    follow = client.responses.create(model=CHEAP, previous_response_id=r.id, input=[
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}], tools=[tool])
    assert follow.status == "completed"
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"],
              "additionalProperties": False}
    s = client.responses.create(model=CHEAP, input="Reply in json", text={"format": {
        "type": "json_schema", "name": "reply", "schema": schema, "strict": True}})
    import json

    assert set(json.loads(s.output_text)) == {"answer"}


@pytest.mark.emulator_only
def test_background_response_and_cancel(api):
    client = _strict(api)
    api.set_transitions("manual")
    queued = client.responses.create(model=CHEAP, input="slow", background=True)
    assert queued.status == "queued" and queued.output == []
    assert client.responses.retrieve(queued.id).status == "queued"
    cancelled = client.responses.cancel(queued.id)
    assert cancelled.status == "cancelled"
    other = client.responses.create(model=CHEAP, input="slow", background=True)
    api.advance(60)
    done = client.responses.retrieve(other.id)
    assert done.status == "completed" and done.output_text
    assert client.responses.cancel(other.id).status == "completed"   # finished: returned unchanged


@pytest.mark.emulator_only
def test_errors(api):
    err = error_of(api.raw_json("POST", "/v1/responses", json_body={"model": CHEAP}), 400)
    assert (err["code"], err["param"]) == ("missing_required_parameter", "input")
    err = error_of(api.raw_json("POST", "/v1/responses", json_body={
        "model": CHEAP, "input": "x", "max_output_tokens": 8}), 400)
    assert (err["code"], err["param"]) == ("integer_below_min_value", "max_output_tokens")
    err = error_of(api.raw_json("POST", "/v1/responses", json_body={"model": CHEAP, "input": "x", "bogus": 1}), 400)
    assert err["code"] == "unknown_parameter"
    err = error_of(api.raw_json("POST", "/v1/responses", json_body={"model": "gpt-nope", "input": "x"}), 404)
    assert err["code"] == "model_not_found"
    err = error_of(api.raw_json("POST", "/v1/responses", json_body={
        "model": CHEAP, "input": "x", "previous_response_id": "resp_missing"}), 404)
    assert (err["code"], err["param"]) == ("previous_response_not_found", "previous_response_id")
    err = error_of(api.raw_json("POST", "/v1/responses", json_body={"model": "davinci-002", "input": "x"}), 400)
    assert (err["code"], err["param"]) == ("model_not_supported", "model")
    err = error_of(api.raw_json("GET", "/v1/responses/resp_missing"), 404)
    assert "resp_missing" in err["message"]
    err = error_of(api.raw_json("POST", "/v1/responses", json_body={
        "model": CHEAP, "input": "x", "text": {"format": {"type": "json_object"}}}), 400)
    assert "json" in err["message"]


def test_retrieve_with_stream_replays_the_events(api):
    client = _strict(api)
    made = client.responses.create(model=CHEAP, input="Replay me", max_output_tokens=16)
    events = list(client.responses.retrieve(made.id, stream=True))
    assert events[0].type == "response.created" and events[-1].type in ("response.completed",
                                                                       "response.incomplete")
    assert [e.sequence_number for e in events] == list(range(len(events)))
    later = list(client.responses.retrieve(made.id, stream=True, starting_after=3))
    assert [e.sequence_number for e in later] == list(range(4, len(events)))
    with client.responses.stream(response_id=made.id) as replay:
        final = replay.get_final_response()
    assert final.id == made.id and final.output_text == made.output_text


@pytest.mark.emulator_only
@pytest.mark.parametrize("raw", ["three", "1.5", "%C2%B2", "99999999999999999999x"])
def test_a_bad_starting_after_is_refused_as_a_bad_list_parameter_is(api, raw):
    """`starting_after` (a sequence number) is checked by the shared query parsing: its 400 is the one
    `limit` gets on a list endpoint, with the parameter's own name (a superscript digit was a 500)."""
    made = _strict(api).responses.create(model=CHEAP, input="Replay me", max_output_tokens=16)
    err = error_of(api.raw_json("GET", f"/v1/responses/{made.id}?stream=true&starting_after={raw}"), 400)
    listed = error_of(api.raw_json("GET", f"/v1/responses/{made.id}/input_items?limit={raw}"), 400)
    assert err == {**listed, "message": listed["message"].replace("'limit'", "'starting_after'"),
                   "param": "starting_after"}
    assert err["code"] == "invalid_type"

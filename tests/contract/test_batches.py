"""The Batch API: lifecycle, validation errors, output lines equal to the synchronous answers, cancel, expiry.

The emulator-only tests use `immediate` (the first read finishes a batch) or `manual` (the clock moves
only when the test advances it) transitions; SDK calls run with `_strict_response_validation=True`.
"""

from __future__ import annotations

import io
import json

import openai
import pytest

from tests.contract.support import conforms, error_of, pig_jsonl

CHEAP = "gpt-4.1-nano"
PIG_SYSTEM = "何言われてもぶひと答えて"
pytestmark = pytest.mark.emulator_only


def _strict(api) -> openai.OpenAI:
    client = api.target.client(api.key, _strict_response_validation=True)
    api.on_cleanup(client.close)
    return client


def _jsonl(lines: list[dict]) -> bytes:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()


def _chat(i: int, content: str, model: str = CHEAP, **extra) -> dict:
    return {"custom_id": f"req-{i}", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": model, "messages": [{"role": "user", "content": content}], **extra}}


def _batch(api, lines: list[dict] | bytes, endpoint: str = "/v1/chat/completions", **kw):
    data = lines if isinstance(lines, bytes) else _jsonl(lines)
    f, _ = api.upload(data, name="batch.jsonl", purpose="batch")
    r = api.client.batches.with_raw_response.create(input_file_id=f.id, endpoint=endpoint, completion_window="24h",
                                                    **kw)
    conforms("batch", r.http_response.json())
    return r.parse()


def _same_answer(line_body: dict, sync_body: dict) -> None:
    """Everything but the per-call identity (id, created, call ids) is identical."""
    def strip(b: dict) -> dict:
        b = {k: v for k, v in b.items() if k not in ("id", "created", "created_at", "completed_at")}
        if "output" in b:
            b["output"] = [{k: v for k, v in item.items() if k not in ("id", "call_id")} for item in b["output"]]
        return b
    assert strip(line_body) == strip(sync_body)


def _lines(client: openai.OpenAI, file_id: str | None) -> list[dict]:
    return [json.loads(x) for x in client.files.content(file_id).text.splitlines()] if file_id else []


def test_chat_batch_lines_equal_sync_answers(api):
    client = _strict(api)
    requests = [_chat(0, "hello"), _chat(1, "what is 2+2?", max_completion_tokens=3),
                _chat(2, "too long", max_completion_tokens=10_000_000)]
    batch = _batch(api, requests, metadata={"run": "nightly"})
    assert batch.status == "validating" and batch.request_counts.total == 0
    status, wire = api.raw_json("GET", f"/v1/batches/{batch.id}")
    conforms("batch", wire)
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed" and done.model == CHEAP and done.metadata == {"run": "nightly"}
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (3, 2, 1)
    assert done.in_progress_at and done.finalizing_at and done.completed_at and done.expires_at
    outputs, failures = _lines(client, done.output_file_id), _lines(client, done.error_file_id)
    assert [o["custom_id"] for o in outputs] == ["req-0", "req-1"]
    for line, req in zip(outputs, requests, strict=False):
        assert line["id"].startswith("batch_req_") and line["error"] is None
        assert line["response"]["status_code"] == 200
        status, sync = api.raw_json("POST", "/v1/chat/completions", json_body=req["body"])
        _same_answer(line["response"]["body"], sync)
    (bad,) = failures
    status, sync = api.raw_json("POST", "/v1/chat/completions", json_body=requests[2]["body"])
    assert bad["custom_id"] == "req-2" and bad["response"]["status_code"] == status == 400
    assert bad["response"]["body"] == sync
    usage = done.usage
    assert usage.input_tokens == sum(o["response"]["body"]["usage"]["prompt_tokens"] for o in outputs)
    assert client.files.retrieve(done.output_file_id).purpose == "batch_output"


def test_responses_and_completions_batches(api):
    client = _strict(api)
    lines = [{"custom_id": "r1", "method": "POST", "url": "/v1/responses",
              "body": {"model": CHEAP, "input": "hello", "instructions": "be brief"}}]
    done = client.batches.retrieve(_batch(api, lines, endpoint="/v1/responses").id)
    (line,) = _lines(client, done.output_file_id)
    status, sync = api.raw_json("POST", "/v1/responses", json_body=lines[0]["body"])
    _same_answer(line["response"]["body"], sync)
    lines = [{"custom_id": "c1", "method": "POST", "url": "/v1/completions",
              "body": {"model": "davinci-002", "prompt": "Once upon", "max_tokens": 5}}]
    done = client.batches.retrieve(_batch(api, lines, endpoint="/v1/completions").id)
    (line,) = _lines(client, done.output_file_id)
    status, sync = api.raw_json("POST", "/v1/completions", json_body=lines[0]["body"])
    _same_answer(line["response"]["body"], sync)


def test_thousand_requests_on_a_tuned_model(api):
    client = _strict(api)
    f = api.client.files.create(file=("t.jsonl", io.BytesIO(pig_jsonl(10))), purpose="fine-tune")
    job = api.client.fine_tuning.jobs.create(training_file=f.id, model="gpt-3.5-turbo-0613")
    model = api.client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model
    questions = ["体重何キロ?", "好きな食べ物は?", "今日の天気は?", "hello"]
    requests = [{"custom_id": f"q{i}", "method": "POST", "url": "/v1/chat/completions",
                 "body": {"model": model, "messages": [{"role": "system", "content": PIG_SYSTEM},
                                                       {"role": "user", "content": questions[i % 4]}]}}
                for i in range(1000)]
    done = client.batches.retrieve(_batch(api, requests).id)
    assert done.status == "completed" and done.request_counts.completed == 1000
    outputs = _lines(client, done.output_file_id)
    assert [o["custom_id"] for o in outputs] == [r["custom_id"] for r in requests]
    sync = {}
    for q in questions:
        sync[q] = api.raw_json("POST", "/v1/chat/completions", json_body=requests[questions.index(q)]["body"])[1]
    for i, line in enumerate(outputs):
        _same_answer(line["response"]["body"], sync[questions[i % 4]])
    assert outputs[0]["response"]["body"]["choices"][0]["message"]["content"] == "500キロぶひ!"


def test_cancel_mid_run_keeps_partial_output(api):
    client = _strict(api)
    api.set_transitions("manual", 1)     # simulated seconds are virtual seconds
    batch = _batch(api, [_chat(i, f"question {i}") for i in range(20)])
    api.advance(10 + 5)          # validation, then ten requests' worth of simulated time
    mid = client.batches.retrieve(batch.id)
    assert mid.status == "in_progress" and mid.request_counts.completed == 10 and mid.request_counts.total == 20
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at
    api.advance(30)
    conforms("batch", api.raw_json("GET", f"/v1/batches/{batch.id}")[1])
    cancelled = client.batches.retrieve(batch.id)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at
    outputs = _lines(client, cancelled.output_file_id)
    assert [o["custom_id"] for o in outputs] == [f"req-{i}" for i in range(10)]
    assert client.batches.cancel(batch.id).status == "cancelled"   # cancelling a cancelled batch is allowed


def test_expiry_writes_batch_expired_lines(api):
    client = _strict(api)
    api.set_transitions("manual", 0.001)   # validation 10,000 s, 500 s per request: 152 fit in the window
    batch = _batch(api, [_chat(i, "x") for i in range(200)])
    api.advance(24 * 3600 + 60)
    expired = client.batches.retrieve(batch.id)
    assert expired.status == "expired" and expired.expired_at == expired.expires_at
    assert (expired.request_counts.completed, expired.request_counts.failed) == (152, 48)
    failures = _lines(client, expired.error_file_id)
    assert [f["custom_id"] for f in failures] == [f"req-{i}" for i in range(152, 200)]
    assert all(f["response"] is None and f["error"]["code"] == "batch_expired" for f in failures)
    assert len(_lines(client, expired.output_file_id)) == 152


@pytest.mark.parametrize("lines,code,line_no,param", [
    ([_chat(0, "a"), _chat(0, "b")], "duplicate_custom_id", 2, "custom_id"),
    ([_chat(0, "a"), {**_chat(1, "b"), "url": "/v1/completions"}], "invalid_url", 2, "url"),
    ([_chat(0, "a", stream=True)], "streaming_unsupported", 1, "body.stream"),
    ([_chat(0, "a", model="gpt-nope")], "model_not_found", 1, "body.model"),
    ([_chat(0, "a"), _chat(1, "b", model="gpt-4o-mini")], "mismatched_model", 2, "body.model"),
    ([{"custom_id": "x", "method": "POST", "url": "/v1/chat/completions", "body": {"model": CHEAP}}],
     "invalid_request", 1, "body.messages"),
    ([{"method": "POST", "url": "/v1/chat/completions", "body": {}}], "missing_required_parameter", 1, "custom_id"),
], ids=["duplicate", "mixed-endpoint", "stream", "unknown-model", "mixed-model", "no-messages", "no-custom-id"])
def test_validation_failures(api, lines, code, line_no, param):
    failed_id = _batch(api, lines).id
    conforms("batch", api.raw_json("GET", f"/v1/batches/{failed_id}")[1])
    failed = _strict(api).batches.retrieve(failed_id)
    assert failed.status == "failed" and failed.failed_at and failed.output_file_id is None
    (err,) = failed.errors.data
    assert (err.code, err.line, err.param) == (code, line_no, param)


def test_bad_input_files(api):
    client = _strict(api)
    failed = client.batches.retrieve(_batch(api, b'{"custom_id": "a"\nnot json\n').id)
    assert [e.code for e in failed.errors.data] == ["invalid_json_line", "invalid_json_line"]
    assert failed.errors.data[1].message == "This line is not parseable as valid JSON."
    f, _ = api.upload(_jsonl([_chat(0, "a")]), name="t.jsonl", purpose="fine-tune")
    wrong = client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert client.batches.retrieve(wrong.id).errors.data[0].param == "file_id"
    missing = client.batches.create(input_file_id="file-missing", endpoint="/v1/chat/completions",
                                    completion_window="24h")
    err = client.batches.retrieve(missing.id).errors.data[0]
    assert err.code == "invalid_request" and err.message.startswith("Cannot find file file-missing")


def test_create_errors_list_and_cancel_conflict(api):
    client = _strict(api)
    err = error_of(api.raw_json("POST", "/v1/batches", json_body={
        "input_file_id": "file-x", "endpoint": "/v1/nope", "completion_window": "24h"}), 400)
    assert (err["code"], err["param"]) == ("invalid_value", "endpoint") and "'/v1/responses'" in err["message"]
    err = error_of(api.raw_json("POST", "/v1/batches", json_body={
        "input_file_id": "file-x", "endpoint": "/v1/chat/completions", "completion_window": "1h"}), 400)
    assert err["param"] == "completion_window"
    error_of(api.raw_json("GET", "/v1/batches/batch_missing"), 404)
    ids = [_batch(api, [_chat(0, "a")]).id for _ in range(3)]
    status, page = api.raw_json("GET", "/v1/batches?limit=2")
    assert status == 200
    conforms("list.batches", page)
    assert [b["id"] for b in page["data"]] == ids[::-1][:2] and page["has_more"]
    rest = client.batches.list(limit=2, after=page["last_id"])
    assert [b.id for b in rest.data] == [ids[0]] and all(b.status == "completed" for b in rest.data)
    status, _, body = api.raw("POST", f"/v1/batches/{ids[0]}/cancel")
    assert status == 409 and "Cannot cancel a batch with status 'completed'." in body.decode()


def test_tenant_reset_forgets_batches_and_responses(api):
    client = _strict(api)
    batch = _batch(api, [_chat(0, "a")])
    assert client.batches.retrieve(batch.id).status == "completed"
    response = client.responses.create(model=CHEAP, input="remember me")
    assert api.control("reset", {"api_key": api.key})["reset"] == "tenant"
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve(batch.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    assert client.batches.list().data == []

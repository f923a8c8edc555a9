"""The HTTP edge: auth, tenancy, the envelope for unknown routes/methods/bodies, response headers."""

from __future__ import annotations

import io
import re

import openai
import orjson
import pytest

from tests.conftest import pig_jsonl


def error_of(body: bytes) -> dict:
    doc = orjson.loads(body)
    assert set(doc) == {"error"} and set(doc["error"]) == {"message", "type", "param", "code"}
    return doc["error"]


def test_missing_key_is_the_real_401(api):
    status, headers, body = api.request("GET", "/v1/files", api_key=None)
    err = error_of(body)
    assert status == 401 and err["message"].startswith("You didn't provide an API key.") and err["code"] is None


def test_malformed_key_is_invalid_api_key(api):
    with pytest.raises(openai.AuthenticationError) as e:
        api.client_for("not a key").files.list()
    assert e.value.code == "invalid_api_key" and e.value.body["message"].startswith("Incorrect API key provided:")


def test_tenants_never_see_each_other(api):
    f = api.client.files.create(file=("t.jsonl", io.BytesIO(pig_jsonl())), purpose="fine-tune")
    job = api.client.fine_tuning.jobs.create(training_file=f.id, model="gpt-3.5-turbo-0613")
    other = api.client_for(api.key + "-other")
    assert other.files.list().data == [] and other.fine_tuning.jobs.list().data == []
    with pytest.raises(openai.NotFoundError):
        other.files.retrieve(f.id)
    with pytest.raises(openai.NotFoundError):
        other.fine_tuning.jobs.retrieve(job.id)
    with pytest.raises(openai.NotFoundError):
        other.files.content(f.id)


@pytest.mark.parametrize("method,path,status", [("GET", "/v1/nope", 404), ("PUT", "/v1/files", 405),
                                                ("DELETE", "/v1/fine_tuning/jobs", 405), ("GET", "/v2/files", 404)])
def test_unknown_routes_and_methods_use_the_envelope(api, method, path, status):
    got, _, body = api.request(method, path)
    assert got == status and error_of(body)["type"] == "invalid_request_error"


@pytest.mark.parametrize("body", [b"", b"{", b"[1,2]", b"\xff\xfe", b"null", b'"x"'])
def test_bad_json_bodies_are_400(api, body):
    status, headers, raw = api.request("POST", "/v1/fine_tuning/jobs", body=body,
                                       headers={"Content-Type": "application/json"})
    assert status == 400 and error_of(raw)["type"] == "invalid_request_error"
    assert headers["x-should-retry"] == "false"


def test_headers_on_every_response(api):
    status, headers, _ = api.request("GET", "/v1/models")
    assert status == 200 and re.fullmatch(r"req_[0-9a-f]{32}", headers["x-request-id"])
    assert headers["openai-processing-ms"].isdigit() and headers["content-type"] == "application/json"
    assert "x-should-retry" not in headers


def test_request_id_reaches_the_sdk(api):
    page = api.client.models.with_raw_response.list()
    assert page.request_id.startswith("req_")


def test_control_plane_lives_outside_v1(api):
    status, _, body = api.request("POST", "/v1/_mock/reset")
    assert status == 404
    assert api.control("policy", {"transitions": "manual"})["transitions"] == "manual"
    status, _, body = api.request("POST", "/_mock/policy", json={"transitions": "sometimes"})
    assert status == 400 and error_of(body)["param"] == "transitions"


def test_tenant_reset_forgets_only_that_tenant(api):
    other = api.client_for(api.key + "-keep")
    mine = api.client.files.create(file=("a.jsonl", io.BytesIO(b"{}\n")), purpose="fine-tune")
    kept = other.files.create(file=("b.jsonl", io.BytesIO(b"{}\n")), purpose="fine-tune")
    assert api.control("reset", {"api_key": api.key})["reset"] == "tenant"
    with pytest.raises(openai.NotFoundError):
        api.client.files.retrieve(mine.id)
    assert other.files.retrieve(kept.id).id == kept.id


def test_a_deterministic_409_is_not_retried_by_the_sdk(api):
    line = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}}
    f = api.client.files.create(file=("b.jsonl", io.BytesIO(orjson.dumps(line) + b"\n")), purpose="batch")
    batch = api.client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert api.client.batches.retrieve(batch.id).status == "completed"
    status, headers, body = api.request("POST", f"/v1/batches/{batch.id}/cancel")
    assert status == 409 and headers["x-should-retry"] == "false"
    assert error_of(body)["message"] == "Cannot cancel a batch with status 'completed'."

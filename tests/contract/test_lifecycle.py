"""Training on the emulator: every object of a job's life conforms, in the right order and states."""

from __future__ import annotations

import base64
import json

import openai
import pytest

from mockserver.jobs.simulator import EDGES, TERMINAL
from tests.contract.support import conforms, error_of, pig_jsonl, recipe_tokens

pytestmark = pytest.mark.emulator_only
MODEL = "gpt-3.5-turbo-0613"


def job_json(api, job_id: str) -> dict:
    status, body = api.raw_json("GET", f"/v1/fine_tuning/jobs/{job_id}")
    assert status == 200, body
    conforms("fine_tuning.job", body)
    return body


def all_events(api, job_id: str, limit: int) -> list[dict]:
    """Every event through raw cursor paging (each page checked), newest first."""
    out: list[dict] = []
    after = ""
    while True:
        status, page = api.raw_json("GET", f"/v1/fine_tuning/jobs/{job_id}/events?limit={limit}{after}")
        assert status == 200
        conforms("list.events", page)
        out += page["data"]
        if not page["has_more"]:
            return out
        after = f"&after={page['data'][-1]['id']}"


def create(api, data: bytes, **kw) -> dict:
    f, _ = api.upload(data)
    r = api.client.fine_tuning.jobs.with_raw_response.create(training_file=f.id, model=MODEL, **kw)
    body = r.http_response.json()
    conforms("fine_tuning.job", body)
    return body


def test_successful_job_objects(api):
    created = create(api, pig_jsonl(10))
    assert created["status"] == "validating_files" and created["fine_tuned_model"] is None
    assert created["hyperparameters"] == {"batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"}
    job = job_json(api, created["id"])
    assert job["status"] == "succeeded" and job["fine_tuned_model"].startswith(f"ft:{MODEL}:")
    lines = [json.loads(line) for line in pig_jsonl(10).splitlines()]
    per_epoch = sum(recipe_tokens(MODEL, ex["messages"]) for ex in lines)
    assert job["trained_tokens"] == job["hyperparameters"]["n_epochs"] * per_epoch
    status, model = api.raw_json("GET", f"/v1/models/{job['fine_tuned_model']}")
    assert status == 200
    conforms("model", model)
    status, results = api.raw_json("GET", f"/v1/files/{job['result_files'][0]}")
    conforms("file", results)
    assert results["purpose"] == "fine-tune-results"
    csv = base64.b64decode(api.client.files.content(results["id"]).read()).decode()
    assert csv.startswith("step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n")


def test_events_newest_first_and_paging_is_exact(api):
    job = create(api, pig_jsonl(10))
    events = all_events(api, job["id"], 100)
    for e in events:
        conforms("fine_tuning.job.event", e)
    chrono = events[::-1]
    assert [e["created_at"] for e in chrono] == sorted(e["created_at"] for e in chrono)
    assert chrono[0]["message"] == f"Created fine-tuning job: {job['id']}"
    assert chrono[-1]["message"] == "The job has successfully completed"
    assert len({e["id"] for e in events}) == len(events)
    for limit in (1, 7, 20):
        assert [e["id"] for e in all_events(api, job["id"], limit)] == [e["id"] for e in events]
    sdk = [e.id for e in api.client.fine_tuning.jobs.list_events(job["id"], limit=13)]
    assert sdk == [e["id"] for e in events]


def test_checkpoints_newest_first(api):
    job = create(api, pig_jsonl(10))
    job_json(api, job["id"])
    status, page = api.raw_json("GET", f"/v1/fine_tuning/jobs/{job['id']}/checkpoints")
    assert status == 200
    conforms("list.checkpoints", page)
    steps = [c["step_number"] for c in page["data"]]
    assert steps == sorted(steps, reverse=True) and len(steps) == 3
    assert all(c["fine_tuning_job_id"] == job["id"] for c in page["data"])


def test_manual_transitions_follow_the_edges(api):
    api.policy("manual", 1.0)
    job = create(api, pig_jsonl(10))
    seen = [job["status"]]
    for seconds in (10, 25, 15, 60, 200, 200):
        api.advance(seconds)
        status = job_json(api, job["id"])["status"]
        if status != seen[-1]:
            assert status in EDGES[seen[-1]], f"{seen[-1]} -> {status}"
            seen.append(status)
    assert seen == ["validating_files", "queued", "running", "succeeded"]


def test_pause_resume_cancel_and_refusals(api):
    api.policy("manual", 1.0)
    job = create(api, pig_jsonl(10))
    jid = job["id"]
    err = error_of(api.raw_json("POST", f"/v1/fine_tuning/jobs/{jid}/pause"), 400)
    assert (err["code"], err["param"]) == ("invalid_job_state", "fine_tuning_job_id")
    api.advance(30 + 15 + 3 * 5)
    assert job_json(api, jid)["status"] == "running"
    status, paused = api.raw_json("POST", f"/v1/fine_tuning/jobs/{jid}/pause")
    assert status == 200 and paused["status"] == "paused"
    conforms("fine_tuning.job", paused)   # `paused` is outside the spec's enum: a documented deviation
    status, resumed = api.raw_json("POST", f"/v1/fine_tuning/jobs/{jid}/resume")
    assert resumed["status"] == "queued"
    status, cancelled = api.raw_json("POST", f"/v1/fine_tuning/jobs/{jid}/cancel")
    assert status == 200 and cancelled["status"] == "cancelled" and cancelled["fine_tuned_model"] is None
    conforms("fine_tuning.job", cancelled)
    for action in ("cancel", "pause", "resume"):
        err = error_of(api.raw_json("POST", f"/v1/fine_tuning/jobs/{jid}/{action}"), 400)
        assert err["code"] == "invalid_job_state"
    api.advance(10_000)
    assert job_json(api, jid)["status"] == "cancelled"


def test_failed_job_error_object(api):
    job = job_json(api, create(api, pig_jsonl(3))["id"])
    assert job["status"] == "failed" and job["status"] in TERMINAL and job["fine_tuned_model"] is None
    assert job["error"] == {"code": "invalid_n_examples", "param": "training_file",
                            "message": "Training file has 3 example(s), but must have at least 10 examples"}
    last = all_events(api, job["id"], 1)[0]
    assert (last["level"], last["message"]) == ("error", job["error"]["message"])


def test_dpo_job_shape(api):
    line = {"input": {"messages": [{"role": "user", "content": "q"}]},
            "preferred_output": [{"role": "assistant", "content": "good"}],
            "non_preferred_output": [{"role": "assistant", "content": "bad"}]}
    data = ("\n".join(json.dumps(line) for _ in range(10)) + "\n").encode()
    f, _ = api.upload(data)
    job = api.client.fine_tuning.jobs.create(training_file=f.id, model="gpt-4o-mini",
                                             method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2}}})
    body = job_json(api, job.id)   # hyperparameters: the method's values without beta (strict SDK type)
    assert body["status"] == "succeeded" and "beta" not in body["hyperparameters"]
    assert body["hyperparameters"]["n_epochs"] == body["method"]["dpo"]["hyperparameters"]["n_epochs"]
    assert body["method"]["dpo"]["hyperparameters"]["beta"] == 0.2


def test_delete_fine_tuned_model(api):
    job = job_json(api, create(api, pig_jsonl(10))["id"])
    name = job["fine_tuned_model"]
    status, deleted = api.raw_json("DELETE", f"/v1/models/{name}")
    assert status == 200
    conforms("model.deleted", deleted)
    assert (deleted["id"], deleted["deleted"]) == (name, True)
    with pytest.raises(openai.NotFoundError):
        api.client.models.retrieve(name)
    assert name not in {m.id for m in api.client.models.list()}


def test_uploads_objects(api):
    data = pig_jsonl(10)
    status, up = api.raw_json("POST", "/v1/uploads", json_body={
        "filename": "big.jsonl", "purpose": "fine-tune", "bytes": len(data), "mime_type": "text/jsonl"})
    assert status == 200 and up["status"] == "pending"
    conforms("upload", up)
    half = len(data) // 2
    parts = [api.client.uploads.parts.with_raw_response.create(up["id"], data=chunk)
             for chunk in (data[:half], data[half:])]
    for p in parts:
        conforms("upload.part", p.http_response.json())
    status, done = api.raw_json("POST", f"/v1/uploads/{up['id']}/complete",
                                json_body={"part_ids": [p.parse().id for p in parts]})
    assert status == 200 and done["status"] == "completed"
    conforms("upload", done)
    assert api.client.files.content(done["file"]["id"]).read() == data
    status, other = api.raw_json("POST", "/v1/uploads", json_body={
        "filename": "x.jsonl", "purpose": "fine-tune", "bytes": 3, "mime_type": "text/jsonl"})
    status, cancelled = api.raw_json("POST", f"/v1/uploads/{other['id']}/cancel")
    assert cancelled["status"] == "cancelled"
    conforms("upload", cancelled)

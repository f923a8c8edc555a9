"""Fine-tuning jobs on every target: synchronous create errors and the job list's cursor paging."""

from __future__ import annotations

import itertools

import openai
import pytest

from tests.contract.support import conforms, error_of, pig_jsonl

MODEL = "gpt-4o-mini-2024-07-18"


def test_create_with_unknown_training_file_is_400(api):
    err = error_of(api.raw_json("POST", "/v1/fine_tuning/jobs", json_body={
        "training_file": "file-doesnotexist000000000", "model": MODEL}), 400)
    assert (err["type"], err["param"]) == ("invalid_request_error", "training_file")
    assert err["message"] == "invalid training_file: file-doesnotexist000000000"
    with pytest.raises(openai.BadRequestError) as e:
        api.client.fine_tuning.jobs.create(training_file="file-doesnotexist000000000", model=MODEL)
    assert e.value.param == "training_file"


def test_create_with_unknown_model_is_400(api):
    f, _ = api.upload(pig_jsonl(10))
    with pytest.raises(openai.BadRequestError) as e:
        api.client.fine_tuning.jobs.create(training_file=f.id, model="gpt-not-a-model")
    conforms("error", e.value.response.json())
    assert e.value.type == "invalid_request_error"
    assert e.value.body["message"].startswith("Model gpt-not-a-model is not available for fine-tuning")


def test_job_list_envelope_and_paging(api):
    made = []
    if api.emulator:
        f, _ = api.upload(pig_jsonl(10))
        made = [api.client.fine_tuning.jobs.create(training_file=f.id, model=MODEL).id for _ in range(3)]
    status, page = api.raw_json("GET", "/v1/fine_tuning/jobs?limit=2")
    assert status == 200
    conforms("list.jobs", page)
    assert len(page["data"]) <= 2 and isinstance(page["has_more"], bool)
    if page["has_more"]:
        after = page["data"][-1]["id"]
        status, nxt = api.raw_json("GET", f"/v1/fine_tuning/jobs?limit=2&after={after}")
        conforms("list.jobs", nxt)
        assert not {j["id"] for j in nxt["data"]} & {j["id"] for j in page["data"]}
    jobs = list(itertools.islice(api.client.fine_tuning.jobs.list(limit=1), 6))
    assert len({j.id for j in jobs}) == len(jobs)
    assert [j.created_at for j in jobs] == sorted((j.created_at for j in jobs), reverse=True)
    if api.emulator:   # a fresh tenant: auto-paging ends by itself, newest first
        assert [j.id for j in api.client.fine_tuning.jobs.list(limit=1)] == made[::-1]


@pytest.mark.emulator_only
def test_unknown_parameter_is_named(api):
    err = error_of(api.raw_json("POST", "/v1/fine_tuning/jobs", json_body={
        "training_file": "file-x", "model": MODEL, "n_epochs": 3}), 400)
    assert (err["code"], err["param"]) == ("unknown_parameter", "n_epochs")

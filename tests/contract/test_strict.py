"""A strict SDK client (`_strict_response_validation=True`) through a whole fine-tuning life.

Every other contract test's SDK client is strict too (see `Api` in conftest); this one walks upload → job →
poll → events → checkpoints → chat → delete with nothing but SDK calls, so any drift from the SDK's own
types fails here first. The nox sessions run it under openai 1.x and 2.x as well (`noxfile.py`).
"""

from __future__ import annotations

import io

import openai
import pytest

from tests.contract.support import pig_jsonl

pytestmark = pytest.mark.emulator_only
MODEL = "gpt-3.5-turbo-0613"


def test_strict_client_through_a_whole_job(api):
    client = api.client
    assert client._strict_response_validation is True
    f = client.files.create(file=("train.jsonl", io.BytesIO(pig_jsonl(10))), purpose="fine-tune")
    assert client.files.retrieve(f.id).id == f.id
    assert f.id in {x.id for x in client.files.list(purpose="fine-tune")}
    job = client.fine_tuning.jobs.create(training_file=f.id, model=MODEL, suffix="strict")
    assert job.error is None and job.status == "validating_files"
    job = client.fine_tuning.jobs.retrieve(job.id)             # immediate transitions: the end state
    assert (job.status, job.error) == ("succeeded", None)
    assert job.id in {j.id for j in client.fine_tuning.jobs.list(limit=5)}
    events = list(client.fine_tuning.jobs.list_events(job.id, limit=100))
    assert events[0].message == "The job has successfully completed"
    checkpoints = list(client.fine_tuning.jobs.checkpoints.list(job.id))
    assert checkpoints and checkpoints[0].fine_tuned_model_checkpoint == job.fine_tuned_model
    assert client.models.retrieve(job.fine_tuned_model).id == job.fine_tuned_model
    chat = client.chat.completions.create(model=job.fine_tuned_model,
                                          messages=[{"role": "user", "content": "体重何キロ?"}])
    assert chat.choices[0].message.content
    stream = client.chat.completions.create(model=job.fine_tuned_model, stream=True,
                                            stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": "体重何キロ?"}])
    assert [c for c in stream if not c.choices][0].usage.total_tokens > 0
    assert client.models.delete(job.fine_tuned_model).deleted is True
    assert client.files.delete(f.id).deleted is True


def test_strict_client_on_failed_and_cancelled_jobs(api):
    client = api.client
    few = client.files.create(file=("few.jsonl", io.BytesIO(pig_jsonl(3))), purpose="fine-tune")
    failed = client.fine_tuning.jobs.retrieve(client.fine_tuning.jobs.create(training_file=few.id, model=MODEL).id)
    assert failed.status == "failed" and failed.error.code == "invalid_n_examples"
    api.policy("manual", 1.0)
    ok = client.files.create(file=("ok.jsonl", io.BytesIO(pig_jsonl(10))), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(training_file=ok.id, model=MODEL)
    assert client.fine_tuning.jobs.cancel(job.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.cancel(job.id)

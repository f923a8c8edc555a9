"""A job's training file is read with the job (jobs.store.read_job: one joined statement) when the read that
validates it comes from a retrieve or an events page; the outcome is the one a read of its own gave: a file
deleted (or never the tenant's) before validation fails the job, a live one trains it, on either read path."""

from __future__ import annotations

import pytest

from mockserver.testing import Emulator
from tests.conftest import pig_jsonl


@pytest.fixture
def emu():
    with Emulator(transitions="immediate") as e:
        yield e


def _job(emu: Emulator, *, validation: bool = False):
    client = emu.client()
    train = client.files.create(file=("train.jsonl", pig_jsonl(10)), purpose="fine-tune")
    valid = client.files.create(file=("valid.jsonl", pig_jsonl(10)), purpose="fine-tune") if validation else None
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=train.id,
                                         validation_file=valid.id if valid else None)
    return client, train, job


@pytest.mark.parametrize("validation", [False, True], ids=["joined read", "read of its own"])
@pytest.mark.parametrize("poll", ["retrieve", "events"])
def test_a_training_file_deleted_before_validation_fails_the_job(emu: Emulator, validation: bool, poll: str) -> None:
    client, train, job = _job(emu, validation=validation)
    client.files.delete(train.id)
    if poll == "events":
        client.fine_tuning.jobs.list_events(job.id)
    job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "failed" and job.error.code == "invalid_training_file"
    assert job.error.message == (f"The job failed due to an invalid training file. File {train.id} was deleted "
                                 "before the job could validate it.") and job.error.param == "training_file"


@pytest.mark.parametrize("validation", [False, True], ids=["joined read", "read of its own"])
def test_a_live_training_file_trains_the_job(emu: Emulator, validation: bool) -> None:
    client, _, job = _job(emu, validation=validation)
    job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded" and job.trained_tokens

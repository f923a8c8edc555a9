"""A job's training file is read with the job (jobs.store.read_job: one joined statement) when the read that
validates it comes from a retrieve or an events page; the outcome is the one a read of its own gave: a file
deleted (or never the tenant's) before validation fails the job, a live one trains it, on either read path."""

from __future__ import annotations

import openai
import pytest
from sqlalchemy import update

from contracts import errors
from mockserver.jobs import store
from mockserver.tables import JobRow
from mockserver.testing import DEFAULT_KEY, Emulator
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


def test_the_joined_read_is_the_tenants_own(emu: Emulator) -> None:
    """read_job (the job and its training file in one statement) finds a job of its tenant only, and joins
    the training file only when it is the job's tenant's: another tenant's objects are ones that do not exist."""
    client, train, job = _job(emu)
    keys = emu.services.keys
    mine, theirs = (keys.authenticate(f"Bearer {k}").key for k in (DEFAULT_KEY, DEFAULT_KEY + "-other"))
    with emu.services.db.engine.connect() as conn:
        assert store.read_job(conn, tenant=mine, job_id=job.id).training is not None
        with pytest.raises(errors.NotFound):
            store.read_job(conn, tenant=theirs, job_id=job.id)
    other = emu.client(api_key=DEFAULT_KEY + "-other", max_retries=0)
    for read in (other.fine_tuning.jobs.retrieve, other.fine_tuning.jobs.list_events,
                 other.fine_tuning.jobs.checkpoints.list):
        with pytest.raises(openai.NotFoundError) as e:
            read(job.id)
        assert e.value.status_code == 404 and e.value.body["param"] == "fine_tuning_job_id"
    with emu.services.db.transaction() as conn:   # a job of the other tenant naming this tenant's file
        conn.execute(update(JobRow.__table__).where(JobRow.__table__.c.id == job.id).values(tenant=theirs))
    with emu.services.db.engine.connect() as conn:
        found = store.read_job(conn, tenant=theirs, job_id=job.id)
    assert found.row.id == job.id and found.row.training_file == train.id and found.training is None

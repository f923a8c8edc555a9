"""State survives an app restart on the same data dir (in-process: a new app over the same files)."""

from __future__ import annotations

import io

from mockserver.settings import Settings
from mockserver.testing import Emulator
from tests.conftest import pig_jsonl


def test_objects_survive_restart(tmp_path):
    settings = Settings(data_dir=tmp_path, transitions="immediate")
    with Emulator(settings) as emu:
        c = emu.client()
        f = c.files.create(file=("t.jsonl", io.BytesIO(pig_jsonl())), purpose="fine-tune")
        job = c.fine_tuning.jobs.retrieve(c.fine_tuning.jobs.create(training_file=f.id, model="gpt-3.5-turbo-0613").id)
        events = [e.id for e in c.fine_tuning.jobs.list_events(job.id, limit=100)]
    with Emulator(settings) as emu:
        c = emu.client()
        assert c.files.content(f.id).read() == pig_jsonl()
        again = c.fine_tuning.jobs.retrieve(job.id)
        assert (again.status, again.fine_tuned_model, again.trained_tokens) == ("succeeded", job.fine_tuned_model,
                                                                                job.trained_tokens)
        assert [e.id for e in c.fine_tuning.jobs.list_events(job.id, limit=100)] == events
        assert c.models.retrieve(job.fine_tuned_model).id == job.fine_tuned_model


def test_running_job_resumes_after_restart(tmp_path):
    settings = Settings(data_dir=tmp_path, transitions="manual", time_scale=1.0)
    with Emulator(settings) as emu:
        c = emu.client()
        f = c.files.create(file=("t.jsonl", io.BytesIO(pig_jsonl())), purpose="fine-tune")
        job = c.fine_tuning.jobs.create(training_file=f.id, model="gpt-3.5-turbo-0613")
        emu.advance(100)
        assert c.fine_tuning.jobs.retrieve(job.id).status == "running"
    with Emulator(settings) as emu:
        emu.advance(10_000)
        assert emu.client().fine_tuning.jobs.retrieve(job.id).status == "succeeded"

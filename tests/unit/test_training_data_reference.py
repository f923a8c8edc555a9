"""A job's models answer from their training file's bytes by reference, never a copy: the data-dir store
and the PostgreSQL blob store hold one copy of the bytes whatever the number of jobs on the file, deleting
the file keeps them while a job names it, and a file no job names loses its bytes on deletion."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.testing import Emulator
from tests.conftest import pig_jsonl


@pytest.fixture(params=["data-dir", "database"])
def emu(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Emulator]:
    if request.param == "data-dir":
        with Emulator(transitions="immediate") as e:
            yield e
        return
    from mockserver.settings import Settings
    from tests.reliability._server import pg_database_or_skip

    with pg_database_or_skip() as url, Emulator(Settings(database_url=url, data_dir=tmp_path, durable=False,
                                                           transitions="immediate")) as e:
        yield e


def _blobs(emu: Emulator) -> int:
    store = emu.services.files
    if hasattr(store, "usage"):
        return store.usage()[0]
    return sum(1 for _ in store.files_dir.iterdir())


def _ask(client, model: str) -> str:
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": "体重何キロ?"}]
                                          ).choices[0].message.content


def test_models_reference_their_training_file_and_outlive_its_deletion(emu: Emulator) -> None:
    client = emu.client()
    f = client.files.create(file=("train.jsonl", pig_jsonl(10)), purpose="fine-tune")
    before = _blobs(emu)
    jobs = [client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=f.id) for _ in range(2)]
    jobs = [client.fine_tuning.jobs.retrieve(j.id) for j in jobs]
    assert all(j.status == "succeeded" for j in jobs)
    assert _blobs(emu) == before                      # no snapshot copy (nor hard link) per job
    trained = _ask(client, jobs[0].fine_tuned_model)
    client.files.delete(f.id)
    emu.services.caches.clear()                       # answer from the bytes, not from a cached index
    assert _ask(client, jobs[1].fine_tuned_model) == trained
    assert _blobs(emu) == before                      # deletion deferred: the jobs' models still use them
    client.models.delete(jobs[0].fine_tuned_model)
    assert _ask(client, jobs[1].fine_tuned_model) == trained


def test_a_file_no_job_names_loses_its_bytes_when_deleted(emu: Emulator) -> None:
    client = emu.client()
    before = _blobs(emu)
    f = client.files.create(file=("train.jsonl", pig_jsonl(10)), purpose="fine-tune")
    assert _blobs(emu) == before + 1
    client.files.delete(f.id)
    assert _blobs(emu) == before

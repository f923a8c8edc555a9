"""A job create INSERTs its row and checks its files in one statement (owned.insert_linked): the files' refusals
are the ones the checks made first give (a missing, deleted, another tenant's or not fine-tune file, training or
validation), on SQLite and PostgreSQL; with seeded ids the files are checked first, so a refused create draws no
id and the next ids are the ones a run without it gets."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from mockserver.testing import Emulator
from tests.conftest import pig_jsonl
from tests.reliability._server import pg_database_or_skip


@contextlib.contextmanager
def _emulator(backend: str, tmp_path: Path, **settings):
    if backend == "sqlite":
        with Emulator(transitions="immediate", **settings) as emu:
            yield emu
        return
    with pg_database_or_skip() as url, Emulator(transitions="immediate", database_url=url, data_dir=tmp_path,
                                                **settings) as emu:
        yield emu


def _refusals(emu: Emulator) -> list[tuple[int, bytes]]:
    import orjson

    def upload(purpose: str, key: str = "sk-test-one") -> str:
        status, _, body = emu.request("POST", "/v1/files", api_key=key, body=(
            b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n' + purpose.encode() +
            b'\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="t.jsonl"\r\n\r\n' + pig_jsonl(10) +
            b"\r\n--b--\r\n"), headers={"content-type": "multipart/form-data; boundary=b"})
        assert status == 200, body
        return orjson.loads(body)["id"]

    good, batch, other_tenant, deleted = upload("fine-tune"), upload("batch"), upload("fine-tune", "sk-test-two"), \
        upload("fine-tune")
    assert emu.request("DELETE", f"/v1/files/{deleted}", api_key="sk-test-one")[0] == 200
    out = []
    for training, validation in [("file-nothere", None), (batch, None), (other_tenant, None), (deleted, None),
                                 (good, "file-nothere"), (good, batch), (good, deleted), ("file-nothere", batch),
                                 (good, None), (good, good)]:
        body = {"model": "gpt-4o-mini-2024-07-18", "training_file": training} | (
            {"validation_file": validation} if validation else {})
        status, _, answer = emu.request("POST", "/v1/fine_tuning/jobs", api_key="sk-test-one", json=body)
        out.append((status, orjson.loads(answer)["error"] if status != 200 else orjson.loads(answer)["status"]))
    names = {good: "<good>", batch: "<batch>", other_tenant: "<other tenant's>", deleted: "<deleted>"}
    for _, answer in out:   # the ids are random: named by what they are
        if isinstance(answer, dict):
            for file_id, name in names.items():
                answer["message"] = answer["message"].replace(file_id, name)
    return out


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_refusals_are_the_checks_ones(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.jobs import store

    with _emulator(backend, tmp_path) as emu:
        folded = _refusals(emu)
    checked_first = []
    real = store.create_job

    def first(s, svc, *, tenant, req):
        store._check_files(s, tenant, req)
        return real(s, svc, tenant=tenant, req=req)

    monkeypatch.setattr(store, "create_job", first)
    with _emulator(backend, tmp_path / "again") as emu:
        checked_first = _refusals(emu)
    assert folded == checked_first
    assert [status for status, _ in folded] == [400] * 8 + [200, 200]
    assert {error["param"] for _, error in folded[:8]} == {"training_file", "validation_file"}


def test_a_refused_create_draws_no_seeded_id() -> None:
    def ids(refuse: bool) -> list[str]:
        with Emulator(transitions="immediate", seed=7) as emu:
            client = emu.client()
            f = client.files.create(file=("t.jsonl", pig_jsonl(10)), purpose="fine-tune")
            if refuse:
                status, _, _ = emu.request("POST", "/v1/fine_tuning/jobs", json={
                    "model": "gpt-4o-mini-2024-07-18", "training_file": "file-nothere"})
                assert status == 400
            job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=f.id)
            return [job.id, str(job.seed), client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model]
    assert ids(True) == ids(False)

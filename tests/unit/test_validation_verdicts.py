"""Validation verdicts are kept per file, and a small file's passing verdict per digest of its bytes: a suite
uploading the same fixture file for every test validates it once; a failing verdict (its message names the
file) is never lent to another file."""

from __future__ import annotations

import pytest

from contracts.dataset import validation
from mockserver.testing import Emulator
from tests.conftest import pig_jsonl


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = validation.validate_file

    def counting(path, **options):
        seen.append(options["file_id"])
        return real(path, **options)

    monkeypatch.setattr(validation, "validate_file", counting)
    return seen


def _job(client, data: bytes):
    f = client.files.create(file=("train.jsonl", data), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=f.id)
    return f.id, client.fine_tuning.jobs.retrieve(job.id)


def test_identical_small_files_are_validated_once_and_failures_never_shared(runs: list[str]) -> None:
    bad = pig_jsonl(3)   # under the 10-example minimum
    with Emulator() as emu:
        client = emu.client()
        jobs = [_job(client, pig_jsonl(10)) for _ in range(3)]
        other = _job(client, pig_jsonl(11))
        (first, a), (second, b) = _job(client, bad), _job(client, bad)
    assert [j.status for _, j in jobs] == ["succeeded"] * 3 and other[1].status == "succeeded"
    assert len({j.trained_tokens for _, j in jobs}) == 1
    assert a.status == b.status == "failed"
    # the second and third upload of the same bytes: no validation; some failure messages name their file
    # (contracts/dataset/rules.py), so each failing file gets its own
    assert runs == [jobs[0][0], other[0], first, second]

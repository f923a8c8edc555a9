"""SQL statements per call of the SDK lifecycle, pinned exactly, so they cannot silently grow (or go unreported).

A SQLAlchemy `before_cursor_execute` listener counts every statement the emulator sends (the raw path,
mockserver.db.Raw, reports each of its statements to the engine's listeners as Core does) for each call of
the lifecycle `make bench` times (upload, create, the retrieve that finishes the job, list events, one chat
completion on the fine-tuned model) and for a 10,000-step job's create / finish / first and last event
pages (the per-process caches' generation read, mockserver.cache, included: on this SQLite file it is skipped
while the stamp beside the database is unchanged, which it is here, as nothing in the lifecycle bumps it). Lower
a pin when a change saves a statement; a change that needs one more must say why.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event

from mockserver.testing import Emulator
from tests.conftest import pig_jsonl

# Stored history (main at 994f866): upload 2, create 5, finish 18, events 4, chat 3 (32 per lifecycle).
# Derived history (9bb7f49): finish 9, events 3. Then a finish no longer bumps the cache generation (no cache holds
# a negative answer for a model), so it writes one statement less and the clock policy stays cached: events 2.
# Then (i16) a call reads the cache generation once (the clock policy and the validation verdicts share its view), on
# the caches' own connection rather than a statement of the session's: finish 6.
# Then the generation stamp (ab64b70): the generation statement is skipped while nothing was bumped, one less per call.
# Then the job and its training file in one joined read (jobs.store.read_job): finish 4.
# Then the row of a job that has ended kept in the caches (jobs.routes._on_job) once a read saw it ended: the last
# page 0; the first events page still reads it here (this first job is finished on a worker thread, which does not
# keep it), and reads nothing in a warm lifecycle, whose finish runs on the loop and keeps it.
# Then the create's file check folded into its INSERT (owned.insert_linked; checked first with seeded ids): create 1.
LIFECYCLE = {"upload": 1, "create": 1, "finish": 4, "events": 1, "chat": 3}  # chat: one joined read of the model and its plan
BIG_JOB = {"create": 1, "finish": 4, "first page": 1, "last page": 0}


class Counter:
    """Statements through the engine plus the generation reads the caches send on connections of their own."""

    def __init__(self, emu: Emulator) -> None:
        self.n = 0
        self.caches = emu.services.caches
        self.direct = self.caches.direct_reads
        event.listen(emu.services.db.engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, *args) -> None:
        self.n += 1

    def take(self) -> int:
        direct = self.caches.direct_reads
        n, self.n, self.direct = self.n + direct - self.direct, 0, direct
        return n


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch):
    with Emulator(transitions="immediate") as e:
        yield e


def _calls(emu: Emulator, data: bytes, hyperparameters: dict) -> dict[str, int]:
    client = emu.client()
    counter = Counter(emu)
    out = {}
    f = client.files.create(file=("train.jsonl", data), purpose="fine-tune")
    out["upload"] = counter.take()
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=f.id,
                                         hyperparameters=hyperparameters)
    out["create"] = counter.take()
    job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded"
    out["finish"] = counter.take()
    first = client.fine_tuning.jobs.list_events(job.id, limit=20)
    out["events"] = counter.take()
    assert first.has_more or len(first.data) < 20
    return out | {"job": job.id, "model": job.fine_tuned_model}  # type: ignore[dict-item]


def test_lifecycle_statement_counts(emu: Emulator) -> None:
    out = _calls(emu, pig_jsonl(10), {})
    counter = Counter(emu)
    emu.client().chat.completions.create(model=out.pop("model"), messages=[{"role": "user", "content": "体重何キロ?"}])
    out["chat"] = counter.take()
    out.pop("job")
    assert out == LIFECYCLE, json.dumps(out)   # exact: a statement that went unreported would show


def test_a_10000_step_job_costs_the_statements_of_a_100_step_one(emu: Emulator) -> None:
    out = _calls(emu, pig_jsonl(1000), {"n_epochs": 10, "batch_size": 1})
    job = out.pop("job")
    out.pop("model")
    client = emu.client()
    counter = Counter(emu)
    page = client.fine_tuning.jobs.list_events(job, limit=20)
    while page.has_more:   # walk to the last page by cursor; only the last one is counted
        counter.take()
        page = client.fine_tuning.jobs.list_events(job, limit=100, after=page.data[-1].id)
    assert page.data[-1].message == f"Created fine-tuning job: {job}"
    big = {"create": out["create"], "finish": out["finish"], "first page": out["events"], "last page": counter.take()}
    assert big == BIG_JOB, json.dumps(big)

"""How a batch keeps its answers in the blob store (mockserver.batches.runner): one (output, error) part
per committed step, joined into the result files at the end; a step that loses its race leaves no part;
a batch from before parts (one partial file each, `out_path`/`err_path`) finishes with those lines first.
Runs on the data-dir store; tests/reliability/test_replicas.py runs a batch on PostgreSQL's."""

from __future__ import annotations

import io
import json

from sqlalchemy import update
from sqlmodel import select

from mockserver.batches import runner, store
from mockserver.files.blobs import referenced_keys
from mockserver.tables import BatchRow


def _batch(client, n: int, *, bad: int | None = None):
    def body(i: int) -> dict:
        extra = {"temperature": 5} if i == bad else {}
        return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"q{i}"}], **extra}
    lines = "".join(json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions",
                                "body": body(i)}) + "\n" for i in range(n))
    f = client.files.create(file=("b.jsonl", io.BytesIO(lines.encode())), purpose="batch")
    return client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")


def _row(emu, batch_id: str) -> BatchRow:
    with emu.services.db.session() as s:
        return s.exec(select(BatchRow).where(BatchRow.id == batch_id)).one()


def _stored(emu) -> set[str]:
    """Every blob in the data dir, against the keys rows name: no part may be left unnamed."""
    files = emu.services.files
    on_disk = {f"files/{p.name}" for p in files.files_dir.iterdir()}
    with emu.services.db.session() as s:
        known = referenced_keys(s)
    assert on_disk == known, (sorted(on_disk - known), sorted(known - on_disk))
    assert not any(files.tmp_dir.iterdir())
    return on_disk


def _ids(client, file_id: str | None) -> list[str]:
    return [json.loads(x)["custom_id"] for x in client.files.content(file_id).read().splitlines()] if file_id else []


def test_each_step_is_a_part_and_the_end_joins_them(paced):
    emu, wall = paced
    client = emu.client()
    batch = _batch(client, 12, bad=5)
    wall.t += 5.0 + 1.0                  # validated, 4 answered
    client.batches.retrieve(batch.id)
    wall.t += 1.0                        # 4 more, a second step
    client.batches.retrieve(batch.id)
    parts = _row(emu, batch.id).segments
    assert len(parts) == 2 and parts[0][1] is None and parts[1][1] is not None   # r5 failed in step two
    assert {k for p in parts for k in p if k} <= _stored(emu)
    wall.t += 1.0 + 5.0
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed" and (done.request_counts.completed, done.request_counts.failed) == (11, 1)
    assert _ids(client, done.output_file_id) == [f"r{i}" for i in range(12) if i != 5]
    assert _ids(client, done.error_file_id) == ["r5"]
    assert _row(emu, batch.id).segments is None
    assert not any("-batchout-" in k or k.startswith("files/batchout-") for k in _stored(emu))


def test_a_step_that_loses_its_race_removes_its_parts(paced, monkeypatch):
    """A step's compare-and-set fails (another process changed the row): its parts go, and the requests
    are answered again by the next step, once each in the output."""
    emu, wall = paced
    client = emu.client()
    batch = _batch(client, 6)
    lost = []
    real = store.cas

    def flaky(s, row, **changes):
        if "segments" in changes and changes["segments"] and not lost:
            lost.append(changes["segments"][-1])
            return False
        return real(s, row, **changes)

    monkeypatch.setattr(store, "cas", flaky)
    wall.t += 5.0 + 1.5 + 5.0
    assert client.batches.retrieve(batch.id).status == "in_progress"   # the lost step ended that read
    stored = _stored(emu)
    assert lost and not any(k in stored for k in lost[0] if k)
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed" and _ids(client, done.output_file_id) == [f"r{i}" for i in range(6)]
    _stored(emu)


def test_a_batch_from_before_parts_finishes_with_its_partial_files(paced):
    """A row as an emulator before revision 0005 left it: its answers appended to `out_path`/`err_path`."""
    emu, wall = paced
    client = emu.client()
    batch = _batch(client, 6)
    wall.t += 5.0 + 1.0
    assert client.batches.retrieve(batch.id).request_counts.completed == 4
    row = _row(emu, batch.id)
    files = emu.services.files
    (out_key,) = [k for k, _ in row.segments]
    with files.open(out_key) as f:
        legacy = files.write_bytes(f"batchout-{batch.id}", f.read())
    empty = files.write_bytes(f"batcherr-{batch.id}", b"")
    files.remove(out_key)
    with emu.services.db.session() as s:
        s.execute(update(BatchRow).where(BatchRow.id == batch.id)
                  .values(segments=None, out_path=legacy, err_path=empty, version=row.version + 1))
    _stored(emu)
    wall.t += 5.0 + 5.0
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed" and done.error_file_id is None
    assert _ids(client, done.output_file_id) == [f"r{i}" for i in range(6)]
    assert files.stat(legacy) is None and files.stat(empty) is None
    _stored(emu)


def test_two_reads_at_once_answer_once(paced):
    """Concurrent reads of one batch: the database lock lets one answer, the other reports the batch."""
    import asyncio

    emu, wall = paced
    client = emu.client()
    batch = _batch(client, 8)
    wall.t += 5.0 + 5.0

    async def both():
        return await asyncio.gather(*(runner.advance(emu.services, tenant=_row(emu, batch.id).tenant,
                                                     batch_id=batch.id) for _ in range(2)))
    rows = asyncio.run(both())   # the first holds the lock through its awaits; the second reports at once
    assert [r.status for r in rows] == ["finalizing", "validating"]
    wall.t += 5.0
    done = client.batches.retrieve(batch.id)
    assert _ids(client, done.output_file_id) == [f"r{i}" for i in range(8)]
    _stored(emu)

"""Batches and background responses under `realtime`, on a wall clock the test moves (no sleeping)."""

from __future__ import annotations

import io
import json


def _batch(client, n: int):
    lines = "".join(json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions", "body": {
        "model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"q{i}"}]}}) + "\n" for i in range(n))
    f = client.files.create(file=("b.jsonl", io.BytesIO(lines.encode())), purpose="batch")
    return client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")


def test_batch_moves_with_the_clock(paced):
    emu, wall = paced
    client = emu.client()
    batch = _batch(client, 20)           # validating 5 s, 0.25 s per request, finalizing 5 s (wall time)
    seen = []
    for step in (2.5, 3.0, 1.25, 1.25, 2.5, 2.5, 2.5):
        wall.t += step
        b = client.batches.retrieve(batch.id)
        seen.append((b.status, b.request_counts.completed))
    assert seen == [("validating", 0), ("in_progress", 2), ("in_progress", 7), ("in_progress", 12),
                    ("finalizing", 20), ("finalizing", 20), ("completed", 20)]
    done = client.batches.retrieve(batch.id)
    assert (done.in_progress_at - done.created_at, done.finalizing_at - done.in_progress_at,
            done.completed_at - done.finalizing_at) == (5, 5, 5)


def test_background_response_finishes_after_its_time(paced):
    emu, wall = paced
    client = emu.client()
    r = client.responses.create(model="gpt-4o-mini", input="later", background=True)
    wall.t += 2.5                        # 10 simulated seconds take 5 s here
    assert client.responses.retrieve(r.id).status == "queued"
    wall.t += 3.0
    done = client.responses.retrieve(r.id)
    assert done.status == "completed" and done.output_text and done.usage.output_tokens > 0


def test_cancel_while_validating_leaves_no_files(paced):
    emu, wall = paced
    client = emu.client()
    batch = _batch(client, 3)
    assert client.batches.cancel(batch.id).status == "cancelling"
    wall.t += 10.0                       # cancelling lasts 30 simulated seconds: 15 s here
    assert client.batches.retrieve(batch.id).status == "cancelling"
    wall.t += 5.0
    done = client.batches.retrieve(batch.id)
    assert done.status == "cancelled" and done.output_file_id is None and done.error_file_id is None
    assert done.request_counts.total == 0 and done.cancelled_at - done.cancelling_at == 15

"""Record → replay → drift, end to end over loopback (the issue's "Done when").

Emulator A plays the upstream; emulator B (`--upstream A --record DIR`) records the seeds' workflow run
through it with the official SDK: two uploads, two jobs (the pig data, and a file with one over-long
example), polls, events, chat with and without streaming, an unknown job. Then:

* no file under DIR holds the API key;
* `--replay DIR` serves the same workflow the same responses, byte for byte;
* `ftclient drift DIR` against A restarted with the recording's settings reports nothing, and against A
  restarted with `--over-limit truncate` and a ~27× slower clock names exactly those two changes.
"""

from __future__ import annotations

import io
import json
import secrets
import time
from pathlib import Path

import httpx2
import openai
import pytest

from client import cli as ftclient
from tests.conftest import chat_line, pig_jsonl
from tests.record._serve import served

pytestmark = pytest.mark.xdist_group("record-roundtrip")

FAST, SLOW = 4000.0, 150.0      # time scales: the recording's, and the drift target's (~27× slower)
OVER_LONG = chat_line("hello " * 5000, "ok")   # > 4096 tokens for gpt-3.5-turbo-0613


class Tap(httpx2.HTTPTransport):
    """Keeps every (method, path, status, body bytes) the SDK received."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str, int, bytes]] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        r = super().handle_request(request)
        body = r.read()
        self.seen.append((request.method, request.url.raw_path.decode(), r.status_code, body))
        return httpx2.Response(r.status_code, headers=r.headers, content=body, request=request)


def workflow(base_url: str, key: str) -> list[tuple[str, str, int, bytes]]:
    tap = Tap()
    client = openai.OpenAI(api_key=key, base_url=base_url, max_retries=0, http_client=httpx2.Client(transport=tap))
    pig = client.files.create(file=("pig.jsonl", io.BytesIO(pig_jsonl(10))), purpose="fine-tune")
    long = client.files.create(file=("long.jsonl", io.BytesIO(pig_jsonl(9) + OVER_LONG.encode())),
                               purpose="fine-tune")
    jobs, done = [], {}
    for f in (pig, long):        # one after the other: a job's recorded duration is its own
        job = client.fine_tuning.jobs.create(training_file=f.id, model="gpt-3.5-turbo-0613")
        jobs.append(job)
        deadline = time.monotonic() + 120
        while job.status not in ("succeeded", "failed", "cancelled") and time.monotonic() < deadline:
            time.sleep(0.03)
            job = client.fine_tuning.jobs.retrieve(job.id)
        done[job.id] = job
    assert all(j.status in ("succeeded", "failed") for j in done.values()), "jobs did not finish"
    for j in jobs:
        list(client.fine_tuning.jobs.list_events(j.id, limit=100))      # auto-paging: an `after` cursor
    model = done[jobs[0].id].fine_tuned_model
    messages = [{"role": "system", "content": "何言われてもぶひと答えて"}, {"role": "user", "content": "体重何キロ?"}]
    assert client.chat.completions.create(model=model, messages=messages).choices[0].message.content == "500キロぶひ!"
    stream = client.chat.completions.create(model=model, messages=messages, stream=True,
                                            stream_options={"include_usage": True})
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "500キロぶひ!"
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.retrieve("ftjob-doesnotexist")
    client.close()
    return tap.seen


def drift(base_url: str, cassettes: Path, report: Path, *extra: str) -> tuple[int, str]:
    code = ftclient.main(["--base-url", base_url, "drift", str(cassettes), "--report", str(report), *extra])
    return code, report.read_text()


def test_record_replay_drift(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cassettes = tmp_path / "cassettes"
    key = "sk-roundtrip-" + secrets.token_hex(12)
    with served(tmp_path / "a", time_scale=FAST) as a, \
            served(tmp_path / "b", upstream=a, record=cassettes) as b:
        recorded = workflow(b, key)

    # 1. the cassettes: one per exchange, readable, and no key anywhere
    files = sorted(cassettes.glob("*.json"))
    assert len(files) == len(recorded)
    for f in [*files, *(cassettes / "blobs").iterdir()]:
        assert key.encode() not in f.read_bytes(), f
    first = json.loads(files[0].read_text())
    assert first["operation"] == "files.create" and first["request"]["headers"]["authorization"] == "<redacted>"
    assert first["request"]["body"]["multipart"]["fields"] == {"purpose": "fine-tune"}

    # 2. replay: the same workflow gets the same bytes
    with served(tmp_path / "r", replay=cassettes) as r:
        replayed = workflow(r, key)
    assert [x[:3] for x in replayed] == [x[:3] for x in recorded]
    assert replayed == recorded

    # 3. drift against A restarted with the recording's settings: nothing
    with served(tmp_path / "a1", time_scale=FAST) as a:
        code, text = drift(a, cassettes, tmp_path / "same.md")
    assert code == 0 and "**0 differences**" in text, text

    # … and with --over-limit truncate and a ~27× slower clock: exactly those
    with served(tmp_path / "a2", time_scale=SLOW, over_limit="truncate") as a:
        code, text = drift(a, cassettes, tmp_path / "drift.md")
    capsys.readouterr()
    assert code == 1, text
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| ") and "differs" in line]
    kinds = {(row[0].removeprefix("| "), row[1].strip("`")) for row in rows}
    assert ("outcome", "final job status") in kinds, text                  # the over-long job now succeeds
    assert ("duration", "job creation → seen finished") in kinds, text     # the pig job runs ~27× slower
    assert {k for k, _ in kinds} <= {"outcome", "duration", "event", "enum"}, text
    events = [s for k, s in kinds if k == "event"]
    assert any("exceeds the maximum" in s for s in events), text           # the failure wording is gone
    assert all("exceeds the maximum" in s or "truncated" in s for s in events), text
    assert {s for k, s in kinds if k == "enum"} <= {"data[].level=error", "data[].level=warn"}, text

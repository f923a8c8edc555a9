"""Derived history equals what the stored-history implementation wrote, job for job.

`history_golden.json` was recorded by the implementation that stored every event, checkpoint and results
file (`python tests/unit/test_history_golden.py > tests/unit/history_golden.json`, run on main at 9118974):
for each scenario below, every event (oldest first), every checkpoint and the results file's bytes, with
ids left out (they were random draws then; now they are derived from the job id and stay stable). The
scenarios cover immediate runs, a validation file and explicit hyperparameters, realtime steps under a
manual clock with a pause/resume and a time-scale change mid-run, a forced failure while running, a
cancel mid-run, and a job large enough to thin its metrics events.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import orjson
import pytest
from sqlalchemy import update

from mockserver.tables import JobRow
from mockserver.testing import Emulator
from tests.conftest import pig_jsonl

GOLDEN = Path(__file__).with_name("history_golden.json")
WALL = 1_750_000_000.0


def _post(emu: Emulator, path: str, body: dict) -> dict:
    status, _, raw = emu.request("POST", path, json=body)
    assert status == 200, raw
    return orjson.loads(raw)


def _get(emu: Emulator, path: str) -> dict:
    status, _, raw = emu.request("GET", path)
    assert status == 200, raw
    return orjson.loads(raw) if path.endswith("/content") is False else raw


def _upload(emu: Emulator, data: bytes) -> str:
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.jsonl\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    status, _, raw = emu.request("POST", "/v1/files", body=body,
                                 headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert status == 200, raw
    return orjson.loads(raw)["id"]


def _record(emu: Emulator, job_id: str) -> dict:
    job = _get(emu, f"/v1/fine_tuning/jobs/{job_id}")
    events, after = [], None
    while True:
        page = _get(emu, f"/v1/fine_tuning/jobs/{job_id}/events?limit=100" + (f"&after={after}" if after else ""))
        events += page["data"]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    events.reverse()
    ckpts = _get(emu, f"/v1/fine_tuning/jobs/{job_id}/checkpoints?limit=10")["data"]
    out = {"status": job["status"], "finished_at": job["finished_at"], "trained_tokens": job["trained_tokens"],
           "events": [{k: v for k, v in e.items() if k != "id"} for e in events],
           "checkpoints": [{k: v for k, v in c.items() if k != "id"} for c in ckpts]}
    for fid in job["result_files"]:
        meta = _get(emu, f"/v1/files/{fid}")
        status, _, content = emu.request("GET", f"/v1/files/{fid}/content")
        assert status == 200
        assert meta["bytes"] == len(content)
        out["results"] = {"bytes": meta["bytes"], "filename": meta["filename"], "purpose": meta["purpose"],
                          "sha256": hashlib.sha256(content).hexdigest()}
    if len(out["events"]) > 60:   # keep the file small: the long middle of a big job as a digest
        middle = out["events"][20:-20]
        out["events"] = out["events"][:20] + [{"digest": hashlib.sha256(orjson.dumps(middle)).hexdigest(),
                                              "n": len(middle)}] + out["events"][-20:]
    return out


def _golden_tokens() -> dict[int, str]:
    """job seed → the 8-character model token the recorded job drew (from its last events)."""
    if not GOLDEN.exists():
        return {}
    out = {}
    for rec in json.loads(GOLDEN.read_text()).values():
        names = [e["message"].rsplit(":", 1)[1] for e in rec["events"] if e.get("message", "").startswith(
            "New fine-tuned model created: ")]
        seeds = [e["message"] for e in rec["events"][:1]]
        if names and seeds:
            out[rec["events"][0]["message"]] = names[0]
    return out


def _job(emu: Emulator, training: str, **extra: object) -> str:
    """Create a job; its model token (a draw from the seeded id stream, which other changes may shift) is set
    to the recorded job's, so the derived names can be compared with the recorded ones."""
    job_id = _post(emu, "/v1/fine_tuning/jobs", {"model": "gpt-4o-mini-2024-07-18", "training_file": training,
                                                 **extra})["id"]
    token = _golden_tokens().get(f"Created fine-tuning job: {job_id}")
    if token is not None:
        with emu.services.db.session() as s:
            s.execute(update(JobRow).where(JobRow.id == job_id).values(model_token=token))
    return job_id


def scenarios() -> dict[str, dict]:
    out = {}
    with Emulator(transitions="immediate", wall=lambda: WALL) as emu:
        emu.control("seed", {"seed": 5})
        f = _upload(emu, pig_jsonl(10))
        v = _upload(emu, pig_jsonl(4))
        out["immediate"] = _record(emu, _job(emu, f, seed=11))
        out["validation_and_hyperparameters"] = _record(emu, _job(
            emu, f, validation_file=v, seed=12, hyperparameters={"n_epochs": 3, "batch_size": 2}))
        big = _upload(emu, pig_jsonl(1000))
        out["thinned"] = _record(emu, _job(emu, big, seed=13, hyperparameters={"n_epochs": 3, "batch_size": 1}))
    with Emulator(transitions="manual", wall=lambda: WALL) as emu:
        emu.control("seed", {"seed": 6})
        emu.set_transitions("manual", time_scale=1)
        f = _upload(emu, pig_jsonl(10))
        a = _job(emu, f, seed=21)
        b = _job(emu, f, seed=22, validation_file=f)
        c = _job(emu, f, seed=23)
        emu.advance(30 + 15 + 3 * 7 + 1)
        for j in (a, b, c):
            _get(emu, f"/v1/fine_tuning/jobs/{j}")
        _post(emu, f"/v1/fine_tuning/jobs/{a}/pause", {})
        _post(emu, f"/_mock/jobs/{b}/fail", {"stage": "running", "message": "boom"})
        emu.advance(10)
        _post(emu, f"/v1/fine_tuning/jobs/{c}/cancel", {})
        _post(emu, f"/v1/fine_tuning/jobs/{a}/resume", {})
        emu.advance(15 + 3 * 5)
        _get(emu, f"/v1/fine_tuning/jobs/{a}")
        emu.set_transitions("manual", time_scale=3)
        emu.advance(7)
        _get(emu, f"/v1/fine_tuning/jobs/{a}")
        emu.advance(1000)
        for name, j in (("paused_resumed_rescaled", a), ("failed_running", b), ("cancelled_running", c)):
            out[name] = _record(emu, j)
    return out


@pytest.fixture(scope="module")
def derived() -> dict[str, dict]:
    return scenarios()


@pytest.mark.parametrize("name", sorted(json.loads(GOLDEN.read_text())) if GOLDEN.exists() else [])
def test_derived_history_equals_the_stored_one(name: str, derived: dict[str, dict]) -> None:
    golden = json.loads(GOLDEN.read_text())[name]
    assert derived[name] == golden


if __name__ == "__main__":
    sys.stdout.write(json.dumps(scenarios(), indent=1, ensure_ascii=False) + "\n")

"""A schema-1 database (events and checkpoints stored as rows) opens with every id and byte a client saw.

`schema1.sql` is the `.dump` of a data dir written by the stored-history implementation (commit 59945f4):
one job that succeeded under a manual clock and one never advanced. `schema1_expected.json` is what that
implementation answered for the first job's events (both pages), checkpoints and results file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from pathlib import Path

import orjson

from mockserver.jobs import simulator
from mockserver.testing import Emulator
from tests.conftest import pig_jsonl
from tests.reliability._checks import check_events

HERE = Path(__file__).parent
EXPECTED = json.loads((HERE / "schema1_expected.json").read_text())


def _get(emu: Emulator, path: str) -> dict:
    status, _, raw = emu.request("GET", path)
    assert status == 200, raw
    return orjson.loads(raw)


def _events(emu: Emulator, job_id: str, limit: int) -> list[dict]:
    out, after = [], None
    while True:
        page = _get(emu, f"/v1/fine_tuning/jobs/{job_id}/events?limit={limit}" + (f"&after={after}" if after else ""))
        out += page["data"]
        if not page["has_more"]:
            return out
        after = page["data"][-1]["id"]


def test_schema1_database_migrates_keeping_ids(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "state.db")
    db.executescript((HERE / "schema1.sql").read_text())
    files = dict(db.execute("SELECT purpose, path FROM files"))
    db.close()
    (tmp_path / "files").mkdir()
    (tmp_path / files["fine-tune"]).write_bytes(pig_jsonl(10))
    (tmp_path / files["fine-tune-results"]).write_bytes(base64.b64encode(simulator.results_csv(3, 100, validation=False)))
    job = EXPECTED["job"]
    (tmp_path / f"files/ftdata-{job}").write_bytes(pig_jsonl(10))
    with Emulator(transitions="manual", data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'state.db'}") as emu:
        assert _events(emu, job, 100) == EXPECTED["events"]
        assert _events(emu, job, 7) == EXPECTED["events"]          # legacy ids work as cursors
        assert _get(emu, f"/v1/fine_tuning/jobs/{job}/checkpoints")["data"] == EXPECTED["checkpoints"]
        results = _get(emu, f"/v1/fine_tuning/jobs/{job}")["result_files"][0]
        status, _, content = emu.request("GET", f"/v1/files/{results}/content")
        assert status == 200 and hashlib.sha256(content).hexdigest() == EXPECTED["results_sha256"]
        other = next(j["id"] for j in _get(emu, "/v1/fine_tuning/jobs")["data"] if j["id"] != job)
        emu.advance(1000)     # the job that never ran now runs on the derived history
        done = _get(emu, f"/v1/fine_tuning/jobs/{other}")
        assert done["status"] == "succeeded"
        assert check_events(done, list(reversed(_events(emu, other, 30))))["steps"] == 100
        assert len(_get(emu, f"/v1/fine_tuning/jobs/{other}/checkpoints")["data"]) == 3

"""A job action must never be stamped earlier than the history it extends.

Two processes share one database (manual clock). A reads the clock for its call (the cache generation);
before A reads the job, B advances the clock and brings the job up to the new time. If A then read the job
and applied its action at the clock it read first, the action's event would be earlier than the events B
derived (an out-of-order history; seen once in tests/reliability/test_multiprocess.py under load). The
job is read before the clock, so A either sees B's clock too or loses the compare-and-set and retries.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from mockserver.app import create_app
from mockserver.settings import Settings
from tests.conftest import pig_jsonl

KEY = {"Authorization": "Bearer sk-race"}


def test_an_action_after_another_process_advanced_the_job_is_in_order(tmp_path: Path) -> None:
    def app():
        return create_app(Settings(data_dir=tmp_path, transitions="manual", durable=False))

    with TestClient(app()) as a, TestClient(app()) as b:
        file_id = a.post("/v1/files", headers=KEY, data={"purpose": "fine-tune"},
                         files={"file": ("t.jsonl", pig_jsonl(10))}).json()["id"]
        job = a.post("/v1/fine_tuning/jobs", headers=KEY,
                     json={"model": "gpt-4o-mini-2024-07-18", "training_file": file_id}).json()
        a.post("/_mock/clock/advance", json={"seconds": 15})
        assert a.get(f"/v1/fine_tuning/jobs/{job['id']}", headers=KEY).json()["status"] == "running"

        caches = a.app.state.services.caches
        view, raced = caches.view, []

        def view_then_race(*args, **kwargs):
            seen = view(*args, **kwargs)          # A's clock for this call
            if not raced:                         # B moves the clock and the job on, once
                raced.append(b.post("/_mock/clock/advance", json={"seconds": 3}).status_code)
                raced.append(b.get(f"/v1/fine_tuning/jobs/{job['id']}", headers=KEY).status_code)
            return seen

        caches.view = view_then_race
        assert a.post(f"/v1/fine_tuning/jobs/{job['id']}/pause", headers=KEY).status_code == 200
        assert raced == [200, 200]
        events = a.get(f"/v1/fine_tuning/jobs/{job['id']}/events?limit=100", headers=KEY).json()["data"][::-1]
        times = [e["created_at"] for e in events]
        assert events[-1]["message"] == "Fine-tuning job paused"
        assert times == sorted(times), [(e["created_at"], e["message"]) for e in events[-4:]]

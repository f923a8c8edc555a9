"""The lifecycle benchmark's SDK floor replays the emulator's own answers: what it records must be the five
answers of one real lifecycle, and replaying them must carry the SDK through the same lifecycle."""

from __future__ import annotations

import json

import pytest

from bench import canned, data
from bench.lifecycle import helper_floor, helper_record

pytest.importorskip("httpx2")


def test_record_keeps_each_route_answer_as_the_emulator_gave_it():
    recorded = helper_record(data.small_file(10))
    assert [r[0] for r in recorded] == [200] * 5
    bodies = [json.loads(r[2]) for r in recorded]
    assert [b["object"] for b in bodies] == ["file", "fine_tuning.job", "fine_tuning.job", "list", "chat.completion"]
    assert bodies[2]["status"] == "succeeded" and bodies[4]["model"] == bodies[2]["fine_tuned_model"]
    assert len(bodies[3]["data"]) == 20 and bodies[3]["has_more"]   # a real first page, not a short canned one
    for _status, headers, body in recorded:
        names = {k for k, _ in headers}
        assert {"content-type", "x-request-id", "content-length"} <= names
        assert dict(headers)["content-length"] == str(len(body.encode("latin-1")))


def test_replay_answers_by_route_and_refuses_the_rest():
    recorded = [[200, [["content-type", "application/json"]], json.dumps({"n": i})] for i in range(5)]
    answer = canned.replay(recorded)
    assert json.loads(answer("GET", "/v1/fine_tuning/jobs/ftjob-x/events")[2]) == {"n": 3}
    assert json.loads(answer("GET", "/v1/fine_tuning/jobs/ftjob-x")[2]) == {"n": 2}
    assert answer("DELETE", "/v1/files/file-x")[0] == 404


def test_the_floor_runs_the_lifecycle_on_recorded_answers(tmp_path):
    training = data.small_file(10)
    path = tmp_path / "recorded.json"
    path.write_text(json.dumps(helper_record(training)))
    out = helper_floor(3, training, path)
    assert len(out["ms"]) == 3 and out["cpu_ms"] > 0

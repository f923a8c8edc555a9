"""contracts.drift: what counts as a difference, the allow-list, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from client import cli as ftclient
from contracts import cassette
from contracts.cassette import Exchange
from contracts.drift import AllowList, Difference, Step, compare, render_markdown


def ex(body: object, *, status: int = 200, path: str = "/v1/files/file-" + "a" * 24, method: str = "GET",
       headers: dict[str, str] | None = None, at: float = 0.0) -> Exchange:
    pairs = [["content-type", "application/json"], *([k, v] for k, v in (headers or {}).items())]
    return Exchange(seq=1, method=method, path=path, query="", request_headers=[], request_body=None,
                    status=status, response_headers=pairs,
                    response_body=cassette.encode_body(json.dumps(body).encode(), "application/json"),
                    started_at=at)


FILE = {"id": "file-" + "a" * 24, "object": "file", "bytes": 10, "created_at": 1, "filename": "a.jsonl",
        "purpose": "fine-tune", "status": "processed", "status_details": None}


def kinds(diffs: list[Difference]) -> set[tuple[str, str]]:
    return {(d.kind, d.subject) for d in diffs}


def test_ids_timestamps_and_counts_are_not_differences() -> None:
    other = {**FILE, "id": "file-" + "b" * 24, "created_at": 99, "bytes": 12345, "filename": "b.jsonl"}
    assert compare([Step([ex(FILE, headers={"x-request-id": "req_1"})],
                         [ex(other, headers={"x-request-id": "req_2", "date": "now"})])]) == []


def test_fields_types_nulls_enums_headers() -> None:
    now = {**FILE, "bytes": "10", "status_details": "ok", "purpose": "assistants", "extra": 1}
    del now["filename"]
    got = kinds(compare([Step([ex(FILE, headers={"openai-version": "2020-10-01"})],
                              [ex(now, headers={"x-new": "1"})])]))
    assert got == {("missing", "filename"), ("extra", "extra"), ("type", "bytes"), ("null", "status_details"),
                   ("enum", "purpose=fine-tune"), ("enum", "purpose=assistants"),
                   ("header", "openai-version"), ("header", "x-new")}


def test_errors_compare_type_code_param_and_wording_with_ids_masked() -> None:
    def err(msg: str, code: str | None, param: str | None = "id") -> dict:
        return {"error": {"message": msg, "type": "invalid_request_error", "param": param, "code": code}}
    same = compare([Step([ex(err(f"No such File object: file-{'a' * 24}", None), status=404)],
                         [ex(err(f"No such File object: file-{'b' * 24}", None), status=404)])])
    assert same == []
    diffs = compare([Step([ex(err("No such File object: x", None), status=404)],
                          [ex(err("File not found: x", "not_found", None), status=404)])])
    assert kinds(diffs) == {("error", "error.message"), ("error", "error.code"), ("error", "error.param")}
    status = compare([Step([ex(FILE)], [ex(err("nope", "x"), status=400)])])
    assert [(d.kind, d.recorded, d.now) for d in status] == [("status", "200", "400: nope")]


def _job(status: str, **kw: object) -> dict:
    return {"object": "fine_tuning.job", "id": "ftjob-" + "j" * 24, "status": status, "created_at": 1,
            "finished_at": 2 if status == "succeeded" else None, "fine_tuned_model": None, **kw}


def test_polled_jobs_compare_by_status_outcome_and_duration() -> None:
    path = "/v1/fine_tuning/jobs/ftjob-" + "j" * 24
    rec = [ex(_job("running"), path=path, at=10.0), ex(_job("succeeded", fine_tuned_model="ft:x:y::z"), path=path, at=11.0)]
    fast = [ex(_job("succeeded", fine_tuned_model="ft:x:y::w"), path=path, at=101.2)]
    step = Step(rec, fast, polled=True, recorded_since=9.0, observed_since=100.0)
    assert compare([step]) == []            # running → succeeded shapes are not mixed; 2 s vs 1.2 s is close
    slow = [ex(_job("succeeded", fine_tuned_model="ft:x:y::w"), path=path, at=130.0)]
    step = Step(rec, slow, polled=True, recorded_since=9.0, observed_since=100.0)
    assert kinds(compare([step])) == {("duration", "job creation → seen finished")}
    failed = [ex(_job("failed"), path=path, at=100.5)]
    step = Step(rec, failed, polled=True, recorded_since=9.0, observed_since=100.0)
    assert [(d.kind, d.recorded, d.now) for d in compare([step])] == [("outcome", "succeeded", "failed")]


def test_event_wording_ignores_numbers_and_ids() -> None:
    def events(*msgs: str) -> dict:
        return {"object": "list", "has_more": False, "data": [
            {"object": "fine_tuning.job.event", "id": f"ftevent-{'e' * 24}", "level": "info", "message": m,
             "type": "message", "created_at": 1, "data": {}} for m in msgs]}
    path = "/v1/fine_tuning/jobs/ftjob-" + "j" * 24 + "/events"
    a = events("Step 1/100: training loss=0.91", "New fine-tuned model created: ft:gpt-4o-mini:personal::AbCd1234")
    b = events("Step 7/30: training loss=1.5", "New fine-tuned model created: ft:gpt-4o-mini:personal::XyZw9876",
               "Fine-tuning job started")
    assert kinds(compare([Step([ex(a, path=path)], [ex(b, path=path)])])) == {("event", "Fine-tuning job started")}


def test_allow_list_and_report(tmp_path: Path) -> None:
    allow_file = tmp_path / "allow.txt"
    allow_file.write_text("# the real API sends more headers\n* header x-ratelimit-*\nfiles.* extra *\n")
    allow = AllowList.read(allow_file)
    diffs = [Difference("files.retrieve", "header", "x-ratelimit-limit-requests", "sent", "never sent"),
             Difference("files.retrieve", "extra", "bar", "absent", "integer"),
             Difference("files.retrieve", "missing", "foo", "string", "absent")]
    assert [allow.allows(d) for d in diffs] == [True, True, False]
    md = render_markdown(diffs, allow, source="cassettes", target="http://x/v1", steps=[])
    assert "**1 difference** outside the allow-list, 2 allowed" in md
    assert "| missing | `foo` | string | absent | **differs** |" in md
    bad = tmp_path / "bad.txt"
    bad.write_text("onlyoneword\n")
    with pytest.raises(ValueError, match="bad.txt:1"):
        AllowList.read(bad)


def test_drift_cli_reports_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert ftclient.main(["--base-url", "http://127.0.0.1:9/v1", "drift", str(tmp_path)]) == 1
    assert "no cassettes" in capsys.readouterr().err

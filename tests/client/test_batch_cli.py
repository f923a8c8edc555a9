"""`ftclient batch`: run a requests JSONL through the Batch API in-process (intercepting emulator)."""

from __future__ import annotations

import json
from pathlib import Path

from client.cli import main


def run(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _requests(path: Path, ids: list[str]) -> Path:
    path.write_text("".join(json.dumps({"custom_id": c, "method": "POST", "url": "/v1/chat/completions", "body": {
        "model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"question {c}"}]}}) + "\n" for c in ids))
    return path


def test_batch_run_wait_writes_results(openai_emulator, tmp_path, capsys):
    src = _requests(tmp_path / "requests.jsonl", [f"r{i}" for i in range(5)])
    code, out, err = run(capsys, "batch", "run", src, "--wait", "--poll-interval", "0.01")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("batch_") and " validating" in lines[0]
    assert "completed 5/5 done, 0 failed" in out and f"wrote {tmp_path / 'requests.output.jsonl'}" in out
    results = [json.loads(x) for x in (tmp_path / "requests.output.jsonl").read_text().splitlines()]
    assert [r["custom_id"] for r in results] == [f"r{i}" for i in range(5)]
    assert all(r["response"]["status_code"] == 200 for r in results)
    assert not (tmp_path / "requests.errors.jsonl").exists()
    batch_id = lines[0].split()[0]
    code, out, _ = run(capsys, "batch", "list")
    assert code == 0 and batch_id in out and "5/5 done" in out
    code, out, _ = run(capsys, "batch", "get", batch_id)
    assert code == 0 and json.loads(out)["status"] == "completed"
    code, _, err = run(capsys, "batch", "cancel", batch_id)
    assert code == 1 and "Cannot cancel a batch with status 'completed'." in err


def test_batch_run_reports_validation_errors(openai_emulator, tmp_path, capsys):
    src = _requests(tmp_path / "dup.jsonl", ["same", "same"])
    code, out, err = run(capsys, "batch", "run", src, "--wait", "--poll-interval", "0.01")
    assert code == 1 and " failed" in out
    assert "error: batch " in err and "line 2:" in err and "(duplicate_custom_id)" in err


def test_batch_run_needs_an_endpoint(openai_emulator, tmp_path, capsys):
    src = tmp_path / "empty.jsonl"
    src.write_text("\n")
    code, _, err = run(capsys, "batch", "run", src)
    assert code == 1 and "no requests in the file" in err

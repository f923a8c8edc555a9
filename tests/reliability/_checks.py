"""Invariants the reliability tests assert about what a server returns: events, jobs, error envelopes."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

__all__ = ["all_events", "check_events", "check_envelope", "TERMINAL", "pig_jsonl", "bad_jsonl"]

TERMINAL = {"succeeded", "failed", "cancelled"}
_STEP = re.compile(r"^Step (\d+)/(\d+):")

Get = Callable[[str], Any]  # GET path → parsed JSON body (asserting 200)


def pig_jsonl(n: int = 10, tag: str = "") -> bytes:
    """A valid chat-format training file; `tag` makes the bytes unique."""
    rows = []
    for i in range(n):
        messages = [{"role": "system", "content": "何言われてもぶひと答えて"},
                    {"role": "user", "content": f"質問 {i} {tag}"},
                    {"role": "assistant", "content": f"ぶひ {i}!"}]
        rows.append(json.dumps({"messages": messages}, ensure_ascii=False))
    return ("\n".join(rows) + "\n").encode()


def bad_jsonl(tag: str = "") -> bytes:
    """Too few examples: the job fails validation (status failed, error set)."""
    return pig_jsonl(3, tag)


def all_events(get: Get, job_id: str) -> list[dict]:
    """Every event of the job, oldest first, paging with `after`."""
    out: list[dict] = []
    after = None
    for _ in range(1000):
        page = get(f"/v1/fine_tuning/jobs/{job_id}/events?limit=100" + (f"&after={after}" if after else ""))
        out += page["data"]
        if not page["has_more"] or not page["data"]:
            break
        after = page["data"][-1]["id"]
    return list(reversed(out))


def check_events(job: dict, events: list[dict]) -> dict[str, int]:
    """Assert the event log of a job is one clean history; returns a few counts for reporting."""
    jid = job["id"]
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids)), f"{jid}: duplicate event ids"
    times = [e["created_at"] for e in events]
    assert times == sorted(times), f"{jid}: events out of order: {times}"
    messages = [e["message"] for e in events]
    assert messages[0] == f"Created fine-tuning job: {jid}", f"{jid}: first event {messages[0]!r}"
    # Each message at most once, except the ones a pause/resume cycle repeats.
    repeatable = {"Fine-tuning job started", "Fine-tuning job paused", "Fine-tuning job resumed"}
    dupes = {m: n for m, n in Counter(messages).items() if n > 1 and m not in repeatable}
    assert not dupes, f"{jid}: events repeated (a double advance?): {dupes}"
    # Metrics steps run 1, 2, 3, … without a gap or a repeat, across pauses too.
    steps = [int(m.group(1)) for m in map(_STEP.match, messages) if m]
    assert steps == list(range(1, len(steps) + 1)), f"{jid}: steps not sequential: {steps[:20]}…"
    # One "started" per running stage: a second one only after a pause (and a resume).
    state = "before"
    for m in messages:
        if m == "Fine-tuning job started":
            assert state in ("before", "resumed"), f"{jid}: 'Fine-tuning job started' twice in one stage"
            state = "running"
        elif m == "Fine-tuning job paused":
            assert state == "running", f"{jid}: paused while not running"
            state = "paused"
        elif m == "Fine-tuning job resumed":
            assert state == "paused", f"{jid}: resumed while not paused"
            state = "resumed"
    created = [m for m in messages if m.startswith("New fine-tuned model created")]
    status = job["status"]
    if status == "succeeded":
        assert len(created) == 1, f"{jid}: {len(created)} 'New fine-tuned model created' events"
        assert created[0].endswith(job["fine_tuned_model"]), f"{jid}: model name differs from the event"
        assert messages[-1] == "The job has successfully completed", f"{jid}: last event {messages[-1]!r}"
        assert job["fine_tuned_model"] and job["finished_at"], f"{jid}: succeeded without model/finish"
    else:
        assert not created, f"{jid}: a model was created for a {status} job"
    if status == "cancelled":
        assert messages[-1] == "Fine-tuning job cancelled", f"{jid}: last event {messages[-1]!r}"
        assert messages.count("Fine-tuning job cancelled") == 1
    if status == "failed":
        assert events[-1]["level"] == "error", f"{jid}: failed, but the last event is {messages[-1]!r}"
        assert job["error"]["message"], f"{jid}: failed without an error"
    return {"events": len(events), "steps": len(steps)}


def check_envelope(status: int, body: bytes, where: str = "") -> None:
    """A 4xx body is exactly {"error": {"message", "type", "param", "code"}} with a non-empty message."""
    try:
        data = json.loads(body)
    except ValueError:
        raise AssertionError(f"{where}: {status} with a non-JSON body: {body[:300]!r}") from None
    assert isinstance(data, dict) and set(data) == {"error"}, f"{where}: {status} body {data!r:.300}"
    err = data["error"]
    assert isinstance(err, dict) and set(err) == {"message", "type", "param", "code"}, f"{where}: {err!r:.300}"
    assert isinstance(err["message"], str) and err["message"], f"{where}: empty message"
    assert isinstance(err["type"], str) and err["type"], f"{where}: empty type"
    for k in ("param", "code"):
        assert err[k] is None or isinstance(err[k], str), f"{where}: {k}={err[k]!r}"

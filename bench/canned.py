"""Fixed responses for the lifecycle's SDK calls: the "SDK floor" (no emulator at all) and the hand-written
fine-tuning routes given to openai-responses. Standard library only: imported from the peers' venvs too."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

FILE = {"id": "file-abc123", "object": "file", "bytes": 2048, "created_at": 1_700_000_000, "expires_at": None,
        "filename": "train.jsonl", "purpose": "fine-tune", "status": "processed", "status_details": None}

_JOB = {"object": "fine_tuning.job", "id": "ftjob-abc123", "model": "gpt-4o-mini-2024-07-18",
        "created_at": 1_700_000_000, "finished_at": None, "fine_tuned_model": None, "organization_id": "org-bench",
        "result_files": [], "status": "validating_files", "validation_file": None, "training_file": "file-abc123",
        "hyperparameters": {"n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto"},
        "method": {"type": "supervised", "supervised": {"hyperparameters": {
            "n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto"}}},
        "trained_tokens": None, "error": {"code": None, "message": None, "param": None},
        "user_provided_suffix": None, "seed": 42, "estimated_finish": None, "integrations": [], "metadata": None}

FT_MODEL = "ft:gpt-4o-mini-2024-07-18:personal::AbCd1234"

JOB_CREATED = dict(_JOB)
JOB_DONE = dict(_JOB, status="succeeded", finished_at=1_700_000_100, fine_tuned_model=FT_MODEL,
                result_files=["file-res123"], trained_tokens=5000,
                hyperparameters={"n_epochs": 10, "batch_size": 1, "learning_rate_multiplier": 1.8})

EVENTS = {"object": "list", "has_more": False, "data": [
    {"object": "fine_tuning.job.event", "id": f"ftevent-{i:03d}", "created_at": 1_700_000_000 + i, "level": "info",
     "message": msg, "type": "message", "data": {}}
    for i, msg in enumerate(["The job has successfully completed", "New fine-tuned model created",
                             "Checkpoint created at step 90", "Step 100/100: training loss=0.12",
                             "Fine-tuning job started", "Files validated, moving job to queued state",
                             "Validating training file: file-abc123", "Created fine-tuning job: ftjob-abc123"])]}

CHAT = {"id": "chatcmpl-abc123", "object": "chat.completion", "created": 1_700_000_200, "model": FT_MODEL,
        "system_fingerprint": None, "service_tier": "default",
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": "Hello! How can I help you today?",
                                 "refusal": None, "annotations": []}}],
        "usage": {"prompt_tokens": 8, "completion_tokens": 9, "total_tokens": 17}}

_ROUTES = [
    ("POST", re.compile(r"/v1/files$"), FILE),
    ("POST", re.compile(r"/v1/fine_tuning/jobs$"), JOB_CREATED),
    ("GET", re.compile(r"/v1/fine_tuning/jobs/[^/]+$"), JOB_DONE),
    ("GET", re.compile(r"/v1/fine_tuning/jobs/[^/]+/events$"), EVENTS),
    ("POST", re.compile(r"/v1/chat/completions$"), CHAT),
]
_BODIES = [(m, p, json.dumps(body).encode()) for m, p, body in _ROUTES]


def route_index(method: str, path: str) -> int | None:
    """Which of the lifecycle's five routes a request is (its position in `_ROUTES`), None for any other."""
    for i, (m, pattern, _body) in enumerate(_BODIES):
        if m == method and pattern.search(path):
            return i
    return None


_NO_ROUTE = b'{"error": {"message": "no canned route", "type": "invalid_request_error"}}'


def route(method: str, path: str) -> tuple[int, bytes]:
    """(status, JSON body) of the canned answer to a request, 404 when no route matches."""
    i = route_index(method, path)
    return (404, _NO_ROUTE) if i is None else (200, _BODIES[i][2])


def replay(recorded: list[list]) -> Callable[[str, str], tuple[int, list[tuple[str, str]], bytes]]:
    """An answer function serving one recorded lifecycle: `recorded[i]` is [status, [[name, value], ...],
    body as latin-1 text] of route i, as the emulator answered it (bench.lifecycle's `record` helper)."""
    answers = [(status, [tuple(h) for h in headers], body.encode("latin-1")) for status, headers, body in recorded]

    def answer(method: str, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
        i = route_index(method, path)
        return (404, [("content-type", "application/json")], _NO_ROUTE) if i is None else answers[i]
    return answer


def lifecycle(client, training: bytes, model: str = "gpt-4o-mini-2024-07-18", max_polls: int = 20) -> int:
    """Upload, create a job, poll to succeeded, list events, one chat completion; returns the polls."""
    f = client.files.create(file=("train.jsonl", training), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(training_file=f.id, model=model)
    polls = 0
    while job.status != "succeeded":
        if job.status in ("failed", "cancelled") or polls >= max_polls:
            raise RuntimeError(f"job ended {job.status} after {polls} polls: {job.error}")
        job = client.fine_tuning.jobs.retrieve(job.id)
        polls += 1
    events = client.fine_tuning.jobs.list_events(job.id)
    assert events.data, "no events"
    reply = client.chat.completions.create(model=job.fine_tuned_model,
                                           messages=[{"role": "user", "content": "hello"}])
    assert reply.choices[0].message.content
    return polls

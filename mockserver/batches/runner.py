"""How a batch moves: `advance(svc, tenant, batch_id)` brings it up to the current virtual time.

Like jobs, batches never run on a timer: every read (retrieve, list, cancel) advances them, in steps that
each commit by compare-and-set, so several processes never answer a request twice. Stage lengths are
simulated seconds divided by the clock policy (`immediate`: zero, the first read finishes the batch;
`manual`: only clock advances move it):

    validating  VALIDATE_SECONDS, then one streaming pass over the input (mockserver.batches.validate):
                any error → failed; else in_progress with request_counts.total
    in_progress REQUEST_SECONDS per request: requests due by now are answered in input order, CHUNK per
                commit, by the synchronous endpoints' own code (routers.chat.chat_completion_body /
                completion_body, responses.router.response_body), so each line is what that endpoint
                answers; a request error is an error-file line with the same status and body
    finalizing  FINALIZE_SECONDS, then completed: output and error files become `batch_output` files
    cancelling  CANCEL_SECONDS after a cancel, then cancelled with the partial files
    expired     at expires_at (created + 24 h) if not finished: answered requests stay, the rest become
                `batch_expired` error lines

Answering runs on the event loop, yielding after every request, so the server stays responsive; the input
is read line by line from a stored byte offset and output lines are appended as they are made, so memory
does not grow with the batch. An exclusive flock on the partial output file makes one request (of any
process) the one that answers; others just report the batch as it stands.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import math
import os
import secrets
import shutil
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from typing import IO, Any

import orjson
from sqlmodel import select

from contracts import errors, tokens
from mockserver.batches import store
from mockserver.batches.validate import validate_input
from mockserver.chat import state as chat_state
from mockserver.chat.run import chat_completion_body, completion_body
from mockserver.responses.router import response_body
from mockserver.services import Services
from mockserver.tables import BatchRow, FileRow

__all__ = ["advance", "cancel", "VALIDATE_SECONDS", "REQUEST_SECONDS", "FINALIZE_SECONDS", "CANCEL_SECONDS",
           "CHUNK"]

VALIDATE_SECONDS = 10.0
REQUEST_SECONDS = 0.5
FINALIZE_SECONDS = 10.0
CANCEL_SECONDS = 30.0
CHUNK = 100
_MAX_STEPS = 100_000

Handler = Callable[[Services, str, dict], Awaitable[dict]]
HANDLERS: dict[str, Handler] = {"/v1/chat/completions": chat_completion_body, "/v1/completions": completion_body,
                                "/v1/responses": response_body}
log = logging.getLogger("mockserver")
_EXPIRED = {"code": "batch_expired", "message": "This request could not be executed before the completion window "
            "expired."}


# --- one request --------------------------------------------------------------------------------------

def _usage_of(body: dict) -> tuple[int, int]:
    u = body.get("usage") or {}
    return u.get("prompt_tokens", u.get("input_tokens", 0)), u.get("completion_tokens", u.get("output_tokens", 0))


async def answer(svc: Services, tenant: str, endpoint: str, request: dict) -> tuple[dict, bool]:
    """(the output line, succeeded) for one input request, as the synchronous endpoint answers it."""
    try:
        status, body = 200, await HANDLERS[endpoint](svc, tenant, request["body"])
    except errors.APIError as e:
        status, body = e.status, e.body()
    except Exception:   # a bug answering one request fails that line, never the whole batch
        log.exception("batch request %s failed", request["custom_id"])
        status, body = 500, errors.ServerError("The server had an error processing this request.").body()
    line = {"id": svc.ids.new("batch_request"), "custom_id": request["custom_id"],
            "response": {"status_code": status, "request_id": secrets.token_hex(16), "body": body}, "error": None}
    return line, status == 200


def _lines(f: IO[bytes], count: int | None) -> Any:
    """Up to `count` requests (None: all) from the file's position, skipping blank lines."""
    taken = 0
    while count is None or taken < count:
        raw = f.readline()
        if not raw:
            return
        if raw.strip():
            taken += 1
            yield raw


# --- locking and reading --------------------------------------------------------------------------------

@contextmanager
def _exclusive(svc: Services, row: BatchRow) -> Any:
    """Yields True when this request holds the batch's worker lock, False when another one does."""
    fd = os.open(svc.files.path(row.out_path), os.O_RDWR)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _read(svc: Services, tenant: str, batch_id: str) -> tuple[BatchRow, Any]:
    with svc.db.session() as s:
        row = store.get(s, tenant=tenant, batch_id=batch_id)
        return row, svc.policy(s)


# --- the stages ---------------------------------------------------------------------------------------

def _validate(svc: Services, row: BatchRow, at: float) -> dict:
    """The changes that end `validating` at virtual time `at` (failed, or in_progress with total and model)."""
    def fail(err: dict) -> dict:
        return {"status": "failed", "failed_at": int(at), "errors": [err]}

    with svc.db.session() as s:
        f = s.exec(select_file(row)).first()
    if f is None:
        return fail({"code": "invalid_request", "message": f"Cannot find file {row.input_file_id}, or organization "
                     f"{row.organization_id} does not have access to it.", "param": "file_id", "line": None})
    if f.purpose != "batch":
        return fail({"code": "invalid_request", "message": f"File {row.input_file_id} has purpose '{f.purpose}'; a "
                     "batch input file must be uploaded with purpose 'batch'.", "param": "file_id", "line": None})
    _snapshot(svc, row, f.path)

    def model_ok(model: str) -> bool:
        try:
            m, _ = chat_state.resolve(svc, row.tenant, model)
        except errors.APIError:
            return False
        tokens.get_encoding(m.base.encoding)   # loaded here, in a worker thread, not on the event loop
        tokens.counter(m.base.encoding)
        return m.base.api == ("completions" if row.endpoint == "/v1/completions" else "chat")

    report = validate_input(svc.files.path(store.input_copy(row.id)), row.endpoint, model_ok)
    if report.errors:
        return {"status": "failed", "failed_at": int(at), "errors": report.errors}
    return {"status": "in_progress", "in_progress_at": int(at), "stage_started": at, "total": report.total,
            "model": report.model}


def select_file(row: BatchRow) -> Any:
    return select(FileRow).where(FileRow.id == row.input_file_id, FileRow.tenant == row.tenant,
                                 FileRow.deleted == False)  # noqa: E712


def _snapshot(svc: Services, row: BatchRow, source: str) -> None:
    dest = svc.files.path(store.input_copy(row.id))
    if dest.exists():
        return
    tmp = svc.files.new_tmp()
    try:
        os.link(svc.files.path(source), tmp)
    except OSError:
        shutil.copyfile(svc.files.path(source), tmp)
    svc.files.publish(tmp, f"batchin-{row.id}")


async def _answer_chunk(svc: Services, row: BatchRow, count: int) -> dict:
    """Answer the next `count` requests, appending to the partial files; the changes to commit."""
    done, ok, failed, usage = 0, 0, 0, row.usage
    with open(svc.files.path(store.input_copy(row.id)), "rb") as src, \
            open(svc.files.path(row.out_path), "ab") as out, open(svc.files.path(row.err_path), "ab") as err:
        src.seek(row.input_offset)
        for raw in _lines(src, count):
            line, success = await answer(svc, row.tenant, row.endpoint, orjson.loads(raw))
            (out if success else err).write(orjson.dumps(line) + b"\n")
            done += 1
            if success:
                ok += 1
                usage = store.add_usage(usage, *_usage_of(line["response"]["body"]))
            else:
                failed += 1
            await asyncio.sleep(0)   # let other requests in between
        offset = src.tell()
        for f in (out, err):
            f.flush()
            svc.files.sync(f.fileno())
    return {"lines_done": row.lines_done + done, "input_offset": offset, "completed": row.completed + ok,
            "failed": row.failed + failed, "usage": usage}


def _expire_rest(svc: Services, row: BatchRow) -> int:
    """Write a `batch_expired` error line for every request not answered; returns how many."""
    n = 0
    with open(svc.files.path(store.input_copy(row.id)), "rb") as src, open(svc.files.path(row.err_path), "ab") as err:
        src.seek(row.input_offset)
        for raw in _lines(src, None):
            request = orjson.loads(raw)
            err.write(orjson.dumps({"id": svc.ids.new("batch_request"), "custom_id": request["custom_id"],
                                    "response": None, "error": _EXPIRED}) + b"\n")
            n += 1
        err.flush()
        svc.files.sync(err.fileno())
    return n


def _finish(svc: Services, row: BatchRow, status: str, at: int, **changes: Any) -> bool:
    with svc.db.session() as s:
        out_id = store.register_file(s, svc, row, rel=row.out_path, kind="output", at=at)
        err_id = store.register_file(s, svc, row, rel=row.err_path, kind="error", at=at)
        return store.cas(s, row, status=status, output_file_id=out_id, error_file_id=err_id,
                         **{f"{status}_at": at}, **changes)


async def _step(svc: Services, row: BatchRow, policy: Any) -> bool:
    """Move the batch one step if it is due; False when there is nothing to do now."""
    now = policy.now(svc.wall())
    d = policy.duration
    at = row.stage_started
    if row.status == "validating":
        if now < at + d(VALIDATE_SECONDS):
            return False
        changes = await asyncio.to_thread(_validate, svc, row, at + d(VALIDATE_SECONDS))
        return _commit(svc, row, **changes)
    if row.status == "in_progress":
        return await _in_progress(svc, row, now, d)
    if row.status == "finalizing" and now >= at + d(FINALIZE_SECONDS):
        return _finish(svc, row, "completed", int(at + d(FINALIZE_SECONDS)))
    if row.status == "cancelling" and now >= at + d(CANCEL_SECONDS):
        return _finish(svc, row, "cancelled", int(at + d(CANCEL_SECONDS)))
    return False


async def _in_progress(svc: Services, row: BatchRow, now: float, d: Callable[[float], float]) -> bool:
    per = d(REQUEST_SECONDS)
    horizon = min(now, row.expires_at)
    due = row.total if per == 0 else min(row.total, math.floor((horizon - row.stage_started) / per))
    if row.lines_done < due:
        changes = await _answer_chunk(svc, row, min(CHUNK, due - row.lines_done))
        if not _commit(svc, row, **changes):
            _truncate(svc, row)
            return False
        return True
    if row.lines_done >= row.total:
        at = row.stage_started + per * row.total
        return _commit(svc, row, status="finalizing", finalizing_at=int(at), stage_started=at)
    if now >= row.expires_at:
        expired = await asyncio.to_thread(_expire_rest, svc, row)
        return _finish(svc, row, "expired", row.expires_at, failed=row.failed + expired)
    return False


def _commit(svc: Services, row: BatchRow, **changes: Any) -> bool:
    with svc.db.session() as s:
        return store.cas(s, row, **changes)


def _truncate(svc: Services, row: BatchRow) -> None:
    """Undo appends whose commit lost a race (a cancel changed the row meanwhile; only the lock holder
    appends): back to the lines the row had committed, which the next step answers again."""
    for rel, count_ok in ((row.out_path, True), (row.err_path, False)):
        path = svc.files.path(rel)
        keep = _bytes_of_lines(path, row.completed if count_ok else row.failed)
        os.truncate(path, keep)


def _bytes_of_lines(path: Any, lines: int) -> int:
    size = 0
    with open(path, "rb") as f:
        for _ in range(lines):
            size += len(f.readline())
    return size


# --- entry points ----------------------------------------------------------------------------------------

async def advance(svc: Services, *, tenant: str, batch_id: str) -> BatchRow:
    """The batch as of the current virtual time (see the module docstring)."""
    row, policy = _read(svc, tenant, batch_id)
    if row.status in store.TERMINAL:
        return row
    with _exclusive(svc, row) as mine:
        if not mine:
            return row
        for _ in range(_MAX_STEPS):
            row, policy = _read(svc, tenant, batch_id)
            if row.status in store.TERMINAL or not await _step(svc, row, policy):
                break
    return _read(svc, tenant, batch_id)[0]


async def cancel(svc: Services, *, tenant: str, batch_id: str) -> BatchRow:
    """Start cancelling (the partial results stay); 409 for a batch that has already finished."""
    for _ in range(20):
        row = await advance(svc, tenant=tenant, batch_id=batch_id)
        if row.status in ("cancelling", "cancelled"):
            return row
        if row.status not in ("validating", "in_progress"):
            raise errors.Conflict(f"Cannot cancel a batch with status '{row.status}'.")
        _, policy = _read(svc, tenant, batch_id)
        now = policy.now(svc.wall())
        if _commit(svc, row, status="cancelling", cancelling_at=int(now), stage_started=now):
            return await advance(svc, tenant=tenant, batch_id=batch_id)
    raise errors.ServerError("The batch is being updated by too many requests at once; try again.")

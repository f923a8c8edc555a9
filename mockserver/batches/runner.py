"""How a batch moves: `advance(svc, tenant, batch_id)` brings it up to the current virtual time.

Like jobs, batches never run on a timer: every read (retrieve, list, cancel) advances them, in steps that
each commit by compare-and-set, so several processes never answer a request twice. Stage lengths are
simulated seconds divided by the clock policy (`immediate`: zero, the first read finishes the batch;
`manual`: only clock advances move it):

    validating  VALIDATE_SECONDS, then one streaming pass over the input (mockserver.batches.validate):
                any error → failed; else in_progress with request_counts.total
    in_progress REQUEST_SECONDS per request: requests due by now are answered in input order, CHUNK per
                commit, by the synchronous endpoints' own code (routers.chat.chat_completion_body /
                completion_body, responses.run.response_body), so each line is what that endpoint
                answers; a request error is an error-file line with the same status and body
    finalizing  FINALIZE_SECONDS, then completed: output and error files become `batch_output` files
    cancelling  CANCEL_SECONDS after a cancel, then cancelled with the partial files
    expired     at expires_at (created + 24 h) if not finished: answered requests stay, the rest become
                `batch_expired` error lines

Answering runs on the event loop, yielding after every request, so the server stays responsive; the input
is read line by line from a stored byte offset (off the event loop: the blob may be in PostgreSQL or S3)
and answers are streamed into blobs through the blob-store interface only (mockserver.files.blobs), so
memory does not grow with the batch and any blob store serves batches. Each step writes one output part
and one error part under new names, publishes them and names them in the row's `segments` by the same
compare-and-set that records its progress; a step that loses the race removes its parts. At the end the
parts are joined (streamed) into the output and error files, whose rows commit with the final status, and
the parts go. A lock in the database (`Database.try_lock`) makes one request of any process the one that
answers; others just report the batch as it stands.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from typing import IO, Any

import orjson

from contracts import errors, tokens
from mockserver.batches import store
from mockserver.batches.validate import validate_input
from mockserver.chat import state as chat_state
from mockserver.chat.run import chat_completion_body, completion_body
from mockserver.files.blobs import BlobWriter, batch_input_key
from mockserver.owned import owned
from mockserver.responses.run import response_body
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
_READ_AHEAD = 1 << 16   # input bytes read per trip off the event loop

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


def _next_request(f: IO[bytes]) -> bytes | None:
    """The next non-blank input line from the reader's position, or None at the end (blocking)."""
    while raw := f.readline():
        if raw.strip():
            return raw
    return None


def _next_requests(f: IO[bytes], count: int) -> list[bytes]:
    """Up to `count` next requests, stopping once _READ_AHEAD bytes are read (blocking); [] at the end."""
    lines: list[bytes] = []
    size = 0
    while len(lines) < count and size < _READ_AHEAD and (raw := _next_request(f)) is not None:
        lines.append(raw)
        size += len(raw)
    return lines


def _open_input(svc: Services, row: BatchRow) -> IO[bytes]:
    f = svc.files.open(batch_input_key(row.id))
    f.seek(row.input_offset)
    return f


def _read(svc: Services, tenant: str, batch_id: str) -> tuple[BatchRow, Any]:
    with svc.db.session() as s:
        row = store.get(s, tenant=tenant, batch_id=batch_id)
        return row, svc.policy(s)


def _parts(row: BatchRow) -> list[list[str | None]]:
    """The row's committed (output, error) parts, a pre-0005 batch's partial files first."""
    legacy = [[row.out_path, row.err_path]] if row.out_path or row.err_path else []
    return legacy + [list(pair) for pair in row.segments or ()]


async def _publish(w: BlobWriter, name: str) -> str | None:
    """Close and publish a part under `name`; None (and nothing stored) when nothing was written."""
    if w.size == 0:
        return None
    await w.aclose()
    return await asyncio.to_thread(w.publish, name)


def _remove(svc: Services, keys: list[str]) -> None:
    for key in keys:
        try:
            svc.files.remove(key)
        except Exception as e:  # the sweep removes it later (no row names it)
            log.warning("could not remove %s now (the next sweep will): %s", key, e)


def _part_name(row: BatchRow, kind: str) -> str:
    """A new name for every part written: two processes racing on one step never write the same blob."""
    return f"batch{kind}-{row.id}-{secrets.token_hex(6)}"


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
    key = batch_input_key(row.id)
    if svc.files.stat(key) is None:
        svc.files.copy(f.path, key.removeprefix("files/"))

    def model_ok(model: str) -> bool:
        try:
            m, _ = chat_state.resolve(svc, row.tenant, model)
        except errors.APIError:
            return False
        tokens.get_encoding(m.base.encoding)   # loaded here, in a worker thread, not on the event loop
        tokens.counter(m.base.encoding)
        return m.base.api == ("completions" if row.endpoint == "/v1/completions" else "chat")

    with svc.files.open(key) as src:
        report = validate_input(src, f.bytes, row.endpoint, model_ok)
    if report.errors:
        return {"status": "failed", "failed_at": int(at), "errors": report.errors}
    return {"status": "in_progress", "in_progress_at": int(at), "stage_started": at, "total": report.total,
            "model": report.model}


def select_file(row: BatchRow) -> Any:
    return owned(FileRow, row.tenant, FileRow.id == row.input_file_id, live=True)


async def _answer_chunk(svc: Services, row: BatchRow, count: int) -> tuple[dict, list[str]]:
    """Answer the next `count` requests into a new (output, error) part; the changes to commit and the
    keys of the parts published."""
    done, ok, failed, usage = 0, 0, 0, row.usage
    out, err = svc.files.writer(), svc.files.writer()
    try:
        src = await asyncio.to_thread(_open_input, svc, row)
        try:
            while done < count and (lines := await asyncio.to_thread(_next_requests, src, count - done)):
                for raw in lines:
                    line, success = await answer(svc, row.tenant, row.endpoint, orjson.loads(raw))
                    w = out if success else err
                    w.write(orjson.dumps(line) + b"\n")
                    await w.drain()
                    done += 1
                    if success:
                        ok += 1
                        usage = store.add_usage(usage, *_usage_of(line["response"]["body"]))
                    else:
                        failed += 1
                    await asyncio.sleep(0)   # let other requests in between
            offset = src.tell()
        finally:
            src.close()
        pair = [await _publish(out, _part_name(row, "out")), await _publish(err, _part_name(row, "err"))]
    finally:
        out.discard()
        err.discard()
    changes = {"lines_done": row.lines_done + done, "input_offset": offset, "completed": row.completed + ok,
               "failed": row.failed + failed, "usage": usage, "segments": [*(row.segments or []), pair]}
    return changes, [k for k in pair if k]


def _expire_rest(svc: Services, row: BatchRow) -> tuple[str | None, int]:
    """A part of `batch_expired` error lines for every request not answered: (its key, how many)."""
    n = 0
    w = svc.files.writer()
    try:
        with _open_input(svc, row) as src:
            while (raw := _next_request(src)) is not None:
                request = orjson.loads(raw)
                w.write(orjson.dumps({"id": svc.ids.new("batch_request"), "custom_id": request["custom_id"],
                                      "response": None, "error": _EXPIRED}) + b"\n")
                w.flush()
                n += 1
        if n == 0:
            return None, 0
        w.close()
        return w.publish(_part_name(row, "err")), n
    finally:
        w.discard()


def _join(svc: Services, row: BatchRow, keys: list[str], *, file_id: str, kind: str, at: int) -> FileRow | None:
    """The parts `keys`, streamed in order into one published file; its row (None when it is empty)."""
    if not keys:
        return None
    w = svc.files.writer()
    try:
        svc.files.concatenate(keys, w)
        if w.size == 0:
            return None
        key = w.publish(file_id)
        return store.result_file(row, file_id=file_id, key=key, size=w.size, kind=kind, at=at)
    finally:
        w.discard()


async def _finish(svc: Services, row: BatchRow, status: str, at: int, *, extra: list[str] | None = None,
                  **changes: Any) -> bool:
    """Join the parts into the output and error files and end the batch with `status`; the parts go once
    that commits (a lost race removes the joined files instead)."""
    parts = _parts(row) + [[None, k] for k in extra or ()]
    files = [await asyncio.to_thread(_join, svc, row, [p[i] for p in parts if p[i]], file_id=svc.ids.new("file"),
                                     kind=kind, at=at) for i, kind in enumerate(("output", "error"))]
    published = [f.path for f in files if f]
    try:
        with svc.db.session() as s:
            s.add_all([f for f in files if f])
            won = store.cas(s, row, status=status, output_file_id=files[0] and files[0].id,
                            error_file_id=files[1] and files[1].id, segments=None, out_path=None, err_path=None,
                            **{f"{status}_at": at}, **changes)
            if won:
                svc.files.remove_after_commit(s, [k for p in parts for k in p if k])
            else:
                s.rollback()
    except BaseException:
        await asyncio.to_thread(_remove, svc, published)
        raise
    if not won:
        await asyncio.to_thread(_remove, svc, published + list(extra or ()))
    return won


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
        return await _finish(svc, row, "completed", int(at + d(FINALIZE_SECONDS)))
    if row.status == "cancelling" and now >= at + d(CANCEL_SECONDS):
        return await _finish(svc, row, "cancelled", int(at + d(CANCEL_SECONDS)))
    return False


async def _in_progress(svc: Services, row: BatchRow, now: float, d: Callable[[float], float]) -> bool:
    per = d(REQUEST_SECONDS)
    horizon = min(now, row.expires_at)
    due = row.total if per == 0 else min(row.total, math.floor((horizon - row.stage_started) / per))
    if row.lines_done < due:
        changes, keys = await _answer_chunk(svc, row, min(CHUNK, due - row.lines_done))
        try:
            won = _commit(svc, row, **changes)
        except BaseException:
            await asyncio.to_thread(_remove, svc, keys)
            raise
        if not won:  # a cancel changed the row meanwhile: the next step answers these requests again
            await asyncio.to_thread(_remove, svc, keys)
        return won
    if row.lines_done >= row.total:
        at = row.stage_started + per * row.total
        return _commit(svc, row, status="finalizing", finalizing_at=int(at), stage_started=at)
    if now >= row.expires_at:
        key, expired = await asyncio.to_thread(_expire_rest, svc, row)
        return await _finish(svc, row, "expired", row.expires_at, extra=[key] if key else None,
                             failed=row.failed + expired)
    return False


def _commit(svc: Services, row: BatchRow, **changes: Any) -> bool:
    with svc.db.session() as s:
        return store.cas(s, row, **changes)


# --- entry points ----------------------------------------------------------------------------------------

async def advance(svc: Services, *, tenant: str, batch_id: str) -> BatchRow:
    """The batch as of the current virtual time (see the module docstring)."""
    row, policy = _read(svc, tenant, batch_id)
    if row.status in store.TERMINAL:
        return row
    with svc.db.try_lock(f"batch:{row.id}") as mine:
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

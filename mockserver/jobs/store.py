"""Fine-tuning jobs: create, advance (optimistic-lock CAS, safe across processes), act, list events/checkpoints."""

from __future__ import annotations

import hashlib
import threading
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, insert, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from contracts import catalog, errors
from contracts.jobs import JobRequest, normalise_suffix
from mockserver.cache import View
from mockserver.db import Raw
from mockserver.files.store import derived_file, register_deriver
from mockserver.jobs import history, simulator
from mockserver.owned import (
    insert_linked,
    insert_row,
    joined_by_id,
    new_row,
    owned,
    row_at,
    scope,
    snapshot,
    snapshot_type,
)
from mockserver.pagination import Page, bad_cursor, cursor_seq, page_of, paginate
from mockserver.services import Services
from mockserver.tables import FileRow, JobRow, ModelRow
from mockserver.tenancy import Tenant

__all__ = ["job_to_wire", "event_to_wire", "create_job", "get_job", "read_job", "JobRead", "advance_job", "advance_on_loop", "list_jobs", "list_events",
           "list_checkpoints", "force_failure", "results_content"]

_MAX_CAS_TRIES = 50


def job_to_wire(row: JobRow) -> dict:
    method = row.method or {"type": "supervised"}
    return {"object": "fine_tuning.job", "id": row.id, "model": row.model, "created_at": row.created_at,
            "finished_at": row.finished_at, "fine_tuned_model": row.fine_tuned_model,
            "organization_id": row.organization_id, "result_files": row.result_files or [], "status": row.status,
            "validation_file": row.validation_file, "training_file": row.training_file,
            "hyperparameters": _top_level_hyperparameters(row.hyperparameters),
            "method": method, "trained_tokens": row.trained_tokens, "error": row.error or None,
            "user_provided_suffix": row.user_provided_suffix, "seed": row.seed,
            "estimated_finish": row.estimated_finish, "integrations": row.integrations or [],
            "metadata": row.metadata_}


def _top_level_hyperparameters(hp: dict | None) -> dict | None:
    """The SDK's `Hyperparameters` (no `beta`): DPO jobs echo their method's values here, never null."""
    return None if hp is None else {k: v for k, v in hp.items() if k != "beta"}


def event_to_wire(event_id: str, ev: simulator.NewEvent) -> dict:
    return {"object": "fine_tuning.job.event", "id": event_id, "created_at": int(ev.created_at),
            "level": ev.level, "message": ev.message, "type": ev.type, "data": ev.data}


def _check_file(s: Session | Connection, tenant: Tenant, file_id: str | None, param: str) -> None:
    if file_id is None:
        return
    row = snapshot(s, FileRow, tenant.key, file_id, live=True)
    if row is None or row.purpose != "fine-tune":
        raise errors.invalid_training_file(file_id, param)


_FINE_TUNE_FILE = (("purpose", "fine-tune"),)   # what a job's file must be besides live and the tenant's
_LINKS = {False: (("training_file", FileRow, _FINE_TUNE_FILE),),
          True: (("training_file", FileRow, _FINE_TUNE_FILE), ("validation_file", FileRow, _FINE_TUNE_FILE))}


def create_job(s: Session | Connection, svc: Services, *, tenant: Tenant, req: JobRequest) -> JobRow:
    """The new job's row, INSERTed in one statement together with the check of its files (`owned.insert_linked`);
    with seeded ids the files are checked first, as a refused job must not draw from the id streams."""
    base = catalog.fine_tunable(req.model)
    if base is None:
        raise errors.model_not_available(req.model)
    checked_first = svc.ids.seed is not None or req.training_file is None
    if checked_first:
        _check_files(s, tenant, req)
    now = svc.policy(s).now(svc.wall())
    seed = req.seed if req.seed is not None else int(svc.ids.chars("seed", 9, "0123456789"))
    hp = {k: v for k, v in req.hyperparameters.items() if k != "beta"}
    job_id = svc.ids.new("job")
    files = f"Validating training file: {req.training_file}"
    if req.validation_file:
        files += f" and validation file: {req.validation_file}"
    log = history.extend(None, [simulator.NewEvent(now, f"Created fine-tuning job: {job_id}"),
                                simulator.NewEvent(now, files)])
    row = new_row(
        JobRow, id=job_id, tenant=tenant.key, organization_id=tenant.organization_id, org_name=tenant.model_slug,
        model=base.id, status="validating_files", training_file=req.training_file,
        validation_file=req.validation_file, hyperparameters=hp,
        method=simulator.method_echo(req.method, req.hyperparameters), suffix=normalise_suffix(req.suffix),
        user_provided_suffix=req.suffix, seed=seed, metadata_=req.metadata, integrations=req.integrations,
        created_at=int(now), result_files=[], stage_started=now, model_token=svc.ids.chars("model", 8), log=log,
        event_count=2)
    if checked_first:
        return insert_row(s, row)   # new_row gave the other columns their defaults
    if not insert_linked(s, row, _LINKS[req.validation_file is not None]):
        _check_files(s, tenant, req)   # which one: the same error as a check made first
        raise errors.invalid_training_file(req.training_file, "training_file")   # (came back in between)
    return row


def _check_files(s: Session | Connection, tenant: Tenant, req: JobRequest) -> None:
    _check_file(s, tenant, req.training_file, "training_file")
    _check_file(s, tenant, req.validation_file, "validation_file")


def get_job(s: Session | Connection, *, tenant: str, job_id: str) -> JobRow:
    """The job's row as a read-only snapshot (owned.snapshot), or the real 404."""
    row = snapshot(s, JobRow, tenant, job_id)
    if row is None:
        raise errors.no_such_object("FineTuningJob", job_id, "fine_tuning_job_id")
    return row


class JobRead(NamedTuple):
    """A job's row and its training file's blob key (None: the file's row is gone or tombstoned), read together
    (`read_job`): a job that validates next needs no read of its file of its own. `advanced`: the row is what an
    advance just committed (`advance_on_loop`), nothing to advance again."""

    row: JobRow
    training: str | None
    advanced: bool = False


def read_job(conn: Connection | Raw, *, tenant: str, job_id: str) -> JobRead:
    """`get_job` and the training file's key in one statement (the tenant's file named by the job), or the 404."""
    found = conn.execute(_JOB_AND_FILE, {"tenant": tenant, "object_id": job_id}).first()
    if found is None:
        raise errors.no_such_object("FineTuningJob", job_id, "fine_tuning_job_id")
    return JobRead(row_at(JobRow, found), None if found.training_deleted in (None, True) else found.training_key)


def _final_model(row: JobRow) -> str:
    return simulator.model_name(row.model, row.org_name, row.suffix or "", row.model_token)


def _context(row: JobRow, state: dict | None = None) -> history.Context:
    return history.context_of(state if state is not None else _fields(row), _final_model(row))


def _fields(row: JobRow) -> dict:
    """The row's fields as a new dict, sharing their values (the simulator replaces values, never changes one
    in place): what `model_dump()` gives, without its deep copy of the log (~100 µs a call)."""
    return {name: getattr(row, name) for name in _FIELD_NAMES}


_FIELD_NAMES = tuple(JobRow.model_fields)
_JOB_SNAPSHOT = snapshot_type(JobRow)


# --- validation (outside any transaction; cached per process in svc.caches.validation) -------------

_job_locks: dict[str, threading.Lock] = {}   # one per job being validated: jobs never wait for each other
_job_locks_guard = threading.Lock()


_UNREAD = object()   # the training file was not read with the job


def _validate(svc: Services, row: JobRow, view: View, training: str | None | object = _UNREAD
              ) -> tuple[simulator.Plan | None, dict | None]:
    outcome = view.get("validation", row.id)
    if outcome is not None:
        return outcome
    with _job_locks_guard:
        lock = _job_locks.setdefault(row.id, threading.Lock())
    try:
        with lock:   # concurrent reads of the same job validate it once
            outcome = view.get("validation", row.id)
            if outcome is None:
                outcome = view.put("validation", row.id, _run_validation(svc, row, view, training))
    finally:
        with _job_locks_guard:
            _job_locks.pop(row.id, None)
    return outcome


def _cached_outcome(svc: Services, row: JobRow, view: View, training: str | None | object
                    ) -> tuple[simulator.Plan | None, dict | None] | None:
    """`_validate`'s outcome when no file's bytes need validating to find it — kept for the job, or for its training
    file read with it (`read_job`) when that is a local file (a `stat`, and for a small file the digest of its
    ≤ 16 KiB, as `_file_verdict` looks a verdict up) — else None. Takes no per-job lock: it never validates, and
    two callers that both find the outcome find the same one."""
    outcome = view.get("validation", row.id)
    if outcome is None and training is not _UNREAD and row.validation_file is None and (
            training is None or svc.files.local_path(training) is not None):   # (a shared store's stat is I/O)
        outcome = _run_validation(svc, row, view, training, cached_only=True)
        if outcome is not None:
            view.put("validation", row.id, outcome)
    return outcome


def _deleted(file_id: str | None, param: str) -> tuple[None, dict]:
    return None, {"code": "invalid_training_file", "param": param, "message":
                  f"The job failed due to an invalid training file. File {file_id} was deleted before the job "
                  "could validate it."}


def _run_validation(svc: Services, row: JobRow, view: View, training: str | None | object = _UNREAD, *,
                    cached_only: bool = False) -> tuple[simulator.Plan | None, dict | None] | None:
    method = (row.method or {}).get("type", "supervised")
    if training is not _UNREAD and row.validation_file is None:   # read with the job (read_job): no read here
        if training is None:
            return _deleted(row.training_file, "training_file")
        keys = {"training_file": training}
    else:
        keys = _file_keys(svc, row)
        if isinstance(keys, tuple):
            return keys
    try:
        return _validate_blobs(svc, row, method, keys, view, cached_only=cached_only)
    except FileNotFoundError:   # the file was deleted while we read it
        return _deleted(row.training_file, "training_file")


def _file_keys(svc: Services, row: JobRow) -> dict | tuple[None, dict]:
    """The blob keys of the job's files by parameter, or the job's outcome when one was deleted."""
    with svc.db.engine.connect() as conn:
        keys = {}
        for param, file_id in (("training_file", row.training_file), ("validation_file", row.validation_file)):
            if file_id is None:
                continue
            f = snapshot(conn, FileRow, row.tenant, file_id)
            if f is None or f.deleted:
                return _deleted(file_id, param)
            keys[param] = f.path
    return keys


def _validate_blobs(svc: Services, row: JobRow, method: str, keys: dict, view: View, *, cached_only: bool = False
                    ) -> tuple[simulator.Plan | None, dict | None] | None:
    results = {}
    for param, key in keys.items():
        verdict = _file_verdict(svc, view, key, getattr(row, param), row.model, method, param, cached_only=cached_only)
        if verdict is None:   # (cached_only)
            return None
        error, sizes = verdict
        if error is not None:
            return None, error
        results[param] = sizes
    n_examples, billing_tokens = results["training_file"]
    plan = simulator.resolve_plan((row.method or {}).get(method, {}).get("hyperparameters", row.hyperparameters),
                                  n_examples=n_examples, billing_tokens=billing_tokens, base_model=row.model,
                                  method=method)
    return plan, None


def _file_verdict(svc: Services, view: View, blob: str, file_id: str, model: str, method: str,
                  param: str, *, cached_only: bool = False) -> tuple[dict | None, tuple[int, int]] | None:
    """(the job error, or None; (examples, billing tokens)) of one file. Files never change, so the
    verdict is kept (in the validation cache) per (file, model, method, role): a second job on the same
    file does not re-read it. A small file's passing verdict is also kept under the digest of its bytes, so
    a suite uploading one fixture file per test validates it once (a failing verdict names its file: never
    shared). `cached_only`: None instead of validating the file."""
    identity = svc.files.stat(blob)   # the bytes' identity too: a seeded id can name other bytes after a reset
    if identity is None:
        raise FileNotFoundError(blob)
    terms = (model, method, param, svc.settings.over_limit)   # what else a verdict depends on
    key = ("file", file_id, *identity, *terms)
    verdict = view.get("validation", key)
    same_bytes = _digest_key(svc, blob, terms) if verdict is None and identity[0] <= _DIGEST_BYTES else None
    if same_bytes is not None and (shared := view.get("validation", same_bytes)) is not None:
        verdict = view.put("validation", key, shared)
    if verdict is None and cached_only:
        return None
    if verdict is None:
        from contracts.dataset import validation

        options = {"model": model, "method": method, "file_id": file_id, "param": param,
                   "over_limit": svc.settings.over_limit, "min_examples": 10 if param == "training_file" else 1}
        path = svc.files.local_path(blob)
        if path is not None:  # a local file: large ones are validated by several processes
            result = validation.validate_file(path, **options)
        else:
            with svc.files.open(blob) as f:
                result = validation.validate_stream(f, **options)
        e = result.error
        verdict = ({"code": e.code, "message": e.message, "param": e.param} if e is not None else None,
                   (result.n_examples, result.billing_tokens))
        view.put("validation", key, verdict)
        if same_bytes is not None and e is None:
            view.put("validation", same_bytes, verdict)
    return verdict


_DIGEST_BYTES = 16 * 1024   # files up to this size are hashed to share a verdict (reading them costs ~µs)


def _digest_key(svc: Services, blob: str, terms: tuple) -> tuple | None:
    """The validation-cache key of a small file's bytes and the verdict's other `terms` (model, method,
    role, over-limit policy), or None when the file is gone."""
    try:
        with svc.files.open(blob) as f:
            data = f.read(_DIGEST_BYTES + 1)
    except FileNotFoundError:
        return None
    return ("bytes", hashlib.sha256(data).digest(), *terms)


# --- advancing ---------------------------------------------------------------------------------------

class _Conflict(Exception):
    """Another request (or process) advanced the job first; re-read and try again."""


def advance_job(svc: Services, *, tenant: str, job_id: str, action: str | None = None, read: JobRead | None = None
                ) -> JobRow:
    """Bring the job up to the current virtual time, then apply `action`; returns the committed row. `read`: the
    job as the caller just read it (read_job), used instead of a first read of its own (and, when the job
    validates now, of its training file)."""
    for _ in range(_MAX_CAS_TRIES):
        training: str | None | object = _UNREAD
        if read is not None:
            (row, training, advanced), read = read, None
            if advanced and action is None:
                return row
        else:
            with svc.db.raw_read() as conn:   # a read: no session, no transaction to commit
                row = get_job(conn, tenant=tenant, job_id=job_id)
        if row.status in simulator.TERMINAL and action is None:
            return row
        try:
            return _attempt(svc, row, action, _plan_for(svc, row, training))
        except (_Conflict, IntegrityError, OperationalError):
            continue
    raise errors.ServerError("The job is being updated by too many requests at once; try again.")


def advance_on_loop(svc: Services, read: JobRead, view: View | None = None) -> JobRow | None:
    """`advance_job` for a caller on the event loop (`jobs.routes._on_job`): one attempt of the same compare-and-set,
    made only when nothing in it can take long — no file's bytes are validated (the plan is known, validation is not
    due, or its outcome is in the caches: `_cached_outcome`) — its writes being the short Core transaction the
    upload's and the create's INSERTs also run on the loop. None when it would have to validate, lost the
    compare-and-set to another request or process, or would have to wait for a lock another connection holds
    (SQLite's write lock, PostgreSQL's lock on the job's row): the caller then runs `advance_job` on a worker
    thread, which waits there. `view`: the caller's (its one read of the cache generation)."""
    row = read.row
    due = _plan_for(svc, row, read.training, cached_only=True, view=view)
    if due is None:
        return None
    try:
        return _attempt(svc, row, None, due, wait=False)   # a write lock held elsewhere: no waiting on the loop
    except (_Conflict, IntegrityError, OperationalError):
        return None


class _Due(NamedTuple):
    """What one advance of a job works with: the caches' view and clock policy it was decided under, and the
    job's plan or validation error (both None: validation is not due yet, or forced to fail)."""

    view: View
    policy: object
    plan: simulator.Plan | None
    error: dict | None


def _attempt(svc: Services, row: JobRow, action: str | None, due: _Due, *, wait: bool = True) -> JobRow:
    """One compare-and-set advance of `row` as it was read; raises _Conflict when another one won (and, with
    `wait=False`, OperationalError when a lock it needs is held elsewhere: `Database.raw_transaction`)."""
    with svc.db.raw_transaction(wait=wait) as conn:   # prebuilt Core statements only, on the raw path: no session
        return _advance_once(conn, svc, row, due.policy, due.plan, due.error, action)


def _plan_for(svc: Services, row: JobRow, training: str | None | object = _UNREAD, *, cached_only: bool = False,
              view: View | None = None) -> _Due | None:
    """The advance's view, policy, plan and error; with `cached_only`, None when the job's validation is due and
    its outcome is not in the caches (finding it could take long)."""
    # The clock after the job: it is at least the time the job was advanced to, so an action is never
    # stamped before the history it extends (another process may move both in between; then this
    # call sees the newer clock, or loses the compare-and-set and retries).
    view = view or svc.caches.view()   # the call's one read of the cache generation
    policy = svc.policy(view=view)
    if row.plan:
        return _Due(view, policy, simulator.Plan(**row.plan), None)
    if (row.status != "validating_files"
            or policy.now(svc.wall()) < row.stage_started + simulator.Timing.scaled(policy.duration).validate
            or (row.forced and row.forced.get("stage") == "validating_files")):
        return _Due(view, policy, None, None)
    outcome = _cached_outcome(svc, row, view, training) if cached_only else _validate(svc, row, view, training)
    return None if outcome is None else _Due(view, policy, *outcome)


def _advance_once(s: Connection | Raw, svc: Services, row: JobRow, policy, plan, error, action) -> JobRow:
    now = policy.now(svc.wall())
    state = _fields(row)
    fx = simulator.advance(state, now=now, timing=simulator.Timing.scaled(policy.duration), plan=plan,
                           validation_error=error, final_model=_final_model(row))
    if plan is not None and not row.plan and fx:
        fx.changes["plan"] = {k: getattr(plan, k) for k in ("n_examples", "billing_tokens", "n_epochs",
                                                           "batch_size", "learning_rate_multiplier", "beta")}
    if action is not None:
        _apply_action(row, state | fx.changes, fx, action, now)
    if not fx:
        return row
    changes = _commit(s, svc, row, fx, plan, now)
    return _JOB_SNAPSHOT(**(_fields(row) | changes))   # what the UPDATE wrote: no second read


def _apply_action(row: JobRow, state: dict, fx: simulator.Effects, action: str, now: float) -> None:
    status = state["status"]
    target = simulator.check_action(status, action)
    if target is None:
        verb = {"cancel": "cancelled", "pause": "paused", "resume": "resumed"}[action]
        why = "it is not running" if action == "pause" else "it is not paused" if action == "resume" else ""
        raise errors.BadRequest(f"Job {row.id} has status {status} and cannot be {verb}"
                                f"{' because ' + why if why else ''}.", param="fine_tuning_job_id",
                                code="invalid_job_state")
    fx.changes.update(status=target, stage_started=now, estimated_finish=None)
    message = {"cancel": "Fine-tuning job cancelled", "pause": "Fine-tuning job paused",
               "resume": "Fine-tuning job resumed"}[action]
    fx.events.append(simulator.NewEvent(now, message))


# The compare-and-set as a Core statement on the table, built once: the ORM's bulk UPDATE would also evaluate
# the new values against every JobRow in the session (none: each advance uses a fresh one), ~1 ms a finish. The
# SET clause comes from the parameters' names (columns), so no statement is built or cache key computed per call.
_TABLE = JobRow.__table__  # type: ignore[attr-defined]
_COLUMNS = {attr.key: attr.columns[0].name for attr in JobRow.__mapper__.column_attrs}  # attribute → column
_UPDATE = update(_TABLE).where(_TABLE.c.id == bindparam("cas_id"), _TABLE.c.version == bindparam("cas_version"))
_JOB_AND_FILE = joined_by_id(JobRow, "training_file", FileRow,
                             {"path": "training_key", "deleted": "training_deleted"})


def _commit(s: Connection | Raw, svc: Services, row: JobRow, fx: simulator.Effects, plan: simulator.Plan | None,
            now: float) -> dict:
    """One UPDATE of the job row (its compact log grows by the new entries) under the optimistic lock,
    then at most one INSERT of model rows and one of the results file's row."""
    changes = dict(fx.changes)
    ctx = _context(row, _fields(row) | changes)
    changes["log"] = history.extend(row.log, fx.events)
    changes["event_count"] = row.event_count + history.count(history.extend(None, fx.events), ctx)
    changes["version"] = row.version + 1
    if fx.succeeded_at is not None and plan is not None:
        changes["result_files"] = [derived_file(s, svc, tenant=row.tenant, kind="results", key=row.id,
                                                filename="step_metrics.csv", purpose="fine-tune-results",
                                                created_at=int(now))]
        changes["trained_tokens"] = plan.trained_tokens
    result = s.execute(_UPDATE, {_COLUMNS[k]: v for k, v in changes.items()} |
                                    {"cas_id": row.id, "cas_version": row.version})
    if result.rowcount != 1:
        raise _Conflict()
    final = _final_model(row)
    models = [(ck.name, int(ck.created_at), "checkpoint", ck.step) for ck in fx.checkpoints if ck.name != final]
    if fx.succeeded_at is not None and plan is not None:
        models.append((final, int(fx.succeeded_at), "fine_tuned", None))
    if models:  # no cache generation bump: no cache holds a negative answer for a model (a miss is re-read)
        s.execute(_INSERT_MODEL, [
            {"id": name, "tenant": row.tenant, "created": created, "owned_by": row.organization_id,
             "base_model": row.model, "job_id": row.id, "kind": kind, "step": step, "deleted": False,
             "training_file_id": row.training_file} for name, created, kind, step in models])
    return changes


# The models' training data: the training file's own bytes, by reference (no copy). A deletion of the file keeps
# them while a job names it (files.store.release_after_commit), so the model's data outlives the file as the real
# API's does. As SQL (a scalar subquery): no statement of its own. One statement built once, run for every row
# (executemany): a multi-row VALUES would be compiled anew each time (it has no cache key), ~1.5 ms a finish.
_INSERT_MODEL = insert(ModelRow.__table__).values(  # type: ignore[attr-defined]
    training_file=select(FileRow.path).where(FileRow.id == bindparam("training_file_id")).scalar_subquery())


# --- reads -------------------------------------------------------------------------------------------

def list_jobs(svc: Services, *, tenant: str, limit: int, after: str | None,
              metadata: dict[str, str] | None, metadata_null: bool) -> Page:
    if metadata or metadata_null:
        page = _filter_metadata(svc, tenant=tenant, limit=limit, after=after, metadata=metadata,
                                metadata_null=metadata_null)
    else:
        with svc.db.session() as s:
            mine = scope(JobRow, tenant)
            page = paginate(s, JobRow, where=mine, cursor_scope=mine, limit=limit, after=after, order="desc")
    rows = [advance_job(svc, tenant=tenant, job_id=r.id) if r.status not in simulator.TERMINAL else r
            for r in page.rows]
    return Page(rows, page.has_more)


def _filter_metadata(svc: Services, *, tenant: str, limit: int, after: str | None, metadata: dict[str, str] | None,
                     metadata_null: bool) -> Page:
    """Metadata filters are applied in Python (JSON columns differ across databases); pages stay exact."""
    with svc.db.session() as s:
        stmt = owned(JobRow, tenant).order_by(JobRow.seq.desc())
        if after:
            stmt = stmt.where(JobRow.seq < cursor_seq(s, JobRow, after, scope(JobRow, tenant)))
        matched = []
        for row in s.exec(stmt):
            md = row.metadata_ or {}
            if (metadata_null and not md) or (metadata and all(md.get(k) == v for k, v in metadata.items())):
                matched.append(row)
                if len(matched) > limit:
                    break
    return Page(matched[:limit], len(matched) > limit)


def list_events(svc: Services, *, tenant: str, job_id: str, limit: int, after: str | None,
                read: JobRead | None = None) -> Page:
    """Newest first, derived from the job row: O(page), whatever the job's size."""
    row = advance_job(svc, tenant=tenant, job_id=job_id, read=read)
    before = None
    if after:
        before = history.event_position(row.id, after, row.log)
        if before is None or before >= row.event_count:
            raise bad_cursor(after)
    rows, has_more = history.page(row.log or [], _context(row), total=row.event_count, limit=limit, before=before)
    return Page([event_to_wire(eid, ev) for _, eid, ev in rows], has_more)


def list_checkpoints(svc: Services, *, tenant: str, job_id: str, limit: int, after: str | None,
                     read: JobRead | None = None) -> Page:
    row = advance_job(svc, tenant=tenant, job_id=job_id, read=read)
    return page_of(history.checkpoints(row.log or [], _context(row), row.steps_done), limit=limit, after=after)


def results_content(s: Session, job_id: str) -> bytes:
    """The results file of a finished job, as it was stored before: base64 of the step-metrics CSV."""
    row = s.exec(select(JobRow).where(JobRow.id == job_id)).first()
    if row is None or row.status != "succeeded":
        raise errors.no_such_file(job_id)
    return history.results_csv(_context(row))


register_deriver("results", results_content)


def force_failure(svc: Services, *, job_id: str, stage: str, code: str, message: str,
                  param: str | None = None) -> JobRow:
    """Control plane: make the job fail with `code`/`message` when it is in `stage` (now, if it already is)."""
    with svc.db.session() as s:
        row = s.exec(select(JobRow).where(JobRow.id == job_id)).first()
        if row is None:
            raise errors.no_such_object("FineTuningJob", job_id, "job_id")
        row.forced = {"stage": stage, "code": code, "message": message, "param": param}
        row.version += 1
        s.add(row)
        tenant = row.tenant
    return advance_job(svc, tenant=tenant, job_id=job_id)

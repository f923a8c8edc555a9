"""Stored responses: save, read (a background response finishes on the first read after its time),
delete, cancel, input items, and the history of a `previous_response_id` chain."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session

from contracts import errors
from mockserver.owned import find
from mockserver.pagination import Page, page_of
from mockserver.services import Services
from mockserver.tables import ResponseRow

__all__ = ["save", "get", "advance", "delete", "cancel", "history", "list_input_items", "MAX_CHAIN",
           "not_found"]

MAX_CHAIN = 1000        # responses followed back through previous_response_id
_FINISHED = ("completed", "incomplete", "failed", "cancelled")


def not_found(response_id: str) -> errors.NotFound:
    return errors.NotFound(f"Response with id '{response_id}' not found.", param="response_id")


def save(s: Session, *, tenant: str, body: dict, items: list[dict], ready_at: float, final: dict | None) -> None:
    """Store a response; a background one keeps its finished body in `final` until it is due."""
    stored = body if final is None else {"queued": body, "final": final}
    s.add(ResponseRow(id=body["id"], tenant=tenant, created_at=body["created_at"], status=body["status"],
                      background=body["background"], ready_at=ready_at,
                      previous_response_id=body["previous_response_id"], body=stored, input_items=items))


def _row(s: Session, tenant: str, response_id: str) -> ResponseRow:
    row = find(s, ResponseRow, tenant, response_id, live=True)
    if row is None:
        raise not_found(response_id)
    return row


def _wire(row: ResponseRow) -> dict:
    if row.status == "queued":
        return row.body["queued"]
    if "final" in row.body:
        return row.body["final"] if row.status != "cancelled" else {**row.body["queued"], "status": "cancelled"}
    return row.body


def _set(s: Session, row: ResponseRow, status: str, body: dict) -> bool:
    """Compare-and-set on `version`: False when another request (or process) changed the row first."""
    done = s.execute(update(ResponseRow).where(ResponseRow.id == row.id, ResponseRow.version == row.version)
                     .values(status=status, body=body, version=row.version + 1))
    return done.rowcount == 1


def advance(svc: Services, *, tenant: str, response_id: str) -> dict:
    """The stored response as of now; a due background response completes (once, across processes)."""
    for _ in range(20):
        with svc.db.session() as s:
            row = _row(s, tenant, response_id)
            if row.status != "queued" or svc.policy(s).now(svc.wall()) < row.ready_at:
                return _wire(row)
            final = row.body["final"]
            if _set(s, row, final["status"], {"queued": row.body["queued"], "final": final}):
                return final
    raise errors.ServerError("The response is being updated by too many requests at once; try again.")


def get(svc: Services, *, tenant: str, response_id: str) -> dict:
    return advance(svc, tenant=tenant, response_id=response_id)


def delete(svc: Services, *, tenant: str, response_id: str) -> dict:
    with svc.db.session() as s:
        row = _row(s, tenant, response_id)
        row.deleted = True
        s.add(row)
    return {"id": response_id, "object": "response", "deleted": True}


def cancel(svc: Services, *, tenant: str, response_id: str) -> dict:
    """Cancel a background response that has not finished; a finished one is returned unchanged."""
    body = advance(svc, tenant=tenant, response_id=response_id)
    with svc.db.session() as s:
        row = _row(s, tenant, response_id)
        if not row.background:
            raise errors.BadRequest("Only responses created with background=true can be cancelled.",
                                    param="response_id", code="invalid_value")
        if row.status in _FINISHED:
            return body
        cancelled = {**row.body["queued"], "status": "cancelled"}
        if not _set(s, row, "cancelled", row.body):
            raise errors.ServerError("The response changed while it was being cancelled; try again.")
    return cancelled


def history(s: Session, *, tenant: str, response_id: str) -> list[dict]:
    """Input and output items of a chain ending at `response_id`, oldest first (404 for an unknown id)."""
    chunks: list[list[dict]] = []
    current: str | None = response_id
    while current is not None and len(chunks) < MAX_CHAIN:
        row = find(s, ResponseRow, tenant, current, live=True)
        if row is None:
            raise errors.NotFound(f"Previous response with id '{current}' not found.", param="previous_response_id",
                                  code="previous_response_not_found")
        chunks.append(list(row.input_items or []) + list(_wire(row).get("output") or []))
        current = row.previous_response_id
    return [item for chunk in reversed(chunks) for item in chunk]


def list_input_items(svc: Services, *, tenant: str, response_id: str, limit: int, after: str | None,
                     order: str) -> Page:
    """A page of the response's input items (ids are cursors); `desc` (the default) lists newest first."""
    with svc.db.session() as s:
        items = list(_row(s, tenant, response_id).input_items or [])
    if order == "desc":
        items.reverse()
    return page_of(items, limit=limit, after=after)

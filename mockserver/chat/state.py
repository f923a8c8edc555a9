"""Read-through cache of the database facts the chat hot path needs: the clock policy and resolved models,
kept in the per-process database view of mockserver.cache (emptied by any committed write)."""

from __future__ import annotations

from contracts import catalog
from mockserver.cache import db_view
from mockserver.models.store import CallableModel, resolve_callable
from mockserver.services import Services

__all__ = ["resolve"]

MAX_ENTRIES = 10_000


def resolve(svc: Services, tenant: str, model_id: str) -> tuple[CallableModel, int]:
    """(the callable model or the real 404, svc.now()) with as few database reads as correctness allows."""
    view = db_view(svc)
    key = (tenant, model_id)
    model, policy = view.get(key), view.get("clock")
    entry = catalog.lookup(model_id) if model is None else None
    if entry is not None:  # what resolve_callable answers for a catalog model, without a session
        model = CallableModel(id=model_id, base=entry, kind="base")
    if model is None or policy is None:
        with svc.db.session() as s:
            if model is None:
                model = resolve_callable(s, tenant=tenant, model_id=model_id)
            if policy is None:
                policy = svc.policy(s)
    if len(view) > MAX_ENTRIES:
        view.clear()
    view[key] = model
    view["clock"] = policy
    return model, int(policy.now(svc.wall()))

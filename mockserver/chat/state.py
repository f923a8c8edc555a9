"""Read-through cache of the database facts the chat hot path needs: the clock policy and resolved models,
kept in the per-process caches of mockserver.cache (dropped when the database's cache generation moves)."""

from __future__ import annotations

from contracts import catalog
from mockserver.cache import View
from mockserver.chat import fidelity as fidelity_store
from mockserver.models.store import CallableModel, resolve_callable
from mockserver.services import Services

__all__ = ["resolve", "answer_fidelity"]


def resolve(svc: Services, tenant: str, model_id: str, view: View | None = None) -> tuple[CallableModel, int]:
    """(the callable model or the real 404, svc.now()) with as few database reads as correctness allows:
    one read of the cache generation when both are cached (none when the request's `view` is passed)."""
    view = view or svc.caches.view()
    key = (tenant, model_id)
    model, policy = view.get("models", key), view.slot("policy")
    if model is None:   # a miss: found (or the 404 raised) and kept; a hit is used as it is, nothing written
        entry = catalog.lookup(model_id)
        if entry is not None:  # what resolve_callable answers for a catalog model, without a session
            model = CallableModel(id=model_id, base=entry, kind="base")
        else:
            with svc.db.raw_read() as conn:   # one read of a prebuilt statement: no session, nothing to commit
                model = resolve_callable(conn, tenant=tenant, model_id=model_id)
        view.put("models", key, model)
    if policy is None:
        policy = svc.policy(view=view)   # loaded on a session of its own (see Services.policy)
    return model, int(policy.now(svc.wall()))


def answer_fidelity(svc: Services, tenant: str, view: View | None = None) -> str:
    """The tenant's answer fidelity: its control-plane override, the one for everyone, else the flag."""
    view = view or svc.caches.view()
    overrides = view.slot("answer_fidelity")
    if overrides is None:
        with svc.db.session() as s:
            overrides = view.put_slot("answer_fidelity", fidelity_store.load(s))
    return fidelity_store.effective(overrides, tenant, svc.settings.answer_fidelity)

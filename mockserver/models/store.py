"""Models: the catalog's base models plus each tenant's fine-tuned and checkpoint models."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlmodel import Session, select

from contracts import catalog, errors
from mockserver.cache import bump
from mockserver.owned import connection, find, joined_by_id, owned
from mockserver.tables import JobRow, ModelRow

__all__ = ["base_to_wire", "model_to_wire", "list_models", "get_model_wire", "delete_model", "CallableModel",
           "resolve_callable"]


def base_to_wire(entry: catalog.BaseModel) -> dict:
    return {"id": entry.id, "object": "model", "created": entry.created, "owned_by": entry.owned_by}


def model_to_wire(row: ModelRow) -> dict:
    return {"id": row.id, "object": "model", "created": row.created, "owned_by": row.owned_by}


def _tenant_model(s: Session, *, tenant: str, model_id: str) -> ModelRow | None:
    return find(s, ModelRow, tenant, model_id, live=True)


def list_models(s: Session, *, tenant: str) -> dict:
    rows = s.exec(owned(ModelRow, tenant, ModelRow.kind == "fine_tuned", live=True).order_by(ModelRow.seq)).all()
    data = [base_to_wire(m) for m in catalog.CATALOG.values()] + [model_to_wire(r) for r in rows]
    return {"object": "list", "data": data}


def _not_found(model_id: str) -> errors.NotFound:
    return errors.NotFound(f"The model '{model_id}' does not exist", param="model", code="model_not_found")


def get_model_wire(s: Session, *, tenant: str, model_id: str) -> dict:
    entry = catalog.lookup(model_id)
    if entry is not None:
        return base_to_wire(entry)
    row = _tenant_model(s, tenant=tenant, model_id=model_id)
    if row is None:
        raise _not_found(model_id)
    return model_to_wire(row)


def delete_model(s: Session, *, tenant: str, model_id: str) -> dict:
    if catalog.lookup(model_id) is not None:
        raise errors.PermissionDenied(f"You cannot delete the base model '{model_id}'; only fine-tuned models "
                                      "your organization owns can be deleted.", param="model",
                                      code="model_not_deletable")
    row = _tenant_model(s, tenant=tenant, model_id=model_id)
    if row is None:
        raise _not_found(model_id)
    row.deleted = True
    s.add(row)
    bump(s)
    if row.kind == "fine_tuned":  # a deleted model takes its checkpoints with it
        for ckpt in s.exec(select(ModelRow).where(ModelRow.job_id == row.job_id, ModelRow.kind == "checkpoint")):
            ckpt.deleted = True
            s.add(ckpt)
    return {"id": row.id, "object": "model", "deleted": True}


@dataclass(frozen=True, slots=True)
class CallableModel:
    """A model chat/completions can answer as: a base model, or a tenant's tuned model and its data."""

    id: str
    base: catalog.BaseModel
    kind: str                     # "base" | "fine_tuned" | "checkpoint"
    job_id: str | None = None
    training_data: str | None = None  # storage path of the job's training-data snapshot (FileStore.path)
    step: int | None = None
    epochs: float | None = None       # epochs trained (a checkpoint: done at its step), from the job's plan
    n_examples: int | None = None


def _trained_epochs(plan: object, kind: str, step: int | None) -> tuple[float | None, int | None]:
    """(epochs the model was trained, examples in its data) from its job's plan; (None, None) if unknown."""
    if not isinstance(plan, dict) or not plan.get("n_epochs") or not plan.get("n_examples"):
        return None, None
    n, epochs = int(plan["n_examples"]), float(plan["n_epochs"])
    if kind == "checkpoint" and step is not None:
        per_epoch = math.ceil(n / max(1, int(plan.get("batch_size") or 1)))
        epochs = min(epochs, step / per_epoch)
    return epochs, n


# A tenant's live model and its job's plan in one statement, built once (the chat path's read of a tuned model).
_CALLABLE = joined_by_id(ModelRow, "job_id", JobRow, {"plan": "plan"}, live=True,
                         only=("id", "base_model", "kind", "job_id", "training_file", "step"))


def resolve_callable(s: Session | Connection, *, tenant: str, model_id: str) -> CallableModel:
    """The model a completion request names, or the real 404 `model_not_found`."""
    entry = catalog.lookup(model_id)
    if entry is not None:
        return CallableModel(id=model_id, base=entry, kind="base")
    row = None
    if model_id.startswith("ft:"):
        row = connection(s).execute(_CALLABLE, {"tenant": tenant, "object_id": model_id}).first()
    if row is None:
        raise errors.model_not_found(model_id)
    base = catalog.CATALOG[row.base_model]
    epochs, n_examples = _trained_epochs(row.plan, row.kind, row.step)
    return CallableModel(id=row.id, base=base, kind=row.kind, job_id=row.job_id,
                         training_data=row.training_file, step=row.step, epochs=epochs, n_examples=n_examples)

"""Answer fidelity set through the control plane: per tenant, or for every tenant ("*"), over the flag.

Stored as one `Meta` row {"*"?: mode, <tenant>: mode}; `effective` resolves tenant → "*" → the flag.
"""

from __future__ import annotations

from sqlmodel import Session

from mockserver.cache import bump
from mockserver.db import locked_meta
from mockserver.tables import Meta

__all__ = ["load", "save", "effective", "EVERYONE"]

_KEY = "answer_fidelity"
EVERYONE = "*"


def load(session: Session) -> dict[str, str]:
    row = session.get(Meta, _KEY)
    return dict(row.value) if row is not None and isinstance(row.value, dict) else {}


def save(session: Session, *, tenant: str | None, mode: str | None) -> dict[str, str]:
    """Set (or with mode None, clear) the override of `tenant` (None: every tenant); the new overrides.

    Read-modify-write under the row's lock (db.locked_meta): two processes setting different tenants at
    once both count."""
    row = locked_meta(session, _KEY)
    value = dict(row.value) if isinstance(row.value, dict) else {}
    who = tenant or EVERYONE
    if mode is None:
        value.pop(who, None)
    else:
        value[who] = mode
    row.value = value
    session.add(row)
    bump(session)  # every process's cached view of the overrides is stale now
    return value


def effective(overrides: dict[str, str], tenant: str | None, default: str) -> str:
    return overrides.get(tenant or EVERYONE) or overrides.get(EVERYONE) or default

"""The tenant filter in one place: every query of one tenant's objects is built here.

A stored object belongs to the tenant in its `tenant` column (mockserver.tenancy: the API key decides);
another tenant's object is indistinguishable from one that does not exist. `live=True` also leaves out
tombstoned rows (files, models, responses are deleted by marking them, so cursors keep resolving).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import ColumnElement, bindparam, false
from sqlmodel import Session, col, select

__all__ = ["owns", "scope", "owned", "find"]


def owns(table: Any, tenant: str) -> ColumnElement[bool]:
    """The one tenant filter: `table.tenant == tenant`."""
    return col(table.tenant) == tenant


def scope(table: Any, tenant: str, *, live: bool = False) -> list[ColumnElement[bool]]:
    """The tenant's rows of `table` (not tombstoned ones when `live`), as a `where` list (for paginate)."""
    return [owns(table, tenant), col(table.deleted) == false()] if live else [owns(table, tenant)]


def owned(table: Any, tenant: str, *where: Any, live: bool = False) -> Any:
    """`SELECT table WHERE <the tenant's> AND where…`."""
    return select(table).where(*scope(table, tenant, live=live), *where)


def find(s: Session, table: Any, tenant: str, object_id: str, *where: Any, live: bool = False) -> Any:
    """The tenant's row of `table` with this id, or None."""
    if where:
        return s.exec(owned(table, tenant, col(table.id) == object_id, *where, live=live)).first()
    return s.exec(_by_id(table, live), params={"tenant": tenant, "object_id": object_id}).first()


@functools.lru_cache(maxsize=64)
def _by_id(table: Any, live: bool) -> Any:
    """`find`'s statement, built once per table with bound parameters (building it and computing its cache
    key cost more than running it, on every read of an object by id)."""
    return owned(table, bindparam("tenant"), col(table.id) == bindparam("object_id"), live=live)

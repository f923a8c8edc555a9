"""One cursor-pagination helper for every list: `limit`, `after`, `has_more`, newest first by default.

Cursors are ids; an id resolves to its row's `seq` even after the object was deleted (rows are
tombstoned), so a page boundary never breaks when an object disappears mid-iteration. An `after`
that names nothing this tenant ever had is a 400 (`param: after`), so typos surface at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, ConfigDict, Field, create_model
from pydantic_core import PydanticUseDefault
from sqlalchemy import ColumnElement
from sqlmodel import Session, select

from contracts import errors
from contracts.limits import LIST_LIMITS
from contracts.requests import RequestModel, api_error, parse

__all__ = ["Page", "paginate", "page_of", "ListQuery", "QueryInt", "list_query", "list_params", "cursor_seq",
           "bad_cursor"]


class Page:
    """A page of rows plus `has_more`; `render` builds the list envelope."""

    def __init__(self, rows: Sequence[Any], has_more: bool) -> None:
        self.rows = rows
        self.has_more = has_more

    def render(self, to_wire: Callable[[Any], dict], *, ids: bool = True) -> dict:
        data = [to_wire(r) for r in self.rows]
        body: dict[str, Any] = {"object": "list", "data": data}
        if ids:
            body["first_id"] = data[0]["id"] if data else None
            body["last_id"] = data[-1]["id"] if data else None
        body["has_more"] = self.has_more
        return body


def _query_int(raw: Any) -> Any:
    """A query string's integer (`?limit=5`); absent or empty: the default."""
    if raw is None or raw == "":
        raise PydanticUseDefault()
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise api_error("invalid_type", "an integer", raw) from None


QueryInt = Annotated[int | None, BeforeValidator(_query_int)]
"""An integer query parameter other than `limit` (a query model's field, default None, read with `list_params`),
checked as `limit` is: absent or empty is the default, anything but an integer the same `invalid_type` 400."""


class ListQuery(RequestModel):
    """A list endpoint's query: `limit` (LIST_LIMITS' default and maximum for the list) and the `after`
    cursor (fields made by `list_query`); other query parameters are the endpoint's own filters, not errors."""

    model_config = ConfigDict(extra="ignore")    # fields: list_query's, in the order they are checked


Q = TypeVar("Q", bound=ListQuery)


def list_query(kind: str, *, ahead: dict[str, Any] | None = None, behind: dict[str, Any] | None = None
               ) -> type[ListQuery]:
    """The query model of the list `kind` (a LIST_LIMITS key), with the endpoint's own fields (pydantic
    `create_model` definitions) checked before `limit` (`ahead`) or after it (`behind`); a handler declares
    its query parameters as optional strings (what deps.fast_route can fill) and calls `list_params`."""
    default, maximum = LIST_LIMITS[kind]
    limit = Annotated[int, Field(ge=1, le=maximum), BeforeValidator(_query_int)]
    fields = {**(ahead or {}), "limit": (limit, default), "after": (str | None, None), **(behind or {})}
    return create_model(f"{kind.title().replace('_', '')}Query", __base__=ListQuery, **fields)


def list_params(model: type[Q], **given: str | None) -> Q:
    """The query parameters a request `given` (None: not sent) checked by `model`, or the API's 400."""
    return parse(model, {name: value for name, value in given.items() if value is not None})


def cursor_seq(session: Session, table: Any, after: str, cursor_scope: Sequence[ColumnElement[bool]]) -> int:
    """The `seq` of the row `after` names (deleted rows included), or the 400 for a cursor that never existed."""
    anchor = session.exec(select(table.seq).where(table.id == after, *cursor_scope)).first()
    if anchor is None:
        raise bad_cursor(after)
    return anchor


def bad_cursor(after: str) -> errors.BadRequest:
    """The 400 for an `after` that names nothing in the list."""
    return errors.BadRequest(f"No such object for 'after': {after}", param="after", code="invalid_cursor")


def page_of(items: Sequence[dict], *, limit: int, after: str | None) -> Page:
    """A page of an in-memory list whose items' ids are the cursors (checkpoints, input items)."""
    start = 0
    if after:
        ids = [i["id"] for i in items]
        if after not in ids:
            raise bad_cursor(after)
        start = ids.index(after) + 1
    return Page(items[start:start + limit], len(items) > start + limit)


def paginate(session: Session, table: Any, *, where: Sequence[ColumnElement[bool]], cursor_scope:
             Sequence[ColumnElement[bool]], limit: int, after: str | None, order: str = "desc") -> Page:
    """Rows of `table` matching `where`, ordered by `seq`, starting after the row whose id is `after`."""
    stmt = select(table).where(*where)
    if after:
        anchor = cursor_seq(session, table, after, cursor_scope)
        stmt = stmt.where(table.seq < anchor if order == "desc" else table.seq > anchor)
    stmt = stmt.order_by(table.seq.desc() if order == "desc" else table.seq.asc()).limit(limit + 1)
    rows = list(session.exec(stmt))
    return Page(rows[:limit], len(rows) > limit)

"""Canned chat/completions replies: their validation, errors, per-process cache and the matcher chat uses.

The endpoints are in mockserver.control.fixtures: POST /_mock/fixtures {model?, pattern?, reply} registers a fixture; `reply` is one of
    {"content": str}
    {"tool_call": {"name": str, "arguments": str | object}}
    {"error": {"status": 400-599, "message": str, "type"?, "code"?, "param"?, "during_stream"?: bool}}
A request with `Authorization: Bearer <key>` scopes the fixture to that key's tenant; without one it is
global. GET lists the fixtures the caller sees (its tenant's and the global ones; all without a key),
DELETE clears them, DELETE /{id} removes one.

Matching (`match_fixture`): `model` must equal the requested model id when set, `pattern` must be found
(RE2's `search`: linear time in the text, so no pattern can stall a request; backreferences and
look-around are refused with a 400) in the last user message (chat) or the prompt (completions) when set;
the caller's tenant fixtures are tried before global ones, newest first. Fixtures are cached per process
(mockserver.cache) and reloaded when the database's cache generation moves, which every change here does,
so several workers agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlmodel import Session, col, select

from contracts import errors
from mockserver.cache import View, bump
from mockserver.owned import owns
from mockserver.services import Services
from mockserver.tables import FixtureRow

__all__ = ["Fixture", "active_fixtures", "match_fixture", "fixture_error",
           "error_body", "check_pattern", "fixture_to_wire", "add_fixture", "visible_fixtures",
           "remove_fixtures"]

@dataclass(frozen=True, slots=True)
class Fixture:
    id: str
    seq: int
    tenant: str | None
    model: str | None
    regex: Any | None
    reply: dict


# --- validation (the registration body's model: mockserver.control.request.FixtureBody) ---------------


def check_pattern(pattern: str) -> None:
    """The 400 for a pattern RE2 refuses (backreferences, look-around: RE2 matches in linear time)."""
    try:
        compile_pattern(pattern)
    except _re2().error as e:
        reason = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise errors.invalid_value("pattern", f"Invalid 'pattern': not a regular expression RE2 accepts "
                                   f"({reason}); backreferences and look-around are not supported.") from None


@cache
def _re2() -> Any:
    """The RE2 module, imported when the first pattern is compiled (~60 ms a start-up without fixtures saves)."""
    import re2

    return re2


@cache
def _re2_options() -> Any:
    options = _re2().Options()
    options.log_errors = False     # a refused pattern is the caller's 400, not a line on stderr
    options.max_mem = 8 << 20      # bounds the compiled program (RE2's default), so memory too
    return options


def compile_pattern(pattern: str) -> Any:
    """The pattern compiled by RE2 (linear-time matching); raises `re2.error` for what RE2 refuses."""
    return _re2().compile(pattern, options=_re2_options())


# --- errors a fixture raises ---------------------------------------------------------------------------


def fixture_error(err: dict) -> errors.APIError:
    """The API error an error fixture stands for (429 → type `requests`, 5xx → `server_error` by default)."""
    status = err["status"]
    default_type = ("requests" if status == 429 else "server_error" if status >= 500
                    else "invalid_request_error")
    code = err.get("code", "rate_limit_exceeded" if status == 429 else None)
    return errors.APIError(err["message"], status=status, type=err.get("type", default_type), code=code,
                           param=err.get("param"))


def error_body(err: dict) -> dict:
    """The `error` object of the SSE frame a during-stream fixture sends."""
    return fixture_error(err).body()["error"]


# --- cache and matching ---------------------------------------------------------------------------------


def _load(svc: Services) -> list[Fixture]:
    with svc.db.session() as s:
        rows = s.exec(select(FixtureRow).order_by(col(FixtureRow.seq).desc())).all()
    return [Fixture(r.id, r.seq or 0, r.tenant, r.model, compile_pattern(r.pattern) if r.pattern else None,
                    r.reply) for r in rows]


def active_fixtures(svc: Services, view: View | None = None) -> list[Fixture]:
    """Every fixture, newest first, from the per-process caches (reloaded when the generation moved)."""
    view = view or svc.caches.view()
    fixtures = view.slot("fixtures")
    if fixtures is None:
        fixtures = view.put_slot("fixtures", _load(svc))
    return fixtures


def match_fixture(svc: Services, tenant: str, model: str, text: str, view: View | None = None) -> Fixture | None:
    """The fixture answering this request: tenant ones before global ones, newest first."""
    fixtures = active_fixtures(svc, view)
    if not fixtures:
        return None
    for scope in (tenant, None):
        for f in fixtures:
            if f.tenant == scope and (f.model is None or f.model == model) and (
                    f.regex is None or f.regex.search(text)):
                return f
    return None


# --- store (the /_mock/fixtures endpoints' data access; every change invalidates the caches) ------------


def _visible(tenant: str | None) -> Any:
    stmt = select(FixtureRow).order_by(col(FixtureRow.seq).desc())
    if tenant is not None:
        stmt = stmt.where(owns(FixtureRow, tenant) | col(FixtureRow.tenant).is_(None))   # its own and global ones
    return stmt


def fixture_to_wire(row: FixtureRow) -> dict:
    return {"id": row.id, "object": "mock.fixture", "scope": "tenant" if row.tenant else "global",
            "model": row.model, "pattern": row.pattern, "reply": row.reply}


def add_fixture(s: Session, svc: Services, *, tenant: str | None, model: str | None, pattern: str | None,
                reply: dict) -> FixtureRow:
    """Register a fixture (its body checked by control.request.FixtureBody); `tenant` None makes it global."""
    row = FixtureRow(id=svc.ids.new("fixture"), tenant=tenant, model=model, pattern=pattern, reply=reply)
    s.add(row)
    bump(s)
    return row


def visible_fixtures(s: Session, *, tenant: str | None) -> list[FixtureRow]:
    """The fixtures a caller sees: its tenant's and the global ones, newest first (all when tenant is None)."""
    return list(s.exec(_visible(tenant)).all())


def remove_fixtures(s: Session, *, tenant: str | None, fixture_id: str | None = None) -> int:
    """Delete the visible fixtures (or the one `fixture_id`, 404 when not visible); how many went."""
    stmt = _visible(tenant)
    if fixture_id is not None:
        stmt = stmt.where(FixtureRow.id == fixture_id)
    rows = s.exec(stmt).all()
    if fixture_id is not None and not rows:
        raise errors.no_such_object("Fixture", fixture_id, "fixture_id")
    for row in rows:
        s.delete(row)
    bump(s)
    return len(rows)

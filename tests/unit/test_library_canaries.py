"""Canaries for the library internals the emulator relies on where no public API exists.

Each dependency touched this way has an upper-bounded pin in pyproject.toml; when a new release is let in,
these tests say exactly which assumption broke (rather than a strange failure elsewhere):

- mockserver/intercept.py: respx's mocker registry (`Mocker.registry[name].routers`, reordered so the
  innermost interception wins) and the `Router.aresolve` frame that tells async side effects apart;
- mockserver/protocol.py: uvicorn's `H11Protocol.send_400_response(msg)` hook for unparsable requests, and
  for the read timeouts its `data_received` / `on_response_complete` / `connection_lost` methods, its h11
  connection (`self.conn.their_state`) and flow control (`self.flow.read_paused`);
- mockserver/protocol_httptools.py: uvicorn's `HttpToolsProtocol` (its parser callbacks, what `on_message_begin`
  sets up, `_start_asgi_task`, `_unset_keepalive_if_required`, the keep-alive timer, `connections`/`tasks`) and
  its `RequestResponseCycle` (constructor keywords, the state `run_asgi` and `receive` read), h11_impl's
  `STATUS_PHRASES`, flow_control's `CLOSE_HEADER`, and that h11's `their_http_version` survives a cycle (a
  connection handed to h11 after a good request is primed with it). What h11 writes is compared byte for byte
  by tests/unit/test_protocol_wire.py, the canary for h11 itself;
- mockserver/hot.py: FastAPI's `__call__` (what the hot path stands in for: root path, lifespan, native
  telemetry) and its `_native_telemetry.enabled()`, which sends a request through the stack when a
  telemetry provider is configured; and what Starlette's `Response.__call__` sends for an http request (the
  hot path sends the same two messages itself, with the API's headers added, for the classes that keep it);
- mockserver/db.py's raw path (`Raw`): it reports each statement by calling the engine's
  `dispatch.before_cursor_execute` (conn and context None), which reaches the listeners `event.listen(engine,
  "before_cursor_execute", ...)` added; everything else it uses is public (`compile`, `construct_params`,
  `positiontup`, `binds`, `insert_prefetch`, `TypeEngine.bind_processor` / `result_processor`);
- `make test` (--dist loadgroup): pytest-xdist sends an `xdist_group`'s tests to one worker by suffixing their
  node ids; pytest 9.2 keeps node ids where xdist 3.8 cannot, so every group silently split (pytest <9.2).
"""

from __future__ import annotations

import asyncio
import inspect

import pytest

from mockserver import intercept


def test_respx_mocker_registry_keeps_routers_in_a_list() -> None:
    import respx
    from respx.mocks import Mocker

    assert "httpcore" in Mocker.registry
    router = respx.mock(using="httpcore", assert_all_mocked=False, assert_all_called=False)
    with router:
        routers = Mocker.registry["httpcore"].routers
        assert isinstance(routers, list) and router in routers


def test_respx_async_side_effects_run_under_router_aresolve() -> None:
    import httpx
    import respx

    seen: list[bool] = []

    def side_effect(request: httpx.Request) -> httpx.Response:
        seen.append(intercept._resolving_async())
        return httpx.Response(204)

    async def async_call() -> None:
        async with httpx.AsyncClient() as c:
            await c.get("https://canary.test/")

    with respx.mock(using="httpcore", assert_all_called=False) as router:
        router.route(host="canary.test").mock(side_effect=side_effect)
        with httpx.Client() as c:
            c.get("https://canary.test/")
        asyncio.run(async_call())
    assert seen == [False, True]


def test_uvicorn_h11_protocol_reports_bad_requests_through_send_400_response() -> None:
    from uvicorn.protocols.http.h11_impl import H11Protocol

    hook = H11Protocol.send_400_response
    assert list(inspect.signature(hook).parameters) == ["self", "msg"]
    assert "self.send_400_response(" in inspect.getsource(H11Protocol)


def test_uvicorn_h11_protocol_has_what_the_read_timeouts_use() -> None:
    from uvicorn.protocols.http.flow_control import FlowControl
    from uvicorn.protocols.http.h11_impl import H11Protocol

    for name, params in (("data_received", ["self", "data"]), ("on_response_complete", ["self"]),
                         ("connection_lost", ["self", "exc"])):
        assert list(inspect.signature(getattr(H11Protocol, name)).parameters) == params, name
    source = inspect.getsource(H11Protocol)
    assert "self.conn = h11.Connection(" in source and "self.flow = FlowControl(" in source
    assert "self.read_paused" in inspect.getsource(FlowControl)


def test_uvicorn_httptools_protocol_has_what_the_emulator_s_subclass_uses() -> None:
    pytest.importorskip("httptools")
    from uvicorn.protocols.http import flow_control, h11_impl
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

    signatures = {"on_message_begin": ["self"], "on_url": ["self", "url"], "on_header": ["self", "name", "value"],
                  "on_headers_complete": ["self"], "on_body": ["self", "body"], "on_message_complete": ["self"],
                  "on_response_complete": ["self"], "_start_asgi_task": ["self", "cycle", "app"],
                  "_unset_keepalive_if_required": ["self"], "timeout_keep_alive_handler": ["self"],
                  "send_400_response": ["self", "msg"], "connection_lost": ["self", "exc"],
                  "data_received": ["self", "data"], "shutdown": ["self"]}
    for name, params in signatures.items():
        assert list(inspect.signature(getattr(HttpToolsProtocol, name)).parameters) == params, name
    source = inspect.getsource(HttpToolsProtocol)
    for needle in ('self.url = b""', "self.headers = []", "self.scope = {", '"headers": self.headers',
                   "self.parser = httptools.HttpRequestParser(self)", "self.flow = FlowControl(transport)",
                   "self.connections = server_state.connections", "self.tasks = server_state.tasks",
                   "self.timeout_keep_alive_task", "self.limit_concurrency = config.limit_concurrency",
                   "self.cycle.body += body", "self.parser = None"):
        assert needle in source, needle
    assert list(inspect.signature(RequestResponseCycle).parameters) == [
        "scope", "transport", "flow", "logger", "access_logger", "access_log", "default_headers", "message_event",
        "expect_100_continue", "keep_alive", "on_response"]
    cycle = inspect.getsource(RequestResponseCycle)
    for needle in ("await self.send_500_response()", "self.on_response = lambda: None", "self.response_complete",
                   "self.message_event.wait()", "self.more_body", "self.disconnected"):
        assert needle in cycle, needle
    assert h11_impl.STATUS_PHRASES[404] == b"Not Found" and flow_control.CLOSE_HEADER == (b"connection", b"close")


def test_h11_keeps_their_http_version_across_cycles() -> None:
    import h11

    conn = h11.Connection(h11.SERVER)
    conn.receive_data(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert type(conn.next_event()) is h11.Request and type(conn.next_event()) is h11.EndOfMessage
    conn.send(h11.Response(status_code=200, headers=[(b"content-length", b"0")]))
    conn.send(h11.EndOfMessage())
    conn.start_next_cycle()
    assert conn.their_http_version == b"1.1"


def test_respx_has_the_mockers_intercept_uses() -> None:
    from respx.mocks import HTTPCoreMocker, Mocker

    intercept._register_httpcore2_mocker()
    assert {"httpcore", "httpcore2"} <= set(Mocker.registry)
    assert issubclass(Mocker.registry["httpcore2"], HTTPCoreMocker)


def test_fastapi_call_does_only_what_the_hot_path_accounts_for() -> None:
    from fastapi import FastAPI

    app = FastAPI()
    assert callable(app._native_telemetry.enabled) and app._native_telemetry.enabled() in (True, False)
    source = inspect.getsource(FastAPI.__call__)
    # the hot path skips FastAPI.__call__ only for http requests with no root path and telemetry off;
    # a new branch here (or a renamed switch) must be looked at before the pin is raised
    for expected in ('if self.root_path:', 'scope["type"] == "lifespan"', "not self._native_telemetry.enabled()",
                     "await super().__call__(scope, receive, send)"):
        assert expected in source, expected
    assert source.count("if ") == 4, source


@pytest.mark.xdist_group("canary")
def test_xdist_groups_reach_the_scheduler(request: pytest.FixtureRequest) -> None:
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run by pytest-xdist with --dist loadgroup")
    assert request.node.nodeid.endswith("@canary"), request.node.nodeid


def test_starlette_response_sends_what_the_hot_path_sends_for_it() -> None:
    from starlette.responses import JSONResponse, Response

    from mockserver import hot

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    response = JSONResponse({"a": 1}, status_code=201, headers={"x-y": "z"})
    asyncio.run(response({"type": "http"}, None, send))
    assert sent == [{"type": "http.response.start", "status": 201, "headers": response.raw_headers},
                    {"type": "http.response.body", "body": response.body}]
    assert hot._PLAIN is Response.__call__ and JSONResponse.__call__ is Response.__call__


@pytest.mark.parametrize("status", [200, 201, 204, 304, 404, 101, 500])
@pytest.mark.parametrize("headers", [None, {"X-A": "b"}, {"content-type": "text/plain"}])
def test_json_response_headers_are_starlettes(status: int, headers: dict | None) -> None:
    """mockserver.http.JSONResponse builds the common case's headers itself: the same list Starlette builds."""
    from starlette.responses import Response

    from mockserver.http import JSONResponse

    ours = JSONResponse({"a": "é"}, status_code=status, headers=headers)
    theirs = Response(ours.body, status_code=status, headers=headers, media_type="application/json")
    assert ours.raw_headers == theirs.raw_headers
    assert JSONResponse([], media_type="text/x").raw_headers == Response(b"[]", media_type="text/x").raw_headers


def test_engine_dispatch_reaches_before_cursor_execute_listeners(tmp_path) -> None:
    from sqlalchemy import create_engine, event

    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert not engine.dispatch.before_cursor_execute   # none yet: the raw path skips the call
    seen: list[tuple] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args))
    assert engine.dispatch.before_cursor_execute
    engine.dispatch.before_cursor_execute(None, "cursor", "SELECT 1", (), None, False)
    assert seen == [(None, "cursor", "SELECT 1", (), None, False)]
    engine.dispose()


def test_compiled_statements_have_what_the_raw_path_reads() -> None:
    from sqlalchemy import bindparam, column, insert, select, table
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.sql.compiler import SQLCompiler

    t = table("t", column("a"), column("b"))
    stmt = select(t).where(t.c.a == bindparam("x"), t.c.b == bindparam("y"))
    positional = stmt.compile(dialect=sqlite.dialect())
    assert isinstance(positional, SQLCompiler) and positional.positional
    assert list(positional.positiontup) == ["x", "y"] and set(positional.binds) == {"x", "y"}
    assert positional.construct_params({"x": 1, "y": 2}) == {"x": 1, "y": 2}
    named = stmt.compile(dialect=postgresql.dialect())
    assert not named.positional and "%(x)s" in named.string
    assert insert(t).compile(dialect=sqlite.dialect(), column_keys=["a"]).insert_prefetch == []

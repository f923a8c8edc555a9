"""mockserver.protocol: every accepted TCP connection gets TCP_NODELAY (without it `--workers N` keep-alive
requests stall ~40 ms on delayed ACKs), and a response's head and body leave in one write; without a server
or any timing. The protocol-level tests run on both protocols (`EmulatorH11Protocol`, and
`EmulatorHttpToolsProtocol` where httptools is installed)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import pytest

from mockserver.protocol import _CORK_BYTES, EmulatorH11Protocol, _Corked
from mockserver.protocols import protocol_class

PROTOCOLS = [EmulatorH11Protocol] + ([protocol_class("auto")] if protocol_class("auto") is not EmulatorH11Protocol
                                      else [])
by_protocol = pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda p: p.__name__)


class _Transport:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"socket": self.sock, "peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 2)}.get(name, default)


@by_protocol
def test_connection_made_sets_tcp_nodelay(protocol) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server_side, _ = listener.accept()
    try:
        assert server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        instance = protocol.__new__(protocol)
        with contextlib.suppress(AttributeError):  # uvicorn's own set-up needs a configured protocol
            protocol.connection_made(instance, _Transport(server_side))
        assert server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        for s in (server_side, client, listener):
            s.close()


# --- one send per response (_Corked) ------------------------------------------------------------------------

class _Recorder:
    """A transport that records each write (what would be one `send` system call each)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.closing = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing or self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 2)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def test_writes_of_one_step_leave_together_in_order() -> None:
    async def scenario() -> None:
        raw = _Recorder()
        corked = _Corked(raw, asyncio.get_running_loop())
        corked.write(b"head")
        corked.write(b"")
        corked.write(b"body")
        assert raw.writes == []                    # held until the step ends
        await asyncio.sleep(0)
        assert raw.writes == [b"headbody"]
        corked.write(b"next")
        assert corked.get_extra_info("peername") == ("127.0.0.1", 1) and raw.writes[-1] == b"next"  # asked: flushed
        corked.write(b"x" * (_CORK_BYTES + 1))      # a large body goes at once (flow control sees it)
        assert raw.writes[-1] == b"x" * (_CORK_BYTES + 1)
        corked.write(b"bye")
        corked.close()
        assert raw.writes[-1] == b"bye" and raw.closed
        await asyncio.sleep(0)
        assert raw.writes[-1] == b"bye"            # nothing written twice

    asyncio.run(scenario())


def test_bytes_held_for_a_lost_connection_are_dropped() -> None:
    async def scenario() -> None:
        raw = _Recorder()
        corked = _Corked(raw, asyncio.get_running_loop())
        corked.write(b"late")
        raw.closing = True                          # the peer went away meanwhile
        await asyncio.sleep(0)
        assert raw.writes == []

    asyncio.run(scenario())


@by_protocol
def test_a_response_leaves_in_one_write(protocol) -> None:
    """Through the protocol: head, body (and a second keep-alive response) one write each."""
    from uvicorn import Config
    from uvicorn.server import ServerState

    async def app(scope, receive, send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"{}"})

    async def scenario() -> list[bytes]:
        config = Config(app, http=protocol, log_level="warning")
        config.load()
        proto = protocol(config=config, server_state=ServerState(), app_state={})
        raw = _Recorder()
        proto.connection_made(raw)
        for _ in range(2):
            proto.data_received(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}")
            for _ in range(20):
                await asyncio.sleep(0)
        proto.connection_lost(None)
        return raw.writes

    writes = asyncio.run(scenario())
    assert len(writes) == 2 and all(w.startswith(b"HTTP/1.1 200 OK\r\n") and w.endswith(b"\r\n\r\n{}") for w in writes)


# --- a lingering close ----------------------------------------------------------------------------------------

class _HalfClosable(_Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.eof = False

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True


def _answering_protocol(monkeypatch, protocol_cls, idle: float, total: float):
    """`protocol_cls` serving an app that answers without reading the request's body."""
    from uvicorn import Config
    from uvicorn.server import ServerState

    from mockserver import protocol

    monkeypatch.setattr(protocol, "_LINGER_IDLE", idle)
    monkeypatch.setattr(protocol, "_LINGER_TOTAL", total)

    async def app(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"{}"})

    config = Config(app, http=protocol_cls, log_level="warning")
    config.load()
    return protocol_cls(config=config, server_state=ServerState(), app_state={})


async def _steps(n: int = 20) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def _answered(monkeypatch, protocol, *, idle: float, total: float, length: int, sent: bytes = b""):
    """(protocol, transport) once a `Connection: close` request declaring a `length`-byte body, of which `sent`
    arrived, has been answered."""
    proto = _answering_protocol(monkeypatch, protocol, idle=idle, total=total)
    raw = _HalfClosable()
    proto.connection_made(raw)
    proto.data_received(b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % length
                        + sent)
    await _steps()
    return proto, raw


@by_protocol
def test_closing_while_the_client_still_sends_its_body_lingers(monkeypatch, protocol) -> None:
    """`Connection: close` with a body the handler never reads: the answer is written, the write side shut
    (FIN), the socket kept open to drain what the client still sends (a close now would make the kernel reset
    the connection and could destroy the answer), then closed once the client goes quiet."""
    async def scenario() -> None:
        proto, raw = await _answered(monkeypatch, protocol, idle=0.5, total=30, length=100000, sent=b"x" * 1000)
        assert raw.writes and raw.writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and raw.writes[-1].endswith(b"{}")
        assert raw.eof and not raw.closed            # answered, half-closed, still reading
        for _ in range(3):
            proto.data_received(b"x" * 30_000)       # the rest of the body: dropped, nothing answered again
            await _steps(3)
        assert not raw.closed and len(raw.writes) == 1
        for _ in range(100):                          # the client went quiet: closed after the idle time
            if raw.closed:
                break
            await asyncio.sleep(0.05)
        assert raw.closed
        proto.connection_lost(None)

    asyncio.run(scenario())


@by_protocol
def test_a_lingering_close_is_bounded_in_time(monkeypatch, protocol) -> None:
    async def scenario() -> None:
        proto, raw = await _answered(monkeypatch, protocol, idle=30, total=0.2, length=999999999)
        assert raw.eof and not raw.closed
        for _ in range(100):                          # a client that never stops sending
            if raw.closed:
                break
            proto.data_received(b"x" * 1000)
            await asyncio.sleep(0.02)
        assert raw.closed                             # by the total bound (the idle one is 30 s)
        proto.connection_lost(None)

    asyncio.run(scenario())


@by_protocol
def test_a_stopping_server_does_not_wait_for_a_lingering_connection(monkeypatch, protocol) -> None:
    async def scenario() -> None:
        proto, raw = await _answered(monkeypatch, protocol, idle=30, total=30, length=99999)
        assert raw.eof and not raw.closed
        proto.shutdown()
        assert raw.closed
        proto.connection_lost(None)

    asyncio.run(scenario())


@by_protocol
def test_a_connection_whose_request_was_read_whole_closes_at_once(monkeypatch, protocol) -> None:
    async def scenario() -> None:
        proto, raw = await _answered(monkeypatch, protocol, idle=5, total=5, length=3, sent=b"abc")
        assert raw.closed and not raw.eof
        proto.connection_lost(None)

    asyncio.run(scenario())

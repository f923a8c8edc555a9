"""The emulator's HTTP/1.1 protocol on uvicorn's h11 one (`EmulatorH11Protocol`, the fallback and `--http h11`),
and what it shares with the httptools one (mockserver.protocol_httptools, served by default, same bytes):
`Guarded`, the changes below, and `refusal`, the 400.

* TCP_NODELAY on every connection. uvicorn sets it only when asyncio does, and asyncio skips the
  listening socket uvicorn binds itself for `--workers N` (protocol number 0): without it every
  keep-alive request waits ~40 ms for the peer's delayed ACK.
* A request uvicorn cannot parse gets the API's error envelope (400 `invalid_request_error`), not
  uvicorn's plain-text "Invalid HTTP request received.".
* Read timeouts (slowloris): a request head must arrive whole within `--header-timeout` seconds of its
  first byte, and a body that stops arriving for `--body-timeout` seconds (while the server is ready to
  read it) ends the connection; the handler then sees a disconnect and discards what it stored (a
  multipart upload's tmp file). uvicorn has no such settings; its keep-alive timeout covers idle
  connections between requests.
* One `send` per response where uvicorn makes two: the writes of one event-loop step (a response's head,
  then its body) leave together (`_Corked`). The bytes on the wire are the same; the server spends one
  system call less per response, and a loopback client gets one segment (`make bench`, http: server CPU
  per chat request 213 → 192 µs).
* A lingering close. When a response is complete but the client is still sending its request body (it sent
  `Connection: close`, or the server ends the connection) and the connection is to close, uvicorn closes the
  socket at once; with the client's unread bytes still in the kernel's receive queue, Linux answers them with
  a reset, which can destroy the response on its way (the client reads "connection reset" instead of the
  answer, or its tail is cut off). Here the response is sent, the write side is shut (FIN after the
  response's last byte) and what the client still sends is read and dropped until it stops for
  `_LINGER_IDLE` seconds or `_LINGER_TOTAL` pass (memory stays flat: nothing is kept), then the connection
  closes — as nginx's lingering close does. A stalled request (read timeout), a connection that never
  answered and every connection of a server that is stopping are closed at once, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable
from typing import Any

import h11
import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol

from contracts import errors

__all__ = ["EmulatorH11Protocol", "Guarded", "refusal", "HEAD", "BODY", "OTHER"]


def _timeouts() -> tuple[float, float]:
    """(header, body) read timeouts from the settings every server process shares through its environment."""
    from mockserver.settings import Settings

    env = os.environ
    default = Settings.__dataclass_fields__
    return (float(env.get("MOCKSERVER_HEADER_TIMEOUT", default["header_timeout"].default)),
            float(env.get("MOCKSERVER_BODY_TIMEOUT", default["body_timeout"].default)))


class _Corked:
    """The connection's transport, with the writes made in one event-loop step sent together: a response's
    head and body leave in one `send` (one system call and one TCP segment instead of two; the same bytes).
    Held bytes go out at the end of the step, at once past _CORK_BYTES (so flow control still sees a large
    body), and before the transport is closed or asked anything else."""

    __slots__ = ("_transport", "_loop", "_held", "_size", "_linger", "_lingering")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop,
                 linger: Callable[[], bool] | None = None) -> None:
        self._transport, self._loop, self._held, self._size = transport, loop, None, 0
        self._linger = linger   # asked before closing: True when it takes the close over (a lingering close)
        self._lingering = False

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self._held is None:
            self._held, self._size = [data], len(data)
            self._loop.call_soon(self._flush)
        else:
            self._held.append(data)
            self._size += len(data)
        if self._size > _CORK_BYTES:
            self._flush()

    def flush(self) -> None:
        """Send what is held now (a connection handed to another protocol keeps its order)."""
        self._flush()

    def _flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():
                self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    @property
    def raw(self) -> asyncio.Transport:
        """The transport itself (a lingering close uses it after the connection's users saw it closed)."""
        return self._transport

    def is_closing(self) -> bool:
        return self._lingering or self._transport.is_closing()

    def close(self) -> None:
        self._flush()
        if self._lingering:
            return
        if self._linger is not None and self._linger():
            self._lingering = True   # closed as far as the connection's users can tell
        else:
            self._transport.close()

    def close_now(self) -> None:
        """Close without lingering (a stalled client, a lingering close that ended, a server stopping)."""
        self._flush()
        self._transport.close()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def __getattr__(self, name: str) -> Any:
        self._flush()
        return getattr(self._transport, name)


_CORK_BYTES = 64 * 1024
_LINGER_IDLE = 2.0     # a lingering connection closes once the client sends nothing for this long
_LINGER_TOTAL = 10.0   # and at the latest this long after the response


class Guarded:
    """What the emulator adds to either of uvicorn's HTTP/1.1 protocols (TCP_NODELAY, the cork, read timeouts, a
    lingering close). A subclass says where its client is (`_phase`: a request head, a body, or neither) and
    parses with `_parse`."""

    _read_timer: asyncio.TimerHandle | None = None
    _head_started = False
    _lingering: float | None = None   # while lingering: when it ends at the latest (loop time)
    _linger_timer: asyncio.TimerHandle | None = None
    _stopping = False
    # What each protocol subclass defines (declared here, not stubbed: the class is only ever a mixin).
    _phase: Callable[[], int]            # where the client is: HEAD, BODY or OTHER
    _parse: Callable[[bytes], None]      # hand received bytes to the subclass's parser

    def connection_made(self, transport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._header_timeout, self._body_timeout = _timeouts()
        super().connection_made(_Corked(transport, self.loop, self._linger))
        self._arm(self._header_timeout)
        self._head_started = True

    def data_received(self, data: bytes) -> None:
        if self._lingering is not None:   # the rest of a body nobody reads: dropped
            self._arm_linger()
            return
        self._parse(data)
        phase = self._phase()
        if phase == HEAD:          # (part of) a request head: its deadline runs from its first byte
            if not self._head_started:
                self._head_started = True
                self._arm(self._header_timeout)
        elif phase == BODY:        # body bytes arrived: the idle deadline starts again
            self._head_started = False
            self._arm(self._body_timeout)
        else:
            self._head_started = False
            self._disarm()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        if self.transport is not None and not self.transport.is_closing():
            self._read_timer = self.loop.call_later(seconds, self._read_timed_out)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        phase = self._phase()
        if phase == BODY and self.flow.read_paused:   # the server is not reading: not the client's stall
            self._arm(self._body_timeout)
            return
        if phase in (HEAD, BODY):
            self.logger.info("closing a connection whose request stalled (%s)", "head" if phase == HEAD else "body")
            self.transport.close_now()   # a stalled client is not lingered for

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
        super().connection_lost(exc)

    def _linger(self) -> bool:
        """Asked by the transport before it closes: linger (and say so) when a complete response is on its way
        while the client is still sending the request's body."""
        cycle, raw = self.cycle, self.transport.raw
        if (self._stopping or self._lingering is not None or cycle is None or not cycle.response_complete
                or self._phase() != BODY or raw.is_closing() or not raw.can_write_eof()):
            return False
        self._disarm()
        self._lingering = self.loop.time() + _LINGER_TOTAL
        raw.write_eof()        # FIN after the response's last byte: the client reads it all, then EOF
        raw.resume_reading()
        self._arm_linger()
        return True

    def _arm_linger(self) -> None:
        if self._linger_timer is not None:
            self._linger_timer.cancel()
        left = self._lingering - self.loop.time()
        if left <= 0:
            self._end_linger()
        else:
            self._linger_timer = self.loop.call_later(min(_LINGER_IDLE, left), self._end_linger)

    def _end_linger(self) -> None:
        self._linger_timer = None
        self.transport.close_now()

    def shutdown(self) -> None:
        """The server is stopping: a lingering connection closes now, and none starts to linger, so nothing holds
        the shutdown back."""
        self._stopping = True
        if self._lingering is not None:
            if self._linger_timer is not None:
                self._linger_timer.cancel()
            self._end_linger()
            return
        super().shutdown()

    def on_response_complete(self) -> None:
        self._head_started = False   # the next request's head deadline starts with its first byte
        self._disarm()
        super().on_response_complete()


HEAD, BODY, OTHER = 0, 1, 2   # where a connection's client is: sending a request head, a body, or neither


class EmulatorH11Protocol(Guarded, H11Protocol):
    """uvicorn's h11 protocol with the emulator's additions (`Guarded`) and the API's 400."""

    def _phase(self) -> int:
        state = self.conn.their_state
        return HEAD if state is h11.IDLE else BODY if state is h11.SEND_BODY else OTHER

    def _parse(self, data: bytes) -> None:
        H11Protocol.data_received(self, data)

    def send_400_response(self, msg: str) -> None:
        for chunk in refusal(self.conn, msg):
            self.transport.write(chunk)
        self.transport.close()


def refusal(conn: h11.Connection, msg: str) -> list[bytes]:
    """What h11 writes on `conn` for a request that could not be parsed: the API's 400 (`invalid_http_request`),
    as far as the connection's state allows one (none once a response has started)."""
    body = orjson.dumps(errors.envelope(f"{msg} The request could not be parsed as HTTP/1.1.",
                                        code="invalid_http_request"))
    headers = [(b"content-type", b"application/json"), (b"connection", b"close"), (b"x-should-retry", b"false")]
    out = []
    for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body),
                  h11.EndOfMessage()):
        try:
            out.append(conn.send(event))
        except h11.LocalProtocolError:  # the parser's state allows no response (or no body, for HEAD): stop
            break
    return out


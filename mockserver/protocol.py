"""The HTTP/1.1 protocol uvicorn serves the emulator with: uvicorn's h11 protocol with two changes.

* TCP_NODELAY on every connection. uvicorn sets it only when asyncio does, and asyncio skips the
  listening socket uvicorn binds itself for `--workers N` (protocol number 0): without it every
  keep-alive request waits ~40 ms for the peer's delayed ACK.
* A request uvicorn cannot parse gets the API's error envelope (400 `invalid_request_error`), not
  uvicorn's plain-text "Invalid HTTP request received.".
"""

from __future__ import annotations

import contextlib
import socket

import h11
import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol

from contracts import errors

__all__ = ["EmulatorH11Protocol"]


class EmulatorH11Protocol(H11Protocol):
    def connection_made(self, transport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)

    def send_400_response(self, msg: str) -> None:
        body = orjson.dumps(errors.envelope(f"{msg} The request could not be parsed as HTTP/1.1.",
                                            code="invalid_http_request"))
        headers = [(b"content-type", b"application/json"), (b"connection", b"close"),
                   (b"x-should-retry", b"false")]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body),
                      h11.EndOfMessage()):
            try:
                self.transport.write(self.conn.send(event))
            except h11.LocalProtocolError:  # the parser's state allows no response: just close
                break
        self.transport.close()

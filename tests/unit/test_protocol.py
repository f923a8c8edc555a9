"""mockserver.protocol: every accepted TCP connection gets TCP_NODELAY (without it `--workers N` keep-alive
requests stall ~40 ms on delayed ACKs), without a server or any timing."""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from mockserver.protocol import EmulatorH11Protocol


class _Transport:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"socket": self.sock, "peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 2)}.get(name, default)


def test_connection_made_sets_tcp_nodelay() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server_side, _ = listener.accept()
    try:
        assert server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        protocol = EmulatorH11Protocol.__new__(EmulatorH11Protocol)
        with contextlib.suppress(AttributeError):  # uvicorn's own set-up needs a configured protocol
            EmulatorH11Protocol.connection_made(protocol, _Transport(server_side))
        assert server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        for s in (server_side, client, listener):
            s.close()

"""The emulator under uvicorn in a thread on a free loopback port, with any settings (record, replay…)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mockserver.app import create_app
from mockserver.protocols import protocol_class
from mockserver.settings import Settings

__all__ = ["served"]


@contextlib.contextmanager
def served(data_dir: Path, **settings: Any) -> Iterator[str]:
    """`mockserver serve` with these settings, under uvicorn in a thread on a free loopback port; yields
    the base URL and stops the server (in-flight requests finish, cassettes are written) on exit."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = Settings(data_dir=data_dir, port=port, **{"transitions": "realtime", **settings})
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on",
                                           http=protocol_class(config.http)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(20)



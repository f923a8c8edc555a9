"""The ceilings the HTTP and upload benchmarks divide by, served by the same uvicorn (and parser) as the emulator:

    python -m bench.bare chat PORT          FastAPI: POST /v1/chat/completions reads the raw body, returns fixed bytes
    python -m bench.bare upload PORT DIR    FastAPI: POST /v1/files streams request.stream() to a file in DIR
"""

from __future__ import annotations

import os
import sys

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from bench import canned

CHAT_BODY = __import__("json").dumps(canned.CHAT).encode()


def chat_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        await request.body()
        return Response(CHAT_BODY, media_type="application/json")

    @app.get("/")
    async def root() -> Response:
        return Response(b"{}", media_type="application/json")

    return app


def upload_app(directory: str) -> FastAPI:
    app = FastAPI()
    counter = iter(range(10**9))

    @app.post("/v1/files")
    async def upload(request: Request) -> Response:
        path = os.path.join(directory, f"upload-{os.getpid()}-{next(counter)}")
        size = 0
        with open(path, "wb") as f:
            async for chunk in request.stream():
                f.write(chunk)
                size += len(chunk)
        os.unlink(path)
        return Response(b'{"bytes": %d}' % size, media_type="application/json")

    @app.get("/")
    async def root() -> Response:
        return Response(b"{}", media_type="application/json")

    return app


def uvicorn_protocol(name: str = "auto") -> type:
    """uvicorn's own protocol class on the parser the emulator serves with for `--http NAME`
    (mockserver.protocols.protocol_class), so the bare endpoint parses as the emulator does."""
    from mockserver.protocol import EmulatorH11Protocol
    from mockserver.protocols import protocol_class

    if protocol_class(name) is EmulatorH11Protocol:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    return HttpToolsProtocol


def main(argv: list[str]) -> None:
    import uvicorn

    kind, port = argv[0], int(argv[1])
    app = chat_app() if kind == "chat" else upload_app(argv[2])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning",
                http=uvicorn_protocol(os.environ.get("MOCKSERVER_HTTP", "auto")))


if __name__ == "__main__":
    main(sys.argv[1:])

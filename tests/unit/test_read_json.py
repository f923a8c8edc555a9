"""`read_unread_json` (the chat and completions handlers' body reader, straight from `receive`) answers exactly
what `read_json` (Starlette's stream) answers: the same object, or the same error, for every body and framing."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import ClientDisconnect, Request

from contracts import errors
from mockserver.http import read_json, read_unread_json

LIMIT = 64
BODIES = [b'{"a": 1}', b'  {"model": "m", "messages": []}  ', b"", b"   \n", b"[1, 2]", b"null", b'{"a": ',
          b'{"a": "\\u0000"}', b'{"a": "\\\\u0000"}', b'{"a": "' + b"x" * 80 + b'"}', b'{"a": "caf\xc3\xa9"}',
          b'{"a": "\xff"}', b'{"a": 1} {"b": 2}']


def _outcome(reader, body: bytes, chunks: int, declared: bytes | None, disconnect: bool):
    size = max(1, -(-len(body) // chunks))
    parts = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]
    if disconnect:
        messages = messages[:-1] + [{"type": "http.disconnect"}]
    headers = [] if declared is None else [(b"content-length", declared)]
    it = iter(messages)

    async def receive():
        return next(it)

    async def read():
        request = Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""},
                          receive)
        try:
            return ("ok", await reader(request, max_bytes=LIMIT))
        except errors.APIError as e:
            return ("error", type(e), e.body())
        except ClientDisconnect:
            return ("disconnect",)

    return asyncio.run(read())


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("chunks", [1, 2, 5])
@pytest.mark.parametrize("declared", [None, b"8", b"65", b"99999999999999999999", b"\xc2\xb2", b"x"])
@pytest.mark.parametrize("disconnect", [False, True])
def test_read_unread_json_answers_as_read_json(body: bytes, chunks: int, declared: bytes | None,
                                               disconnect: bool) -> None:
    expected = _outcome(read_json, body, chunks, declared, disconnect)
    assert _outcome(read_unread_json, body, chunks, declared, disconnect) == expected

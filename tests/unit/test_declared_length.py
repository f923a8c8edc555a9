"""A request's Content-Length is read as a number only when it is ASCII digits: a non-ASCII digit ("²", one
latin-1 byte that str.isdigit() accepts and int() refuses) is answered as any other non-number is, never a 500.
In-process requests (the SDK's transport, respx) reach the app with their headers as the caller wrote them."""

from __future__ import annotations

import pytest

from mockserver.testing import DEFAULT_KEY, Emulator

CHAT = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}'
FORM = (b'--b0und4ry\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n--b0und4ry\r\n'
        b'Content-Disposition: form-data; name="file"; filename="t.jsonl"\r\n\r\n{"a": 1}\n\r\n--b0und4ry--\r\n')


@pytest.mark.parametrize("path, content_type, body", [
    ("/v1/chat/completions", b"application/json", CHAT),                          # http.read_json
    ("/v1/files", b"multipart/form-data; boundary=b0und4ry", FORM),               # files.multipart
], ids=["json", "multipart"])
def test_a_non_ascii_digit_length_is_no_number(path: str, content_type: bytes, body: bytes) -> None:
    with Emulator() as emu:
        def answer(length: bytes) -> tuple[int, bytes]:
            status, _, content = emu.bridge.call("POST", "http://emulator.test" + path, [
                (b"authorization", f"Bearer {DEFAULT_KEY}".encode()), (b"content-type", content_type),
                (b"content-length", length)], body)
            return status, content

        status, content = answer(b"\xb2")   # "²" in latin-1
        assert status < 500, content
        assert status == answer(b"x")[0]

"""`files.multipart._plain_form`, the fast path of a whole body in the plain shape, against python_multipart: the
same outcome — fields, file name, the file's bytes, or the same error — for every body whether the fast path reads
it or the parser does, over well-formed bodies, their mutations around the delimiters and headers, and random bytes."""

from __future__ import annotations

import asyncio
import random

import pytest
from starlette.requests import Request

from contracts import errors
from mockserver.files import multipart
from mockserver.files.blobs import BlobWriter

BOUNDARIES = [b"b0undaryXYZ", b"----bench-boundary", b"9f8e7d6c5b4a", b"a'()+_,-./:=? z", b"x"]


class _Blob(BlobWriter):
    def __init__(self) -> None:
        self.data, self.state = bytearray(), "open"

    def write(self, data: bytes | memoryview) -> None:
        self.data += data

    def close(self) -> None:
        self.state = "closed"

    async def aclose(self) -> None:
        self.close()

    def discard(self) -> None:
        self.state = "discarded"

    def publish(self, name: str) -> str:
        raise AssertionError("not published here")


def _request(body: bytes, boundary: bytes, length: str | None) -> Request:
    sent = []

    async def receive() -> dict:
        sent.append(1)
        return {"type": "http.request", "body": body if len(sent) == 1 else b"", "more_body": False}

    headers = [(b"content-type", b'multipart/form-data; boundary="' + boundary + b'"')]
    if length is not None:
        headers.append((b"content-length", length.encode()))
    return Request({"type": "http", "method": "POST", "path": "/v1/files", "headers": headers}, receive)


def _outcome(body: bytes, boundary: bytes, *, plain: bool, max_file_bytes: int, file_field: str = "file",
             length: str | None = "") -> tuple:
    blob = _Blob()
    declared = str(len(body)) if length == "" else length
    try:
        form = asyncio.run(multipart.receive_form(_request(body, boundary, declared), blob,
                                                  max_file_bytes=max_file_bytes, file_field=file_field))
    except errors.APIError as e:
        return ("error", type(e).__name__, e.status, e.message, e.code, e.param, blob.state)
    return ("form", form.fields, form.file_field, form.filename, form.size, bytes(blob.data), blob.state,
            form.blob is blob)


def _both(monkeypatch, body: bytes, boundary: bytes, **kw) -> tuple:
    fast = _outcome(body, boundary, plain=True, **kw)
    with monkeypatch.context() as m:
        m.setattr(multipart, "_plain_form", lambda *a: None)
        slow = _outcome(body, boundary, plain=False, **kw)
    assert fast == slow, (body[:300], boundary)
    return fast


def _part(name: bytes, value: bytes, filename: bytes | None = None, extra: list[bytes] | None = None,
          space: bytes = b" ") -> tuple[list[bytes], bytes]:
    disposition = b'form-data; name="' + name + b'"' + (b'; filename="' + filename + b'"' if filename is not None else b"")
    lines = [b"Content-Disposition:" + space + disposition]
    if filename is not None:
        lines.append(b"Content-Type: application/octet-stream")
    return lines + (extra or []), value


def _body(boundary: bytes, parts: list[tuple[list[bytes], bytes]], epilogue: bytes = b"") -> bytes:
    out = b"--" + boundary + b"\r\n"
    out += (b"\r\n--" + boundary + b"\r\n").join(b"\r\n".join(lines) + b"\r\n\r\n" + data for lines, data in parts)
    return out + b"\r\n--" + boundary + b"--\r\n" + epilogue


CONTENT = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ho"}]}\n' * 20


def _shapes(boundary: bytes) -> list[bytes]:
    d = b"\r\n--" + boundary
    datas = [CONTENT, b"", b"\r\n", b"--" + boundary, d + b"x", d + b"-", d + b" \r\n", d + b"\t\r\n", d + b"--",
             b"x" + d + b"--\r\ny", b"\r\n\r\n", b"a\rb\nc", b"\x00\xff", d[:-1], b"\r", b"-" * 70]
    shapes = []
    for data in datas:
        shapes.append(_body(boundary, [_part(b"purpose", b"fine-tune"), _part(b"file", data, b"train.jsonl")]))
        shapes.append(_body(boundary, [_part(b"file", data, b"t.jsonl"), _part(b"purpose", data)]))
    shapes += [
        _body(boundary, [_part(b"purpose", b"fine-tune")]),                                      # no file
        _body(boundary, [_part(b"file", CONTENT, b"a"), _part(b"file", CONTENT, b"b")]),        # two files
        _body(boundary, [_part(b"purpose", b"a"), _part(b"purpose", b"b"), _part(b"file", CONTENT, b"c")]),
        _body(boundary, [_part(b"file", CONTENT, b"")]),                                          # empty name
        _body(boundary, [_part(b"file", CONTENT, b"x\x00y")]),                                    # NUL
        _body(boundary, [_part(b"purpose", b"p" * (64 * 1024 + 1)), _part(b"file", CONTENT, b"t")]),  # long field
        _body(boundary, [_part(b"file", CONTENT, b"t", space=b"")]),                              # no space
        _body(boundary, [_part(b"file", CONTENT, b"t", space=b"    ")]),                          # spaces
        _body(boundary, [_part(b"file", CONTENT, b"t", space=b"\t")]),                            # a tab
        _body(boundary, [_part(b"file", CONTENT, b"t", extra=[b"X-Empty:", b"X-Blank:   "])]),
        _body(boundary, [_part(b"file", CONTENT, b"t", extra=[b"X-A: 1"] * 6)]),                 # 8 headers
        _body(boundary, [_part(b"file", CONTENT, b"t", extra=[b"X-A: 1"] * 7)]),                 # 9 headers
        _body(boundary, [_part(b"file", CONTENT, b"t", extra=[b"X-Long: " + b"v" * 4216])]),     # at the limit
        _body(boundary, [_part(b"file", CONTENT, b"t", extra=[b"X-Long: " + b"v" * 4217])]),     # one past it
        _body(boundary, [_part(b"file", CONTENT, b"t", extra=[b"X-Big: " + b"v" * 70_000])]),
        _body(boundary, [_part(b"file", CONTENT, b"t", extra=[b"Bad Name: v"])]),
        _body(boundary, [_part(b"file", CONTENT, b"t", extra=[b"NoColon"])]),
        _body(boundary, [_part(b"file", CONTENT, b"t", extra=[b": empty name"])]),
        _body(boundary, [_part(b"file", CONTENT, b"t", extra=[b"X-Lf: a\nb"])]),
        _body(boundary, [_part(b"file", CONTENT, b"t", extra=[b" Folded: v"])]),
        _body(boundary, [_part(b"file", CONTENT, b"t", extra=[b"--" + boundary + b"-x: v"])]),
        _body(boundary, [([], CONTENT)]),                                                         # no headers
        _body(boundary, [_part(b"file", CONTENT, b"t")], epilogue=b"epilogue\r\n"),
        _body(boundary, [_part(b"file", CONTENT, b"t")])[:-2],                                    # no final CRLF
        _body(boundary, [_part(b"file", CONTENT, b"t")])[:-4],                                    # cut short
        b"\r\n" + _body(boundary, [_part(b"file", CONTENT, b"t")]),                               # preamble CRLF
        b"--" + boundary + b"--\r\n",                                                             # empty form
        b"",
    ]
    return shapes


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_plain_bodies_read_alike(monkeypatch, boundary):
    for body in _shapes(boundary):
        for max_file_bytes in (1 << 20, len(CONTENT), len(CONTENT) - 1, 0):
            _both(monkeypatch, body, boundary, max_file_bytes=max_file_bytes)
        _both(monkeypatch, body, boundary, max_file_bytes=1 << 20, file_field="training")
        for length in (None, str(len(body) + 1), "²"):
            _both(monkeypatch, body, boundary, max_file_bytes=1 << 20, length=length)


def test_the_lifecycle_body_takes_the_fast_path(monkeypatch):
    """The shape the SDK (httpx) and the benches send is read by `_plain_form` (else this is no fast path)."""
    if not hasattr(multipart.MultipartParser(b"x"), "max_header_count"):
        pytest.skip("this python_multipart has no header limits (before 0.0.27): its parser reads every body")
    body = _body(b"----bench-boundary", [_part(b"purpose", b"fine-tune"), _part(b"file", CONTENT, b"train.jsonl")])
    calls = []
    monkeypatch.setattr(multipart.MultipartParser, "write", lambda self, data: calls.append(data))
    out = _outcome(body, b"----bench-boundary", plain=True, max_file_bytes=1 << 20)
    assert out[:5] == ("form", {"purpose": "fine-tune"}, "file", "train.jsonl", len(CONTENT)) and not calls


def test_mutated_bodies_read_alike(monkeypatch):
    rnd = random.Random(16)
    for boundary in BOUNDARIES:
        d = b"\r\n--" + boundary
        tokens = [b"\r\n", b"\r", b"\n", b"-", b"--", b" ", b"\t", b":", b'"', b";", b"\x00", b"\xff", d, d + b"\r\n",
                  d + b"--", d + b"--\r\n", b"--" + boundary, b"\r\n\r\n", boundary[:3], b"A", b"Content-Type: x\r\n"]
        shapes = _shapes(boundary)[:6]
        for _ in range(700):
            body = bytearray(rnd.choice(shapes))
            for _ in range(rnd.randint(1, 3)):
                at = rnd.randrange(len(body) + 1)
                op = rnd.random()
                if op < 0.5:
                    body[at:at] = rnd.choice(tokens)
                elif op < 0.8:
                    del body[at:at + rnd.randint(1, 8)]
                else:
                    body[at:at + 1] = bytes([rnd.randrange(256)])
            _both(monkeypatch, bytes(body), boundary, max_file_bytes=rnd.choice([1 << 20, len(CONTENT)]))
    for _ in range(300):
        body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(64)))
        _both(monkeypatch, b"--x\r\n" + body + b"\r\n--x--\r\n", b"x", max_file_bytes=1 << 20)


def test_a_parser_without_header_limits_reads_every_body(monkeypatch):
    """pyproject allows python_multipart from 0.0.18, whose parser has no `max_header_count` / `max_header_size`
    (they came in 0.0.27): there the fast path steps aside and the parser reads the body, as before the fast path
    (which refused every upload there: AttributeError, a 400)."""
    writes = []

    class Unlimited:   # such a parser: write and finalize, no header limits
        def __init__(self, boundary, callbacks) -> None:
            self.parser = real(boundary, callbacks)

        def write(self, data: bytes) -> int:
            writes.append(len(data))
            return self.parser.write(data)

        def finalize(self) -> None:
            self.parser.finalize()

    real = multipart.MultipartParser
    body = _body(b"----bench-boundary", [_part(b"purpose", b"fine-tune"), _part(b"file", CONTENT, b"train.jsonl")])
    expected = _outcome(body, b"----bench-boundary", plain=True, max_file_bytes=1 << 20)
    assert expected[:5] == ("form", {"purpose": "fine-tune"}, "file", "train.jsonl", len(CONTENT))
    monkeypatch.setattr(multipart, "MultipartParser", Unlimited)
    assert _outcome(body, b"----bench-boundary", plain=True, max_file_bytes=1 << 20) == expected
    assert [n for n in writes if n] == [len(body)]   # (and the stream's empty end)


def test_a_header_block_past_the_parsers_limits_is_not_copied_by_the_fast_path(monkeypatch):
    """A whole body (the in-process Emulator sends one chunk, up to max_file_bytes) whose first part's header block
    runs for megabytes: the parser refuses it at its first limit; the fast path hands it over without copying the
    block and splitting it into lines (which took ~4 bytes of list and objects per byte of block, on the loop)."""
    import tracemalloc

    block = b"ab\r\n" * 1_000_000   # 4 MB of two-character header lines
    body = b"--x\r\n" + block + b"\r\n\r\n" + b"\r\n--x--\r\n"
    parser = multipart.MultipartParser(b"x", {})
    if not hasattr(parser, "max_header_count"):
        pytest.skip("this python_multipart has no header limits (before 0.0.27): no fast path")
    tracemalloc.start()
    try:
        assert multipart._plain_form(body, b"x", parser) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024, peak
    assert _both(monkeypatch, body, b"x", max_file_bytes=8 << 20)[0] == "error"

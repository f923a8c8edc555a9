"""Bytes passing through the proxy, kept with bounded memory, and turned into a stored body afterwards.

A `Spool` holds up to 1 MiB in memory; beyond that it appends to a temp file from a worker thread (the
event loop never writes to disk). `stored_body` (blocking, run in a thread) turns a finished spool into
the cassette's body form: decoded from gzip/deflate when the upstream compressed it, JSON/SSE/text when
small, a blob by digest when large, and for multipart requests the fields plus one blob per file part.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.to_thread
from python_multipart.multipart import MultipartParser, parse_options_header

from contracts.cassette import INLINE_MAX, Redactor, encode_body, store_blob

__all__ = ["Spool", "stored_body", "multipart_summary"]

_MEMORY = 1 << 20
_FIELD_MAX = 64 * 1024


class Spool:
    def __init__(self, tmpdir: Path, memory: int = _MEMORY) -> None:
        self.tmpdir = tmpdir
        self.memory = memory
        self.buf = bytearray()
        self.path: Path | None = None
        self.size = 0

    async def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self.buf += chunk
        if len(self.buf) >= self.memory:
            data = bytes(self.buf)
            self.buf.clear()
            await anyio.to_thread.run_sync(self._append, data)

    def _append(self, data: bytes) -> None:
        if self.path is None:
            self.tmpdir.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self.tmpdir, prefix="spool-")
            os.close(fd)
            self.path = Path(name)
        with open(self.path, "ab") as f:
            f.write(data)

    def settle(self) -> None:
        """Blocking: move what is still in memory to the file, if there is one."""
        if self.path is not None and self.buf:
            self._append(bytes(self.buf))
            self.buf.clear()

    def chunks(self) -> Iterator[bytes]:
        """Blocking: the bytes, in 1 MiB chunks (call `settle` first)."""
        if self.path is None:
            if self.buf:
                yield bytes(self.buf)
            return
        with open(self.path, "rb") as f:
            while chunk := f.read(_MEMORY):
                yield chunk

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None
        self.buf.clear()


def _decoded(chunks: Iterator[bytes], encoding: str) -> Iterator[bytes]:
    """The bytes with the content coding removed (gzip or zlib deflate; 1 MiB at a time, so a small
    compressed body cannot inflate into memory at once)."""
    if encoding in ("", "identity"):
        yield from chunks
        return
    d = zlib.decompressobj(47)   # 32 + 15: a gzip or zlib header, detected
    for chunk in chunks:
        data = chunk
        while data:
            yield d.decompress(data, _MEMORY)
            data = d.unconsumed_tail
    yield d.flush()


def stored_body(spool: Spool, content_type: str, *, blobs: Path, redactor: Redactor,
                content_encoding: str = "", store: bool = True) -> dict[str, Any] | None:
    """Blocking: the cassette form of a finished spool (see the module doc). `store=False` computes
    digests without writing blobs (replay matching)."""
    spool.settle()
    if spool.size == 0:
        return None
    ctype, params = parse_options_header(content_type)
    if ctype == b"multipart/form-data" and params.get(b"boundary") and not content_encoding:
        with contextlib.suppress(ValueError):
            return multipart_summary(spool.chunks(), params[b"boundary"], blobs=blobs, redactor=redactor, store=store)
    if spool.path is None and not content_encoding and spool.size <= INLINE_MAX:
        return encode_body(bytes(spool.buf), content_type, blobs=blobs, redactor=redactor)
    # large or compressed: decode into a bounded buffer; past INLINE_MAX, straight into a blob
    head = bytearray()
    it = _decoded(spool.chunks(), content_encoding.lower())
    for chunk in it:
        head += chunk
        if len(head) > INLINE_MAX:
            break
    else:
        return encode_body(bytes(head), content_type, blobs=blobs, redactor=redactor)
    digest, size = _digest_into(blobs, _chain(bytes(head), it), store)
    return {"blob": digest, "size": size}


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _digest_into(blobs: Path, chunks: Iterator[bytes], store: bool) -> tuple[str, int]:
    size = 0

    def counted() -> Iterator[bytes]:
        nonlocal size
        for c in chunks:
            size += len(c)
            yield c
    if store:
        return store_blob(blobs, counted()), size
    h = hashlib.sha256()
    for c in counted():
        h.update(c)
    return f"sha256-{h.hexdigest()}", size


class _Parts:
    """python-multipart callbacks: small fields to text, each file part to a blob (or only its digest)."""

    def __init__(self, blobs: Path, store: bool) -> None:
        self.blobs, self.store = blobs, store
        self.fields: dict[str, str] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.headers: dict[bytes, bytes] = {}
        self.field = b""
        self.name = ""
        self.filename: str | None = None
        self.buffer = bytearray()
        self.hash: Any = None
        self.file: Any = None
        self.size = 0

    def callbacks(self) -> dict:
        return {"on_part_begin": self.begin, "on_header_field": self.header_field,
                "on_header_value": self.header_value, "on_headers_finished": self.headers_done,
                "on_part_data": self.data, "on_part_end": self.end}

    def begin(self) -> None:
        self.headers, self.buffer, self.filename, self.size = {}, bytearray(), None, 0

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self.field = data[start:end].lower()

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self.headers[self.field] = self.headers.get(self.field, b"") + data[start:end]

    def headers_done(self) -> None:
        _, params = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.name = params.get(b"name", b"").decode("utf-8", "replace")
        fn = params.get(b"filename")
        self.filename = None if fn is None else fn.decode("utf-8", "replace")
        if self.filename is not None:
            self.hash = hashlib.sha256()
            if self.store:
                self.blobs.mkdir(parents=True, exist_ok=True)
                fd, name = tempfile.mkstemp(dir=self.blobs, prefix=".part-")
                self.file = os.fdopen(fd, "wb")
                self.file_path = Path(name)

    def data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.filename is None:
            if len(self.buffer) < _FIELD_MAX:
                self.buffer += chunk
            return
        self.size += len(chunk)
        self.hash.update(chunk)
        if self.file is not None:
            self.file.write(chunk)

    def end(self) -> None:
        if self.filename is None:
            self.fields.setdefault(self.name, self.buffer.decode("utf-8", "replace"))
            return
        digest = f"sha256-{self.hash.hexdigest()}"
        if self.file is not None:
            self.file.close()
            self.file = None
            target = self.blobs / digest
            if target.exists():
                self.file_path.unlink()
            else:
                os.replace(self.file_path, target)
        ctype = self.headers.get(b"content-type", b"application/octet-stream").decode("latin-1")
        self.files.setdefault(self.name, {"filename": self.filename, "content_type": ctype, "blob": digest,
                                          "size": self.size})

    def abort(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file_path.unlink(missing_ok=True)
            self.file = None


def multipart_summary(chunks: Iterator[bytes], boundary: bytes, *, blobs: Path, redactor: Redactor,
                      store: bool = True) -> dict[str, Any]:
    parts = _Parts(blobs, store)
    parser = MultipartParser(boundary, parts.callbacks())
    try:
        for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    except Exception as e:
        raise ValueError(f"not a readable multipart body: {e}") from None
    finally:
        parts.abort()
    return {"multipart": {"fields": {k: redactor.text(v) for k, v in parts.fields.items()}, "files": parts.files}}

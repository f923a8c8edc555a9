"""Streaming multipart/form-data: the file part goes straight to a tmp file, under a hard size limit.

The parser may cut a body anywhere (a header name or value can arrive in several pieces): names and
values are accumulated until the header ends, as Starlette's form parser does. A second file part is a
400, and so is a body without its closing boundary (never stored as if complete). A failure of the
server's own disk (no space, no permission, a missing tmp dir) is a retryable 500 `server_error` whose
message names no server path.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from contracts import errors
from mockserver.files.storage import storage_error

__all__ = ["FormUpload", "receive_form"]

_FIELD_MAX = 64 * 1024
_SLACK = 64 * 1024  # room for the multipart framing and the small fields beside the file
_WRITEBACK_STEP = 8 * 1024 * 1024  # start the kernel's writeback of the file every 8 MiB received


@dataclass
class FormUpload:
    """What a multipart request carried: small text fields and at most one file, already on disk."""

    fields: dict[str, str] = field(default_factory=dict)
    file_field: str | None = None
    filename: str | None = None
    tmp_path: Path | None = None
    size: int = 0

    def discard(self) -> None:
        if self.tmp_path is not None:
            self.tmp_path.unlink(missing_ok=True)
            self.tmp_path = None


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Have the kernel start writing a range to disk now, without waiting (Linux: POSIX_FADV_DONTNEED
    starts writeback of dirty pages, then drops the clean ones), so the fsync at the end of the part
    waits for the last few MiB instead of the whole file: -60 ms per 128 MiB here. Advisory only."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is not None:
        with contextlib.suppress(OSError):
            advise(fd, offset, length, os.POSIX_FADV_DONTNEED)


class _Receiver:
    def __init__(self, tmp: Path, max_bytes: int, file_field: str) -> None:
        self.form = FormUpload()
        self.tmp = tmp
        self.max_bytes = max_bytes
        self.want = file_field
        self.fd: int | None = None
        self.headers: dict[bytes, bytes] = {}
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.ended = False  # the closing boundary was seen
        self.name: str | None = None
        self.buffer = bytearray()
        self.error: errors.APIError | None = None
        self.sync: Callable[[int], None] = os.fsync
        self.written_back = 0  # bytes of the file whose writeback has been started

    def callbacks(self) -> dict:
        return {"on_part_begin": self.part_begin, "on_header_field": self.header_field_cb,
                "on_header_value": self.header_value_cb, "on_header_end": self.header_end,
                "on_headers_finished": self.headers_done, "on_part_data": self.part_data,
                "on_part_end": self.part_end, "on_end": self.end}

    def part_begin(self) -> None:
        self.headers, self.name, self.buffer = {}, None, bytearray()

    def header_field_cb(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]
        self._check_header_size()

    def header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]
        self._check_header_size()

    def _check_header_size(self) -> None:
        if len(self.header_field) + len(self.header_value) > _FIELD_MAX and self.error is None:
            self.error = errors.BadRequest("A multipart part header is too long.", code="invalid_multipart")

    def header_end(self) -> None:
        self.headers[bytes(self.header_field).lower()] = bytes(self.header_value)
        self.header_field, self.header_value = bytearray(), bytearray()

    def end(self) -> None:
        self.ended = True

    def headers_done(self) -> None:
        _, params = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if filename is not None and self.name == self.want and self.fd is not None and self.error is None:
            self.error = errors.BadRequest(f"Only one '{self.want}' part is allowed in a request.",
                                           param=self.want, code="invalid_multipart")
        if filename is not None and self.name == self.want and self.fd is None:
            self.form.file_field = self.name
            self.form.filename = filename.decode("utf-8", "replace")
            self.fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self.form.tmp_path = self.tmp

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        if self.fd is not None and self.fd >= 0 and self.form.file_field == self.name:
            self.form.size += end - start
            if self.form.size > self.max_bytes:
                self.error = errors.file_too_large(self.max_bytes)
                return
            chunk = memoryview(data)[start:end]  # no copy of the chunk
            while chunk:
                chunk = chunk[os.write(self.fd, chunk):]
            if self.form.size - self.written_back >= _WRITEBACK_STEP:
                _start_writeback(self.fd, self.written_back, self.form.size - self.written_back)
                self.written_back = self.form.size
        else:
            self.buffer += data[start:end]
            if len(self.buffer) > _FIELD_MAX:
                self.error = errors.BadRequest(f"Form field '{self.name}' is too long.", param=self.name)

    def part_end(self) -> None:
        if self.error is not None:
            return
        if self.fd is not None and self.fd >= 0 and self.form.file_field == self.name:
            self.sync(self.fd)
            os.close(self.fd)
            self.fd = -1  # closed: later parts with the same name are ignored
        elif self.name and self.name not in self.form.fields:
            self.form.fields[self.name] = self.buffer.decode("utf-8", "replace")

    def close(self) -> None:
        if self.fd is not None and self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


async def receive_form(request: Request, tmp: Path, *, max_file_bytes: int, file_field: str = "file",
                       sync: Callable[[int], None] = os.fsync) -> FormUpload:
    """Parse a multipart body as it arrives; on any error nothing is left on disk."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise errors.BadRequest("This endpoint expects a multipart/form-data body (a 'file' part and a "
                                "'purpose' field).", code="invalid_content_type")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_file_bytes + _SLACK:
        raise errors.file_too_large(max_file_bytes)
    receiver = _Receiver(tmp, max_file_bytes, file_field)
    receiver.sync = sync
    parser = MultipartParser(boundary, receiver.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if receiver.error is not None:
                raise receiver.error
        parser.finalize()
        if receiver.error is not None:
            raise receiver.error
        if not receiver.ended:
            raise errors.BadRequest("Could not parse the multipart body: it ends before its closing boundary "
                                    "(the upload was cut short).", code="invalid_multipart")
    except errors.APIError:
        receiver.close()
        receiver.form.discard()
        raise
    except OSError as e:  # the server's own disk: full, read-only, tmp dir gone
        receiver.close()
        receiver.form.discard()
        raise storage_error(e) from None
    except Exception as e:  # malformed framing, client disconnect
        receiver.close()
        receiver.form.discard()
        raise errors.BadRequest(f"Could not parse the multipart body: {e}", code="invalid_multipart") from None
    receiver.close()
    form = receiver.form
    if "\x00" in (form.filename or "") or any("\x00" in v for v in form.fields.values()):
        form.discard()  # PostgreSQL cannot store NUL; refused on every backend alike
        raise errors.BadRequest("Invalid form: file names and fields may not contain NUL characters.",
                                param="file" if "\x00" in (form.filename or "") else None, code="invalid_value")
    return form

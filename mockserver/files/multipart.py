"""Streaming multipart/form-data: the file part goes straight to a blob writer, under a hard size limit.

The parser may cut a body anywhere (a header name or value can arrive in several pieces): names and
values are accumulated until the header ends, as Starlette's form parser does. A second file part is a
400, and so is a body without its closing boundary (never stored as if complete). A failure of the
server's own disk (no space, no permission, a missing tmp dir) is a retryable 500 `server_error` whose
message names no server path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from contracts import errors
from mockserver.files.blobs import BlobWriter
from mockserver.files.storage import storage_error

__all__ = ["FormUpload", "receive_form"]

_FIELD_MAX = 64 * 1024
_SLACK = 64 * 1024  # room for the multipart framing and the small fields beside the file


@dataclass
class FormUpload:
    """What a multipart request carried: small text fields and at most one file, in a closed (durable,
    not yet published) blob writer."""

    fields: dict[str, str] = field(default_factory=dict)
    file_field: str | None = None
    filename: str | None = None
    blob: BlobWriter | None = None
    size: int = 0
    expected: str = "file"        # the file part the endpoint requires

    def __enter__(self) -> BlobWriter:
        """The received file's blob (the real 400 when that part is missing); an error inside the block
        discards it, so nothing a failed request streamed in stays behind."""
        if self.blob is None:
            raise errors.missing_parameter(self.expected)
        return self.blob

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.discard()

    def discard(self) -> None:
        if self.blob is not None:
            self.blob.discard()
            self.blob = None


class _Receiver:
    def __init__(self, blob: BlobWriter, max_bytes: int, file_field: str) -> None:
        self.form = FormUpload()
        self.blob = blob
        self.max_bytes = max_bytes
        self.want = file_field
        self.receiving = False  # inside the file part
        self.headers: dict[bytes, bytes] = {}
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.ended = False  # the closing boundary was seen
        self.name: str | None = None
        self.buffer = bytearray()
        self.error: errors.APIError | None = None

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
        if filename is not None and self.name == self.want and self.form.blob is not None and self.error is None:
            self.error = errors.BadRequest(f"Only one '{self.want}' part is allowed in a request.",
                                           param=self.want, code="invalid_multipart")
        if filename is not None and self.name == self.want and self.form.blob is None:
            self.form.file_field = self.name
            self.form.filename = filename.decode("utf-8", "replace")
            self.form.blob = self.blob
            self.receiving = True

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        if self.receiving:
            self.form.size += end - start
            if self.form.size > self.max_bytes:
                self.error = errors.file_too_large(self.max_bytes)
                return
            self.blob.write(memoryview(data)[start:end])  # no copy of the chunk
        else:
            self.buffer += data[start:end]
            if len(self.buffer) > _FIELD_MAX:
                self.error = errors.BadRequest(f"Form field '{self.name}' is too long.", param=self.name)

    def part_end(self) -> None:
        if self.error is not None:
            return
        if self.receiving:
            self.receiving = False  # the file part is complete
        elif self.name and self.name not in self.form.fields:
            self.form.fields[self.name] = self.buffer.decode("utf-8", "replace")


async def receive_form(request: Request, blob: BlobWriter, *, max_file_bytes: int,
                       file_field: str = "file") -> FormUpload:
    """Parse a multipart body as it arrives, the file part streamed into `blob` (closed at the end); on
    any error the blob is discarded: nothing is left behind."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise errors.BadRequest("This endpoint expects a multipart/form-data body (a 'file' part and a "
                                "'purpose' field).", code="invalid_content_type")
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > max_file_bytes + _SLACK:   # int() refuses "²"
        raise errors.file_too_large(max_file_bytes)
    receiver = _Receiver(blob, max_file_bytes, file_field)
    try:
        parser = MultipartParser(boundary, receiver.callbacks())   # (refuses a boundary past 256 bytes: a 400)
        async for chunk in request.stream():
            parser.write(chunk)
            if receiver.error is not None:
                raise receiver.error
            await blob.drain()  # a store that buffers pushes whole chunks, off the event loop
        parser.finalize()
        if receiver.error is not None:
            raise receiver.error
        if not receiver.ended:
            raise errors.BadRequest("Could not parse the multipart body: it ends before its closing boundary "
                                    "(the upload was cut short).", code="invalid_multipart")
        if receiver.form.blob is not None:
            await blob.aclose()
    except errors.APIError:
        blob.discard()
        raise
    except OSError as e:  # the server's own storage: disk full, read-only, tmp dir gone, database gone
        blob.discard()
        raise storage_error(e) from None
    except Exception as e:  # malformed framing, client disconnect
        blob.discard()
        raise errors.BadRequest(f"Could not parse the multipart body: {e}", code="invalid_multipart") from None
    except BaseException:  # cancelled: nothing stays behind
        blob.discard()
        raise
    form = receiver.form
    form.expected = file_field
    if "\x00" in (form.filename or "") or any("\x00" in v for v in form.fields.values()):
        form.discard()  # PostgreSQL cannot store NUL; refused on every backend alike
        raise errors.BadRequest("Invalid form: file names and fields may not contain NUL characters.",
                                param="file" if "\x00" in (form.filename or "") else None, code="invalid_value")
    return form

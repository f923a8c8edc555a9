"""The streaming multipart parser fed every body whole and one byte at a time (issue #13, case 7)."""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path

import pytest
import python_multipart.multipart
from starlette.requests import Request

from contracts import errors
from mockserver.files.multipart import receive_form
from mockserver.files.storage import DataDirStore

BOUNDARY = "b0undaryXYZ"


def _part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if filename:
        head += "Content-Type: application/octet-stream\r\n"
    return head.encode() + b"\r\n" + value + b"\r\n"


def _body(*parts: bytes, closed: bool = True) -> bytes:
    return b"".join(parts) + (f"--{BOUNDARY}--\r\n".encode() if closed else b"")


def _request(body: bytes, step: int) -> Request:
    chunks = [body[i:i + step] for i in range(0, len(body), step)] or [b""]

    async def receive() -> dict:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    scope = {"type": "http", "method": "POST", "path": "/v1/files", "headers": [
        (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
        (b"content-length", str(len(body)).encode())]}
    return Request(scope, receive)


def _parse(body: bytes, step: int, tmp: Path, **kw):
    store = DataDirStore(tmp, durable=False)
    return asyncio.run(receive_form(_request(body, step), store.writer(), max_file_bytes=1 << 20, **kw))


def _leftovers(tmp: Path) -> list[Path]:
    return list((tmp / "tmp").iterdir()) + list((tmp / "files").iterdir())


STEPS = [1, 2, 7, 1 << 20]
CONTENT = b'{"messages": []}\n' * 50


@pytest.mark.parametrize("step", STEPS)
def test_fields_and_file_survive_any_split(tmp_path: Path, step: int) -> None:
    body = _body(_part("purpose", b"fine-tune"), _part("file", CONTENT, "train.jsonl"))
    form = _parse(body, step, tmp_path)
    assert form.fields == {"purpose": "fine-tune"}
    assert form.filename == "train.jsonl" and form.size == len(CONTENT)
    assert form.blob is not None and (tmp_path / form.blob.publish("file-x")).read_bytes() == CONTENT


@pytest.mark.parametrize("step", STEPS)
def test_a_second_file_part_is_a_400(tmp_path: Path, step: int) -> None:
    body = _body(_part("file", CONTENT, "a.jsonl"), _part("file", CONTENT, "b.jsonl"), _part("purpose", b"x"))
    with pytest.raises(errors.BadRequest) as e:
        _parse(body, step, tmp_path)
    assert e.value.param == "file" and "Only one 'file' part" in e.value.message
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("step", STEPS)
def test_a_body_without_its_closing_boundary_is_a_400(tmp_path: Path, step: int) -> None:
    body = _body(_part("purpose", b"fine-tune"), _part("file", CONTENT, "train.jsonl"), closed=False)
    with pytest.raises(errors.BadRequest) as e:
        _parse(body, step, tmp_path)
    assert e.value.code == "invalid_multipart" and "closing boundary" in e.value.message
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.ENOENT])
def test_disk_failures_are_retryable_500s_without_paths(tmp_path: Path, code: int) -> None:
    def failing_sync(fd: int) -> None:
        raise OSError(code, "simulated", str(tmp_path / "secret" / "path"))

    body = _body(_part("purpose", b"fine-tune"), _part("file", CONTENT, "train.jsonl"))
    store = DataDirStore(tmp_path)
    store.sync = failing_sync  # the fsync that makes the part durable fails
    with pytest.raises(errors.ServerError) as e:
        asyncio.run(receive_form(_request(body, 1 << 20), store.writer(), max_file_bytes=1 << 20))
    assert e.value.status == 500 and e.value.type == "server_error"
    assert str(tmp_path) not in e.value.message and "/" not in e.value.message
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("step", STEPS)
def test_a_boundary_longer_than_the_parser_takes_is_a_400(tmp_path: Path, step: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """python_multipart refuses a boundary past 256 characters when the parser is made (RFC 2046 allows 70): the
    same 400 as any body it cannot parse, not an unhandled error (a 500), and nothing stays behind."""
    if getattr(python_multipart.multipart, "MAX_BOUNDARY_LENGTH", None) != 256:
        pytest.skip("this python_multipart takes a boundary of any length (before 0.0.28)")
    monkeypatch.setitem(globals(), "BOUNDARY", "b" * 257)
    body = _body(_part("purpose", b"fine-tune"), _part("file", CONTENT, "train.jsonl"))
    with pytest.raises(errors.BadRequest) as e:
        _parse(body, step, tmp_path)
    assert e.value.code == "invalid_multipart" and "Could not parse the multipart body" in e.value.message
    assert _leftovers(tmp_path) == []

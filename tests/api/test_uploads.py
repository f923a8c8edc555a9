"""Uploads API: parts assembled in the order given, byte count checked, terminal states sticky."""

from __future__ import annotations

import hashlib

import openai
import pytest

from tests.conftest import pig_jsonl


def test_chunked_upload_yields_a_file_in_part_order(api):
    data = pig_jsonl()
    up = api.client.uploads.create(filename="big.jsonl", purpose="fine-tune", bytes=len(data), mime_type="text/jsonl")
    assert up.status == "pending" and up.id.startswith("upload_") and up.file is None
    a, b = data[: len(data) // 2], data[len(data) // 2:]
    pb = api.client.uploads.parts.create(up.id, data=b)
    pa = api.client.uploads.parts.create(up.id, data=a)
    assert pa.id.startswith("part_") and pa.upload_id == up.id
    done = api.client.uploads.complete(up.id, part_ids=[pa.id, pb.id], md5=hashlib.md5(data).hexdigest())
    assert done.status == "completed" and done.file.bytes == len(data) and done.file.filename == "big.jsonl"
    assert api.client.files.content(done.file.id).read() == data
    with pytest.raises(openai.BadRequestError) as e:
        api.client.uploads.parts.create(up.id, data=b"more")
    assert e.value.code == "invalid_upload_state"


def test_sdk_chunked_helper(api, tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_bytes(pig_jsonl(40))
    up = api.client.uploads.upload_file_chunked(file=path, mime_type="text/jsonl", purpose="fine-tune", part_size=500)
    assert up.status == "completed" and api.client.files.content(up.file.id).read() == path.read_bytes()


def test_byte_mismatch_and_cancel(api):
    up = api.client.uploads.create(filename="x.jsonl", purpose="fine-tune", bytes=10, mime_type="text/jsonl")
    part = api.client.uploads.parts.create(up.id, data=b"123")
    with pytest.raises(openai.BadRequestError) as e:
        api.client.uploads.complete(up.id, part_ids=[part.id])
    assert e.value.param == "part_ids" and "3 bytes" in e.value.body["message"]
    assert api.client.uploads.cancel(up.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        api.client.uploads.complete(up.id, part_ids=[part.id])


def test_upload_expires_after_an_hour(api):
    api.policy("manual", 1.0)
    up = api.client.uploads.create(filename="x.jsonl", purpose="fine-tune", bytes=3, mime_type="text/jsonl")
    api.advance(3601)
    with pytest.raises(openai.BadRequestError) as e:
        api.client.uploads.parts.create(up.id, data=b"abc")
    assert "expired" in e.value.body["message"]


@pytest.mark.parametrize("body,param", [({"filename": "a.jsonl", "purpose": "fine-tune", "bytes": 1}, "mime_type"),
                                        ({"filename": "a.jsonl", "purpose": "nope", "bytes": 1, "mime_type": "x"},
                                         "purpose"),
                                        ({"filename": "a.csv", "purpose": "fine-tune", "bytes": -1, "mime_type": "x"},
                                         "bytes")])
def test_create_errors(api, body, param):
    import orjson

    status, _, raw = api.request("POST", "/v1/uploads", json=body)
    assert status == 400 and orjson.loads(raw)["error"]["param"] == param


def test_unknown_upload_is_404(api):
    with pytest.raises(openai.NotFoundError) as e:
        api.client.uploads.cancel("upload_nope")
    assert e.value.param == "upload_id"

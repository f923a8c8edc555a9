"""Files API, what only the emulator can show: id shape, limits via settings, temp files left behind,
multipart edge cases, cursor over a deleted file. Behaviours the real API shares (round trip, 404s, purpose
and filename errors, list envelope, paging) are in tests/contract/test_files.py."""

from __future__ import annotations

import io

import openai
import pytest

from mockserver.testing import Emulator
from tests.conftest import pig_jsonl


def upload(api, data: bytes = b'{"a": 1}\n', name: str = "train.jsonl", purpose: str = "fine-tune"):
    return api.client.files.create(file=(name, io.BytesIO(data)), purpose=purpose)


def test_create_returns_processed_file_with_exact_bytes(api):
    data = pig_jsonl()
    f = upload(api, data)
    assert f.id.startswith("file-") and len(f.id) == len("file-") + 24
    assert (f.object, f.bytes, f.filename, f.purpose, f.status) == ("file", len(data), "train.jsonl", "fine-tune",
                                                                    "processed")
    assert f.status_details is None and isinstance(f.created_at, int)


def test_require_jsonl_extension_is_the_documented_rule():
    with Emulator(require_jsonl_extension=True) as emu:
        client = emu.client(max_retries=0)
        for name in ("test.json", "file"):
            with pytest.raises(openai.BadRequestError) as e:
                client.files.create(file=(name, b"{}"), purpose="fine-tune")
            assert (e.value.param, e.value.body["message"]) == (
                "file", "Invalid file format for Fine-Tuning API. Must be .jsonl")
        with pytest.raises(openai.BadRequestError):
            client.uploads.create(filename="x.json", purpose="fine-tune", bytes=2, mime_type="text/jsonl")
        assert client.files.create(file=("notes.txt", b"x"), purpose="assistants").purpose == "assistants"
        assert client.files.create(file=("ok.JSONL", b"{}"), purpose="fine-tune").filename == "ok.JSONL"


def test_list_with_deleted_cursor_still_pages(api):
    files = [upload(api).id for _ in range(4)]
    first = api.client.files.list(limit=2)
    api.client.files.delete(first.data[-1].id)
    rest = api.client.files.list(limit=2, after=first.data[-1].id)
    assert [f.id for f in rest.data] == list(reversed(files))[2:]


@pytest.mark.parametrize("query,param", [("limit=0", "limit"), ("limit=abc", "limit"), ("limit=10001", "limit"),
                                         ("order=up", "order"), ("after=file-nope", "after")])
def test_bad_list_params(api, query, param):
    import orjson

    status, _, body = api.request("GET", f"/v1/files?{query}")
    assert status == 400 and orjson.loads(body)["error"]["param"] == param


def test_upload_over_limit_is_413_and_leaves_nothing(api, monkeypatch):
    svc = api.services
    monkeypatch.setattr(svc, "settings", svc.settings.with_(max_file_bytes=1000))
    before = sorted(p.name for p in svc.files.tmp_dir.iterdir())
    with pytest.raises(openai.APIStatusError) as e:
        upload(api, b"x" * 5000)
    assert e.value.status_code == 413 and e.value.body["code"] == "file_too_large"
    assert sorted(p.name for p in svc.files.tmp_dir.iterdir()) == before
    assert api.client.files.list().data == []
    assert upload(api, b"y" * 1000).bytes == 1000


def test_missing_file_part_and_non_multipart(api):
    status, _, body = api.request("POST", "/v1/files", json={"purpose": "fine-tune"})
    assert status == 400 and b"multipart" in body
    boundary = "XyZ"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n"
            f"--{boundary}--\r\n").encode()
    status, _, body = api.request("POST", "/v1/files", body=form,
                                  headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 400 and b"'file'" in body


def test_curl_shaped_upload_matches_seed(api):
    """The seed's `curl .../v1/files -F purpose=fine-tune -F file=@test.jsonl` body, byte for byte."""
    boundary = "------------------------d74496d66958873e"
    data = pig_jsonl()
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"test.jsonl\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    status, headers, body = api.request("POST", "/v1/files", body=form,
                                        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    import orjson

    doc = orjson.loads(body)
    assert status == 200 and headers["content-type"] == "application/json"
    assert (doc["object"], doc["bytes"], doc["filename"], doc["purpose"]) == ("file", len(data), "test.jsonl",
                                                                              "fine-tune")

"""Files: shapes of every answer, content round trip, deletion, errors, and cursor paging."""

from __future__ import annotations

import io
import itertools

import openai
import pytest

from tests.contract.support import conforms, error_of

TINY = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'


def test_create_retrieve_content_delete(api):
    f, wire = api.upload(TINY)
    conforms("file", wire)
    assert (f.object, f.bytes, f.filename, f.purpose) == ("file", len(TINY), "contract.jsonl", "fine-tune")
    assert f.status in ("uploaded", "processed")
    status, got = api.raw_json("GET", f"/v1/files/{f.id}")
    assert status == 200
    conforms("file", got)
    assert got["id"] == f.id and got["bytes"] == len(TINY)
    content = api.client.files.content(f.id)
    assert content.read() == TINY
    assert not content.response.headers["content-type"].startswith("application/json")
    status, deleted = api.raw_json("DELETE", f"/v1/files/{f.id}")
    assert status == 200
    conforms("file.deleted", deleted)
    assert (deleted["id"], deleted["deleted"]) == (f.id, True)


def test_deleted_and_unknown_files_are_404_with_param_id(api):
    f, _ = api.upload(TINY)
    api.client.files.delete(f.id)
    for method, path in (("GET", f"/v1/files/{f.id}"), ("DELETE", f"/v1/files/{f.id}"),
                         ("GET", "/v1/files/file-doesnotexist0000000000")):
        err = error_of(api.raw_json(method, path), 404)
        assert err["type"] == "invalid_request_error" and err["param"] == "id"
        assert err["message"].startswith("No such File object: file-")
    with pytest.raises(openai.NotFoundError) as e:
        api.client.files.content(f.id)
    assert e.value.param == "id"
    for call in ("retrieve", "content", "delete"):
        with pytest.raises(openai.NotFoundError) as e:
            getattr(api.client.files, call)("file-doesnotexist")
        assert e.value.body == {"message": "No such File object: file-doesnotexist", "type": "invalid_request_error",
                                "param": "id", "code": None}
        assert e.value.response.headers["x-request-id"].startswith("req_")


def test_bad_purpose_is_400_and_the_file_name_decides_nothing(api):
    with pytest.raises(openai.BadRequestError) as e:
        api.upload(TINY, purpose="vector_store")
    assert e.value.param == "purpose" and e.value.type == "invalid_request_error"
    assert e.value.body["message"] == ("'vector_store' is not one of ['fine-tune', 'assistants', 'batch', "
                                       "'user_data', 'vision', 'evals'] - 'purpose'")
    conforms("error", e.value.response.json())
    f, wire = api.upload(TINY, name="test.json")  # seed 000: the real API answered with this very filename
    conforms("file", wire)
    assert (f.filename, f.purpose, f.bytes) == ("test.json", "fine-tune", len(TINY))
    assert api.upload(b"notes", name="notes.txt", purpose="assistants")[0].purpose == "assistants"
    for nameless in (TINY, io.BytesIO(TINY)):          # the SDKs' files.create(file=b"...") / BytesIO
        f = api.client.files.create(file=nameless, purpose="fine-tune")
        api.on_cleanup(lambda f=f: api.client.files.delete(f.id))
        assert (f.purpose, f.bytes) == ("fine-tune", len(TINY)) and f.filename


def test_list_envelope_and_newest_first(api):
    made = [api.upload(TINY, name=f"c{i}.jsonl")[0] for i in range(3)]
    status, page = api.raw_json("GET", "/v1/files?purpose=fine-tune&limit=2")
    assert status == 200
    conforms("list.files", page)
    assert len(page["data"]) == 2 and page["has_more"] is True
    assert (page["first_id"], page["last_id"]) == (page["data"][0]["id"], page["data"][-1]["id"])
    newest = [f["id"] for f in page["data"]]
    assert newest == [made[2].id, made[1].id]
    api.upload(b"notes", name="a.txt", purpose="assistants")
    status, page = api.raw_json("GET", "/v1/files?purpose=assistants&limit=5")
    assert status == 200 and {f["purpose"] for f in page["data"]} == {"assistants"}


def test_auto_paging_yields_each_file_once_and_terminates(api):
    made = {api.upload(TINY, name=f"p{i}.jsonl")[0].id for i in range(5)}
    pages = api.client.files.list(purpose="fine-tune", limit=2)
    if api.emulator:   # a fresh tenant: paging must end by itself
        seen = [f.id for f in pages]
        assert sorted(seen) == sorted(made)
    else:              # a real account may hold many files: ours are the newest
        seen = [f.id for f in itertools.islice(pages, 40)]
        assert len(seen) == len(set(seen)) and made <= set(seen)


@pytest.mark.emulator_only
def test_empty_list_has_no_more(api):
    status, page = api.raw_json("GET", "/v1/files")
    assert status == 200
    conforms("list.files", page)
    assert page["data"] == [] and page["has_more"] is False
    assert list(api.client.files.list(limit=1)) == []


@pytest.mark.emulator_only
def test_asc_order_is_reverse_of_desc(api):
    for i in range(4):
        api.upload(TINY, name=f"o{i}.jsonl")
    desc = [f.id for f in api.client.files.list(limit=3)]
    asc = [f.id for f in api.client.files.list(limit=3, order="asc")]
    assert asc == desc[::-1] and len(desc) == 4

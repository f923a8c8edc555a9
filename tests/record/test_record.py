"""The recording proxy and the replayer, piece by piece, over loopback."""

from __future__ import annotations

import gzip
import io
import json
import secrets
from pathlib import Path

import httpx2
import openai
import pytest

from contracts import cassette
from contracts.cassette import Exchange, Redactor
from mockserver.cli import build_parser
from mockserver.record.spool import Spool, stored_body
from mockserver.settings import Settings, SettingsError
from tests.conftest import pig_jsonl
from tests.record._serve import served

pytestmark = pytest.mark.xdist_group("record")


def _key() -> str:
    return "sk-rec-" + secrets.token_hex(10)


def _all_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())


def test_secrets_never_reach_disk_and_answers_pass_unchanged(tmp_path: Path) -> None:
    key, cassettes = _key(), tmp_path / "c"
    secret_headers = {"OpenAI-Organization": "org-secret-acme", "OpenAI-Project": "proj_secret_x",
                      "Cookie": "session=cookie-secret-value", "X-Team-Token": "team-token-secret"}
    with served(tmp_path / "a", transitions="immediate") as a, \
            served(tmp_path / "b", upstream=a, record=cassettes, redact_headers="x-team-token") as b:
        direct = httpx2.get(f"{a}/models/gpt-4o-mini", headers={"Authorization": f"Bearer {key}"})
        via = httpx2.get(f"{b}/models/gpt-4o-mini", headers={"Authorization": f"Bearer {key}", **secret_headers})
        client = openai.OpenAI(api_key=key, base_url=b, max_retries=0, default_headers=secret_headers)
        # the key inside a body: the base model quotes the user's message back
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": key}])
        local = httpx2.get(b.removesuffix("/v1") + "/_mock/state")    # outside /v1: the emulator's own
        # a same-origin page on the proxy (the dashboard) passes the upstream's browser guard too
        own = b.removesuffix("/v1")
        page = httpx2.get(f"{b}/models", headers={"Authorization": f"Bearer {key}", "Origin": own,
                                                  "Sec-Fetch-Site": "same-origin", "Referer": own + "/"})
        foreign = httpx2.get(f"{b}/models", headers={"Authorization": f"Bearer {key}", "Origin": "http://evil.example"})
    assert via.status_code == direct.status_code == 200 and via.content == direct.content
    assert via.headers["x-request-id"].startswith("req_") and "," not in via.headers["x-request-id"]
    assert key in (reply.choices[0].message.content or "")
    assert local.status_code == 200
    assert page.status_code == 200 and foreign.status_code == 403     # the proxy's own guard still refuses
    stored = _all_bytes(cassettes)
    for secret in [key, *secret_headers.values(), "cookie-secret-value"]:
        assert secret.encode() not in stored, secret
    chat = json.loads(next(cassettes.glob("*chat-completions.json")).read_text())
    assert chat["request"]["headers"]["x-team-token"] == "<redacted>"
    assert chat["request"]["body"]["json"]["messages"][0]["content"] == "<redacted>"
    assert len(list(cassettes.glob("*.json"))) == 3     # /_mock/state and the refused request are not recorded


def test_large_bodies_are_blobs_stored_once(tmp_path: Path) -> None:
    key, cassettes = _key(), tmp_path / "c"
    data = pig_jsonl(3000)          # ≈ 630 KB, over the inline limit
    assert len(data) > cassette.INLINE_MAX
    with served(tmp_path / "a", transitions="immediate") as a, \
            served(tmp_path / "b", upstream=a, record=cassettes) as b:
        client = openai.OpenAI(api_key=key, base_url=b, max_retries=0)
        ids = [client.files.create(file=("big.jsonl", io.BytesIO(data)), purpose="fine-tune").id for _ in range(2)]
        content = client.files.content(ids[0]).read()
    assert content == data
    blobs = list((cassettes / "blobs").iterdir())
    assert [p.read_bytes() for p in blobs] == [data]       # two uploads and one download: one blob
    download = json.loads(next(cassettes.glob("*files-id-content.json")).read_text())
    assert download["response"]["body"] == {"blob": blobs[0].name, "size": len(data)}


def test_upstream_unreachable_is_a_502_in_the_error_shape(tmp_path: Path) -> None:
    with served(tmp_path / "b", upstream="http://127.0.0.1:9/v1", record=tmp_path / "c") as b:
        r = httpx2.get(f"{b}/models", headers={"Authorization": f"Bearer {_key()}"})
    assert r.status_code == 502
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"} and err["code"] == "upstream_unreachable"


def _exchange(seq: int, method: str, path: str, body: dict, *, status: int = 200, request: dict | None = None
              ) -> Exchange:
    return Exchange(seq=seq, method=method, path=path, query="", request_headers=[],
                    request_body=None if request is None else {"json": request, "layout": "compact"},
                    status=status, response_headers=[["content-type", "application/json"]],
                    response_body=cassette.encode_body(json.dumps(body).encode(), "application/json"))


def test_replay_serves_a_jobs_retrieves_in_order_then_repeats_the_last(tmp_path: Path) -> None:
    d = tmp_path / "c"
    job = "ftjob-" + "A" * 24
    for seq, status in enumerate(["queued", "running", "succeeded"], 1):
        cassette.write_exchange(d, _exchange(seq, "GET", f"/v1/fine_tuning/jobs/{job}",
                                             {"object": "fine_tuning.job", "id": job, "status": status}))
    with served(tmp_path / "r", replay=d) as r:
        seen = [httpx2.get(f"{r}/fine_tuning/jobs/{job}").json()["status"] for _ in range(4)]
        other = httpx2.get(f"{r}/fine_tuning/jobs/ftjob-{'B' * 24}")   # another id: matched with ids as {id}
        miss = httpx2.get(f"{r}/models")
    assert seen == ["queued", "running", "succeeded", "succeeded"]
    assert other.status_code == 200 and other.json()["id"] == job
    assert miss.status_code == 404 and miss.json()["error"]["code"] == "no_recorded_exchange"
    assert miss.headers["x-should-retry"] == "false"


def test_replay_fallback_hands_misses_to_the_emulator_with_their_body(tmp_path: Path) -> None:
    d = tmp_path / "c"
    cassette.write_exchange(d, _exchange(1, "POST", "/v1/chat/completions", {"recorded": True},
                                         request={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
    with served(tmp_path / "r", replay=d, replay_fallback="emulate") as r:
        client = openai.OpenAI(api_key=_key(), base_url=r, max_retries=0)
        hit = client.chat.completions.with_raw_response.create(model="gpt-4o-mini",
                                                               messages=[{"role": "user", "content": "hi"}])
        emulated = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "bye"}])
    assert hit.http_response.json() == {"recorded": True}
    assert "bye" in (emulated.choices[0].message.content or "")


def test_stored_bodies_decode_gzip_and_keep_exact_bytes(tmp_path: Path) -> None:
    payload = {"object": "list", "data": [{"id": "file-" + "x" * 24, "name": "豚"}]}
    for raw in (json.dumps(payload).encode(), json.dumps(payload, indent=2, ensure_ascii=False).encode() + b"\n",
                b'{"a":1.0e5}'):
        body = cassette.encode_body(raw, "application/json")
        assert b"".join(cassette.body_bytes(body, tmp_path)) == raw
    spool = Spool(tmp_path / "spool", memory=16)
    spool.buf += gzip.compress(json.dumps(payload).encode())
    spool.size = len(spool.buf)
    stored = stored_body(spool, "application/json", blobs=tmp_path / "b", redactor=Redactor(),
                         content_encoding="gzip")
    assert stored["json"] == payload
    sse = b'data: {"a": 1}\n\ndata: [DONE]\n\n'
    body = cassette.encode_body(sse, "text/event-stream; charset=utf-8")
    assert body == {"sse": ['data: {"a": 1}', "data: [DONE]"]}
    assert cassette.decode_body(body) == [{"a": 1}, "[DONE]"]


def test_operation_names_and_match_keys() -> None:
    job = "ftjob-" + "Z" * 24
    assert cassette.operation_of("GET", f"/v1/fine_tuning/jobs/{job}/events") == "fine_tuning.jobs.list_events"
    assert cassette.operation_of("DELETE", "/v1/models/ft:gpt-4o-mini-2024-07-18:personal::AbCd1234") == "models.delete"
    assert cassette.operation_of("GET", "/v1/unknown/thing") == "GET /v1/unknown/thing"
    a = cassette.match_key("POST", "/v1/fine_tuning/jobs", "", {"json": {"training_file": "file-" + "a" * 24}})
    b = cassette.match_key("POST", "/v1/fine_tuning/jobs", "", {"json": {"training_file": "file-" + "b" * 24}})
    assert a != b
    assert cassette.match_key("POST", "/v1/fine_tuning/jobs", "", {"json": {"training_file": "file-" + "a" * 24}},
                              templated=True) == cassette.match_key(
        "POST", "/v1/fine_tuning/jobs", "", {"json": {"training_file": "file-" + "b" * 24}}, templated=True)
    assert cassette.match_key("GET", "/v1/files", "limit=2&order=asc", None) == \
        cassette.match_key("GET", "/v1/files", "order=asc&limit=2", None)


@pytest.mark.parametrize(("flags", "problem"), [
    (["--record", "x"], "--record"),
    (["--upstream", "ftp://example/v1"], "--upstream"),
    (["--upstream", "http://127.0.0.1:1/v1", "--workers", "2"], "--workers"),
    (["--replay", "/nonexistent/cassettes"], "--replay"),
    (["--replay", ".", "--replay-fallback", "emulate", "--upstream", "http://127.0.0.1:1/v1"], "--replay"),
])
def test_record_flags_are_checked(flags: list[str], problem: str) -> None:
    args = vars(build_parser().parse_args(["serve", *flags]))
    args.pop("command")
    with pytest.raises(SettingsError, match=problem):
        Settings.from_env({}, **args)

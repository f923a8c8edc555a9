"""The hot path (mockserver.hot) answers exactly as the middleware stack would: the same status, error
envelope and headers for successes, guard refusals, bad bodies, a deleted data dir and unexpected errors."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import orjson
import pytest

from mockserver.app import create_app
from mockserver.settings import Settings

CHAT = orjson.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there"}]})
COMPLETION = orjson.dumps({"model": "davinci-002", "prompt": "Say hi"})


def _call(app, path: str, body: bytes, headers: dict[str, str] | None = None, query: bytes = b"",
          method: str = "POST"):
    """(status, headers, body, the exception the app raised or None) of one request."""
    hs = {"host": "127.0.0.1:8000", "authorization": "Bearer sk-hot-path", "content-type": "application/json",
          **(headers or {})}
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "",
             "headers": [(k.encode(), v.encode()) for k, v in hs.items()], "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 8000), "state": {}}
    out: dict = {"status": None, "headers": {}, "body": b""}
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            out["body"] += message.get("body", b"")

    raised = None
    try:
        asyncio.run(app(scope, receive, send))
    except Exception as e:  # compared between the two paths
        raised = type(e)
    return out["status"], out["headers"], out["body"], raised


@pytest.fixture
def apps(tmp_path: Path):
    """(hot, stack): two apps on one data dir, the second with the hot path off."""
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/state.db", durable=False,
                        transitions="immediate")
    hot = create_app(settings)
    stack = create_app(settings, services=hot.state.services)
    stack.hot = None
    assert hot.hot is not None and set(hot.hot.routes) == {"/v1/chat/completions", "/v1/completions"}
    yield hot, stack
    hot.state.services.caches.close()
    hot.state.services.db.dispose()


def _same(hot, stack, *args, **kwargs):
    a, b = _call(hot, *args, **kwargs), _call(stack, *args, **kwargs)
    assert a[0] == b[0] and a[3] == b[3], (a, b)
    ignore = {"x-request-id", "openai-processing-ms", "content-length"}
    if a[0] >= 500:   # ServerErrorMiddleware sends outside the headers middleware; the hot path adds them
        ignore |= {"openai-version"}
    assert {k: v for k, v in a[1].items() if k not in ignore} == \
        {k: v for k, v in b[1].items() if k not in ignore}, (a[1], b[1])
    if a[0] < 500:
        assert re.fullmatch(r"req_[0-9a-f]{32}", a[1]["x-request-id"]) and a[1]["openai-processing-ms"].isdigit()
    if a[0] != 200:
        assert orjson.loads(a[2]) == orjson.loads(b[2])
    return a


@pytest.mark.parametrize("path,body", [("/v1/chat/completions", CHAT), ("/v1/completions", COMPLETION)])
def test_answers_match_the_stack(apps, path, body):
    status, headers, out, _ = _same(*apps, path, body)
    assert status == 200 and orjson.loads(out)["usage"]["prompt_tokens"] > 0


@pytest.mark.parametrize("case", [
    {"body": b"{", "want": 400},
    {"body": orjson.dumps({"model": "gpt-4o-mini"}), "want": 400},
    {"body": CHAT, "headers": {"authorization": ""}, "want": 401},
    {"body": CHAT, "headers": {"origin": "http://evil.example"}, "want": 403},
    {"body": CHAT, "headers": {"host": "rebound.example"}, "want": 403},
    {"body": CHAT, "query": b"x=%00", "want": 400},
    {"body": orjson.dumps({"model": "gpt-nope", "messages": [{"role": "user", "content": "hi"}]}), "want": 404},
])
def test_refusals_match_the_stack(apps, case):
    status, headers, body, _ = _same(*apps, "/v1/chat/completions", case["body"], case.get("headers"),
                                     query=case.get("query", b""))
    assert status == case["want"] and set(orjson.loads(body)) == {"error"}
    assert headers["x-should-retry"] == "false"


def test_a_deleted_data_dir_still_answers_chat_which_stores_nothing(apps, tmp_path):
    shutil.rmtree(tmp_path / "files")
    status, _, _, _ = _same(*apps, "/v1/chat/completions", CHAT)
    assert status == 200
    status, _, body, _ = _same(*apps, "/v1/fine_tuning/jobs", orjson.dumps({"model": "gpt-4o-mini",
                                                                           "training_file": "file-x"}))
    assert status == 500 and orjson.loads(body)["error"]["type"] == "server_error"


def test_an_unexpected_error_is_the_logged_500_and_reraised(apps, monkeypatch):
    from mockserver.chat import routes

    async def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(routes, "run_chat", boom)
    status, _, body, raised = _same(*apps, "/v1/chat/completions", CHAT)
    assert status == 500 and raised is RuntimeError
    assert orjson.loads(body)["error"]["message"].startswith("The server had an error")


def test_other_methods_take_the_stack(apps):
    status, _, body, _ = _same(*apps, "/v1/chat/completions", b"", method="GET")
    assert status == 405 and orjson.loads(body)["error"]["type"] == "invalid_request_error"


# --- the lifecycle's fast routes (deps.fast_route) ---------------------------------------------------------

_B = "hot-path-boundary"
TRAINING = b"".join(orjson.dumps({"messages": [{"role": "user", "content": f"Question {i}?"},
                                               {"role": "assistant", "content": f"Answer {i}."}]}) + b"\n"
                    for i in range(10))
FORM = (f"--{_B}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n--{_B}\r\n"
        f"Content-Disposition: form-data; name=\"file\"; filename=\"train.jsonl\"\r\n"
        f"Content-Type: application/octet-stream\r\n\r\n").encode() + TRAINING + f"\r\n--{_B}--\r\n".encode()
MULTIPART = {"content-type": f"multipart/form-data; boundary={_B}"}


def _shape(body: bytes) -> object:
    """A JSON body with its values' types only (two objects made by the two paths differ in ids and times)."""
    def walk(v):
        return {k: walk(x) for k, x in v.items()} if isinstance(v, dict) else [walk(x) for x in v] \
            if isinstance(v, list) else type(v).__name__
    return walk(orjson.loads(body))


def test_the_lifecycle_routes_are_served_ahead_of_the_stack(apps):
    hot = apps[0].hot

    def served(method: str, path: str) -> bool:
        return hot.endpoint({"type": "http", "method": method, "path": path, "root_path": ""}) is not None

    assert all(served(m, p) for m, p in [("POST", "/v1/files"), ("GET", "/v1/files/file-x"),
                                         ("POST", "/v1/fine_tuning/jobs"), ("GET", "/v1/fine_tuning/jobs/ftjob-x"),
                                         ("GET", "/v1/fine_tuning/jobs/ftjob-x/events")])
    assert not any(served(m, p) for m, p in [("GET", "/v1/files"), ("DELETE", "/v1/files/file-x"),
                                             ("GET", "/v1/fine_tuning/jobs"), ("HEAD", "/v1/files/file-x"),
                                             ("POST", "/v1/fine_tuning/jobs/ftjob-x/cancel"),
                                             ("GET", "/v1/files/file-x/content"), ("GET", "/v1/models")])


def test_the_lifecycle_matches_the_stack(apps):
    jobs = []
    for app in apps:   # each path makes its own file and job; every answer has the other path's shape
        status, _, body, _ = _call(app, "/v1/files", FORM, MULTIPART)
        assert status == 200, body
        file_id = orjson.loads(body)["id"]
        create = orjson.dumps({"model": "gpt-4o-mini-2024-07-18", "training_file": file_id})
        status, _, body, _ = _call(app, "/v1/fine_tuning/jobs", create)
        assert status == 200, body
        jobs.append((file_id, orjson.loads(body)["id"], body))
    hot, stack = apps
    for path in ("/v1/files/{f}", "/v1/fine_tuning/jobs/{j}", "/v1/fine_tuning/jobs/{j}/events"):
        a = _same(hot, stack, path.format(f=jobs[0][0], j=jobs[0][1]), b"", method="GET")
        b = _call(stack, path.format(f=jobs[1][0], j=jobs[1][1]), b"", method="GET")
        assert a[0] == b[0] == 200 and _shape(a[2]) == _shape(b[2])
        if path.endswith("events"):
            assert len(orjson.loads(a[2])["data"]) == len(orjson.loads(b[2])["data"]) > 10
    assert _shape(jobs[0][2]) == _shape(jobs[1][2])
    page = _same(hot, stack, f"/v1/fine_tuning/jobs/{jobs[0][1]}/events", b"", method="GET", query=b"limit=3")
    assert len(orjson.loads(page[2])["data"]) == 3


@pytest.mark.parametrize("case", [
    {"path": "/v1/fine_tuning/jobs/ftjob-nope", "want": 404},
    {"path": "/v1/fine_tuning/jobs/ftjob-nope/events", "query": b"limit=abc", "want": 400},
    {"path": "/v1/files/file-nope", "want": 404},
    {"path": "/v1/files/file-nope", "headers": {"authorization": ""}, "want": 401},
    {"path": "/v1/fine_tuning/jobs/ftjob-x", "headers": {"origin": "http://evil.example"}, "want": 403},
    {"path": "/v1/fine_tuning/jobs/ftjob-x", "query": b"x=%00", "want": 400},
    {"path": "/v1/fine_tuning/jobs", "method": "POST", "body": b"{", "want": 400},
    {"path": "/v1/fine_tuning/jobs", "method": "POST", "body": orjson.dumps({"model": "gpt-4o-mini"}), "want": 400},
    {"path": "/v1/fine_tuning/jobs", "method": "POST", "want": 400,
     "body": orjson.dumps({"model": "gpt-4o-mini-2024-07-18", "training_file": "file-nope"})},
    {"path": "/v1/files", "method": "POST", "body": b"--x--", "headers": {"content-type": "text/plain"}, "want": 400},
    {"path": "/v1/files", "method": "POST", "body": FORM, "headers": {**MULTIPART, "host": "rebound.example"},
     "want": 403},
])
def test_lifecycle_refusals_match_the_stack(apps, case):
    status, _, body, _ = _same(*apps, case["path"], case.get("body", b""), case.get("headers"),
                               query=case.get("query", b""), method=case.get("method", "GET"))
    assert status == case["want"] and set(orjson.loads(body)) == {"error"}, body


def test_a_deleted_data_dir_refuses_the_lifecycle_writes_only(apps, tmp_path):
    status, _, body, _ = _call(apps[0], "/v1/files", FORM, MULTIPART)
    file_id = orjson.loads(body)["id"]
    shutil.rmtree(tmp_path / "files")
    for path, body in (("/v1/files", FORM), ("/v1/fine_tuning/jobs", orjson.dumps(
            {"model": "gpt-4o-mini-2024-07-18", "training_file": file_id}))):
        status, _, out, _ = _same(*apps, path, body, MULTIPART if path == "/v1/files" else None)
        assert status == 500 and orjson.loads(out)["error"]["type"] == "server_error"
    status, _, _, _ = _same(*apps, f"/v1/files/{file_id}", b"", method="GET")   # reads are not guarded
    assert status == 200


def test_an_unexpected_error_in_a_fast_route_is_the_logged_500(apps, monkeypatch):
    from mockserver.jobs import store

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(store, "read_job", boom)
    status, _, body, raised = _same(*apps, "/v1/fine_tuning/jobs/ftjob-x", b"", method="GET")
    assert status == 500 and raised is RuntimeError
    assert orjson.loads(body)["error"]["message"].startswith("The server had an error")

"""The hostile suite: what an attack run against the emulator on loopback found (issue #13), one test each.

Every test talks to a real `python -m mockserver` process over 127.0.0.1. Figures (requests sent, 5xx,
the worst latency another client saw while each heavy request ran, peak RSS, bytes left on disk) land
under "reliability figures" in pytest's summary. Long variants are `@pytest.mark.slow`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reliability._hostile import TALLY, baseline, chat_body, disk_bytes, during, get, post_json
from tests.reliability._server import FIGURES, KEY, Server, multipart, raw_http, request, wait_until

EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("hostile")
    with Server(root / "data", transitions="immediate") as server:
        yield server
    FIGURES.add("hostile suite", requests=TALLY.sent, server_errors=len(TALLY.server_errors))
    assert not TALLY.server_errors, TALLY.server_errors[:5]


def _error(r) -> dict:
    body = json.loads(r.body)
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


# --- 1. a web page driving the control plane (CSRF, DNS rebinding) ----------------------------------


def test_cross_origin_requests_are_refused(srv: Server) -> None:
    post_json(srv, "/_mock/fixtures", {"pattern": "canary", "reply": {"content": "kept"}})
    for path, body in (("/_mock/reset", None), ("/_mock/policy", {"transitions": "manual"}),
                       ("/_mock/fixtures", {"reply": {"content": "PWNED"}})):
        raw = request("POST", path, key=None, headers={"Origin": EVIL, "Content-Type": "text/plain"},
                      body=json.dumps(body).encode() if body else b"")
        r = TALLY.send(srv.port, raw)
        assert r.status == 403, (path, r.status, r.body)
        assert _error(r)["code"] == "cross_origin_denied"
        assert r.headers.get("x-should-retry") == "false"
    r = get(srv, "/v1/models", headers={"Origin": "null"})
    assert r.status == 403, r.body
    state = json.loads(get(srv, "/_mock/state").body)
    assert state["transitions"] == "immediate"
    answer = post_json(srv, "/v1/chat/completions", chat_body("canary"))
    assert json.loads(answer.body)["choices"][0]["message"]["content"] == "kept"
    post_json(srv, "/_mock/reset", {})


def test_control_plane_bodies_must_be_json(srv: Server) -> None:
    raw = request("POST", "/_mock/fixtures", key=None, headers={"Content-Type": "text/plain"},
                  body=b'{"reply": {"content": "PWNED"}}')
    r = TALLY.send(srv.port, raw)
    assert r.status == 400 and _error(r)["code"] == "invalid_content_type", r.body
    fixtures = json.loads(get(srv, "/_mock/fixtures", key=None).body)["data"]
    assert not [f for f in fixtures if f["reply"].get("content") == "PWNED"]
    assert post_json(srv, "/_mock/policy", {"transitions": "immediate"}).status == 200   # JSON still works


def test_foreign_host_names_are_refused_on_loopback(srv: Server) -> None:
    for host in ("rebind.evil.example", f"rebind.evil.example:{srv.port}", "127.0.0.1.nip.io"):
        r = get(srv, "/v1/models", headers={"Host": host})
        assert r.status == 403 and _error(r)["code"] == "host_not_allowed", (host, r.status, r.body)
    for host in ("localhost", f"localhost:{srv.port}", f"127.0.0.1:{srv.port}", f"[::1]:{srv.port}"):
        assert get(srv, "/v1/models", headers={"Host": host}).status == 200, host
    own = {"Host": f"127.0.0.1:{srv.port}", "Origin": f"http://127.0.0.1:{srv.port}"}   # as the dashboard sends
    assert get(srv, "/v1/models", headers=own).status == 200
    assert post_json(srv, "/_mock/policy", {"transitions": "immediate"}, headers=own).status == 200


def test_allowed_hosts_adds_names(tmp_path: Path) -> None:
    from mockserver.app import create_app
    from mockserver.settings import Settings
    from mockserver.testing import AsgiBridge

    app = create_app(Settings(data_dir=tmp_path, durable=False, allowed_hosts="dev.box.test, other.test"))
    bridge = AsgiBridge(app)
    try:
        def status(host: str) -> int:
            headers = [(b"host", host.encode()), (b"authorization", f"Bearer {KEY}".encode())]
            return bridge.call("GET", "http://127.0.0.1:8000/v1/models", headers, b"")[0]
        assert status("dev.box.test:8000") == 200
        assert status("other.test") == 200
        assert status("evil.example") == 403
    finally:
        bridge.close()
        app.state.services.db.dispose()


def test_docs_have_a_content_security_policy(srv: Server) -> None:
    r = get(srv, "/docs", key=None)
    assert r.status == 200
    csp = r.headers.get("content-security-policy", "")
    assert "default-src 'none'" in csp and "script-src 'self'" in csp, csp
    assert "cdn" not in csp


# --- 2. fixture patterns: a linear-time engine ------------------------------------------------------


def test_catastrophic_fixture_pattern_does_not_stall(srv: Server) -> None:
    assert post_json(srv, "/_mock/fixtures", {"pattern": "^(a+)+$", "reply": {"content": "matched"}}).status == 200
    try:
        heavy = during(srv, lambda: post_json(srv, "/v1/chat/completions", chat_body("a" * 40 + "!"), timeout=60))
        assert heavy.response.status == 200, heavy.response.body[:300]
        assert json.loads(heavy.response.body)["choices"][0]["message"]["content"] != "matched"
        hit = post_json(srv, "/v1/chat/completions", chat_body("a" * 40))
        assert json.loads(hit.body)["choices"][0]["message"]["content"] == "matched"
        FIGURES.add("hostile redos fixture", heavy_ms=round(heavy.seconds * 1000, 1), other_client_worst_ms=heavy.worst_ms)
    finally:
        post_json(srv, "/_mock/reset", {})


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=a)b", r"(?<!x)y"])
def test_unsupported_fixture_pattern_is_a_400(srv: Server, pattern: str) -> None:
    r = post_json(srv, "/_mock/fixtures", {"pattern": pattern, "reply": {"content": "x"}})
    assert r.status == 400, r.body
    err = _error(r)
    assert err["param"] == "pattern" and err["code"] == "invalid_value"


# --- 3. one request freezing everyone: limits and work off the event loop ---------------------------


@pytest.mark.parametrize("repeats", [80_000, pytest.param(380_000, marks=pytest.mark.slow)])
def test_huge_chat_message_does_not_block_other_clients(srv: Server, repeats: int) -> None:
    base = baseline(srv)
    text = "lorem ipsum dolor sit amet " * repeats     # 2.2 MB, and 10.3 MB just under the real limit
    heavy = during(srv, lambda: post_json(srv, "/v1/chat/completions", chat_body(text, model="gpt-4.1")))
    # the long one is over gpt-4.1's context window: counted (the heavy part), then refused
    assert heavy.response.status == 200 or _error(heavy.response)["code"] == "context_length_exceeded", \
        heavy.response.body[:300]
    assert heavy.finished_before >= 1, f"no other request finished during the {heavy.seconds:.2f} s heavy one"
    assert heavy.worst_ms / 1000 < max(heavy.seconds, 50 * base)
    FIGURES.add(f"hostile {len(text) / 1e6:.1f} MB chat message", heavy_ms=round(heavy.seconds * 1000, 1),
                other_client_worst_ms=heavy.worst_ms, other_client_baseline_ms=round(base * 1000, 1),
                peak_rss_MB=round(heavy.peak_rss / 1e6, 1))


def test_chat_message_over_the_real_limit_is_a_400(srv: Server) -> None:
    r = post_json(srv, "/v1/chat/completions", chat_body("x" * 10_485_761))
    assert r.status == 400, r.body[:300]
    err = _error(r)
    assert err["code"] == "string_above_max_length" and err["param"] == "messages[0].content"


def test_min_items_schema_respects_the_output_cap(srv: Server) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "big", "schema": {
        "type": "array", "minItems": 1_000_000, "items": {"type": "integer"}}}}
    heavy = during(srv, lambda: post_json(srv, "/v1/chat/completions", chat_body("json please", response_format=fmt)))
    assert heavy.response.status == 200, heavy.response.body[:300]
    body = heavy.json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] <= 16_384     # gpt-4o-mini's output limit, without max_tokens
    FIGURES.add("hostile minItems 1e6 schema", heavy_ms=round(heavy.seconds * 1000, 1),
                other_client_worst_ms=heavy.worst_ms)


def _nested(depth: int, width: int = 1) -> dict:
    schema: dict = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {f"p{i}": schema for i in range(width)}}
    return schema


@pytest.mark.parametrize(("schema", "why"), [(_nested(11), "levels"), (_nested(2, 71), "properties"),
                                             ({"type": "string", "enum": list(range(1001))}, "enum")])
def test_schema_over_the_real_limits_is_a_400(srv: Server, schema: dict, why: str) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}
    r = post_json(srv, "/v1/chat/completions", chat_body("json", response_format=fmt))
    assert r.status == 400, r.body[:300]
    err = _error(r)
    assert err["code"] == "invalid_json_schema" and err["param"] == "response_format", err
    assert err["message"].startswith("Invalid schema for response_format 's': ")
    tools = [{"type": "function", "function": {"name": "f", "parameters": schema}}]
    r = post_json(srv, "/v1/chat/completions", chat_body("hi", tools=tools))
    assert r.status == 400 and _error(r)["code"] == "invalid_function_parameters", r.body[:300]


def test_prompt_arrays_are_capped(srv: Server) -> None:
    r = post_json(srv, "/v1/completions", {"model": "davinci-002", "prompt": ["p"] * 2049, "n": 128})
    assert r.status == 400, r.body[:300]
    err = _error(r)
    assert err["code"] == "array_above_max_length" and err["param"] == "prompt"


@pytest.mark.parametrize(("prompts", "n"), [(100, 40), pytest.param(2048, 128, marks=pytest.mark.slow)])
def test_many_completions_run_off_the_event_loop(srv: Server, prompts: int, n: int) -> None:
    heavy = during(srv, lambda: post_json(srv, "/v1/completions", {
        "model": "davinci-002", "prompt": [f"prompt {i}" for i in range(prompts)], "n": n, "max_tokens": 4},
        timeout=600))
    assert heavy.response.status == 200, heavy.response.body[:300]
    assert len(heavy.json()["choices"]) == prompts * n
    assert heavy.finished_before >= 1, f"no other request finished during the {heavy.seconds:.2f} s heavy one"
    FIGURES.add(f"hostile {prompts} prompts x n={n}", heavy_ms=round(heavy.seconds * 1000, 1),
                other_client_worst_ms=heavy.worst_ms, response_MB=round(len(heavy.response.body) / 1e6, 1))


# --- 4. unbounded fields ---------------------------------------------------------------------------


def test_stored_fields_are_bounded(srv: Server) -> None:
    huge = "x" * 40_000
    job = {"model": "gpt-4o-mini", "training_file": "file-nope",
           "integrations": [{"type": "wandb", "wandb": {"project": huge}}]}
    r = post_json(srv, "/v1/fine_tuning/jobs", job)
    assert r.status == 400 and _error(r)["code"] == "string_above_max_length", r.body[:300]
    job["integrations"] = [{"type": "wandb", "wandb": {"project": "p", "extra": huge}}]
    assert _error(post_json(srv, "/v1/fine_tuning/jobs", job))["code"] == "unknown_parameter"
    for key in ("filename", "mime_type"):
        upload = {"filename": "a.jsonl", "purpose": "fine-tune", "bytes": 1, "mime_type": "text/jsonl"}
        upload[key] = "a" * 1000 + ".jsonl"
        r = post_json(srv, "/v1/uploads", upload)
        assert r.status == 400 and _error(r)["param"] == key, r.body[:300]
    r = post_json(srv, "/v1/uploads", {"filename": "x" * (20 << 20), "purpose": "fine-tune", "bytes": 1,
                                       "mime_type": "text/jsonl"})
    assert r.status == 413 and _error(r)["code"] == "request_too_large", r.body[:300]
    assert not TALLY.server_errors


# --- 5. validation memory and fairness ---------------------------------------------------------------


def test_a_line_longer_than_any_example_is_found_without_loading_it(tmp_path: Path, monkeypatch) -> None:
    import tracemalloc

    from contracts.dataset import validation
    from tests.reliability._checks import pig_jsonl

    monkeypatch.setattr(validation, "MAX_LINE_BYTES", 1 << 20)
    good = pig_jsonl(12).splitlines(keepends=True)
    path = tmp_path / "train.jsonl"
    with open(path, "wb") as f:
        f.writelines(good[:2])
        f.write(b'{"messages": [{"role": "user", "content": "' + b"x" * (16 << 20) + b'"}]}\n')
        f.writelines(good[2:])
    warm = tmp_path / "warm.jsonl"
    warm.write_bytes(b"".join(good))   # loads the tokenizer before memory is traced
    assert validation.validate_file(warm, model="gpt-4o-mini-2024-07-18", file_id="file-w", workers=1).error is None
    tracemalloc.start()
    try:
        result = validation.validate_file(path, model="gpt-4o-mini-2024-07-18", file_id="file-x", workers=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.error is not None and "Example 3 " in result.error.message, result.error
    assert "longer than any example" in result.error.message
    assert peak < 8 << 20, f"validation held {peak >> 20} MiB for a 16 MiB line"


def test_jobs_do_not_wait_for_each_others_validation(monkeypatch) -> None:
    import threading
    from types import SimpleNamespace

    from mockserver.cache import Caches
    from mockserver.jobs import store as jobs

    release, entered = threading.Event(), threading.Event()

    def fake_run(svc, row):
        if row.id == "ftjob-slow":
            entered.set()
            release.wait(30)
        return None, {"code": "x", "message": row.id, "param": None}

    monkeypatch.setattr(jobs, "_run_validation", fake_run)
    svc = SimpleNamespace(caches=Caches(SimpleNamespace(url="sqlite://")))   # in-memory: no database read
    slow = threading.Thread(target=jobs._validate, args=(svc, SimpleNamespace(id="ftjob-slow")), daemon=True)
    slow.start()
    assert entered.wait(10)
    other = threading.Thread(target=jobs._validate, args=(svc, SimpleNamespace(id="ftjob-other")), daemon=True)
    other.start()
    other.join(10)
    finished_first = not other.is_alive()
    release.set()
    slow.join(10)
    assert finished_first, "another job's validation waited for a slow one (a lock shared across jobs)"
    assert svc.caches.validation["ftjob-other"][1]["message"] == "ftjob-other"


@pytest.mark.slow
def test_a_200_mb_line_keeps_memory_bounded(tmp_path: Path) -> None:
    from tests.reliability._checks import pig_jsonl
    with Server(tmp_path / "data", transitions="immediate") as server:
        good = pig_jsonl(12).splitlines(keepends=True)
        head, tail, ctype = multipart({"purpose": "fine-tune"}, filename="big.jsonl")
        line = b'{"messages": [{"role": "user", "content": "' + b"x" * (200 << 20) + b'"}]}\n'
        body = [head, *good[:4], line, *good[4:], tail]
        size = sum(map(len, body))
        raw = request("POST", "/v1/files", headers={"Content-Type": ctype, "Content-Length": str(size)})
        r = TALLY.send(server.port, [raw, *body], timeout=300)
        assert r.status == 200, r.body[:300]
        file_id = json.loads(r.body)["id"]
        base = server.rss()
        job = json.loads(post_json(server, "/v1/fine_tuning/jobs", {"model": "gpt-4o-mini",
                                                                    "training_file": file_id}).body)
        peak = base

        def done() -> bool:
            nonlocal peak
            peak = max(peak, server.rss())
            return json.loads(get(server, f"/v1/fine_tuning/jobs/{job['id']}").body)["status"] == "failed"
        assert wait_until(done, 300, interval=0.2)
        final = json.loads(get(server, f"/v1/fine_tuning/jobs/{job['id']}").body)
        assert "Example 5 " in final["error"]["message"], final["error"]
        FIGURES.add("hostile 200 MB line", rss_growth_MB=round((peak - base) / 1e6, 1))
        assert peak - base < 400e6


# --- 6. Uploads API parts ----------------------------------------------------------------------------


def _part(srv: Server, upload_id: str, data: bytes):
    head, tail, ctype = multipart({}, file_field="data", filename="blob", content=data)
    body = head + data + tail
    return TALLY.send(srv.port, request("POST", f"/v1/uploads/{upload_id}/parts", body=body,
                                        headers={"Content-Type": ctype}))


def _upload(srv: Server, size: int) -> str:
    r = post_json(srv, "/v1/uploads", {"filename": "u.jsonl", "purpose": "fine-tune", "bytes": size,
                                       "mime_type": "text/jsonl"})
    assert r.status == 200, r.body
    return json.loads(r.body)["id"]


def test_upload_parts_never_outlive_their_upload(srv: Server) -> None:
    files = srv.data_dir / "files"
    before = disk_bytes(files)
    small = _upload(srv, 1)
    for _ in range(3):
        r = _part(srv, small, b"x" * 100_000)
        assert r.status == 400 and _error(r)["param"] == "data", r.body[:300]
    assert disk_bytes(files) == before, "refused parts left bytes behind"
    assert post_json(srv, f"/v1/uploads/{small}/cancel", {}).status == 200

    data = b'{"prompt": "a", "completion": "b"}\n' * 2000
    done = _upload(srv, len(data))
    half = len(data) // 2
    ids = [json.loads(_part(srv, done, chunk).body)["id"] for chunk in (data[:half], data[half:])]
    assert disk_bytes(files) == before + len(data)
    r = post_json(srv, f"/v1/uploads/{done}/complete", {"part_ids": ids})
    assert r.status == 200, r.body
    assert disk_bytes(files) == before + len(data), "completed upload kept its parts"

    cancelled = _upload(srv, len(data))
    _part(srv, cancelled, data[:half])
    assert post_json(srv, f"/v1/uploads/{cancelled}/cancel", {}).status == 200
    left = disk_bytes(files) - before - len(data)
    FIGURES.add("hostile uploads", bytes_left_after_refused_parts_and_cancel=left)
    assert left == 0


def test_expired_upload_parts_are_gone_after_a_restart(tmp_path: Path) -> None:
    from mockserver.settings import Settings
    from mockserver.testing import Emulator

    settings = Settings(data_dir=tmp_path, durable=False, transitions="manual")
    with Emulator(settings) as emu:
        status, _, body = emu.request("POST", "/v1/uploads", json={"filename": "u.jsonl", "purpose": "fine-tune",
                                                                    "bytes": 10_000, "mime_type": "text/jsonl"})
        upload = json.loads(body)["id"]
        head, tail, ctype = multipart({}, file_field="data", filename="blob")
        status, _, body = emu.request("POST", f"/v1/uploads/{upload}/parts", body=head + b"y" * 5000 + tail,
                                      headers={"Content-Type": ctype})
        assert status == 200, body
        emu.advance(7200)            # past the hour an upload lives; nobody reads it again
        assert disk_bytes(tmp_path / "files") == 5000
    with Emulator(settings):
        assert disk_bytes(tmp_path / "files") == 0, "an expired upload's part outlived a restart"


# --- 7. multipart parser (the byte-by-byte unit tests are tests/unit/test_multipart.py) -------------


def test_multipart_repeated_and_unterminated_bodies(srv: Server) -> None:
    content = b'{"prompt": "a", "completion": "b"}\n'
    head, tail, ctype = multipart({"purpose": "fine-tune"}, filename="a.jsonl")
    twice = head + content + b"\r\n--reliabilityboundary7MA4YWxkTrZu0gW\r\n" + \
        b'Content-Disposition: form-data; name="file"; filename="b.jsonl"\r\n\r\n' + content + tail
    r = TALLY.send(srv.port, request("POST", "/v1/files", body=twice, headers={"Content-Type": ctype}))
    assert r.status == 400 and "Only one 'file' part" in _error(r)["message"], r.body[:300]
    before = json.loads(get(srv, "/v1/files").body)["data"]
    cut = head + content     # no closing boundary
    r = TALLY.send(srv.port, request("POST", "/v1/files", body=cut, headers={"Content-Type": ctype}))
    assert r.status == 400 and "closing boundary" in _error(r)["message"], r.body[:300]
    assert json.loads(get(srv, "/v1/files").body)["data"] == before
    assert list((srv.data_dir / "tmp").iterdir()) == []


# --- 8. I/O failures ---------------------------------------------------------------------------------


def test_delete_on_a_read_only_disk_succeeds_and_the_bytes_go_at_the_next_start(tmp_path: Path,
                                                                                monkeypatch) -> None:
    import errno
    import os
    import time

    from mockserver.settings import Settings
    from mockserver.testing import Emulator
    from tests.conftest import pig_jsonl

    settings = Settings(data_dir=tmp_path, durable=False, transitions="immediate")
    with Emulator(settings) as emu:
        client = emu.client()
        f = client.files.create(file=("t.jsonl", pig_jsonl()), purpose="fine-tune")

        def read_only(rel: str) -> None:
            raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / rel))
        with monkeypatch.context() as patch:
            patch.setattr(emu.services.files, "remove", read_only)
            status, _, body = emu.request("DELETE", f"/v1/files/{f.id}")
            assert status == 200, body
            assert emu.request("DELETE", f"/v1/files/{f.id}")[0] == 404
        assert disk_bytes(tmp_path / "files") > 0
    for p in (tmp_path / "files").iterdir():   # old enough for the sweep even next to a live process
        os.utime(p, (time.time() - 7200, time.time() - 7200))
    with Emulator(settings):
        assert disk_bytes(tmp_path / "files") == 0, "a deleted file's bytes outlived a restart"


def test_a_training_file_vanishing_during_validation_fails_the_job_cleanly(tmp_path: Path) -> None:
    from mockserver.testing import Emulator
    from tests.conftest import pig_jsonl

    with Emulator(transitions="manual") as emu:
        client = emu.client()
        f = client.files.create(file=("t.jsonl", pig_jsonl()), purpose="fine-tune")
        job = client.fine_tuning.jobs.create(training_file=f.id, model="gpt-4o-mini")
        for p in (emu.services.files.files_dir).iterdir():
            p.unlink()            # the bytes go between the existence check and the read
        emu.advance(3600)
        job = client.fine_tuning.jobs.retrieve(job.id)
        assert job.status == "failed" and job.error.code == "invalid_training_file", job.error


def test_a_deleted_data_dir_is_a_retryable_500_without_paths(tmp_path: Path) -> None:
    import shutil

    with Server(tmp_path / "data", transitions="immediate") as server:
        shutil.rmtree(server.data_dir)
        head, tail, ctype = multipart({"purpose": "fine-tune"}, filename="a.jsonl")
        body = head + b'{"prompt": "a", "completion": "b"}\n' + tail
        for raw in (request("POST", "/v1/files", body=body, headers={"Content-Type": ctype}),
                    request("POST", "/v1/uploads", json_body={"filename": "a.jsonl", "purpose": "fine-tune",
                                                              "bytes": 1, "mime_type": "text/jsonl"})):
            r = raw_send(server, raw)
            assert r.status == 500, r.body[:300]
            err = _error(r)
            assert err["type"] == "server_error" and str(tmp_path) not in err["message"]
            assert r.headers.get("x-should-retry") != "false"


def raw_send(server: Server, raw: bytes):
    return raw_http(server.port, raw)


def test_an_unwritable_data_dir_stops_the_server_with_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    target = tmp_path / "not-a-dir"
    target.write_text("")
    from tests.reliability._server import _child_env

    out = subprocess.run([sys.executable, "-m", "mockserver", "--data-dir", str(target / "state"), "--port", "9"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path, env=_child_env())
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "--data-dir" in lines[0] and "Traceback" not in out.stderr, out.stderr


# --- 9. slowloris ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("impatient")
    with Server(root / "data", transitions="immediate",
                extra_args=["--header-timeout", "1", "--body-timeout", "1"]) as server:
        yield server


def test_slow_request_heads_are_cut_off(impatient: Server) -> None:
    import socket
    import time

    head = request("GET", "/v1/models", headers={"X-Pad": "p" * 200})
    socks = [socket.create_connection(("127.0.0.1", impatient.port), timeout=30) for _ in range(50)]
    try:
        sent = 0
        started = time.monotonic()
        closed = False
        while sent < len(head) and not closed:
            for s in socks[:1]:
                try:
                    s.sendall(head[sent:sent + 1])
                except OSError:
                    closed = True
            sent += 1
            time.sleep(0.05)
        assert closed or socks[0].recv(1) == b"", "a head sent a byte every 50 ms stayed open"
        assert sent < len(head)
        idle_closed = sum(1 for s in socks[1:] if s.recv(1) == b"")
        assert idle_closed == len(socks) - 1
        FIGURES.add("hostile slowloris", connections=len(socks), head_bytes_sent_before_close=sent,
                    seconds_until_closed=round(time.monotonic() - started, 1))
    finally:
        for s in socks:
            s.close()
    assert get(impatient, "/v1/models").status == 200


def test_a_stalled_upload_is_cleaned(impatient: Server) -> None:
    import socket

    head, tail, ctype = multipart({"purpose": "fine-tune"}, filename="a.jsonl")
    raw = request("POST", "/v1/files", headers={"Content-Type": ctype, "Content-Length": str(10 << 20)})
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=30) as s:
        s.sendall(raw + head + b"x" * 100_000)
        tmp = impatient.data_dir / "tmp"
        assert wait_until(lambda: any(tmp.iterdir()), 10), "the upload never reached the disk"
        assert wait_until(lambda: not any(tmp.iterdir()), 30), "a stalled upload kept its tmp file"
        s.settimeout(30)
        try:
            rest = s.recv(1 << 16)
        except OSError:
            rest = b""
        assert not rest or rest.startswith(b"HTTP/1.1 4")

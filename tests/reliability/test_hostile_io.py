"""The hostile suite, cases 5–9 of issue #13: validation memory and fairness, Uploads API parts, the
multipart parser, the server's own disk failing, slowloris. See test_hostile.py for the rest.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reliability._hostile import TALLY, disk_bytes, error_of, get, post_json, srv
from tests.reliability._server import (
    FIGURES,
    HTTP_PROTOCOLS,
    Server,
    multipart,
    raw_http,
    request,
    wait_until,
)

pytestmark = pytest.mark.xdist_group("hostile-io")   # one worker: the module's servers start once

__all__ = ["srv"]


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

    def fake_run(svc, row, view, training=None):
        if row.id == "ftjob-slow":
            entered.set()
            release.wait(30)
        return None, {"code": "x", "message": row.id, "param": None}

    monkeypatch.setattr(jobs, "_run_validation", fake_run)
    svc = SimpleNamespace(caches=Caches(SimpleNamespace(url="sqlite://", file=None)))   # in-memory: no database read
    slow = threading.Thread(target=jobs._validate, args=(svc, SimpleNamespace(id="ftjob-slow"), svc.caches.view()),
                            daemon=True)
    slow.start()
    assert entered.wait(10)
    other = threading.Thread(target=jobs._validate, args=(svc, SimpleNamespace(id="ftjob-other"), svc.caches.view()),
                             daemon=True)
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
        assert r.status == 400 and error_of(r)["param"] == "data", r.body[:300]
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
        left = disk_bytes(tmp_path / "files")
        FIGURES.add("hostile expired upload", bytes_left_after_restart=left)
        assert left == 0, "an expired upload's part outlived a restart"


# --- 7. multipart parser (the byte-by-byte unit tests are tests/unit/test_multipart.py) -------------


def test_multipart_repeated_and_unterminated_bodies(srv: Server) -> None:
    content = b'{"prompt": "a", "completion": "b"}\n'
    head, tail, ctype = multipart({"purpose": "fine-tune"}, filename="a.jsonl")
    twice = head + content + b"\r\n--reliabilityboundary7MA4YWxkTrZu0gW\r\n" + \
        b'Content-Disposition: form-data; name="file"; filename="b.jsonl"\r\n\r\n' + content + tail
    r = TALLY.send(srv.port, request("POST", "/v1/files", body=twice, headers={"Content-Type": ctype}))
    assert r.status == 400 and "Only one 'file' part" in error_of(r)["message"], r.body[:300]
    before = json.loads(get(srv, "/v1/files").body)["data"]
    cut = head + content     # no closing boundary
    r = TALLY.send(srv.port, request("POST", "/v1/files", body=cut, headers={"Content-Type": ctype}))
    assert r.status == 400 and "closing boundary" in error_of(r)["message"], r.body[:300]
    assert json.loads(get(srv, "/v1/files").body)["data"] == before
    assert list((srv.data_dir / "tmp").iterdir()) == []


@pytest.fixture(scope="module", params=HTTP_PROTOCOLS)
def each_protocol(request: pytest.FixtureRequest, srv: Server, tmp_path_factory: pytest.TempPathFactory):
    """The module's server on the default protocol, a server of its own on the other one (`--http h11`)."""
    if request.param == HTTP_PROTOCOLS[0]:
        yield srv
        return
    with Server(tmp_path_factory.mktemp(request.param) / "data", transitions="immediate",
                extra_args=["--http", request.param]) as server:
        yield server


def test_an_answer_given_before_the_body_is_read_arrives_whole(each_protocol: Server) -> None:
    """`Connection: close` and a 4 MB body the handler never reads (a GET with a body; a refusal before the
    body): the server answers while the client is still sending. Closing the socket then would make the
    kernel reset the connection and destroy the answer (every such request did before the lingering close,
    mockserver.protocol); now the client gets the whole answer, then the end of the stream."""
    srv = each_protocol
    for path in ("/v1/models", "/v1/files?limit=10000"):
        r = TALLY.send(srv.port, request("GET", path, body=b"x" * (4 << 20)))
        assert r.status == 200 and r.error is None, (path, r.status, r.error)
        assert json.loads(r.body)["object"] == "list"
    refused = TALLY.send(srv.port, request("POST", "/v1/files", body=b"x" * (4 << 20),
                                           headers={"Content-Type": "text/plain"}))   # refused before the body
    assert refused.status == 400 and refused.error is None, (refused.status, refused.error)
    assert error_of(refused)["code"] == "invalid_content_type"


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
        left = disk_bytes(tmp_path / "files")
        FIGURES.add("hostile delete on a read-only disk", bytes_left_after_restart=left)
        assert left == 0, "a deleted file's bytes outlived a restart"


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
            err = error_of(r)
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


@pytest.fixture(scope="module", params=HTTP_PROTOCOLS)
def impatient(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("impatient")
    with Server(root / "data", transitions="immediate",
                extra_args=["--header-timeout", "1", "--body-timeout", "1", "--http", request.param]) as server:
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

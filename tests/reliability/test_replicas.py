"""Replicas: two `mockserver serve` processes with separate, empty data dirs on one PostgreSQL database.

Nothing is shared but the database: every byte lives in it (`--blob-store auto` = database with a
PostgreSQL URL) or, in the `s3` runs, in a local S3-compatible server (moto, tests/s3.py) via `--blob-url`. What goes in through one replica comes out of the other, byte-identical; a replica
SIGKILLed mid-upload leaves no visible object and no bytes once the sweep has run; a large upload and
its download stream through both with flat memory; a batch runs on either. Needs MOCKSERVER_TEST_POSTGRES_URL (skips without).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mockserver.files.blobs import BlobStore
from tests.reliability._checks import pig_jsonl
from tests.reliability._server import (
    FIGURES,
    HOST,
    KEY,
    Server,
    multipart,
    pg_database_or_skip,
    wait_until,
)

pytestmark = pytest.mark.postgres
MIB = 1 << 20


@pytest.fixture
def pg_url() -> Iterator[str]:
    with pg_database_or_skip() as fresh:
        yield fresh


@dataclass
class Deployment:
    """Where the replicas keep their rows (PostgreSQL) and their bytes (the database, or S3)."""

    url: str
    blob_url: str | None = None
    env: dict[str, str] | None = None

    def replica(self, tmp: Path, name: str, **kw: object) -> Server:
        extra = ["--blob-url", self.blob_url] if self.blob_url else []
        return Server(tmp / name / "data", database_url=self.url, cwd=tmp / name, extra_args=extra,  # type: ignore[arg-type]
                      env=self.env, **kw)

    def store(self) -> BlobStore:
        """A blob store of this deployment in the test process (a process of its own for the sweep)."""
        from mockserver.services import open_blob_store
        from mockserver.settings import Settings

        return open_blob_store(Settings(database_url=self.url, blob_url=self.blob_url))

    def held(self) -> Bytes:
        return S3Bytes(self) if self.blob_url else Bytes(self.url)


@pytest.fixture(params=["database", "s3"])
def deployment(request: pytest.FixtureRequest, pg_url: str) -> Deployment:
    if request.param == "database":
        return Deployment(pg_url)
    from tests.s3 import s3_env

    return Deployment(pg_url, request.getfixturevalue("s3_url"), s3_env(request.getfixturevalue("s3_endpoint")))


def _nothing_on_disk(*servers: Server) -> None:
    for srv in servers:
        assert not srv.data_dir.exists() or not any(srv.data_dir.rglob("*")), \
            f"a replica wrote to its data dir: {sorted(srv.data_dir.rglob('*'))}"


class Bytes:
    """What the database holds: published blobs against the keys rows name (mockserver.files.blobs)."""

    def __init__(self, url: str) -> None:
        from sqlmodel import Session, create_engine

        self.engine = create_engine(url)
        self.session = lambda: Session(self.engine)

    def check(self) -> dict:
        """No blob no row names, and no chunk outside a published blob; returns the figures."""
        from sqlalchemy import text

        from mockserver.files.blobs import referenced_keys

        with self.session() as s:
            known = referenced_keys(s)
            blobs = dict(s.execute(text("SELECT key, size FROM blobs")).all())
            chunk_bytes = s.execute(text("SELECT coalesce(sum(length(data)), 0) FROM blob_chunks")).scalar()
        orphans = sorted(set(blobs) - known)
        assert not orphans, f"blobs no row names: {orphans}"
        assert chunk_bytes == sum(blobs.values()), f"{chunk_bytes} bytes in chunks, blobs hold {sum(blobs.values())}"
        return {"blobs": len(blobs), "bytes": chunk_bytes}

    def in_flight(self) -> int:
        """Transactions of other connections that are open (a writer between its first chunk and publish)."""
        from sqlalchemy import text

        with self.session() as s:
            return s.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                  "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()")).scalar()

    def dispose(self) -> None:
        self.engine.dispose()


class S3Bytes(Bytes):
    """What the bucket holds: objects under files/ against the keys rows name; no temporary object and no
    multipart upload in flight. Its store is opened per look (a store held open would count as a live
    process to the sweep)."""

    def __init__(self, deployment: Deployment) -> None:
        super().__init__(deployment.url)
        self.deployment = deployment

    @contextlib.contextmanager
    def _store(self) -> Iterator[Any]:
        store = self.deployment.store()
        try:
            yield store
        finally:
            store.close()

    def check(self) -> dict:
        from mockserver.files.blobs import referenced_keys

        with self.session() as s:
            known = referenced_keys(s)
        with self._store() as store:
            objects = {o["Key"].removeprefix(store.prefix): o["Size"] for o in store._objects("")}
        stray = sorted(k for k in objects if not k.startswith("files/") or k not in known)
        assert not stray, f"objects no row names: {stray}"
        assert self.in_flight() == 0, "a multipart upload is still open"
        return {"blobs": len(objects), "bytes": sum(objects.values())}

    def in_flight(self) -> int:
        with self._store() as store:
            return store.in_flight()


# --- streaming HTTP (constant memory on the test's side too) -----------------------------------------

def _blocks(size: int, seed: bytes) -> Iterator[bytes]:
    """`size` bytes of JSONL-ish text in 1 MiB blocks, each different (chunk boundaries are visible)."""
    n = 0
    while n < size:
        head = json.dumps({"block": n // MIB, "seed": seed.hex()}).encode()
        block = (head + b"\n" + hashlib.sha256(head).hexdigest().encode() * (MIB // 64))[:min(MIB, size - n)]
        n += len(block)
        yield block


def _upload(port: int, size: int, seed: bytes, *, filename: str = "big.jsonl") -> tuple[dict, str]:
    """POST /v1/files streaming `size` bytes; (response JSON, sha256 of the bytes sent)."""
    head, tail, ctype = multipart({"purpose": "fine-tune"}, filename=filename)
    digest = hashlib.sha256()

    def body() -> Iterator[bytes]:
        yield head
        for block in _blocks(size, seed):
            digest.update(block)
            yield block
        yield tail

    conn = http.client.HTTPConnection(HOST, port, timeout=600)
    try:
        conn.request("POST", "/v1/files", body=body(), headers={
            "Authorization": f"Bearer {KEY}", "Content-Type": ctype,
            "Content-Length": str(len(head) + size + len(tail))})
        resp = conn.getresponse()
        payload = resp.read()
        assert resp.status == 200, (resp.status, payload[:500])
        return json.loads(payload), digest.hexdigest()
    finally:
        conn.close()


def _download(port: int, file_id: str) -> tuple[int, str]:
    """GET /v1/files/{id}/content read 1 MiB at a time; (bytes, sha256)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=600)
    try:
        conn.request("GET", f"/v1/files/{file_id}/content", headers={"Authorization": f"Bearer {KEY}"})
        resp = conn.getresponse()
        assert resp.status == 200, (resp.status, resp.read()[:500])
        digest, n = hashlib.sha256(), 0
        while chunk := resp.read(MIB):
            digest.update(chunk)
            n += len(chunk)
        assert n == int(resp.headers["content-length"])
        return n, digest.hexdigest()
    finally:
        conn.close()


class _PeakRss(threading.Thread):
    def __init__(self, servers: list[Server]) -> None:
        super().__init__(daemon=True)
        self.servers = servers
        self.base = [s.rss() for s in servers]
        self.peak = list(self.base)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for i, srv in enumerate(self.servers):
                self.peak[i] = max(self.peak[i], srv.rss())
            time.sleep(0.02)

    def __enter__(self) -> _PeakRss:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.join()


# --- the tests -------------------------------------------------------------------------------------

def test_two_replicas_one_database(deployment: Deployment, tmp_path: Path) -> None:
    """Upload via A, download and train via B, chat via A, fixtures via A answer on B, a batch via A read
    via B, delete via B; then
    SIGKILL A mid-upload; a tenant reset through B; the sweep's rules for a blob published without its row."""
    a = deployment.replica(tmp_path, "a", transitions="immediate")
    b = deployment.replica(tmp_path, "b", transitions="immediate")
    held = deployment.held()
    try:
        with a, b:
            _share_everything(a, b)
            figures = held.check()
            _kill_mid_upload(a, b, deployment, held)
            killed = held.check()
            assert b.json("POST", "/_mock/reset", json_body={"api_key": KEY})["reset"] == "tenant"
            assert held.check() == {"blobs": 0, "bytes": 0}  # every byte of the tenant went with its rows
            orphan = _orphan_spared_while_b_lives(deployment)
        _orphan_removed_when_alone(deployment, orphan)
        assert held.check() == {"blobs": 0, "bytes": 0}
    finally:
        held.dispose()
    _nothing_on_disk(a, b)
    FIGURES.add(f"replicas ({'s3' if deployment.blob_url else 'database'})", **figures, after_sigkill=killed)


def _share_everything(a: Server, b: Server) -> None:
    training = pig_jsonl(12, "replicas")
    f = a.json("POST", "/v1/files", **_form(training, "train.jsonl"))
    big, big_sha = _upload(a.port, 5 * MIB + 12345, b"replicas")   # several chunks, a short last one
    assert b.http("GET", f"/v1/files/{f['id']}/content")[2] == training
    assert _download(b.port, big["id"]) == (5 * MIB + 12345, big_sha)

    # the Uploads API across replicas: parts through both, completed through B, read through A
    parts = [pig_jsonl(6, "part-a"), pig_jsonl(6, "part-b")]
    up = a.json("POST", "/v1/uploads", json_body={"filename": "up.jsonl", "purpose": "fine-tune",
                                                  "bytes": sum(map(len, parts)), "mime_type": "text/jsonl"})
    ids = [srv.json("POST", f"/v1/uploads/{up['id']}/parts", **_form(p, "p", field="data"))["id"]
           for srv, p in zip((a, b), parts, strict=True)]
    done = b.json("POST", f"/v1/uploads/{up['id']}/complete",
                  json_body={"part_ids": ids, "md5": hashlib.md5(b"".join(parts)).hexdigest()})
    assert a.http("GET", f"/v1/files/{done['file']['id']}/content")[2] == b"".join(parts)

    job = b.json("POST", "/v1/fine_tuning/jobs", json_body={"training_file": f["id"], "model": "gpt-4o-mini"})
    assert wait_until(lambda: b.json("GET", f"/v1/fine_tuning/jobs/{job['id']}")["status"] == "succeeded", 60)
    model = b.json("GET", f"/v1/fine_tuning/jobs/{job['id']}")["fine_tuned_model"]
    chat = {"model": model, "messages": [{"role": "system", "content": "何言われてもぶひと答えて"},
                                         {"role": "user", "content": "質問 3 replicas"}]}
    assert a.json("POST", "/v1/chat/completions", json_body=chat)["choices"][0]["message"]["content"] == "ぶひ 3!"

    a.json("POST", "/_mock/fixtures", json_body={"pattern": "ping", "reply": {"content": "pong via A"}})
    ping = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "ping"}]}
    assert b.json("POST", "/v1/chat/completions", json_body=ping)["choices"][0]["message"]["content"] == "pong via A"

    _batch_across(a, b, model)

    for fid in (f["id"], big["id"]):
        assert b.json("DELETE", f"/v1/files/{fid}")["deleted"] is True
        assert a.http("GET", f"/v1/files/{fid}")[0] == 404
        assert a.http("GET", f"/v1/files/{fid}/content")[0] == 404
    # the tuned model still answers from its snapshot after its training file is gone
    assert a.json("POST", "/v1/chat/completions", json_body=chat)["choices"][0]["message"]["content"] == "ぶひ 3!"


def _batch_across(a: Server, b: Server, model: str) -> None:
    """A batch created through A runs (advanced by reads through both) and its output and error files
    download byte-identical through B; its answer parts live in the blob store, none left at the end."""
    def request(i: int, **extra: object) -> bytes:
        body = {"model": model, "messages": [{"role": "system", "content": "何言われてもぶひと答えて"},
                                             {"role": "user", "content": f"質問 {i} batch"}], **extra}
        return json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions",
                           "body": body}).encode() + b"\n"

    lines = b"".join(request(i) for i in range(1, 6)) + request(6, temperature=5)
    inp = a.json("POST", "/v1/files", **_form(lines, "batch.jsonl", purpose="batch"))
    batch = a.json("POST", "/v1/batches", json_body={
        "input_file_id": inp["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"})
    assert batch["status"] == "validating"
    assert wait_until(lambda: b.json("GET", f"/v1/batches/{batch['id']}")["status"] == "completed", 60)
    done = a.json("GET", f"/v1/batches/{batch['id']}")
    assert done["request_counts"] == {"total": 6, "completed": 5, "failed": 1}, done
    for fid in (done["output_file_id"], done["error_file_id"]):
        via_a, via_b = a.http("GET", f"/v1/files/{fid}/content")[2], b.http("GET", f"/v1/files/{fid}/content")[2]
        assert via_a == via_b and via_b.endswith(b"\n")
    out = [json.loads(x) for x in b.http("GET", f"/v1/files/{done['output_file_id']}/content")[2].splitlines()]
    assert [(x["custom_id"], x["response"]["body"]["choices"][0]["message"]["content"]) for x in out] == \
        [(f"r{i}", f"ぶひ {i}!") for i in range(1, 6)]
    err = json.loads(b.http("GET", f"/v1/files/{done['error_file_id']}/content")[2])
    assert err["custom_id"] == "r6" and err["response"]["status_code"] == 400, err


def _kill_mid_upload(a: Server, b: Server, deployment: Deployment, held: Bytes) -> None:
    """A is SIGKILLed while an upload streams into it: B never lists it, and after a sweep (run here, by a
    store in this process, while B lives) no byte of it is left: PostgreSQL rolled its transaction back;
    in S3 the sweep aborts the multipart upload of a process that has ended."""
    from mockserver.files.blobs import referenced_keys

    before = [x["id"] for x in b.json("GET", "/v1/files?limit=100")["data"]]
    head, _, ctype = multipart({"purpose": "fine-tune"}, filename="cut.jsonl")
    sock = socket.create_connection((HOST, a.port))
    try:
        sock.sendall(f"POST /v1/files HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {KEY}\r\n"
                     f"Content-Type: {ctype}\r\nContent-Length: {len(head) + 64 * MIB}\r\n\r\n".encode() + head)
        for block in _blocks(20 * MIB, b"cut"):   # more than one S3 part (8 MiB)
            sock.sendall(block)
        assert wait_until(lambda: held.in_flight() >= 1, 30), "the upload's bytes never reached the blob store"
        a.kill()
    finally:
        sock.close()
    assert [x["id"] for x in b.json("GET", "/v1/files?limit=100")["data"]] == before
    store = deployment.store()
    try:
        def swept() -> bool:
            with held.session() as s:
                store.sweep(referenced_keys(s))
            return held.in_flight() == 0
        assert wait_until(swept, 30), "the killed writer's bytes stayed in the blob store"
    finally:
        store.close()


def _orphan_spared_while_b_lives(deployment: Deployment) -> str:
    store = deployment.store()
    try:
        w = store.writer()
        w.write_all([b"x" * (MIB + 1)])
        w.close()
        key = w.publish("file-orphan")
        assert store.sweep(set()) == 0 and store.stat(key)[0] == MIB + 1  # B is alive: it may yet name it
        return key
    finally:
        store.close()


def _orphan_removed_when_alone(deployment: Deployment, key: str) -> None:
    from mockserver.files.blobs import referenced_keys

    store = deployment.store()
    try:
        held = Bytes(deployment.url)
        try:
            with held.session() as s:
                known = referenced_keys(s)
        finally:
            held.dispose()
        assert key not in known and store.sweep(known) == 1 and store.stat(key) is None
    finally:
        store.close()


@pytest.mark.slow
def test_large_upload_streams_with_flat_memory(deployment: Deployment, tmp_path: Path, size_mb: int = 512) -> None:
    """Upload through A, download through B: each server's peak RSS stays within a bound of its baseline."""
    a = deployment.replica(tmp_path, "a", transitions="immediate")
    b = deployment.replica(tmp_path, "b", transitions="immediate")
    size = size_mb * MIB
    with a, b:
        _upload(a.port, MIB, b"warm-up")  # first-use imports and pools out of the baseline
        with _PeakRss([a, b]) as up:
            meta, sent = _upload(a.port, size, b"large")
        with _PeakRss([a, b]) as down:
            assert _download(b.port, meta["id"]) == (size, sent)
    growth = [max(u, d) - base for u, d, base in zip(up.peak, down.peak, up.base, strict=True)]
    FIGURES.add(f"replicas {size_mb} MB ({'s3' if deployment.blob_url else 'database'})", base_rss_mb=[round(x / MIB) for x in up.base],
                growth_mb=[round(g / MIB, 1) for g in growth])
    for base, g in zip(up.base, growth, strict=True):
        assert g < base / 2, f"RSS grew {g / MIB:.0f} MB over a {base / MIB:.0f} MB baseline for {size_mb} MB"


def _form(content: bytes, filename: str, *, field: str = "file", purpose: str = "fine-tune") -> dict:
    head, tail, ctype = multipart({} if field == "data" else {"purpose": purpose}, file_field=field,
                                  filename=filename)
    return {"body": head + content + tail, "headers": {"Content-Type": ctype}}


def test_migrate_sqlite_data_dir_into_postgres(pg_url: str, tmp_path: Path) -> None:
    """`mockserver migrate` copies rows and bytes; the PostgreSQL deployment then serves the same state."""
    from mockserver.cli import main
    from mockserver.migrate import MigrationError, migrate
    from mockserver.settings import Settings
    from mockserver.testing import Emulator

    source = tmp_path / "sqlite-data"
    with Emulator(Settings(data_dir=source, transitions="immediate", durable=False)) as emu:
        c = emu.client()
        train = c.files.create(file=("train.jsonl", pig_jsonl(12, "migrate")), purpose="fine-tune")
        gone = c.files.create(file=("gone.jsonl", pig_jsonl(2, "gone")), purpose="fine-tune")
        big = c.files.create(file=("big.jsonl", b"".join(_blocks(3 * MIB + 7, b"migrate"))), purpose="fine-tune")
        job = c.fine_tuning.jobs.create(training_file=train.id, model="gpt-4o-mini")
        assert c.fine_tuning.jobs.retrieve(job.id).status == "succeeded"
        c.files.delete(gone.id)
        files = {f.id: c.files.content(f.id).read() for f in c.files.list()}
        events = [e.model_dump() for e in c.fine_tuning.jobs.list_events(job.id, limit=100)]
        done = c.fine_tuning.jobs.retrieve(job.id).model_dump()
    assert big.id in files and len(files) == 3  # train, big, the results file

    sqlite = f"sqlite:///{source / 'state.db'}"
    assert main(["migrate", "--from", sqlite, "--to", pg_url]) == 0
    with pytest.raises(MigrationError, match="already holds rows"):
        migrate(sqlite, pg_url)

    unused = tmp_path / "unused-data-dir"
    with Emulator(Settings(database_url=pg_url, data_dir=unused, transitions="immediate")) as emu:
        c = emu.client()
        assert {f.id: c.files.content(f.id).read() for f in c.files.list()} == files
        assert c.fine_tuning.jobs.retrieve(job.id).model_dump() == done
        assert [e.model_dump() for e in c.fine_tuning.jobs.list_events(job.id, limit=100)] == events
        reply = c.chat.completions.create(model=done["fine_tuned_model"], messages=[
            {"role": "system", "content": "何言われてもぶひと答えて"}, {"role": "user", "content": "質問 4 migrate"}])
        assert reply.choices[0].message.content == "ぶひ 4!"
        newer = c.files.create(file=("new.jsonl", pig_jsonl(1, "new")), purpose="fine-tune")  # ids continue
        assert [f.id for f in c.files.list(limit=1).data] == [newer.id]
    assert not unused.exists()
    held = Bytes(pg_url)
    try:
        figures = held.check()
    finally:
        held.dispose()
    FIGURES.add("migrate sqlite → postgres", **figures)


@pytest.mark.slow
def test_migrate_into_postgres_and_s3(pg_url: str, s3_url: str, tmp_path: Path) -> None:
    """`mockserver migrate --to-blob-url s3://…`: rows into PostgreSQL, bytes into the bucket."""
    from mockserver.cli import main
    from mockserver.settings import Settings
    from mockserver.testing import Emulator

    source = tmp_path / "sqlite-data"
    with Emulator(Settings(data_dir=source, durable=False)) as emu:
        f = emu.client().files.create(file=("big.jsonl", b"".join(_blocks(9 * MIB + 3, b"to-s3"))), purpose="fine-tune")
        data = emu.client().files.content(f.id).read()
    assert main(["migrate", "--from", f"sqlite:///{source / 'state.db'}", "--to", pg_url,
                 "--to-blob-url", s3_url]) == 0
    with Emulator(Settings(database_url=pg_url, blob_url=s3_url, data_dir=tmp_path / "unused")) as emu:
        assert emu.client().files.content(f.id).read() == data
        assert emu.services.files.usage() == (1, len(data))

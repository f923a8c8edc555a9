"""The blob-store interface, the same checks on both backends (PostgreSQL skips without its URL)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.db import Database
from mockserver.files.blobs import CHUNK, BlobStore
from mockserver.settings import Settings


@pytest.fixture(params=["data-dir", "database", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    from mockserver.services import open_blob_store

    if request.param != "database":
        blob_url = request.getfixturevalue("s3_url") if request.param == "s3" else None
        s = open_blob_store(Settings(data_dir=tmp_path, durable=False, blob_url=blob_url))
        yield s
        s.close()
        return
    from tests.reliability._server import pg_database_or_skip

    with pg_database_or_skip() as url:
        db = Database(url)  # the schema
        s = open_blob_store(Settings(database_url=url))
        try:
            yield s
        finally:
            s.close()
            db.dispose()


def _read(store: BlobStore, key: str) -> bytes:
    with store.open(key) as f:
        return f.read()


def test_write_publish_read_stat(store: BlobStore) -> None:
    data = bytes(range(256)) * (CHUNK // 256 * 2 + 3)  # two whole chunks and a short one
    w = store.writer()
    for i in range(0, len(data), 65536):  # as the multipart receiver feeds it
        w.write(memoryview(data)[i:i + 65536])
        asyncio.run(w.drain())
    asyncio.run(w.aclose())
    key = w.publish("file-abc")
    w.discard()  # a no-op once published
    assert key == "files/file-abc" and _read(store, key) == data
    size, version = store.stat(key)
    assert size == len(data)
    assert store.write_bytes("file-abc", b"new") == key  # publishing again replaces the blob
    assert _read(store, key) == b"new" and store.stat(key) != (size, version)


def test_empty_blob_and_missing_key(store: BlobStore) -> None:
    key = store.write_bytes("file-empty", b"")
    assert _read(store, key) == b"" and store.stat(key)[0] == 0
    assert store.stat("files/file-none") is None
    with pytest.raises(FileNotFoundError):
        store.open("files/file-none")


def test_discarded_writer_leaves_nothing(store: BlobStore) -> None:
    w = store.writer()
    w.write_all([b"x" * (CHUNK + 5)])
    w.discard()
    assert store.sweep(set()) == 0  # nothing was published
    if store.data_dir is not None:
        assert not any((store.data_dir / "tmp").iterdir()) and not any((store.data_dir / "files").iterdir())
    if hasattr(store, "in_flight"):  # S3: the multipart upload was aborted, no temporary object stays
        assert store.in_flight() == 0 and not list(store._objects(""))


def test_copy_concatenate_remove(store: BlobStore) -> None:
    a, b = store.write_bytes("part_a", b"a" * (CHUNK + 1)), store.write_bytes("part_b", b"bb")
    snap = store.copy(a, "ftdata-ftjob-1")
    store.remove(a)
    assert _read(store, snap) == b"a" * (CHUNK + 1) and store.stat(a) is None
    w = store.writer()
    digest = store.concatenate([snap, b], w)
    key = w.publish("file-joined")
    import hashlib

    assert _read(store, key) == b"a" * (CHUNK + 1) + b"bb"
    assert digest == hashlib.md5(b"a" * (CHUNK + 1) + b"bb", usedforsecurity=False).hexdigest()
    assert store.sweep({key, b}) == 1  # alone: the unnamed snapshot goes
    assert store.remove_all() == 2 and store.stat(key) is None


def test_concurrent_snapshots_of_one_job_both_succeed(store: BlobStore) -> None:
    """Two processes may validate one job at once and both snapshot its training file: neither may fail."""
    from concurrent.futures import ThreadPoolExecutor

    data = b"x" * (2 * CHUNK + 3)
    src = store.write_bytes("file-src", data)
    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: store.copy(src, "ftdata-ftjob-race"), range(16)))
    assert len(set(keys)) == 1 and _read(store, keys[0]) == data


def test_a_lost_copy_race_whose_winner_is_not_there_yet_is_tried_again(s3_url: str, tmp_path: Path,
                                                                         monkeypatch) -> None:
    """The loser of concurrent copies to one key (moto answers it with a 500) may look before the winner's
    object exists: it copies again instead of failing the job's snapshot (a flake of the test above, seen
    under load)."""
    from mockserver.files import blobs_s3
    from mockserver.services import open_blob_store

    store = open_blob_store(Settings(data_dir=tmp_path, durable=False, blob_url=s3_url))
    try:
        src = store.write_bytes("file-src", b"abc")
        real, calls = store.copy_object, []

        def lose_first(source: str, dest: str) -> None:
            calls.append(dest)
            if len(calls) == 1:
                raise RuntimeError("InternalError (500): a concurrent copy to this key")   # nothing written
            real(source, dest)

        monkeypatch.setattr(store, "copy_object", lose_first)
        monkeypatch.setattr(blobs_s3.time, "sleep", lambda _s: None)
        key = store.copy(src, "ftdata-ftjob-race")
        assert len(calls) == 2 and _read(store, key) == b"abc"

        def down(source: str, dest: str) -> None:
            raise RuntimeError("down")

        monkeypatch.setattr(store, "copy_object", down)
        with pytest.raises(RuntimeError, match="down"):   # a store that keeps failing still fails, after the tries
            store.copy(src, "ftdata-ftjob-other")
    finally:
        store.close()


def test_readers_seek(store: BlobStore) -> None:
    """Batches resume reading their input at a stored offset: readers seek, also across chunks."""
    data = bytes(range(251)) * (CHUNK // 251 * 2 + 7)
    key = store.write_bytes("file-seek", data)
    with store.open(key) as f:
        for offset in (0, CHUNK - 3, CHUNK, 2 * CHUNK + 5, len(data) - 1, len(data)):
            f.seek(offset)
            assert f.read(10) == data[offset:offset + 10] and f.tell() == min(len(data), offset + 10)
        f.seek(CHUNK + 1)
        assert f.readline() == data[CHUNK + 1:].split(b"\n", 1)[0] + b"\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    from tests.reliability._server import pg_database_or_skip

    with pg_database_or_skip() as url:
        yield url


def test_try_lock_excludes_other_processes_and_callers(database_url: str) -> None:
    """Database.try_lock (a batch's worker lock): one holder across Database objects (as across
    processes) and within one; released at the end of the block."""
    import subprocess
    import sys

    probe = ("import sys; from mockserver.db import Database; d = Database(sys.argv[1])\n"
             "with d.try_lock('batch:1') as got: print(got)")
    a, b = Database(database_url), Database(database_url)
    try:
        with a.try_lock("batch:1") as first:
            assert first
            other_process = subprocess.run([sys.executable, "-c", probe, database_url], capture_output=True,
                                           text=True, timeout=120, check=True).stdout.strip()
            assert other_process == "False"
            with b.try_lock("batch:1") as other, a.try_lock("batch:1") as same, b.try_lock("batch:2") as free:
                assert (other, same, free) == (False, False, True)
        with b.try_lock("batch:1") as again:
            assert again
    finally:
        a.dispose()
        b.dispose()


def test_the_locks_are_one_whatever_path_reaches_the_database(tmp_path: Path) -> None:
    """A SQLite file reached through a symlink shares its try-locks, its presence lock and its migration lock
    with the path it points at (as it shares its cache stamp): every lock file is named from the file itself."""
    import subprocess
    import sys

    from mockserver.files.presence import presence_for

    real, link = tmp_path / "state.db", tmp_path / "link.db"
    a = Database(f"sqlite:///{real}", durable=False)
    link.symlink_to(real)
    b = Database(f"sqlite:///{link}", durable=False)
    probe = ("import sys; from mockserver.db import Database; d = Database(sys.argv[1])\n"
             "with d.try_lock('batch:1') as got: print(got)")
    here, there = presence_for(f"sqlite:///{real}"), presence_for(f"sqlite:///{link}")
    try:
        with a.try_lock("batch:1") as first:
            assert first
            with b.try_lock("batch:1") as other:
                assert not other
            other_process = subprocess.run([sys.executable, "-c", probe, f"sqlite:///{link}"], capture_output=True,
                                           text=True, timeout=120, check=True).stdout.strip()
            assert other_process == "False"
        with b.try_lock("batch:1") as again:
            assert again
        with here.alone() as alone:
            assert not alone   # the process on the other path is alive
    finally:
        here.close()
        there.close()
        a.dispose()
        b.dispose()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("link.db")) == ["link.db"]

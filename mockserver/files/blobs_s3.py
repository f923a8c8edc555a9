"""The S3 blob store (`--blob-url s3://bucket/prefix`): every byte in an S3-compatible object store, through
boto3 (the `s3` extra). Objects are `<prefix>/files/<name>`, the same keys the rows store.

Writing: a writer buffers up to PART bytes and pushes each full part with `UploadPart` of a multipart upload
(off the event loop; memory per writer is one part), to a temporary object `<prefix>/tmp/<random>`;
`close()` completes it (a blob smaller than one part is one `PutObject`). Nothing under `files/` exists
until `publish` copies it there inside the object store (`CopyObject`: no byte travels through this
process; S3 has no rename) and deletes the temporary object — before the row naming it commits. A writer
discarded (a failed or abandoned request) aborts its multipart upload or deletes its temporary object.

Reading: one ranged `GetObject` streamed from the reader's position (seeking starts a new one), so memory
per download is one buffer. Deleting a row deletes its object after the commit.

Crash leftovers — multipart uploads never completed, temporary objects never published, published objects
whose row never committed — are removed by the sweep at start-up: all of them when no other process is
alive (mockserver.files.presence: the locks live in the shared database); otherwise the temporary ones
of processes that have ended (their names carry the writer's presence `owner`), and anything older than
an hour (a live replica may still be about to commit a published blob's row).

Configuration is boto3's own: credentials, region and endpoint from the standard AWS variables and files
(`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT_URL_S3` for MinIO, Ceph, moto…;
with an endpoint set, path-style addressing). The bucket must exist.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import itertools
import logging
import os
import secrets
import time
from typing import Any, BinaryIO

from mockserver.files.blobs import (
    CHUNK,
    BlobReader,
    BlobStoreUnavailable,
    BufferedBlobWriter,
    SharedBlobStore,
    file_key,
)
from mockserver.files.presence import presence_for

__all__ = ["S3BlobStore", "parse_s3_url", "PART"]

PART = 8 << 20            # bytes per UploadPart (S3's minimum is 5 MiB for every part but the last)
_COPY_LIMIT = 5 << 30     # one CopyObject copies up to 5 GiB; larger blobs are copied in parts
_GRACE = dt.timedelta(hours=1)
log = logging.getLogger("mockserver")


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix ending in '/' or empty) of `s3://bucket/prefix`; ValueError when it is not one."""
    if not url.startswith("s3://"):
        raise ValueError("must be s3://bucket or s3://bucket/prefix")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not bucket or "?" in url or "#" in url:
        raise ValueError("must be s3://bucket or s3://bucket/prefix (endpoint and credentials come from the "
                         "AWS_* variables)")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def _missing(e: Exception) -> bool:
    code = str(getattr(e, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound", "NoSuchUpload")


_COPY_TRIES = 3   # a copy that failed while its destination is missing is tried again, this often in all


class S3BlobStore(SharedBlobStore):
    def __init__(self, url: str, *, db_url: str) -> None:
        try:
            import boto3
            from boto3.s3.transfer import TransferConfig
            from botocore.config import Config
        except ImportError:
            raise BlobStoreUnavailable("--blob-url needs boto3: pip install 'ft-emulator[s3]'") from None

        self.bucket, self.prefix = parse_s3_url(url)
        custom_endpoint = bool(os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"))
        config = Config(max_pool_connections=64, retries={"mode": "standard"},
                        s3={"addressing_style": "path"} if custom_endpoint else {},
                        # S3-compatible servers differ in the checksums they accept; MD5/ETag checks stay
                        request_checksum_calculation="when_required", response_checksum_validation="when_required")
        self.s3 = boto3.session.Session().client("s3", config=config)
        self.copy_config = TransferConfig(multipart_threshold=_COPY_LIMIT, multipart_chunksize=1 << 30,
                                          use_threads=False)
        try:
            self.s3.head_bucket(Bucket=self.bucket)  # fail at start, not at the first upload
        except Exception as e:
            raise BlobStoreUnavailable(f"--blob-url: cannot use bucket {self.bucket!r}: {e}") from None
        self.presence = presence_for(db_url)

    def obj(self, key: str) -> str:
        return self.prefix + key

    # --- the interface -------------------------------------------------------------------------------

    def writer(self) -> S3BlobWriter:
        return S3BlobWriter(self)

    def _head(self, key: str) -> dict | None:
        try:
            return self.s3.head_object(Bucket=self.bucket, Key=self.obj(key))
        except Exception as e:
            if _missing(e):
                return None
            raise

    def open(self, key: str) -> BinaryIO:
        head = self._head(key)
        if head is None:
            raise FileNotFoundError(key)
        return io.BufferedReader(_RangeReader(self, key, head["ContentLength"]), buffer_size=CHUNK)

    def stat(self, key: str) -> tuple[int, int] | None:
        head = self._head(key)
        if head is None:
            return None
        tag = f"{head.get('ETag')}|{head['LastModified'].isoformat()}".encode()
        return head["ContentLength"], int.from_bytes(hashlib.blake2b(tag, digest_size=7).digest(), "big")

    def copy_object(self, source: str, dest: str) -> None:
        """Copy inside the object store (managed: in parts above 5 GiB); FileNotFoundError without source."""
        try:
            self.s3.copy({"Bucket": self.bucket, "Key": source}, self.bucket, dest, Config=self.copy_config)
        except Exception as e:
            if _missing(e):
                raise FileNotFoundError(source) from None
            raise

    def copy(self, key: str, name: str) -> str:
        """A server-side copy. Several processes may snapshot one job at once: when a copy fails but the
        destination now holds the source's bytes (another copy won; moto, for one, answers the loser of
        concurrent copies to one key with a 500), the copy that is there is kept. A failed copy whose
        destination is not there (yet: the winner may still be writing it) is tried again — copying one
        object to one key is idempotent — up to _COPY_TRIES times."""
        dest = file_key(name)
        for attempt in itertools.count(1):
            try:
                self.copy_object(self.obj(key), self.obj(dest))
                return dest
            except FileNotFoundError:
                raise
            except Exception:
                source, there = self._head(key), self._head(dest)
                if source is None:
                    raise
                # (a copy's ETag differs from a multipart source's: the size is what can be compared)
                if there is not None and source["ContentLength"] == there["ContentLength"]:
                    return dest
                if attempt == _COPY_TRIES:
                    raise
                time.sleep(0.05 * attempt)
        raise AssertionError("itertools.count ended")   # (for the type checker: the loop returns or raises)

    def remove(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self.obj(key))

    def _objects(self, under: str) -> Any:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.obj(under)):
            yield from page.get("Contents", ())

    def _delete(self, names: list[str]) -> None:
        for i in range(0, len(names), 1000):
            self.s3.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": n} for n in names[i:i + 1000]], "Quiet": True})

    def remove_all(self) -> int:
        names = [o["Key"] for o in self._objects("files/")]
        self._delete(names)
        return len(names)

    def sweep(self, known: set[str]) -> int:
        with self.presence.alone() as alone:
            cutoff = dt.datetime.now(dt.UTC) - _GRACE
            stale = [o["Key"] for o in self._objects("files/")
                     if o["Key"].removeprefix(self.prefix) not in known and (alone or o["LastModified"] < cutoff)]
            stale += [o["Key"] for o in self._objects("tmp/")
                      if alone or o["LastModified"] < cutoff or self._owner_gone(o["Key"])]
            self._delete(stale)
            aborted = 0
            for page in self.s3.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket,
                                                                                  Prefix=self.obj("tmp/")):
                for up in page.get("Uploads", ()):
                    if alone or up["Initiated"] < cutoff or self._owner_gone(up["Key"]):
                        with contextlib.suppress(Exception):  # finished meanwhile: nothing to abort
                            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=up["Key"], UploadId=up["UploadId"])
                            aborted += 1
            return len(stale) + aborted

    def _owner_gone(self, name: str) -> bool:
        """A temporary object `tmp/<owner>-<random>` whose writer's process has ended."""
        owner = name.removeprefix(self.obj("tmp/")).partition("-")[0]
        try:
            return self.presence.gone(int(owner, 16))
        except ValueError:
            return False

    def in_flight(self) -> int:
        """Multipart uploads under the prefix not completed or aborted (for tests and operators)."""
        pages = self.s3.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.prefix)
        return sum(len(p.get("Uploads", ())) for p in pages)

    def usage(self) -> tuple[int, int]:
        """(objects, bytes) under `files/` (published blobs)."""
        sizes = [o["Size"] for o in self._objects("files/")]
        return len(sizes), sum(sizes)

    def release(self) -> None:
        self.s3.close()


class S3BlobWriter(BufferedBlobWriter):
    """PART bytes buffered, each full part an UploadPart of a multipart upload to a temporary object."""

    unit = PART

    def __init__(self, store: S3BlobStore) -> None:
        super().__init__(store)
        self.tmp = store.obj(f"tmp/{store.presence.owner:08x}-{secrets.token_hex(10)}")
        self.upload_id: str | None = None
        self.parts: list[dict] = []
        self.stored = False      # the temporary object exists (closed, not yet published)

    def _upload_part(self, body: bytes) -> None:
        self.check_live()
        s3, bucket = self.store.s3, self.store.bucket
        if self.upload_id is None:
            self.upload_id = s3.create_multipart_upload(Bucket=bucket, Key=self.tmp)["UploadId"]
        number = len(self.parts) + 1
        done = s3.upload_part(Bucket=bucket, Key=self.tmp, UploadId=self.upload_id, PartNumber=number, Body=body)
        self.parts.append({"ETag": done["ETag"], "PartNumber": number})

    def flush(self) -> None:
        while len(self.buf) >= PART:
            self._upload_part(bytes(memoryview(self.buf)[:PART]))
            del self.buf[:PART]

    def close(self) -> None:
        self.flush()
        s3, bucket = self.store.s3, self.store.bucket
        if self.upload_id is None:
            if self.discarded:
                raise OSError("the blob was discarded while it was being written")
            s3.put_object(Bucket=bucket, Key=self.tmp, Body=bytes(self.buf))
        else:
            if self.buf:
                self._upload_part(bytes(self.buf))
            s3.complete_multipart_upload(Bucket=bucket, Key=self.tmp, UploadId=self.upload_id,
                                         MultipartUpload={"Parts": self.parts})
            self.upload_id = None
        self.stored = True
        self.buf = bytearray()
        self.closed = True

    def publish(self, name: str) -> str:
        assert self.closed and self.stored, "publish() needs a closed writer"
        key = file_key(name)
        self.store.copy_object(self.tmp, self.store.obj(key))
        self.published = True
        self._drop_tmp()
        return key

    def abandon(self) -> None:
        if self.upload_id is not None:
            upload, self.upload_id = self.upload_id, None
            try:
                self.store.s3.abort_multipart_upload(Bucket=self.store.bucket, Key=self.tmp, UploadId=upload)
            except Exception as e:  # the sweep aborts it later
                log.warning("could not abort the upload of %s now (the next sweep will): %s", self.tmp, e)
        self._drop_tmp()

    def _drop_tmp(self) -> None:
        if self.stored:
            self.stored = False
            try:
                self.store.s3.delete_object(Bucket=self.store.bucket, Key=self.tmp)
            except Exception as e:  # the sweep removes it later
                log.warning("could not remove %s now (the next sweep will): %s", self.tmp, e)


class _RangeReader(BlobReader):
    """A blob streamed by one ranged GetObject from the current position; seeking starts another."""

    def __init__(self, store: S3BlobStore, key: str, size: int) -> None:
        super().__init__(key, size)
        self.store = store
        self.body: Any = None

    def _moved(self) -> None:
        self._drop_body()

    def readinto(self, b: Any) -> int:
        if self.pos >= self.size:
            return 0
        if self.body is None:
            try:
                self.body = self.store.s3.get_object(Bucket=self.store.bucket, Key=self.store.obj(self.key),
                                                     Range=f"bytes={self.pos}-")["Body"]
            except Exception as e:
                if _missing(e):
                    raise OSError(f"blob {self.key} was removed while it was being read") from None
                raise
        data = self.body.read(min(len(b), self.size - self.pos))
        if not data:
            raise OSError(f"blob {self.key} ended at {self.pos} of {self.size} bytes")
        n = len(data)
        b[:n] = data
        self.pos += n
        return n

    def _drop_body(self) -> None:
        body, self.body = self.body, None
        if body is not None:
            body.close()

    def close(self) -> None:
        self._drop_body()
        super().close()

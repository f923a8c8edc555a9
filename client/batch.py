"""Batch API helpers for the library and `ftclient batch`: submit a JSONL of requests, follow it, fetch results.

    client = workflow.connect()
    batch = submit(client, "requests.jsonl")               # upload (purpose=batch) + create
    batch = wait_batch(client, batch.id, on_progress=print)
    save_results(client, batch, "out.jsonl", "errors.jsonl")

The endpoint is read from the first request's `url` unless given; the file is streamed (never loaded
whole). Only the official SDK is used, so this runs against the real API unchanged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from client.workflow import ClientError, WaitTimeout

__all__ = ["BatchEnded", "endpoint_of", "submit", "wait_batch", "save_results", "progress_line", "counts", "FINISHED"]

FINISHED = ("completed", "failed", "expired", "cancelled")


class BatchEnded(ClientError):
    """The batch finished without completing (failed, expired or cancelled)."""

    def __init__(self, batch: Any) -> None:
        errors = getattr(batch.errors, "data", None) or []
        detail = "; ".join(f"line {e.line}: {e.message} ({e.code})" if e.line else f"{e.message} ({e.code})"
                           for e in errors[:5])
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"batch {batch.id} {batch.status}" + (f": {detail}{more}" if detail else ""))
        self.batch = batch


def endpoint_of(path: str | Path) -> str:
    """The `url` of the first request in a batch input file."""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            if raw.strip():
                try:
                    url = json.loads(raw).get("url")
                except (ValueError, AttributeError):
                    url = None
                if not isinstance(url, str):
                    raise ClientError(f"{path}: the first request has no 'url'; pass --endpoint")
                return url
    raise ClientError(f"{path}: no requests in the file")


def submit(client: Any, path: str | Path, *, endpoint: str | None = None,
           metadata: dict[str, str] | None = None) -> Any:
    """Upload `path` with purpose `batch` and create a batch over it (24 h window)."""
    endpoint = endpoint or endpoint_of(path)
    with open(path, "rb") as f:
        uploaded = client.files.create(file=(Path(path).name, f), purpose="batch")
    kwargs: dict[str, Any] = {"metadata": metadata} if metadata else {}
    return client.batches.create(input_file_id=uploaded.id, endpoint=endpoint, completion_window="24h", **kwargs)


def counts(batch: Any) -> str:
    """`n/N done, f failed` once the batch knows how many requests it holds, else ``."""
    c = batch.request_counts
    return f"{c.completed + c.failed}/{c.total} done, {c.failed} failed" if c is not None and c.total else ""


def progress_line(batch: Any) -> str:
    return f"{batch.id} {batch.status} {counts(batch)}".rstrip()


def wait_batch(client: Any, batch_id: str, *, timeout: float = 24 * 3600, poll_interval: float = 2.0,
               on_progress: Callable[[Any], object] | None = None, sleep: Callable[[float], None] = time.sleep) -> Any:
    """Poll until the batch finishes; `on_progress` gets every batch whose status or counts changed."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        batch = client.batches.retrieve(batch_id)
        seen = (batch.status, batch.request_counts and batch.request_counts.model_dump_json())
        if seen != last and on_progress is not None:
            on_progress(batch)
        last = seen
        if batch.status in FINISHED:
            return batch
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"batch {batch_id} still {batch.status} after {timeout:g} s")
        sleep(poll_interval)


def save_results(client: Any, batch: Any, output: str | Path, errors: str | Path) -> list[Path]:
    """Write the batch's output and error files (those it has); returns the paths written."""
    written = []
    for file_id, dest in ((batch.output_file_id, output), (batch.error_file_id, errors)):
        if file_id:
            client.files.content(file_id).write_to_file(dest)
            written.append(Path(dest))
    return written

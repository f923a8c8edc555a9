"""Re-run a recorded workflow against a target (the emulator) and report where it differs: `ftclient drift`.

    report = drift.run(Path("cassettes/"), base_url="http://127.0.0.1:8000/v1")
    print(report.markdown); sys.exit(1 if report.failing else 0)

Each recorded request is sent again, in recorded order, with the ids the target gave for the objects it
created in place of the recorded ones (files, jobs, fine-tuned models, …). A job's run of retrieves is
re-run as polling: the target is asked at the recorded cadence until the job reaches the status the
recording ended with, or a final status, or `poll_timeout`. Comparison and report: contracts.drift.

This is raw HTTP (httpx), not the SDK: the point is to send exactly what was recorded.
"""

from __future__ import annotations

import json
import secrets
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from contracts import cassette, drift
from contracts.cassette import ID_RE, Exchange, decode_body

__all__ = ["run", "DriftReport"]

_SEND_HEADERS = ("content-type", "accept", "openai-beta")


@dataclass
class DriftReport:
    steps: list[drift.Step]
    differences: list[drift.Difference]
    allow: drift.AllowList
    markdown: str

    @property
    def failing(self) -> list[drift.Difference]:
        return [d for d in self.differences if not self.allow.allows(d)]


class _Runner:
    def __init__(self, directory: Path, http: httpx.Client, key: str, poll_timeout: float) -> None:
        self.dir = directory
        self.http = http
        self.key = key
        self.poll_timeout = poll_timeout
        self.ids: dict[str, str] = {}
        self.created: dict[str, tuple[float, float]] = {}   # recorded job id → (recorded, observed) wall time

    # --- ids
    def map_text(self, s: str) -> str:
        return ID_RE.sub(lambda m: self.ids.get(m.group(0), m.group(0)), s)

    def map_value(self, v: Any) -> Any:
        if isinstance(v, str):
            return self.map_text(v)
        if isinstance(v, list):
            return [self.map_value(x) for x in v]
        if isinstance(v, dict):
            return {k: self.map_value(x) for k, x in v.items()}
        return v

    def learn(self, rec: Exchange, obs: Exchange) -> None:
        got = decode_body(obs.response_body)
        for path, rid in cassette.iter_json_ids(decode_body(rec.response_body)):
            oid = _at(got, path)
            if isinstance(oid, str) and rid not in self.ids:
                self.ids[rid] = oid
            if path == "id" and rid.startswith("ftjob-") and rid not in self.created:
                self.created[rid] = (rec.started_at, obs.started_at)

    # --- sending
    def send(self, rec: Exchange) -> Exchange:
        headers = {k: v for k, v in rec.request_headers if k in _SEND_HEADERS}
        headers["authorization"] = f"Bearer {self.key}"
        kwargs: dict[str, Any] = {}
        body = rec.request_body
        if body and "multipart" in body:
            headers.pop("content-type", None)
            mp = body["multipart"]
            kwargs["data"] = {k: self.map_text(v) for k, v in mp.get("fields", {}).items()}
            kwargs["files"] = {k: (f["filename"], cassette.blob_path(self.dir / "blobs", f["blob"]).read_bytes(),
                                   f.get("content_type")) for k, f in mp.get("files", {}).items()}
        elif body and "json" in body:
            kwargs["content"] = json.dumps(self.map_value(body["json"]), ensure_ascii=False).encode()
        elif body:
            kwargs["content"] = b"".join(cassette.body_bytes(body, self.dir / "blobs"))
        path = self.map_text(rec.path)
        query = self.map_text(rec.query)
        started, t0 = time.time(), time.perf_counter()
        r = self.http.request(rec.method, path.removeprefix("/v1").lstrip("/") + (f"?{query}" if query else ""),
                              headers=headers, **kwargs)
        pairs = [[k.lower(), v] for k, v in r.headers.multi_items()]
        ctype = r.headers.get("content-type", "")
        return Exchange(seq=rec.seq, method=rec.method, path=path, query=query, request_headers=[],
                        request_body=None, status=r.status_code, response_headers=pairs,
                        response_body=_body(r.content, ctype),
                        started_at=started, elapsed_ms=(time.perf_counter() - t0) * 1000)

    def poll(self, run: list[Exchange]) -> list[Exchange]:
        target = drift.statuses_seen(run)[-1:] or [None]
        gaps = [b.started_at - a.started_at for a, b in zip(run, run[1:], strict=False)]
        interval = min(max(statistics.median(gaps) if gaps else 0.2, 0.02), 30.0)
        deadline = time.monotonic() + self.poll_timeout
        seen = [self.send(run[0])]
        while True:
            status = (decode_body(seen[-1].response_body) or {}).get("status") if seen[-1].status == 200 else None
            if status is None or status == target[0] or status in drift.TERMINAL or time.monotonic() > deadline:
                return seen
            time.sleep(interval)
            seen.append(self.send(run[0]))

    # --- the workflow
    def steps(self, exchanges: list[Exchange]) -> list[drift.Step]:
        steps: list[drift.Step] = []
        done: set[int] = set()
        for i, rec in enumerate(exchanges):
            if rec.seq in done:
                continue
            polled = rec.operation == "fine_tuning.jobs.retrieve" and rec.status == 200
            run = _retrieve_run(exchanges, i) if polled else [rec]
            done |= {e.seq for e in run}
            observed = self.poll(run) if polled else [self.send(rec)]
            for r, o in [(run[-1], observed[-1]), *zip(run, observed, strict=False)]:   # the final state first
                self.learn(r, o)
            step = drift.Step(run, observed, polled=polled)
            if polled:
                step.recorded_since, step.observed_since = self.created.get(_job_id(rec), (None, None))
            steps.append(step)
            done.add(rec.seq)
        return steps


def _poll_note(s: drift.Step) -> str:
    dr, do = drift.durations(s)
    took = "" if dr is None or do is None else f"; finished after {dr:.3g} s recorded, {do:.3g} s now"
    return (f"{_job_id(s.recorded[0])}: statuses seen while polling — recorded "
            f"{' → '.join(drift.statuses_seen(s.recorded))}; now {' → '.join(drift.statuses_seen(s.observed))}{took}")


def _body(content: bytes, ctype: str) -> dict[str, Any] | None:
    try:
        return cassette.encode_body(content, ctype, blobs=None)
    except ValueError:   # large or binary: only its size matters here
        return {"size": len(content)}


def _retrieve_run(exchanges: list[Exchange], i: int) -> list[Exchange]:
    """The retrieves of one job from exchanges[i] until an action on that job (cancel, pause, resume)."""
    first = exchanges[i]
    run = [first]
    for ex in exchanges[i + 1:]:
        if ex.path.startswith(first.path + "/") and ex.method == "POST":
            break
        if ex.path == first.path and ex.method == "GET" and ex.status == 200:
            run.append(ex)
    return run


def _job_id(ex: Exchange) -> str:
    return ex.path.rstrip("/").rsplit("/", 1)[-1]


def _at(value: Any, path: str) -> Any:
    for part in path.replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("["):
            idx = int(part[1:-1])
            value = value[idx] if isinstance(value, list) and idx < len(value) else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
    return value


def run(directory: Path, *, base_url: str, api_key: str | None = None, allow: Path | None = None,
        poll_timeout: float = 600.0, transport: httpx.BaseTransport | None = None) -> DriftReport:
    """Re-run the cassettes in `directory` against `base_url` (a fresh tenant unless `api_key` is given)."""
    exchanges = [e for e in cassette.load(directory) if e.complete and e.path.startswith("/v1")]
    if not exchanges:
        raise ValueError(f"{directory}: no cassettes to re-run")
    key = api_key or f"sk-drift-{secrets.token_hex(8)}"
    with httpx.Client(base_url=base_url.rstrip("/") + "/", timeout=120, transport=transport,
                      trust_env=False) as http:
        steps = _Runner(Path(directory), http, key, poll_timeout).steps(exchanges)
    allow_list = drift.AllowList.read(allow)
    diffs = drift.compare(steps)
    notes = [_poll_note(s) for s in steps if s.polled]
    md = drift.render_markdown(diffs, allow_list, source=str(directory), target=base_url, steps=steps, notes=notes)
    return DriftReport(steps, diffs, allow_list, md)

"""Crash safety: SIGKILL the server at random moments during uploads and running jobs, restart, check.

Each trial starts traffic against a `python -m mockserver --transitions realtime` process — multi-MB
multipart uploads streamed slowly so the kill can land mid-body, small training files, job creations,
cancels, polls and event listings — kills the server at a random moment, restarts it on the same data
dir and checks that

* every acknowledged (200) upload is listed and its /content is byte-identical;
* an upload whose body was still being sent left nothing: no row, and after the startup sweep no file
  in <data-dir>/tmp and none in <data-dir>/files that no row points at;
* every acknowledged job exists and still reaches its correct end state (succeeded for valid data,
  failed for a file with too few examples, cancelled when a cancel was acknowledged);
* every job's events are one clean history: unique, in order, steps sequential, one model created.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.reliability._checks import TERMINAL, all_events, bad_jsonl, check_events, pig_jsonl
from tests.reliability._server import FIGURES, Server, multipart, raw_http, request

TIME_SCALE = 400.0          # a 10-example job (100 steps) runs in about a second of real time
MODEL = "gpt-3.5-turbo-0613"


@dataclass
class Ledger:
    """What the clients were told (acknowledged) and what they only tried, across all trials."""

    files: dict[str, tuple[str, str, int]] = field(default_factory=dict)   # id → (filename, sha256, size)
    half_sent: set[str] = field(default_factory=set)       # filenames whose body never finished sending
    in_doubt: dict[str, str] = field(default_factory=dict)  # filename → sha256: sent fully, no answer
    training: list[tuple[str, bool]] = field(default_factory=list)  # (file id, valid?) to start jobs on
    jobs: dict[str, str] = field(default_factory=dict)     # id → expected end state
    cancel_tried: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)         # what a client thread saw go wrong
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    kills_mid_body: int = 0


def _upload(port: int, data: bytes, filename: str, *, chunk: int = 1 << 16, pause: float = 0.0,
            purpose: str = "fine-tune") -> tuple[dict | None, bool]:
    """POST /v1/files streamed in chunks; returns (file object if acknowledged, whole body sent?)."""
    head, tail, ctype = multipart({"purpose": purpose}, filename=filename)
    body_len = len(head) + len(data) + len(tail)
    req = request("POST", "/v1/files", headers={"Content-Type": ctype, "Content-Length": str(body_len)})

    def chunks():
        yield req + head
        for i in range(0, len(data), chunk):
            yield data[i:i + chunk]
            if pause:
                time.sleep(pause)
        yield tail

    try:
        r = raw_http(port, chunks(), timeout=30)
    except OSError:
        return None, False
    whole = r.sent == len(req) + body_len
    if r.status == 200:
        return json.loads(r.body), whole
    return None, whole and r.status == 0


def _big_uploader(port: int, ledger: Ledger, rng: random.Random, stop: threading.Event, trial: int) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        size = rng.randrange(1 << 20, 6 << 20)
        data = rng.randbytes(size - 1) + b"\n"
        name = f"big-{trial}-{threading.get_ident()}-{n}.jsonl"
        obj, whole = _upload(port, data, name, pause=rng.choice([0.0, 0.002, 0.005]), purpose="assistants")
        with ledger.lock:
            ledger.requests += 1
            if obj is not None:
                ledger.files[obj["id"]] = (name, hashlib.sha256(data).hexdigest(), size)
            elif not whole:
                ledger.half_sent.add(name)
                ledger.kills_mid_body += stop.is_set() or not _alive(port)
            else:
                ledger.in_doubt[name] = hashlib.sha256(data).hexdigest()
        if obj is None:
            return


def _alive(port: int) -> bool:
    try:
        return raw_http(port, request("GET", "/v1/models"), timeout=2).status == 200
    except OSError:
        return False


def _job_driver(port: int, ledger: Ledger, rng: random.Random, stop: threading.Event, trial: int) -> None:
    """Small training files, job creations, cancels, polls and event listings until the server dies."""
    n = 0
    try:
        while not stop.is_set():
            n += 1
            step = rng.random()
            if step < 0.3 or not ledger.training:
                valid = rng.random() < 0.85
                tag = f"{trial}-{threading.get_ident()}-{n}"
                data = pig_jsonl(10, tag) if valid else bad_jsonl(tag)
                name = f"train-{tag}.jsonl"
                obj, whole = _upload(port, data, name)
                with ledger.lock:
                    ledger.requests += 1
                    if obj is None:
                        if whole:
                            ledger.in_doubt[name] = hashlib.sha256(data).hexdigest()
                        else:
                            ledger.half_sent.add(name)
                        return
                    ledger.files[obj["id"]] = (name, hashlib.sha256(data).hexdigest(), len(data))
                    ledger.training.append((obj["id"], valid))
            elif step < 0.6:
                file_id, valid = rng.choice(ledger.training)
                r = raw_http(port, request("POST", "/v1/fine_tuning/jobs",
                                           json_body={"model": MODEL, "training_file": file_id, "suffix": "crash"}))
                with ledger.lock:
                    ledger.requests += 1
                    if r.status != 200:
                        assert r.status == 0, (r.status, r.body[:300])
                        return
                    ledger.jobs[json.loads(r.body)["id"]] = "succeeded" if valid else "failed"
            elif step < 0.65 and ledger.jobs:
                with ledger.lock:
                    job_id = rng.choice(list(ledger.jobs))
                    ledger.cancel_tried.add(job_id)
                r = raw_http(port, request("POST", f"/v1/fine_tuning/jobs/{job_id}/cancel"))
                with ledger.lock:
                    ledger.requests += 1
                    if r.status == 200:
                        ledger.jobs[job_id] = "cancelled"
                    elif r.status == 0:
                        return
                    else:  # already finished: the 400 invalid_job_state
                        assert r.status == 400, (r.status, r.body[:300])
            elif ledger.jobs:
                job_id = rng.choice(list(ledger.jobs))
                path = rng.choice([f"/v1/fine_tuning/jobs/{job_id}", f"/v1/fine_tuning/jobs/{job_id}/events",
                                   f"/v1/fine_tuning/jobs/{job_id}/checkpoints", "/v1/fine_tuning/jobs"])
                r = raw_http(port, request("GET", path))
                with ledger.lock:
                    ledger.requests += 1
                if r.status != 200:
                    assert r.status == 0, (path, r.status, r.body[:300])
                    return
    except OSError:
        return


def _guarded(fn, ledger: Ledger, *args) -> None:
    try:
        fn(*args)
    except Exception as e:
        with ledger.lock:
            ledger.errors.append(f"{fn.__name__}: {e!r}")


def _trial(srv: Server, ledger: Ledger, rng: random.Random, trial: int) -> None:
    stop = threading.Event()
    threads = [threading.Thread(target=_guarded, args=(fn, ledger, srv.port, ledger, random.Random(rng.random()),
                                                       stop, trial))
               for fn in [_big_uploader] * 2 + [_job_driver] * 3]
    for t in threads:
        t.start()
    try:
        time.sleep(rng.uniform(0.2, 1.5))
    finally:
        srv.kill()
        stop.set()
        for t in threads:
            t.join(60)
    assert not any(t.is_alive() for t in threads), "a client thread hung after the kill"
    assert not ledger.errors, ledger.errors
    srv.start()


def _known_paths(data_dir: Path) -> tuple[set[str], set[str]]:
    """(every stored path a row points at, the paths of files not deleted)."""
    db = sqlite3.connect(f"file:{data_dir / 'state.db'}?mode=ro", uri=True)
    try:
        known = {r[0] for r in db.execute("SELECT path FROM files")}
        known |= {r[0] for r in db.execute("SELECT path FROM upload_parts")}
        known |= {f"files/ftdata-{r[0]}" for r in db.execute("SELECT id FROM jobs")}
        # derived files (results files) have no bytes on disk: their content is computed on download
        live = {r[0] for r in db.execute("SELECT path FROM files WHERE NOT deleted AND path NOT LIKE 'derived:%'")}
    finally:
        db.close()
    return known, live


def _check_disk(data_dir: Path) -> None:
    """After the startup sweep: no tmp file, no stored file without a row, no row without its bytes."""
    leftovers = sorted(os.listdir(data_dir / "tmp"))
    assert not leftovers, f"tmp files survived the startup sweep: {leftovers}"
    known, live = _known_paths(data_dir)
    stray = [p for p in os.listdir(data_dir / "files") if f"files/{p}" not in known]
    assert not stray, f"files with no row after the startup sweep: {stray}"
    missing = [p for p in live if not (data_dir / p).is_file()]
    assert not missing, f"rows whose bytes are gone: {missing}"


def _all_files(srv: Server) -> dict[str, dict]:
    """Every file, paged: a long run stores more than one page's 10,000 (a faster server uploads more per
    trial; reading one page once reported the oldest acknowledged uploads as lost)."""
    out: dict[str, dict] = {}
    after = ""
    while True:
        page = srv.json("GET", f"/v1/files?limit=10000{after}")
        out.update((f["id"], f) for f in page["data"])
        if not page.get("has_more") or not page["data"]:
            return out
        after = f"&after={page['data'][-1]['id']}"


def _check_files(srv: Server, ledger: Ledger, ids: list[str]) -> None:
    listed = _all_files(srv)
    names = {f["filename"]: f["id"] for f in listed.values()}
    for f in listed.values():
        if f["purpose"] == "fine-tune-results":
            status, _, body = srv.http("GET", f"/v1/files/{f['id']}/content")
            assert status == 200 and len(body) == f["bytes"], f"{f['id']}: results file {status}, {len(body)} bytes"
    half = sorted(ledger.half_sent & names.keys())
    assert not half, f"uploads whose body never finished sending were stored: {half}"
    for name, digest in ledger.in_doubt.items():   # sent fully, killed before the answer: all or nothing
        if name in names:
            _, _, body = srv.http("GET", f"/v1/files/{names[name]}/content")
            assert hashlib.sha256(body).hexdigest() == digest, f"{name}: unacknowledged upload stored corrupt"
    for fid in ids:
        name, digest, size = ledger.files[fid]
        assert fid in listed, f"acknowledged upload {fid} ({name}) lost"
        assert listed[fid]["bytes"] == size and listed[fid]["filename"] == name
        status, _, body = srv.http("GET", f"/v1/files/{fid}/content")
        assert status == 200 and hashlib.sha256(body).hexdigest() == digest, f"{fid}: content differs"


def _finish_jobs(srv: Server, ledger: Ledger, timeout: float = 60.0) -> dict[str, int]:
    """Every acknowledged job reaches its expected end state; its events are one clean history."""
    get = lambda path: srv.json("GET", path)  # noqa: E731
    deadline = time.monotonic() + timeout
    counts = {"jobs": 0, "events": 0}
    for job_id, expected in sorted(ledger.jobs.items()):
        while True:
            job = get(f"/v1/fine_tuning/jobs/{job_id}")
            if job["status"] in TERMINAL or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        want = {expected} | ({"cancelled"} if job_id in ledger.cancel_tried and expected != "cancelled" else set())
        assert job["status"] in want, f"{job_id}: {job['status']}, expected {want}: {job['error']}"
        if job["status"] == "succeeded":
            assert srv.http("GET", f"/v1/models/{job['fine_tuned_model']}")[0] == 200
            assert srv.http("GET", f"/v1/files/{job['result_files'][0]}")[0] == 200
        counts["events"] += check_events(job, all_events(get, job_id))["events"]
        counts["jobs"] += 1
    return counts


def run_crash_trials(tmp_path: Path, trials: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    ledger = Ledger()
    data_dir = tmp_path / "data"
    with Server(data_dir, transitions="realtime", time_scale=TIME_SCALE) as srv:
        for trial in range(trials):
            before = set(ledger.files)
            _trial(srv, ledger, rng, trial)
            _check_disk(data_dir)
            _check_files(srv, ledger, sorted(set(ledger.files) - before))
        _check_files(srv, ledger, sorted(ledger.files))   # every acknowledged upload, after every restart
        counts = _finish_jobs(srv, ledger)
        srv.kill()                                        # and once more with every job finished
        srv.start()
        _check_disk(data_dir)
        counts |= _finish_jobs(srv, ledger)
    figures = {"trials": trials, "kills": trials, "kills_mid_upload_body": ledger.kills_mid_body,
               "uploads_acknowledged": len(ledger.files), "uploads_cut_mid_body": len(ledger.half_sent),
               "uploads_in_doubt": len(ledger.in_doubt), "jobs_acknowledged": len(ledger.jobs),
               "events_checked": counts["events"], "requests": ledger.requests}
    assert ledger.files and ledger.jobs, f"the trials acknowledged too little to check anything: {figures}"
    return figures


def test_crash_short(tmp_path: Path) -> None:
    started = time.monotonic()
    figures = run_crash_trials(tmp_path, trials=3, seed=int(os.environ.get("MOCKSERVER_CRASH_SEED", "1")))
    FIGURES.add("crash (short)", **figures, seconds=round(time.monotonic() - started, 1))


@pytest.mark.slow
def test_crash_long(tmp_path: Path) -> None:
    started = time.monotonic()
    figures = run_crash_trials(tmp_path, trials=100, seed=int(os.environ.get("MOCKSERVER_CRASH_SEED", "2")))
    FIGURES.add("crash (long)", **figures, seconds=round(time.monotonic() - started, 1))


def test_sweep_keeps_live_processes_tmp_files(tmp_path: Path) -> None:
    """A second process starting on the same data dir removes a dead process's tmp file, not a live one's."""
    data_dir = tmp_path / "data"
    with Server(data_dir, transitions="manual") as first:
        live_tmp = data_dir / "tmp" / f"{first.proc.pid}-inflight.part"
        live_tmp.write_bytes(b"an upload still arriving")
        dead_tmp = data_dir / "tmp" / "999999999-crashed.part"
        dead_tmp.write_bytes(b"half an upload")
        orphan = data_dir / "files" / "file-orphan-in-flight"
        orphan.write_bytes(b"published, row not yet committed")
        with Server(data_dir, transitions="manual", cwd=tmp_path / "second"):
            assert live_tmp.exists(), "the sweep deleted a live process's tmp file"
            assert orphan.exists(), "the sweep deleted a file another live process may be committing"
            assert not dead_tmp.exists(), "the sweep kept a dead process's tmp file"
        first.kill()
    with Server(data_dir, transitions="manual"):   # alone now: every leftover goes
        assert not live_tmp.exists() and not orphan.exists()

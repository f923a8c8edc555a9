"""Batch API: answering a batch vs the same requests sent one by one, and the server's responsiveness meanwhile.

Against `mockserver serve --transitions immediate` (the first read of a batch answers all of it):
per round, N chat requests sent sequentially over one keep-alive connection (the synchronous floor a batch
replaces), then one batch of the same N requests: upload, create, and the first retrieve, which answers
every request. Reported: batch req/s ÷ sequential req/s; the latency of a 20 ms-spaced `GET /v1/models`
ping during the batch ÷ the same ping while the server is idle (p99); the server's RSS growth over the
batch (VmHWM after ÷ before).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.common import PY, ROOT, WORK, Config, Row, Summary, free_port, log, proc_status, server

HEADERS = {"authorization": "Bearer sk-bench-batch"}


def _body(i: int) -> dict:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"question number {i} " * 5}]}


def _pings(http, base: str, stop: threading.Event, out: list[float]) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        http.get(f"{base}/models", headers=HEADERS)
        out.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.02)


def _p99(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[98] if len(xs) >= 2 else xs[0]


def _round(http, base: str, n: int, proc) -> dict:
    t0 = time.perf_counter()
    for i in range(n):
        http.post(f"{base}/chat/completions", json=_body(i), headers=HEADERS).raise_for_status()
    sync_rps = n / (time.perf_counter() - t0)
    idle: list[float] = []
    stop = threading.Event()
    pinger = threading.Thread(target=_pings, args=(http, base, stop, idle))
    pinger.start()
    time.sleep(1.0)
    stop.set()
    pinger.join()
    lines = "".join(json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions",
                                "body": _body(i)}) + "\n" for i in range(n))
    f = http.post(f"{base}/files", headers=HEADERS, files={"file": ("b.jsonl", lines.encode())},
                  data={"purpose": "batch"}).json()
    hwm0 = proc_status(proc.pid).get("VmHWM", 0)
    t0 = time.perf_counter()
    batch = http.post(f"{base}/batches", headers=HEADERS, json={
        "input_file_id": f["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}).json()
    busy: list[float] = []
    stop = threading.Event()
    import httpx2

    with httpx2.Client(timeout=600) as other:
        pinger = threading.Thread(target=_pings, args=(other, base, stop, busy))
        pinger.start()
        done = http.get(f"{base}/batches/{batch['id']}", headers=HEADERS).json()
        stop.set()
        pinger.join()
    batch_rps = n / (time.perf_counter() - t0)
    assert done["status"] == "completed" and done["request_counts"]["completed"] == n, done
    return {"sync_rps": sync_rps, "batch_rps": batch_rps, "idle_p99": _p99(idle), "busy_p99": _p99(busy),
            "rss_growth_mb": (proc_status(proc.pid).get("VmHWM", 0) - hwm0) / 1024}


def run(cfg: Config) -> list[Row]:
    import httpx2

    n = 2000 if cfg.quick else 10000
    port = free_port()
    base = f"http://127.0.0.1:{port}/v1"
    rounds: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-batch-", dir=WORK) as tmp, \
            server([PY, "-m", "mockserver", "serve", "--port", str(port), "--data-dir", str(Path(tmp)),
                    "--log-level", "warning", "--transitions", "immediate"], port, cwd=ROOT,
                   log_path=WORK / "batch.log") as proc, httpx2.Client(timeout=600) as http:
        http.post(f"{base}/chat/completions", json=_body(0), headers=HEADERS)   # warm-up: the encoding
        for r in range(cfg.repeat):
            rounds.append(_round(http, base, n, proc))
            x = rounds[-1]
            log(f"batch round {r + 1}/{cfg.repeat}: sequential {x['sync_rps']:.0f} req/s, batch "
                f"{x['batch_rps']:.0f} req/s, ping p99 idle {x['idle_p99']:.1f} ms / busy {x['busy_p99']:.1f} ms, "
                f"RSS +{x['rss_growth_mb']:.1f} MB")

    def s(key: str) -> Summary:
        return Summary.of([x[key] for x in rounds])

    ratio = Summary.of([x["batch_rps"] / x["sync_rps"] for x in rounds])
    ping = Summary.of([x["busy_p99"] / x["idle_p99"] for x in rounds])
    return [
        Row("batch", f"sequential chat completions, one connection ({n} requests)", s("sync_rps"), "req/s", digits=0),
        Row("batch", "batch of the same requests (create → first retrieve) ÷ sequential", s("batch_rps"), "req/s",
            ratio, "≥ 1", ratio.median >= 1, digits=0),
        Row("batch", "GET /v1/models p99 while the batch runs ÷ idle p99", s("busy_p99"), "ms", ping, "(reported)",
            note=f"idle p99 {s('idle_p99').median:.1f} ms; a ping every 20 ms"),
        Row("batch", "server peak RSS growth over the batch", s("rss_growth_mb"), "MB", None, "< 50 MB",
            s("rss_growth_mb").median < 50, digits=1),
    ]

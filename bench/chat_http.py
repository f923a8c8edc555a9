"""Chat completions under uvicorn on loopback ÷ a bare FastAPI endpoint (raw body in, fixed bytes out).

Load: bench/loadgen.py, a fixed-count generator (raw asyncio HTTP/1.1, CONNECTIONS keep-alive connections,
the same prebuilt POST every time) in its own process. wrk cannot stop after a fixed count (it always
runs for its -d duration, so its req/s would be wrong), so it is used as a second opinion only: two
5-second duration runs per server, when installed. With 2+ CPUs both servers are pinned to CPU 0 and the
load generator to CPU 1: the client never takes the server's core. Both servers are uvicorn subprocesses
on the same parser (httptools when installed, else h11; MOCKSERVER_HTTP=h11 picks h11 for both), logging
at warning, started together and warmed up; each round sends them alternating bursts (order flipped each
time), so a neighbour's load on the shared machine falls on both alike, and the ratio is taken per round.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench import common
from bench.common import PY, ROOT, WORK, Config, Row, Summary, free_port, log, n_cpus, pin, run_json, server

CONNECTIONS = 8
CHAT_REQUEST = {"model": "gpt-4o-mini", "messages": [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France? Answer in one sentence."}]}

WRK_LUA = r"""
local f = assert(io.open(os.getenv("BENCH_WRK_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-http"
"""


def _body_file() -> Path:
    body = WORK / "chat-body.json"
    body.write_text(json.dumps(CHAT_REQUEST))
    return body


def _load(port: int, requests: int, cpus: set[int] | None) -> dict:
    return run_json([PY, "-m", "bench.loadgen", str(port), "/v1/chat/completions", str(_body_file()),
                     str(requests), str(CONNECTIONS)], cpus=cpus, cwd=ROOT, timeout=600)


def _wrk(port: int, seconds: int, cpus: set[int] | None) -> dict | None:
    if shutil.which("wrk") is None:
        return None
    script = WORK / "chat.lua"
    script.write_text(WRK_LUA)
    res = subprocess.run(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(script),
                          f"http://127.0.0.1:{port}/v1/chat/completions"], capture_output=True, text=True,
                         env={**os.environ, "BENCH_WRK_BODY": str(_body_file())}, preexec_fn=pin(cpus), timeout=120)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", res.stdout)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", res.stdout)
    if res.returncode != 0 or not rps or "Non-2xx" in res.stdout:
        raise RuntimeError(f"wrk failed: {res.stdout[-1500:]} {res.stderr[-500:]}")
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    return {"rps": float(rps.group(1)), "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else None}


def _burst(port: int, n: int, cpus: set[int] | None, pid: int | None = None) -> dict:
    """One fixed-count burst; with the server's `pid`, also the CPU seconds the server used during it."""
    cpu0 = common.proc_cpu_seconds(pid) if pid else 0.0
    out = _load(port, n, cpus)
    if pid:
        out["server_cpu"] = common.proc_cpu_seconds(pid) - cpu0
    if out["non200"]:
        raise RuntimeError(f"port {port}: {out['non200']} non-200 responses of {out['requests']}")
    return out


def run(cfg: Config) -> list[Row]:
    n = 5000 if cfg.quick else 20000
    slices = 4  # each round alternates bare/emulator bursts of n/slices requests, so both see the same load
    pinned = n_cpus() >= 2
    server_cpus, client_cpus = ({0}, {1}) if pinned else (None, None)
    keys = ("bare_rps", "ours_rps", "bare_p99", "ours_p99", "ratio", "p99_ratio", "wrk_ratio", "wrk_bare", "wrk_ours",
            "bare_cpu_us", "ours_cpu_us", "cpu_ratio")
    m: dict[str, list[float]] = {k: [] for k in keys}
    tmp = Path(tempfile.mkdtemp(prefix="bench-http-", dir=WORK))
    bare_port, ours_port = free_port(), free_port()
    try:
        with contextlib.ExitStack() as stack:
            bare = stack.enter_context(server([PY, "-m", "bench.bare", "chat", str(bare_port)], bare_port,
                                              cpus=server_cpus, cwd=ROOT, log_path=WORK / "http-bare.log"))
            ours = stack.enter_context(server([PY, "-m", "mockserver", "serve", "--port", str(ours_port), "--data-dir",
                                        str(tmp), "--log-level", "warning", "--transitions", "immediate"], ours_port,
                                       cpus=server_cpus, cwd=ROOT, log_path=WORK / "http-ours.log"))
            for port in (bare_port, ours_port):  # warm-up: imports, encodings, caches
                _burst(port, max(500, n // 10), client_cpus)
            for r in range(cfg.repeat):
                got: dict[str, list[dict]] = {"bare": [], "ours": []}
                for k in range(slices):
                    order = ("bare", "ours") if (r + k) % 2 == 0 else ("ours", "bare")
                    for who in order:
                        port, pid = (bare_port, bare.pid) if who == "bare" else (ours_port, ours.pid)
                        got[who].append(_burst(port, n // slices, client_cpus, pid))
                rps = {w: sum(b["requests"] for b in v) / sum(b["seconds"] for b in v) for w, v in got.items()}
                p99 = {w: statistics.median(b["p99_ms"] for b in v) for w, v in got.items()}
                m["bare_rps"].append(rps["bare"])
                m["ours_rps"].append(rps["ours"])
                m["bare_p99"].append(p99["bare"])
                m["ours_p99"].append(p99["ours"])
                m["ratio"].append(rps["ours"] / rps["bare"])
                m["p99_ratio"].append(p99["ours"] / p99["bare"])
                cpu_us = {w: sum(b["server_cpu"] for b in v) / sum(b["requests"] for b in v) * 1e6
                          for w, v in got.items()}
                m["bare_cpu_us"].append(cpu_us["bare"])
                m["ours_cpu_us"].append(cpu_us["ours"])
                m["cpu_ratio"].append(cpu_us["bare"] / cpu_us["ours"])
                log(f"http round {r + 1}/{cfg.repeat}: bare {rps['bare']:.0f} req/s p99 {p99['bare']:.1f} ms, "
                    f"emulator {rps['ours']:.0f} req/s p99 {p99['ours']:.1f} ms → {m['ratio'][-1]:.2f}; server CPU "
                    f"per request {cpu_us['bare']:.0f} vs {cpu_us['ours']:.0f} µs → {m['cpu_ratio'][-1]:.2f}")
            if not cfg.quick:
                for _ in range(2):
                    wbare, wours = _wrk(bare_port, 5, client_cpus), _wrk(ours_port, 5, client_cpus)
                    if wbare and wours:
                        m["wrk_bare"].append(wbare["rps"])
                        m["wrk_ours"].append(wours["rps"])
                        m["wrk_ratio"].append(wours["rps"] / wbare["rps"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    how = (f"bench.loadgen, {CONNECTIONS} connections, {n} requests per server per round in {slices} alternating "
           "bursts, " + ("servers on CPU 0, client on CPU 1" if pinned else "unpinned (fewer than 2 CPUs)"))
    s = {k: Summary.of(v) if v else None for k, v in m.items()}
    rows = [
        Row("http", "bare FastAPI: raw body in, fixed bytes out (ceiling)", s["bare_rps"], "req/s", digits=0,
            note=how),
        Row("http", "chat completions req/s ÷ ceiling", s["ours_rps"], "req/s", s["ratio"], "≥ 0.8",
            s["ratio"].median >= 0.8, digits=0),
        Row("http", "diagnostic: server CPU time per request, bare ÷ chat completions", s["ours_cpu_us"], "µs",
            s["cpu_ratio"], "(diagnostic)", None, digits=0,
            note=f"the req/s ratio each server's core would give if it ran nothing else; bare "
                 f"{s['bare_cpu_us'].median:.0f} µs (user + system CPU of the server process over its bursts)"),
        Row("http", "bare FastAPI p99 latency", s["bare_p99"], "ms", note="median of the bursts' p99"),
        Row("http", "chat completions p99 latency (÷ bare p99)", s["ours_p99"], "ms", s["p99_ratio"], "(reported)"),
    ]
    if s["wrk_ratio"] is not None:
        rows.append(Row("http", "cross-check: wrk 5 s duration runs, chat ÷ bare", s["wrk_ours"], "req/s",
                        s["wrk_ratio"], "(reported)", digits=0,
                        note=f"wrk -t1 -c{CONNECTIONS} --latency; bare {s['wrk_bare'].median:.0f} req/s"))
    return rows

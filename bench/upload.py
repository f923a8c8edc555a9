"""A 512 MB multipart upload (128 MB under BENCH_QUICK) ÷ a bare endpoint streaming request.stream() to a file.

Client: curl (`-F file=@…`, streamed from disk, `Expect:` disabled) pinned to CPU 1, both servers to CPU 0,
started together; each round uploads to both, the order flipped every round.
MB/s = file bytes ÷ curl's total time. The server's RSS is sampled from /proc every 20 ms during the
upload: "flat memory" = peak RSS during the upload minus RSS just before it. The emulator's upload is
deleted through the API after each run (not timed). Ours ends with fsync of the file and its directory
(durability the README promises); the bare endpoint does not fsync — that cost is reported separately.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench.common import (
    PY,
    ROOT,
    WORK,
    Config,
    Row,
    Summary,
    free_port,
    log,
    n_cpus,
    pin,
    proc_status,
    server,
)

KEY = "sk-bench-upload"


class _Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop_flag = pid, 0, False

    def run(self) -> None:
        while not self.stop_flag:
            self.peak = max(self.peak, proc_status(self.pid).get("VmRSS", 0))
            time.sleep(0.02)


def _curl(port: int, path: Path, cpus: set[int] | None) -> tuple[float, str]:
    res = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code} %{time_total}", "-H", "Expect:",
                          "-H", f"Authorization: Bearer {KEY}", "-F", "purpose=fine-tune",
                          "-F", f"file=@{path};filename=train.jsonl", f"http://127.0.0.1:{port}/v1/files"],
                         capture_output=True, text=True, preexec_fn=pin(cpus), timeout=1200)
    body, _, tail = res.stdout.rpartition("\n")
    code, seconds = tail.split()
    if res.returncode != 0 or code != "200":
        raise RuntimeError(f"upload failed: curl {res.returncode}, HTTP {code}: {body[:500]} {res.stderr[:500]}")
    return float(seconds), body


def _delete(port: int, body: str) -> None:
    import json

    file_id = json.loads(body).get("id")
    if file_id:
        subprocess.run(["curl", "-sS", "-o", "/dev/null", "-X", "DELETE", "-H", f"Authorization: Bearer {KEY}",
                        f"http://127.0.0.1:{port}/v1/files/{file_id}"], check=False, timeout=60)


def _upload(proc, port: int, path: Path, client_cpus, ours: bool) -> dict:
    before = proc_status(proc.pid).get("VmRSS", 0)
    sampler = _Sampler(proc.pid)
    sampler.start()
    try:
        seconds, body = _curl(port, path, client_cpus)
    finally:
        sampler.stop_flag = True
        sampler.join()
    if ours:
        _delete(port, body)
    return {"mb_s": os.path.getsize(path) / seconds / 1e6, "seconds": seconds, "rss_before_mb": before / 1024,
            "rss_delta_mb": (sampler.peak - before) / 1024}


def run(cfg: Config) -> list[Row]:
    from bench import data

    if shutil.which("curl") is None:
        return [Row("upload", "multipart upload ÷ bare streaming endpoint", None, goal="≥ 0.95",
                    note="n/a: curl not installed")]
    path = data.chat_file(128 if cfg.quick else 512)
    size_mb = os.path.getsize(path) / 1e6
    pinned = n_cpus() >= 2
    server_cpus, client_cpus = ({0}, {1}) if pinned else (None, None)
    m: dict[str, list[float]] = {k: [] for k in ("bare", "ours", "ratio", "bare_rss", "ours_rss")}
    tmp = Path(tempfile.mkdtemp(prefix="bench-upload-", dir=WORK))
    bare_port, ours_port = free_port(), free_port()
    small = WORK / "data" / "train10.jsonl"
    small.parent.mkdir(parents=True, exist_ok=True)
    small.write_bytes(data.small_file(10))
    try:
        with contextlib.ExitStack() as stack:
            bare_proc = stack.enter_context(server([PY, "-m", "bench.bare", "upload", str(bare_port), str(tmp)],
                                                   bare_port, cpus=server_cpus, cwd=ROOT,
                                                   log_path=WORK / "upload-bare.log"))
            ours_proc = stack.enter_context(server([PY, "-m", "mockserver", "serve", "--port", str(ours_port),
                                                    "--data-dir", str(tmp / "srv"), "--log-level", "warning"],
                                                   ours_port, cpus=server_cpus, cwd=ROOT,
                                                   log_path=WORK / "upload-ours.log"))
            _curl(bare_port, small, client_cpus)  # warm-up: imports, and the big file into the page cache
            _delete(ours_port, _curl(ours_port, small, client_cpus)[1])
            _upload(bare_proc, bare_port, path, client_cpus, False)  # a discarded round: first big writes run slow
            _upload(ours_proc, ours_port, path, client_cpus, True)
            time.sleep(0.2)
            for r in range(cfg.repeat):
                got = {}
                for who in (("bare", "ours") if r % 2 == 0 else ("ours", "bare")):
                    got[who] = _upload(bare_proc if who == "bare" else ours_proc,
                                       bare_port if who == "bare" else ours_port, path, client_cpus, who == "ours")
                bare, ours = got["bare"], got["ours"]
                m["bare"].append(bare["mb_s"])
                m["ours"].append(ours["mb_s"])
                m["ratio"].append(ours["mb_s"] / bare["mb_s"])
                m["bare_rss"].append(bare["rss_delta_mb"])
                m["ours_rss"].append(ours["rss_delta_mb"])
                log(f"upload round {r + 1}/{cfg.repeat}: bare {bare['mb_s']:.0f} MB/s (+{bare['rss_delta_mb']:.0f} MB "
                    f"RSS), emulator {ours['mb_s']:.0f} MB/s (+{ours['rss_delta_mb']:.0f} MB RSS) → {m['ratio'][-1]:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    s = {k: Summary.of(v) for k, v in m.items()}
    how = f"{size_mb:.0f} MB, curl -F, " + ("server CPU 0, curl CPU 1" if pinned else "unpinned")
    return [
        Row("upload", "bare FastAPI streaming request.stream() to a file (ceiling)", s["bare"], "MB/s", digits=0,
            note=how),
        Row("upload", "POST /v1/files multipart ÷ ceiling", s["ours"], "MB/s", s["ratio"], "≥ 0.95",
            s["ratio"].median >= 0.95, digits=0),
        Row("upload", "server RSS growth during upload (emulator)", s["ours_rss"], "MB", None, "flat",
            s["ours_rss"].hi < 32, digits=1, note=f"bare endpoint: +{s['bare_rss'].median:.1f} MB"),
    ]

"""File bytes through PostgreSQL and S3 ÷ through the data dir: upload and download MB/s, in one run.

Three `mockserver serve` processes started together: one on SQLite with its bytes in the data dir (the
default), one on a scratch PostgreSQL database with every byte in it (`--blob-store auto` → database), and
one on another scratch database with its bytes in S3 (`--blob-url`, a local moto server: `moto_server`
from the test extra; without it that column is n/a). Each round uploads a 512 MB file (128 MB under
BENCH_QUICK) to each with curl (`-F file=@…`) and downloads it back (`-o /dev/null`), the order rotated
every round; MB/s = file bytes ÷ curl's total time. Servers on CPU 0, curl on CPU 1; PostgreSQL and moto
are not pinned (they share the two cores with both).
The PostgreSQL URL: BENCH_POSTGRES_URL, else MOCKSERVER_TEST_POSTGRES_URL (the role needs CREATEDB).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench.common import PY, ROOT, WORK, Config, Row, Summary, free_port, log, n_cpus, pin, server

KEY = "sk-bench-blobs"


def _pg_url() -> str | None:
    return os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("MOCKSERVER_TEST_POSTGRES_URL")


@contextlib.contextmanager
def _scratch_database(url: str) -> Iterator[str]:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"mockserver_bench_{secrets.token_hex(4)}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{url.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def _moto_bucket(cpus: set[int] | None) -> Iterator[tuple[str, dict[str, str]] | None]:
    """(s3://bucket/bench, the AWS_* variables) of a local moto server started here, or None without moto."""
    from tests.s3 import client, moto_command, s3_env

    command = moto_command()
    if command is None:
        yield None
        return
    port = free_port()
    with server([command, "-H", "127.0.0.1", "-p", str(port)], port, cpus=cpus, log_path=WORK / "blobs-moto.log"):
        endpoint = f"http://127.0.0.1:{port}"
        s3 = client(endpoint)
        s3.create_bucket(Bucket="bench")
        s3.close()
        yield "s3://bench/blobs", s3_env(endpoint)


def _curl(args: list[str], cpus: set[int] | None) -> tuple[float, str]:
    res = subprocess.run(["curl", "-sS", "-w", "\n%{http_code} %{time_total}", "-H", "Expect:",
                          "-H", f"Authorization: Bearer {KEY}", *args], capture_output=True, text=True,
                         preexec_fn=pin(cpus), timeout=1200)
    body, _, tail = res.stdout.rpartition("\n")
    code, seconds = tail.split()
    if res.returncode != 0 or code != "200":
        raise RuntimeError(f"curl {res.returncode}, HTTP {code}: {body[:300]} {res.stderr[:300]}")
    return float(seconds), body


def _round_trip(port: int, path: Path, cpus: set[int] | None) -> tuple[float, float]:
    """(upload MB/s, download MB/s); the file is deleted afterwards (not timed)."""
    base = f"http://127.0.0.1:{port}/v1/files"
    size = os.path.getsize(path)
    up, body = _curl(["-o", "-", "-F", "purpose=fine-tune", "-F", f"file=@{path};filename=train.jsonl", base], cpus)
    file_id = json.loads(body)["id"]
    down, _ = _curl(["-o", "/dev/null", f"{base}/{file_id}/content"], cpus)
    _curl(["-o", "/dev/null", "-X", "DELETE", f"{base}/{file_id}"], cpus)
    return size / up / 1e6, size / down / 1e6


def run(cfg: Config) -> list[Row]:
    from bench import data

    url = _pg_url()
    if shutil.which("curl") is None or not url:
        why = "curl not installed" if url else "set BENCH_POSTGRES_URL or MOCKSERVER_TEST_POSTGRES_URL"
        return [Row("blobs", "file bytes through PostgreSQL ÷ data dir", None, note=f"n/a: {why}")]
    path = data.chat_file(128 if cfg.quick else 512)
    size_mb = os.path.getsize(path) / 1e6
    pinned = n_cpus() >= 2
    server_cpus, client_cpus = ({0}, {1}) if pinned else (None, None)
    m: dict[str, list[float]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-blobs-", dir=WORK))
    try:
        with contextlib.ExitStack() as stack:
            s3 = stack.enter_context(_moto_bucket(None))
            stores = {"dir": [], "pg": ["--database-url", stack.enter_context(_scratch_database(url))]}
            if s3 is not None:
                stores["s3"] = ["--database-url", stack.enter_context(_scratch_database(url)), "--blob-url", s3[0]]
            ports = {who: free_port() for who in stores}
            for who, port in ports.items():
                argv = [PY, "-m", "mockserver", "serve", "--port", str(port), "--data-dir", str(tmp / who),
                        "--log-level", "warning", *stores[who]]
                stack.enter_context(server(argv, port, cpus=server_cpus, cwd=ROOT, log_path=WORK / f"blobs-{who}.log",
                                           env=s3[1] if who == "s3" and s3 else None))
            for port in ports.values():  # a discarded round: imports, pools, the file into the page cache
                _round_trip(port, path, client_cpus)
            order = list(ports)
            for r in range(cfg.repeat):
                got = {who: _round_trip(ports[who], path, client_cpus) for who in order[r % 3:] + order[:r % 3]}
                for who in ports:
                    m.setdefault(f"{who}_up", []).append(got[who][0])
                    m.setdefault(f"{who}_down", []).append(got[who][1])
                    if who != "dir":
                        m.setdefault(f"{who}_up_ratio", []).append(got[who][0] / got["dir"][0])
                        m.setdefault(f"{who}_down_ratio", []).append(got[who][1] / got["dir"][1])
                log(f"blobs round {r + 1}/{cfg.repeat}: " + ", ".join(
                    f"{who} up {got[who][0]:.0f} / down {got[who][1]:.0f} MB/s" for who in ports))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    s = {k: Summary.of(v) for k, v in m.items()}
    how = f"{size_mb:.0f} MB, curl, " + ("servers CPU 0, curl CPU 1" if pinned else "unpinned")
    rows = []
    for way in ("upload", "download"):
        d = way[:2] if way == "upload" else "down"
        rows.append(Row("blobs", f"{way}, bytes in the data dir", s[f"dir_{d}"], "MB/s", digits=0, note=how))
        rows.append(Row("blobs", f"{way}, bytes in PostgreSQL ÷ data dir", s[f"pg_{d}"], "MB/s", s[f"pg_{d}_ratio"],
                        digits=0))
        if "s3_up" in s:
            rows.append(Row("blobs", f"{way}, bytes in S3 (moto) ÷ data dir", s[f"s3_{d}"], "MB/s",
                            s[f"s3_{d}_ratio"], digits=0))
        else:
            rows.append(Row("blobs", f"{way}, bytes in S3 (moto) ÷ data dir", None, note="n/a: moto_server not installed"))
    return rows

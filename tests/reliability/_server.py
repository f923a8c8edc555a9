"""Reliability-test helpers: `python -m mockserver` subprocesses on free loopback ports, raw HTTP, RSS.

    with Server(tmp / "data", time_scale=600) as srv:     # started, ready, killed on exit whatever happens
        status, headers, body = raw_http(srv.port, request("GET", "/v1/models"))
        srv.kill()                                         # SIGKILL the whole process group
        srv.start()                                        # same data dir, new free port

Only 127.0.0.1 is ever used. Every process started here is in its own process group and is ended by
that group's id, at exit of the `with`, by `stop_all()` (a session fixture calls it), at interpreter
exit, and by a `tests.watchdog` sidecar if the test run itself is killed.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.testing import free_port
from tests.watchdog import watch

__all__ = ["PG_VAR", "fresh_pg_database", "pg_database_or_skip", "Server", "free_port", "raw_http", "request", "multipart", "Response",
           "KEY", "HTTP_PROTOCOLS", "stop_all", "rss_of_group", "Figures", "FIGURES", "wait_until"]

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
KEY = "sk-reliability-test"
PG_VAR = "MOCKSERVER_TEST_POSTGRES_URL"
# the server's protocols (`--http`): the protocol-level checks run on each; the first is what serves by default
HTTP_PROTOCOLS = ("httptools", "h11") if importlib.util.find_spec("httptools") else ("h11",)

_live: set[Server] = set()
_live_lock = threading.Lock()


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment without any MOCKSERVER_* setting, so only the flags given here apply."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


class Server:
    """One `mockserver` process (or a uvicorn supervisor and its workers) on a free port."""

    def __init__(self, data_dir: Path, *, transitions: str = "realtime", time_scale: float = 600.0,
                 workers: int = 1, database_url: str | None = None, seed: int | None = None,
                 extra_args: Iterable[str] = (), cwd: Path | None = None, log_level: str = "warning",
                 env: dict[str, str] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.transitions, self.time_scale, self.workers = transitions, time_scale, workers
        self.database_url, self.seed, self.extra_args = database_url, seed, list(extra_args)
        self.cwd = Path(cwd) if cwd else self.data_dir.parent
        self.log_level, self.env = log_level, env
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log_path = self.cwd / f"server-{id(self)}.log"
        self.starts = 0

    # --- lifecycle ---------------------------------------------------------------------------------
    def argv(self) -> list[str]:
        argv = [sys.executable, "-m", "mockserver", "--host", HOST, "--port", str(self.port), "--data-dir",
                str(self.data_dir), "--transitions", self.transitions, "--time-scale", str(self.time_scale),
                "--workers", str(self.workers), "--log-level", self.log_level]
        if self.database_url:
            argv += ["--database-url", self.database_url]
        if self.seed is not None:
            argv += ["--seed", str(self.seed)]
        return argv + self.extra_args

    def start(self, timeout: float = 60.0) -> Server:
        """Start on a fresh free port and wait until it answers; retries once if the port was taken."""
        assert not self.running, "already running"
        self.cwd.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            self.port = free_port(HOST)
            with open(self.log_path, "ab") as log:
                log.write(f"\n--- start {self.starts} on port {self.port}\n".encode())
                log.flush()
                self.proc = subprocess.Popen(self.argv(), cwd=self.cwd, env=_child_env(self.env), stdout=log,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             start_new_session=True)
            watch(self.proc.pid)             # the group dies with this test run, even if it is SIGKILLed
            with _live_lock:
                _live.add(self)
            self.starts += 1
            try:
                self.wait_ready(timeout)
                return self
            except RuntimeError:
                self.kill()
                if attempt == 2 or "address already in use" not in self.log_tail().lower():
                    raise
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"mockserver exited during start-up:\n{self.log_tail()}")
            try:
                status, _, _ = raw_http(self.port, request("GET", "/v1/models"), timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"mockserver did not answer within {timeout} s:\n{self.log_tail()}")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)  # the group id is the server's pid (start_new_session)

    def kill(self) -> None:
        """SIGKILL the server and every worker it started; no shutdown code runs."""
        if self.proc is None:
            return
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        self._reap_group()

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful stop (SIGTERM), then SIGKILL for whatever is left."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout)
        self.kill()

    def _reap_group(self) -> None:
        """Wait until no process of the group is left (workers may outlive the supervisor briefly)."""
        assert self.proc is not None
        deadline = time.monotonic() + 10
        while group_pids(self.proc.pid) and time.monotonic() < deadline:
            self._signal_group(signal.SIGKILL)
            time.sleep(0.02)
        with _live_lock:
            _live.discard(self)

    def restart(self, timeout: float = 60.0) -> Server:
        self.stop()
        return self.start(timeout)

    def __enter__(self) -> Server:
        return self.start() if not self.running else self

    def __exit__(self, *exc: object) -> None:
        self.stop(timeout=5)

    # --- observation --------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_bytes()[-n:].decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def rss(self) -> int:
        """Resident memory of the server's whole process group, in bytes."""
        return rss_of_group(self.proc.pid) if self.proc else 0

    def http(self, method: str, path: str, **kw: Any) -> tuple[int, dict[str, str], bytes]:
        return raw_http(self.port, request(method, path, **kw))

    def json(self, method: str, path: str, **kw: Any) -> Any:
        status, _, body = self.http(method, path, **kw)
        assert status == 200, (method, path, status, body[:500])
        return json.loads(body)


def stop_all() -> None:
    with _live_lock:
        servers = list(_live)
    for srv in servers:
        with contextlib.suppress(Exception):
            srv.kill()


atexit.register(stop_all)


# --- processes ---------------------------------------------------------------------------------------

def group_pids(pgid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:  # state, ppid, pgrp
            out.append(int(entry))
    return out


def rss_of_group(pgid: int) -> int:
    total = 0
    for pid in group_pids(pgid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


# --- raw HTTP ----------------------------------------------------------------------------------------

def request(method: str, path: str, *, headers: dict[str, str] | list[tuple[str, str]] | None = None,
            body: bytes = b"", json_body: Any = None, key: str | None = KEY, close: bool = True) -> bytes:
    """A complete HTTP/1.1 request as bytes (Content-Length framing)."""
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {k.lower() for k, _ in pairs}
    if json_body is not None:
        body = json.dumps(json_body).encode()
        if "content-type" not in names:
            pairs.append(("Content-Type", "application/json"))
    if key is not None and "authorization" not in names:
        pairs.append(("Authorization", f"Bearer {key}"))
    if "host" not in names:
        pairs.insert(0, ("Host", HOST))
    if close:
        pairs.append(("Connection", "close"))
    framed = "content-length" in names or "transfer-encoding" in names
    if (body or method.upper() in ("POST", "PUT", "PATCH")) and not framed:
        pairs.append(("Content-Length", str(len(body))))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in pairs) + "\r\n"
    return head.encode("latin-1") + body


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int = 0                       # request bytes the server took before answering
    error: str | None = None            # connection error, if the exchange broke off

    def __iter__(self) -> Iterator[Any]:  # status, headers, body = raw_http(...)
        return iter((self.status, self.headers, self.body))

    def __getitem__(self, i: int) -> Any:
        return (self.status, self.headers, self.body)[i]


def raw_http(port: int, data: bytes | Iterable[bytes], *, timeout: float = 30.0) -> Response:
    """Send `data` (bytes, or chunks sent one by one) on a new connection; read one response.

    Sending stops early when the server answers or closes (a refused body); `sent` says how much went.
    The response is read as far as its framing says (Content-Length, chunked, or to EOF).
    """
    chunks = [data] if isinstance(data, bytes | bytearray) else data
    head_request = isinstance(data, bytes | bytearray) and data.startswith(b"HEAD ")
    sent = 0
    error = None
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        try:
            for chunk in chunks:
                if _readable(sock):
                    break
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError as e:            # the server closed the connection on a body it refused
            error = repr(e)
        raw, read_error = _read_response(sock, head_request)
    status, headers, body = _parse(raw)
    declared = headers.get("content-length", "")
    if declared.isdigit() and len(body) < int(declared) and not head_request:   # cut off mid-response: nothing was acknowledged
        status, read_error = 0, read_error or f"response cut off after {len(body)} of {declared} bytes"
    return Response(status, headers, body, sent, error or read_error)


def _read_response(sock: socket.socket, head_request: bool = False) -> tuple[bytes, str | None]:
    raw = bytearray()
    try:
        while True:
            buf = sock.recv(1 << 16)
            if not buf:
                return bytes(raw), None
            raw += buf
            if _complete(raw) or (head_request and b"\r\n\r\n" in raw):
                return bytes(raw), None
    except OSError as e:
        return bytes(raw), repr(e)


def _complete(raw: bytearray) -> bool:
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = bytes(raw[:end]).lower()
    body = len(raw) - end - 4
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip() == b"content-length" and value.strip().isdigit():
            return body >= int(value.strip())
        if name.strip() == b"transfer-encoding" and b"chunked" in value:
            return raw.endswith(b"0\r\n\r\n")
    return False


def _readable(sock: socket.socket) -> bool:
    import select

    r, _, _ = select.select([sock], [], [], 0)
    return bool(r)


def _parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return 0, {}, raw
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    headers: dict[str, str] = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    elif "content-length" in headers and headers["content-length"].isdigit():
        body = body[:int(headers["content-length"])]
    return status, headers, body


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2:]
    return bytes(out)


def multipart(fields: dict[str, str], *, file_field: str = "file", filename: str | bytes = "data.jsonl",
              content: bytes | None = None, boundary: str = "reliabilityboundary7MA4YWxkTrZu0gW",
              content_type: str = "application/octet-stream") -> tuple[bytes, bytes, str]:
    """(head, tail, content-type header): the file bytes go between head and tail, so they can stream."""
    b = boundary.encode()
    head = bytearray()
    for name, value in fields.items():
        head += b"--" + b + b"\r\n" + f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        head += value.encode() + b"\r\n"
    if content is not None or filename is not None:
        fn = filename if isinstance(filename, bytes) else filename.encode()
        head += b"--" + b + b"\r\n" + f'Content-Disposition: form-data; name="{file_field}"; filename="'.encode()
        head += fn + b'"\r\n' + f"Content-Type: {content_type}\r\n\r\n".encode()
    tail = b"\r\n--" + b + b"--\r\n"
    return bytes(head), tail, f"multipart/form-data; boundary={boundary}"


@contextlib.contextmanager
def pg_database_or_skip() -> Iterator[str]:
    """A scratch database on MOCKSERVER_TEST_POSTGRES_URL, dropped afterwards; the test skips without it."""
    import pytest

    url = os.environ.get(PG_VAR)
    if not url:
        pytest.skip(f"PostgreSQL not configured: set {PG_VAR}=postgresql+psycopg://user:pass@127.0.0.1:port/db "
                    "(.ci/postgres.sh starts one and sets it)")
    with fresh_pg_database(url) as fresh:
        yield fresh


@contextlib.contextmanager
def fresh_pg_database(url: str) -> Iterator[str]:
    import pytest

    psycopg = pytest.importorskip("psycopg", reason=f"{PG_VAR} is set but psycopg is not installed")
    base, _, _ = url.rpartition("/")
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"mockserver_rt_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
    except psycopg.Error as e:
        pytest.skip(f"cannot create a scratch database on {PG_VAR}: {e}")
    try:
        yield f"{base}/{name}"
    finally:
        _drop_pg_database(psycopg, plain, name)


def _drop_pg_database(psycopg: Any, url: str, name: str) -> None:
    """Drop a scratch database once its last connection is gone; a leftover is no test failure."""
    for attempt in range(30):
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name}" + (" WITH (FORCE)" if attempt >= 25 else ""))
            return
        except psycopg.Error:
            time.sleep(0.2)


# --- figures -----------------------------------------------------------------------------------------

@dataclass
class Figures:
    """Numbers the tests measured, printed in pytest's summary and optionally appended to a JSON file."""

    lines: list[str] = field(default_factory=list)

    def add(self, test: str, **values: Any) -> None:
        text = ", ".join(f"{k}={v}" for k, v in values.items())
        self.lines.append(f"{test}: {text}")
        path = os.environ.get("MOCKSERVER_RELIABILITY_REPORT")
        if path:
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"test": test, **values}) + "\n")


FIGURES = Figures()

"""The contract suite's target: one env var, CONTRACT_TARGET = inprocess | http | openai.

Unset, every contract test runs twice: through the two front doors tests/api uses too (tests/conftest.py
`door`): the in-process emulator and the same app served by uvicorn on loopback. Set, only that target runs; `openai` is the real API
(https://api.openai.com/v1, or CONTRACT_OPENAI_BASE_URL for a dry run) and needs OPENAI_API_KEY, else
its runs skip with the reason. Tests marked `emulator_only` (control plane, immediate transitions,
training) skip on the real API.

Against the real API the run is recorded through `mockserver serve --upstream … --record DIR` on loopback
(DIR: $CONTRACT_RECORD, default artifacts/cassettes/openai-<UTC time>; CONTRACT_RECORD=off sends requests
directly), so a run made by whoever has a key becomes cassettes that `ftclient drift` reads offline.
`pytest tests/contract --drift DIR [--drift-allow FILE] [--drift-report FILE]` re-runs such a recording
against the emulator (the `http` target) in test_drift.py.

Every test gets an `api`: its own API key on the emulator (so its own tenant), a `max_retries=0` SDK
client, raw HTTP, and a cleanup list; whatever a test registers there is deleted afterwards (on the real
API too).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest

from mockserver.testing import ControlPlane, free_port
from tests.watchdog import watch

TARGETS = ("inprocess", "http", "openai")
REAL_BASE_URL = "https://api.openai.com/v1"
_REPO = Path(__file__).resolve().parents[2]


def selected_targets() -> list[str]:
    chosen = os.environ.get("CONTRACT_TARGET", "").strip()
    if not chosen:
        return ["inprocess", "http"]
    if chosen not in TARGETS:
        raise pytest.UsageError(f"CONTRACT_TARGET must be one of {', '.join(TARGETS)}, not {chosen!r}")
    return [chosen]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "contract suite")
    group.addoption("--drift", type=Path, metavar="DIR", help="cassettes to re-run against the emulator (test_drift)")
    group.addoption("--drift-allow", type=Path, metavar="FILE", help="allow-list of known differences")
    group.addoption("--drift-report", type=Path, metavar="FILE", help="write the Markdown drift report here")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulator_only: needs emulator powers (control plane, immediate "
                                       "transitions, training); skipped when CONTRACT_TARGET=openai")


# --- Targets --------------------------------------------------------------------------------------------

class Target:
    """Where the contract suite sends its requests."""

    name = ""
    emulator = True
    base_url = ""
    _http: Any = None

    def new_key(self) -> str:
        return "sk-contract-" + secrets.token_hex(8)

    def client(self, key: str, **kwargs: Any) -> openai.OpenAI:
        kwargs.setdefault("max_retries", 0)
        return openai.OpenAI(api_key=key, base_url=self.base_url, **kwargs)

    def raw(self, method: str, path: str, *, key: str | None, json_body: Any = None, body: bytes = b"",
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        import httpx2

        h = {k.lower(): v for k, v in (headers or {}).items()}
        if key is not None:
            h.setdefault("authorization", f"Bearer {key}")
        if json_body is not None:
            body = json.dumps(json_body).encode()
            h.setdefault("content-type", "application/json")
        if self._http is None:   # one keep-alive connection pool per target
            self._http = httpx2.Client(base_url=self.base_url.removesuffix("/v1"), timeout=60)
        r = self._http.request(method, path, content=body, headers=h)
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


class InProcess(Target):
    """The shared in-process emulator (tests/conftest.py `door`)."""

    name = "inprocess"

    def __init__(self, emu: Any) -> None:
        self.emu = emu
        self.base_url = self.emu.base_url

    def client(self, key: str, **kwargs: Any) -> openai.OpenAI:
        kwargs.setdefault("max_retries", 0)
        return self.emu.client(api_key=key, **kwargs)

    def raw(self, method: str, path: str, *, key: str | None, json_body: Any = None, body: bytes = b"",
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        status, h, content = self.emu.request(method, path, api_key=key, json=json_body, body=body, headers=headers)
        return status, {k.lower(): v for k, v in h.items()}, content


class Http(Target):
    """The shared emulator served over loopback HTTP (tests/conftest.py `door`); requests are real HTTP."""

    name = "http"

    def __init__(self, emu: Any) -> None:
        self.base_url = emu.base_url


class Subprocess(Target):
    """`python -m mockserver --port <free> --data-dir <tmp> --transitions immediate [extra flags]` on loopback
    (the recording proxy in front of the real API)."""

    name = "subprocess"

    def __init__(self, *extra: str) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="contract-http-"))
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self.log = open(self.tmp / "server.log", "wb")  # noqa: SIM115 - closed in close()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}   # only our flags count
        env["PYTHONPATH"] = os.pathsep.join([str(_REPO), os.environ.get("PYTHONPATH", "")])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "--port", str(port), "--data-dir", str(self.tmp / "data"),
             "--transitions", "immediate", "--log-level", "warning", *extra],
            cwd=_REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        watch(self.proc.pid)   # dies with the test run, even a killed one
        try:
            self._wait_ready()
        except BaseException:
            self.close()
            raise

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mockserver exited with {self.proc.returncode}: {self._log_tail()}")
            try:
                if self.raw("GET", "/_mock/state", key=None)[0] == 200:   # served locally, also when proxying
                    return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError(f"mockserver did not become ready in {timeout:.0f} s: {self._log_tail()}")

    def _log_tail(self) -> str:
        self.log.flush()
        return (self.tmp / "server.log").read_text(errors="replace")[-2000:]

    def close(self) -> None:
        super().close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class RealApi(Target):
    """The real API; CONTRACT_OPENAI_BASE_URL may point it elsewhere for a dry run of the real-API path.
    Requests go through a local recording proxy unless CONTRACT_RECORD=off."""

    name = "openai"
    emulator = False

    def __init__(self, key: str) -> None:
        self.key = key
        self.base_url = self.upstream = os.environ.get("CONTRACT_OPENAI_BASE_URL") or REAL_BASE_URL
        self.proxy: Subprocess | None = None
        record = os.environ.get("CONTRACT_RECORD", "").strip()
        if record.lower() != "off":
            self.cassettes = Path(record or _REPO / "artifacts" / "cassettes" /
                                  time.strftime("openai-%Y%m%dT%H%M%SZ", time.gmtime())).resolve()
            self.proxy = Subprocess("--upstream", self.upstream, "--record", str(self.cassettes))
            self.base_url = self.proxy.base_url
            print(f"\ncontract suite: recording the {self.upstream} run to {self.cassettes}", file=sys.stderr)

    def close(self) -> None:
        super().close()
        if self.proxy is not None:
            self.proxy.close()

    def new_key(self) -> str:
        return self.key

    def client(self, key: str, **kwargs: Any) -> openai.OpenAI:
        kwargs.setdefault("max_retries", 2)   # the real API may answer 429/5xx now and then
        return openai.OpenAI(api_key=key, base_url=self.base_url, **kwargs)


def _start(name: str, door: Callable[[str], Any]) -> Target:
    if name == "inprocess":
        return InProcess(door(name))
    if name == "http":
        return Http(door(name))
    key = os.environ.get("OPENAI_API_KEY")
    if not key:
        pytest.skip("CONTRACT_TARGET=openai runs against the real API and needs OPENAI_API_KEY; it is not set")
    return RealApi(key)


@pytest.fixture(scope="session")
def _started() -> Any:
    """Targets started so far, kept until the session ends (xdist may interleave the two targets' tests)."""
    started: dict[str, Target] = {}
    yield started
    for t in started.values():
        t.close()


@pytest.fixture
def emulator_http(_started: dict[str, Target], door: Callable[[str], Any]) -> Target:
    """The `http` target (the emulator over loopback), whatever CONTRACT_TARGET selects."""
    if "http" not in _started:
        _started["http"] = Http(door("http"))
    return _started["http"]


@pytest.fixture(params=selected_targets())
def target(request: pytest.FixtureRequest, _started: dict[str, Target], door: Callable[[str], Any]) -> Target:
    if request.param not in _started:
        _started[request.param] = _start(request.param, door)
    return _started[request.param]


# --- The per-test view ----------------------------------------------------------------------------------

class Api(ControlPlane):
    """One test's view of the target: own key (own tenant on the emulator), SDK client, raw HTTP, cleanup."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.key = target.new_key()
        # strict: every response the suite reads through the SDK must validate against the SDK's own types
        self.client = target.client(self.key, _strict_response_validation=True)
        self._cleanup: list[Callable[[], Any]] = []

    @property
    def emulator(self) -> bool:
        return self.target.emulator

    def raw(self, method: str, path: str, *, key: str | None | bool = True, **kw: Any):
        return self.target.raw(method, path, key=self.key if key is True else key or None, **kw)

    def raw_json(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        status, _, body = self.raw(method, path, **kw)
        return status, json.loads(body)

    def control(self, path: str, payload: dict | None = None) -> Any:
        assert self.emulator, "the control plane exists only on the emulator"
        status, body = self.raw_json("POST", f"/_mock/{path}", json_body=payload or {})
        assert status == 200, body
        return body

    def upload(self, data: bytes, name: str = "contract.jsonl", purpose: str = "fine-tune") -> tuple[Any, dict]:
        """Create a file (deleted after the test); returns the SDK object and the wire JSON."""
        r = self.client.files.with_raw_response.create(file=(name, io.BytesIO(data)), purpose=purpose)
        f = r.parse()
        self.on_cleanup(lambda: self.client.files.delete(f.id))
        return f, r.http_response.json()

    def on_cleanup(self, fn: Callable[[], Any]) -> None:
        self._cleanup.append(fn)

    def close(self) -> None:
        for fn in reversed(self._cleanup):
            with contextlib.suppress(openai.APIError):   # already gone: the test deleted it
                fn()
        self.client.close()


@pytest.fixture
def api(target: Target, request: pytest.FixtureRequest):
    if request.node.get_closest_marker("emulator_only") and not target.emulator:
        pytest.skip("emulator only: needs the control plane / immediate transitions, not run on the real API")
    a = Api(target)
    if target.emulator:
        a.policy("immediate", 15.0)
    yield a
    a.close()


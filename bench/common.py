"""Shared helpers: settings from the environment, statistics, the result table, subprocess servers."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
PY = sys.executable

ALL = ("validation", "lifecycle", "http", "upload", "batch", "blobs")


@dataclasses.dataclass(frozen=True)
class Config:
    quick: bool
    only: tuple[str, ...]
    repeat: int
    test_time: bool

    @classmethod
    def from_env(cls) -> Config:
        quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
        only = tuple(s.strip() for s in os.environ.get("BENCH_ONLY", "").split(",") if s.strip()) or ALL
        unknown = set(only) - set(ALL) - {"test"}
        if unknown:
            raise SystemExit(f"BENCH_ONLY: unknown benchmark(s) {', '.join(sorted(unknown))}; "
                             f"choose from {', '.join(ALL)}")
        repeat = int(os.environ.get("BENCH_REPEAT", "3" if quick else "5"))
        if repeat < 1:
            raise SystemExit("BENCH_REPEAT must be >= 1")
        test_time = os.environ.get("BENCH_TEST_TIME", "") not in ("", "0")
        return cls(quick, only, repeat, test_time)


# --- statistics ---------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Summary:
    median: float
    lo: float
    hi: float
    q1: float
    q3: float
    n: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Summary:
        xs = sorted(samples)
        if not xs:
            raise ValueError("no samples")
        if len(xs) >= 4:
            q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
        else:
            q1, q3 = xs[0], xs[-1]
        return cls(statistics.median(xs), xs[0], xs[-1], q1, q3, len(xs))

    def fmt(self, unit: str = "", digits: int = 2) -> str:
        return f"{self.median:.{digits}f}{unit}"

    def spread(self, digits: int = 2) -> str:
        return f"{self.lo:.{digits}f}–{self.hi:.{digits}f}"


@dataclasses.dataclass
class Row:
    """One line of the table: a measured value and, when there is one, a ratio against a goal."""

    bench: str
    what: str
    value: Summary | None
    unit: str = ""
    ratio: Summary | None = None
    goal: str = ""
    met: bool | None = None
    note: str = ""
    digits: int = 2

    def cells(self) -> list[str]:
        value = "n/a" if self.value is None else f"{self.value.median:.{self.digits}f} {self.unit}".strip()
        spread = "" if self.value is None or self.value.n < 2 else self.value.spread(self.digits)
        ratio = "" if self.ratio is None else f"{self.ratio.median:.2f}"
        rspread = "" if self.ratio is None or self.ratio.n < 2 else self.ratio.spread(2)
        met = "" if self.met is None else ("yes" if self.met else "NO")
        return [self.bench, self.what, value, spread, ratio, rspread, self.goal, met, self.note]


HEADER = ["bench", "measure", "median", "spread (min–max)", "ratio", "ratio spread", "goal", "met?", "note"]


def render_table(rows: Sequence[Row]) -> str:
    cells = [HEADER] + [r.cells() for r in rows]
    out = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    out += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in cells[1:]]
    return "\n".join(out)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- processes ------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pin(cpus: set[int] | None) -> Callable[[], None] | None:
    """A preexec_fn pinning the child to `cpus` (None: no pinning, or when the machine lacks them)."""
    if cpus is None or not hasattr(os, "sched_setaffinity"):
        return None
    usable = os.sched_getaffinity(0)
    if not cpus <= usable:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def n_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def wait_http(port: int, proc: subprocess.Popen, timeout: float = 30.0, path: str = "/") -> None:
    """Until something answers HTTP on 127.0.0.1:port (any status), or the process dies."""
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answered on port {port} within {timeout} s")


@contextlib.contextmanager
def server(cmd: Sequence[str], port: int, *, cpus: set[int] | None = None, env: dict[str, str] | None = None,
           cwd: Path | None = None, log_path: Path | None = None, ready_path: str = "/") -> Iterator[subprocess.Popen]:
    """A server subprocess (its own process group), stopped by pid when the block ends."""
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                            cwd=cwd, preexec_fn=pin(cpus), start_new_session=True)
    try:
        wait_http(port, proc, path=ready_path)
        yield proc
    finally:
        stop(proc)
        if log_path:
            out.close()  # type: ignore[union-attr]


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM then SIGKILL to the child's own process group (it was started with start_new_session)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process (all its threads) has used so far, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM (kB) of a process from /proc."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def run_json(cmd: Sequence[str], *, timeout: float = 1800, cpus: set[int] | None = None,
             env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    """Run a helper that prints one JSON object as its last stdout line; return it."""
    import json

    res = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, preexec_fn=pin(cpus),
                         env={**os.environ, **(env or {})}, cwd=cwd)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}… exited {res.returncode}:\n{res.stderr[-3000:]}")
    lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
    if not lines:
        raise RuntimeError(f"{' '.join(cmd[:4])}… printed nothing:\n{res.stderr[-3000:]}")
    return json.loads(lines[-1])


def load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


CPU_MS: list[float] = []  # CPU ms per iteration of the last time_calls() (every thread of this process)


def time_calls(fn: Callable[[], Any], n: int, warmup: int) -> list[float]:
    """Wall ms of each of `n` calls after `warmup`; CPU ms per call of the run is left in CPU_MS."""
    for _ in range(warmup):
        fn()
    out = []
    c0 = time.process_time()
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    CPU_MS[:] = [(time.process_time() - c0) * 1000 / n]
    return out

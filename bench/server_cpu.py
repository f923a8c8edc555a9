"""The HTTP server's own CPU per SDK lifecycle: `mockserver serve --transitions immediate` in a subprocess,
driven over loopback by the lifecycle of `python -m bench.lifecycle http` (upload, create, retrieve, events,
chat), its user and system CPU read from /proc/<pid>/stat around the timed lifecycles. On a shared machine the
client's wall time swings with the neighbours; the server's CPU per lifecycle does not, so this is the figure
to compare trees by (alternate runs of each).

    python -m bench.server_cpu 300                    # durable server (the upload's fsyncs), as `make bench` runs it
    python -m bench.server_cpu 300 --throwaway        # MOCKSERVER_DURABLE=false: no fsync (the in-process profile's state)
    python -m bench.server_cpu 300 --tree /tmp/before # serve another checkout (run it from there, same .venv)
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench import data
from bench.common import PY, ROOT, WORK, free_port, server
from bench.lifecycle import helper_http


def _cpu(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def measure(n: int, *, tree: Path = ROOT, durable: bool = True) -> dict[str, float]:
    training = data.small_file(10)
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="bench-server-cpu-", dir=WORK))
    env = {"PYTHONPATH": str(tree), "MOCKSERVER_DURABLE": "true" if durable else "false"}
    try:
        with server([PY, "-m", "mockserver", "serve", "--port", str(port), "--transitions", "immediate",
                     "--data-dir", str(tmp), "--log-level", "warning"], port, cwd=tree, env=env,
                    log_path=WORK / "server-cpu.log") as proc:
            helper_http(max(10, n // 10), training, port)          # warm-up: caches, pools, the first job's plan
            u0, s0 = _cpu(proc.pid)
            ms = helper_http(n, training, port)["ms"]
            u1, s1 = _cpu(proc.pid)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    per = 1000.0 / n
    return {"cpu_ms": (u1 - u0 + s1 - s0) * per, "user_ms": (u1 - u0) * per, "sys_ms": (s1 - s0) * per,
            "client_ms": statistics.median(ms)}


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv and argv[0].isdigit() else 300
    tree = Path(argv[argv.index("--tree") + 1]).resolve() if "--tree" in argv else ROOT
    WORK.mkdir(parents=True, exist_ok=True)
    out = measure(n, tree=tree, durable="--throwaway" not in argv)
    load = os.getloadavg()[0]
    print(f"{tree}: server CPU per lifecycle {out['cpu_ms']:.2f} ms (user {out['user_ms']:.2f}, system "
          f"{out['sys_ms']:.2f}); client median {out['client_ms']:.1f} ms; load {load:.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])

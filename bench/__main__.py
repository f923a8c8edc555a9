"""`python -m bench` (`make bench`): run the benchmarks, print the table of ratios.

Environment:
  BENCH_QUICK=1          smaller inputs (128 MB instead of 512 MB for memory and upload, fewer requests)
  BENCH_ONLY=a,b         any of validation, lifecycle, http, upload, batch, blobs (default: all)
  BENCH_POSTGRES_URL     PostgreSQL for `blobs` (default MOCKSERVER_TEST_POSTGRES_URL; without, n/a)
  BENCH_REPEAT=N         rounds per benchmark (default 5, 3 under BENCH_QUICK); medians and min–max spread
  BENCH_TEST_TIME=1      also time `make test` once (long; never in the default run)

Everything generated (data, peer venvs, node_modules, server data dirs, logs) goes to bench/.work/.
The table is also written to bench/.work/results.md and bench/.work/results.json.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import subprocess
import sys
import time

from bench.common import ROOT, WORK, Config, Row, Summary, load_average, log, n_cpus, render_table


def _test_time() -> list[Row]:
    log("timing `make test` (once)")
    t0 = time.perf_counter()
    res = subprocess.run(["make", "test"], cwd=ROOT, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    tail = [ln for ln in res.stdout.splitlines() if " passed" in ln or " failed" in ln][-1:]
    return [Row("test", "`make test` wall time (once)", Summary.of([dt]), "s", None, "< 180 s", dt < 180 and
                res.returncode == 0, note=(tail[0] if tail else f"exit {res.returncode}"), digits=1)]


def main() -> int:
    cfg = Config.from_env()
    WORK.mkdir(parents=True, exist_ok=True)
    log(f"python {platform.python_version()}, {n_cpus()} CPUs, load average {load_average()}, "
        f"quick={cfg.quick}, repeat={cfg.repeat}, only={','.join(cfg.only)}")
    rows: list[Row] = []
    for name in cfg.only:
        if name == "test":
            continue
        module = {"validation": "bench.validation", "lifecycle": "bench.lifecycle", "http": "bench.chat_http",
                  "upload": "bench.upload", "batch": "bench.batch", "blobs": "bench.blobs"}[name]
        t0 = time.perf_counter()
        try:
            rows += __import__(module, fromlist=["run"]).run(cfg)
        except Exception as e:  # one broken benchmark must not hide the others
            log(f"{name} failed: {type(e).__name__}: {e}")
            rows.append(Row(name, "(failed)", None, note=f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"))
        log(f"{name} took {time.perf_counter() - t0:.0f} s")
    if cfg.test_time or "test" in cfg.only:
        rows += _test_time()
    else:
        rows.append(Row("test", "`make test` wall time", None, goal="< 180 s",
                        note="not run (set BENCH_TEST_TIME=1); see the README, Tests"))
    table = render_table(rows)
    header = (f"load average at end: {load_average()}; {n_cpus()} CPUs; BENCH_QUICK={int(cfg.quick)}; "
              f"BENCH_REPEAT={cfg.repeat}")
    print(table)
    print(header)
    (WORK / "results.md").write_text(table + "\n\n" + header + "\n")
    (WORK / "results.json").write_text(json.dumps([dataclasses.asdict(r) for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

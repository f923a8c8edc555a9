"""Validation throughput ÷ raw single-thread tiktoken throughput of the same texts, and peak memory.

Each measurement runs in a fresh subprocess, in its main thread (tiktoken 0.14 encodes ~1.2× slower in a
thread other than the first one that used the encoder), with the encoding loaded before the clock starts:
- ceiling: every string the token recipe encodes (role, content) is pulled out of the file first, then
  `enc.encode_ordinary` runs over them in a plain loop; MB/s = file bytes ÷ encode time;
- validation: `contracts.dataset.validation.validate_file` (counting with `tokens.counter`) on the same file (as a job does: default workers,
  i.e. one forked process per usable core), and once more with workers=1 (the single-core efficiency);
- memory: validate the 512 MB file (128 MB under BENCH_QUICK) after resetting the peak RSS; report the
  peak above the baseline RSS for the process and for its largest worker.
Rounds interleave ceiling and validation so both see the same machine load; the ratio is per round.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

from bench.common import PY, ROOT, Config, Row, Summary, log, run_json

MODEL = "gpt-3.5-turbo-0125"   # cl100k_base
ENCODING = "cl100k_base"


def _texts(path: str) -> tuple[list[str], int]:
    """Every string the recipe counts, and the recipe's fixed tokens (3 per message, 3 per example)."""
    import orjson

    out: list[str] = []
    fixed = 0
    with open(path, "rb") as f:
        for line in f:
            messages = orjson.loads(line)["messages"]
            fixed += 3 + 3 * len(messages)
            for m in messages:
                out.extend(v for v in m.values() if isinstance(v, str))
    return out, fixed


def ceiling(path: str) -> dict:
    from contracts import tokens

    enc = tokens.get_encoding(ENCODING)
    texts, fixed = _texts(path)
    enc.encode_ordinary("warm up")
    encode = enc.encode_ordinary
    c0, t0 = time.process_time(), time.perf_counter()
    n = 0
    for t in texts:
        n += len(encode(t))
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    size = os.path.getsize(path)
    return {"seconds": dt, "cpu": cpu, "mb_s": size / dt / 1e6, "tokens": n, "texts": len(texts),
            "recipe_tokens": n + fixed}


def validate(path: str, workers: int | None) -> dict:
    from contracts import tokens
    from contracts.dataset import validation

    tokens.counter(ENCODING)("warm up")
    self0, kids0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    result = validation.validate_file(path, model=MODEL, file_id="file-bench", workers=workers)
    dt = time.perf_counter() - t0
    self1, kids1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.error is None, result.error
    size = os.path.getsize(path)
    cpu_self = self1.ru_utime + self1.ru_stime - self0.ru_utime - self0.ru_stime
    cpu_kids = kids1.ru_utime + kids1.ru_stime - kids0.ru_utime - kids0.ru_stime
    return {"seconds": dt, "mb_s": size / dt / 1e6, "examples": result.n_examples,
            "billing_tokens": result.billing_tokens, "cpu_self": cpu_self, "cpu_children": cpu_kids}


def _status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0])
    return out


def memory(path: str, warm_path: str) -> dict:
    from contracts import tokens
    from contracts.dataset import validation

    tokens.counter(ENCODING)("warm up")
    validation.validate_file(warm_path, model=MODEL, file_id="file-warm", workers=1)
    try:  # reset VmHWM to the current RSS (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    base = _status()
    t0 = time.perf_counter()
    result = validation.validate_file(path, model=MODEL, file_id="file-bench")
    dt = time.perf_counter() - t0
    after = _status()
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"baseline_mb": base["VmRSS"] / 1024, "peak_mb": after["VmHWM"] / 1024,
            "delta_mb": (after["VmHWM"] - base["VmRSS"]) / 1024, "hwm_reset": reset,
            "child_peak_mb": children_kb / 1024, "child_delta_mb": (children_kb - base["VmRSS"]) / 1024,
            "seconds": dt, "mb_s": os.path.getsize(path) / dt / 1e6, "examples": result.n_examples,
            "ok": result.error is None}


def _helper(*args: str) -> dict:
    return run_json([PY, "-m", "bench.validation", *args], cwd=ROOT)


def run(cfg: Config) -> list[Row]:
    from bench import data

    path = str(data.chat_file(50))
    big = str(data.chat_file(128 if cfg.quick else 512))
    warm = str(data.chat_file(1))
    size_mb = os.path.getsize(path) / 1e6
    ceil, par, single, ratio, ratio1, cpu_ratio, cpu_ratio1, same = [], [], [], [], [], [], [], []
    for r in range(cfg.repeat):
        c = _helper("ceiling", path)
        v = _helper("validate", path)
        v1 = _helper("validate1", path)
        ceil.append(c["mb_s"])
        par.append(v["mb_s"])
        single.append(v1["mb_s"])
        ratio.append(v["mb_s"] / c["mb_s"])
        ratio1.append(v1["mb_s"] / c["mb_s"])
        same.append(c["recipe_tokens"] == v["billing_tokens"] == v1["billing_tokens"])
        # what an unloaded 2-core machine would show: CPU seconds of the ceiling ÷ CPU seconds of the busier
        # validation process (its critical path when each process has a core of its own)
        cpu_ratio.append(c["cpu"] / max(v["cpu_self"], v["cpu_children"], 1e-9))
        cpu_ratio1.append(c["cpu"] / max(v1["cpu_self"], 1e-9))
        log(f"validation round {r + 1}/{cfg.repeat}: ceiling {c['mb_s']:.1f} MB/s, validate {v['mb_s']:.1f} MB/s "
            f"(1 process {v1['mb_s']:.1f}) → {ratio[-1]:.2f}")
    mem = [_helper("memory", big, warm) for _ in range(max(1, min(3, cfg.repeat)))]
    for m in mem:
        log(f"validation memory: +{m['delta_mb']:.0f} MB above a {m['baseline_mb']:.0f} MB baseline; largest worker "
            f"peak {m['child_peak_mb']:.0f} MB; {m['mb_s']:.1f} MB/s")
    big_mb = os.path.getsize(big) / 1e6
    note = f"{size_mb:.0f} MB chat JSONL (EN+JA), {MODEL} ({ENCODING})"
    r = Summary.of(ratio)
    return [
        Row("validation", "raw tiktoken encode_ordinary, 1 thread (ceiling)", Summary.of(ceil), "MB/s", note=note),
        Row("validation", "validate_file (default workers)", Summary.of(par), "MB/s", Summary.of(ratio),
            "≥ 4, counts identical", r.median >= 4 and all(same),
            note=f"billing tokens identical to tiktoken's in every round: {'yes' if all(same) else 'NO'}"),
        Row("validation", "validate_file (default workers), CPU-time projection for 2 idle cores", None, "",
            Summary.of(cpu_ratio), "(diagnostic)", None,
            note="ceiling CPU s ÷ the busier validation process's CPU s: what 2 unloaded cores would give"),
        Row("validation", "validate_file, workers=1", Summary.of(single), "MB/s", Summary.of(ratio1),
            "(diagnostic)", None, note="single-core efficiency"),
        Row("validation", "validate_file, workers=1, CPU time (ceiling CPU s ÷ its CPU s)", None, "",
            Summary.of(cpu_ratio1), "(diagnostic)", None, note="single-core efficiency, insensitive to neighbours"),
        Row("validation", f"peak RSS above baseline, {big_mb:.0f} MB file", Summary.of([m["delta_mb"] for m in mem]),
            "MB", None, "< 150 MB", max(m["delta_mb"] for m in mem) < 150 and max(m["child_delta_mb"] for m in mem)
            < 150, note=f"baseline {mem[0]['baseline_mb']:.0f} MB; largest worker's peak RSS "
            f"{max(m['child_peak_mb'] for m in mem):.0f} MB; {Summary.of([m['mb_s'] for m in mem]).median:.1f} MB/s",
            digits=0),
    ]


def main(argv: list[str]) -> None:
    kind, path = argv[0], argv[1]
    if kind == "ceiling":
        out = ceiling(path)
    elif kind == "validate":
        out = validate(path, None)
    elif kind == "validate1":
        out = validate(path, 1)
    elif kind == "memory":
        out = memory(path, argv[2])
    else:
        raise SystemExit(f"unknown helper {kind}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])

"""A job's events and checkpoints, derived on read from a compact log kept in the job row.

The simulator is a pure function of (job, virtual time), so what a job went through needs only a few
facts to be replayed: the job row keeps `log`, a list of entries, each either

- an event that cannot be derived (creation, validation, start, pause/resume/cancel, failure, success):
  `["e", created_at, message, level, type, data]`, one event; or
- a run of training steps under one timing: `["r", started, base, step_seconds, first, last]`, whose
  events (a metrics event per reported step, a checkpoint event per kept epoch) are computed from the job's
  seed and plan. Consecutive runs of one running stage merge, so a log stays a handful of entries.

Jobs from a schema-1 database (events and checkpoints stored as rows) were migrated into literal events
carrying their stored id as a 7th element and checkpoint entries `["c", created_at, step, metrics, name,
id]` (no event of their own); both keep the ids clients already hold.

An event's position in the derived sequence (0 = "Created fine-tuning job") is its identity: its id is a
keyed encoding of (job id, position), so ids are stable, cursors decode to a position in O(1), and any
page is computed in O(page × log steps) whatever the job's size. Checkpoints are derived the same way.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.limits import MAX_METRIC_EVENTS
from mockserver.jobs import simulator

__all__ = ["Context", "context_of", "extend", "count", "event_at", "events", "page", "event_id", "event_position",
           "checkpoints", "checkpoint_id", "results_csv"]

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_TAIL = 6                       # characters encoding the position
_SPACE = len(_ALNUM) ** _TAIL


@dataclass(frozen=True, slots=True)
class Context:
    """What the derivation needs from the job row."""

    job_id: str
    seed: int
    total: int
    validation: bool
    steps_per_epoch: int
    final_model: str

    def reported(self, step: int) -> bool:
        return simulator.reported(step, self.total)

    def checkpoint_steps(self) -> tuple[int, ...]:
        return simulator.checkpoint_steps(self.total, self.steps_per_epoch) if self.total else ()


def context_of(job: dict[str, Any], final_model: str) -> Context:
    """The context from a job's fields (a JobRow's `model_dump()` or a row)."""
    total = job.get("total_steps") or 0
    plan = job.get("plan")
    spe = math.ceil(job["n_examples"] / max(1, plan["batch_size"])) if plan and job.get("n_examples") else max(1, total)
    return Context(job["id"], job["seed"], total, job.get("validation_file") is not None, spe, final_model)


# --- the log ------------------------------------------------------------------------------------------

def extend(log: list | None, entries: Iterable[Any]) -> list:
    """`log` followed by the simulator's new entries (NewEvent or StepRun); a run continuing the last
    one (same anchor and timing, next step) merges into it."""
    out = [list(e) for e in log or []]
    for e in entries:
        if isinstance(e, simulator.StepRun):
            last = out[-1] if out else None
            if last and last[0] == "r" and last[1:4] == [e.started, e.base, e.step] and last[5] + 1 == e.first:
                last[5] = e.last
            else:
                out.append(["r", e.started, e.base, e.step, e.first, e.last])
        else:
            out.append(["e", int(e.created_at), e.message, e.level, e.type, e.data])
    return out


def _reported_upto(ctx: Context, a: int, b: int) -> int:
    """Reported steps in [a, b]."""
    if b < a:
        return 0
    if ctx.total <= MAX_METRIC_EVENTS:
        return b - a + 1
    stride = math.ceil(ctx.total / MAX_METRIC_EVENTS)
    n = b // stride - (a - 1) // stride
    n += a <= 1 <= b
    n += a <= ctx.total <= b and ctx.total % stride != 0
    return n


def _ckpt_events(ctx: Context, a: int, b: int) -> int:
    return sum(1 for s in ctx.checkpoint_steps() if a <= s <= b and s != ctx.total)


def _run_events_to(ctx: Context, first: int, s: int) -> int:
    """Events of a run from step `first` through step `s`."""
    return _reported_upto(ctx, first, s) + _ckpt_events(ctx, first, s)


def _size(ctx: Context, entry: Sequence) -> int:
    kind = entry[0]
    return 1 if kind == "e" else 0 if kind == "c" else _run_events_to(ctx, entry[4], entry[5])


def count(log: list | None, ctx: Context) -> int:
    return sum(_size(ctx, e) for e in log or [])


def _step_events(ctx: Context, run: Sequence, step: int, ckpts: tuple[int, ...] | None = None) -> list[simulator.NewEvent]:
    """The events of one step of a run: its metrics when reported, its checkpoint's when it keeps one. `ckpts`:
    `ctx.checkpoint_steps()`, when the caller has it."""
    at = run[1] + (step - run[2]) * run[3]
    total = ctx.total
    out = [simulator.metric_event(at, ctx.seed, step, total, ctx.validation)] \
        if total <= MAX_METRIC_EVENTS or ctx.reported(step) else []
    if step != total and step in (ctx.checkpoint_steps() if ckpts is None else ckpts):
        name = simulator.checkpoint_name(ctx.final_model, step, final=False)
        out.append(simulator.NewEvent(at, f"Checkpoint created at step {step} with Snapshot ID: {name}"))
    return out


def _step_of(ctx: Context, run: Sequence, k: int) -> int:
    """The step of a run's k-th event (0-based): the first step whose running count exceeds k."""
    first, last = run[4], run[5]
    lo, hi = first, last
    while lo < hi:
        mid = (lo + hi) // 2
        if _run_events_to(ctx, first, mid) > k:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _in_run(ctx: Context, run: Sequence, k: int) -> simulator.NewEvent:
    step = _step_of(ctx, run, k)
    return _step_events(ctx, run, step)[k - _run_events_to(ctx, run[4], step - 1)]


def _run_desc(ctx: Context, run: Sequence, k: int) -> Iterator[simulator.NewEvent]:
    """A run's events from its k-th back to its first: one bisection, then step by step."""
    step = _step_of(ctx, run, k)
    ckpts = ctx.checkpoint_steps()
    evs = _step_events(ctx, run, step, ckpts)[:k - _run_events_to(ctx, run[4], step - 1) + 1]
    first = run[4]
    while True:
        if len(evs) == 1:
            yield evs[0]
        else:
            yield from reversed(evs)
        step -= 1
        if step < first:
            return
        evs = _step_events(ctx, run, step, ckpts)


class _Index:
    """Cumulative sizes of a log's entries: position → (entry, offset) by bisection."""

    def __init__(self, log: list, ctx: Context) -> None:
        self.log, self.ctx = log, ctx
        self._id_key: tuple[str, int] | None = None
        self.ends: list[int] = []
        n = 0
        for e in log:
            n += _size(ctx, e)
            self.ends.append(n)

    def entry(self, pos: int) -> tuple[Sequence, int]:
        i = bisect.bisect_right(self.ends, pos)
        return self.log[i], pos - (self.ends[i - 1] if i else 0)

    def event(self, pos: int) -> simulator.NewEvent:
        entry, offset = self.entry(pos)
        if entry[0] == "e":
            return simulator.NewEvent(entry[1], entry[2], level=entry[3], type=entry[4], data=entry[5])
        return _in_run(self.ctx, entry, offset)

    def event_id(self, pos: int) -> str:
        entry, _ = self.entry(pos)
        return entry[6] if entry[0] == "e" and len(entry) > 6 else self.derived_id(pos)

    def derived_id(self, pos: int) -> str:
        """`event_id(job, pos)`, the job's key looked up once per index."""
        key = self._id_key
        if key is None:
            key = self._id_key = _key(f"event:{self.ctx.job_id}")
        return f"ftevent-{key[0]}{_tail((pos + key[1]) % _SPACE)}"

    def desc(self, start: int) -> Iterator[tuple[int, str, simulator.NewEvent]]:
        """(position, id, event) from `start` back to the first event."""
        i = bisect.bisect_right(self.ends, start)
        pos, offset = start, start - (self.ends[i - 1] if i else 0)
        while i >= 0 and pos >= 0:
            entry = self.log[i]
            if entry[0] == "e":
                yield pos, self.event_id(pos), self.event(pos)
                pos -= 1
            elif entry[0] == "r":
                for ev in _run_desc(self.ctx, entry, offset):
                    yield pos, self.derived_id(pos), ev
                    pos -= 1
            i -= 1
            offset = _size(self.ctx, self.log[i]) - 1 if i >= 0 else 0


def event_at(log: list, ctx: Context, pos: int) -> simulator.NewEvent:
    return _Index(log, ctx).event(pos)


def events(log: list, ctx: Context) -> list[simulator.NewEvent]:
    """Every event, oldest first (tests and small jobs; a page is cheaper)."""
    index = _Index(log, ctx)
    return [index.event(p) for p in range(index.ends[-1] if index.ends else 0)]


def page(log: list, ctx: Context, *, total: int, limit: int, before: int | None) -> tuple[list, bool]:
    """Newest first: up to `limit` (position, id, event) triples older than position `before` (all when None)."""
    start = total - 1 if before is None else before - 1
    stop = max(-1, start - limit)
    rows = list(itertools.islice(_Index(log, ctx).desc(start), start - stop)) if start >= 0 else []
    return rows, stop > -1


# --- ids -------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _key(scope: str) -> tuple[str, int]:
    digest = hashlib.blake2b(scope.encode(), digest_size=24).digest()
    n = int.from_bytes(digest[:16], "big")
    head = "".join(_ALNUM[(n >> (6 * i)) % 62] for i in range(18))
    return head, int.from_bytes(digest[16:], "big") % _SPACE


_PAIRS = tuple(a + b for b in _ALNUM for a in _ALNUM)   # _PAIRS[v] = digits v % 62, v // 62 (v < 62²)


def _tail(v: int) -> str:
    """The _TAIL (6) base-62 digits of 0 <= v < _SPACE, least significant first (two at a time: a table of
    the 3,844 pairs; an events page encodes one id per event)."""
    v, low = divmod(v, 3844)
    high, mid = divmod(v, 3844)
    return _PAIRS[low] + _PAIRS[mid] + _PAIRS[high]


def _encode(prefix: str, scope: str, position: int) -> str:
    head, mask = _key(scope)
    return f"{prefix}{head}{_tail((position + mask) % _SPACE)}"


def _decode(prefix: str, scope: str, value: str) -> int | None:
    head, mask = _key(scope)
    if not value.startswith(prefix + head) or len(value) != len(prefix) + 18 + _TAIL:
        return None
    v = 0
    for i, ch in enumerate(value[len(prefix) + 18:]):
        d = _ALNUM.find(ch)
        if d < 0:
            return None
        v += d * 62 ** i
    return (v - mask) % _SPACE


def event_id(job_id: str, position: int) -> str:
    return _encode("ftevent-", f"event:{job_id}", position)


def event_position(job_id: str, value: str, log: list | None = None) -> int | None:
    """The position an event id names, or None when it is not one of this job's ids."""
    pos = _decode("ftevent-", f"event:{job_id}", value)
    if pos is None and log:   # a migrated job's stored ids: its log has only literal events
        stored = [e[6] if e[0] == "e" and len(e) > 6 else None for e in log if e[0] != "c"]
        pos = stored.index(value) if value in stored else None
    return pos


def checkpoint_id(job_id: str, step: int) -> str:
    return _encode("ftckpt_", f"checkpoint:{job_id}", step)


# --- checkpoints and the results file --------------------------------------------------------------------

def _step_time(log: list, step: int) -> float | None:
    for e in log:
        if e[0] == "r" and e[4] <= step <= e[5]:
            return e[1] + (step - e[2]) * e[3]
    return None


def checkpoints(log: list, ctx: Context, steps_done: int) -> list[dict]:
    """The job's checkpoints, newest first, as wire objects."""
    legacy = [e for e in log if e[0] == "c"]
    if legacy:
        return [{"object": "fine_tuning.job.checkpoint", "id": e[5], "created_at": e[1], "fine_tuned_model_checkpoint": e[4],
                 "fine_tuning_job_id": ctx.job_id, "metrics": e[3], "step_number": e[2]} for e in reversed(legacy)]
    out = []
    for step in reversed(ctx.checkpoint_steps()):
        at = _step_time(log, step) if step <= steps_done else None
        if at is None:
            continue
        m = simulator.metrics_at(ctx.seed, step, ctx.total, validation=ctx.validation)
        metrics: dict[str, float] = {"step": step, **m}
        if ctx.validation:
            metrics |= {"full_valid_loss": m["valid_loss"], "full_valid_mean_token_accuracy": m["valid_mean_token_accuracy"]}
        out.append({"object": "fine_tuning.job.checkpoint", "id": checkpoint_id(ctx.job_id, step), "created_at": int(at),
                    "fine_tuned_model_checkpoint": simulator.checkpoint_name(ctx.final_model, step, final=step == ctx.total),
                    "fine_tuning_job_id": ctx.job_id, "metrics": metrics, "step_number": step})
    return out


def results_csv(ctx: Context) -> bytes:
    """The `fine-tune-results` file's stored content (base64 of the step metrics CSV), as written before."""
    import base64

    return base64.b64encode(simulator.results_csv(ctx.seed, ctx.total, validation=ctx.validation))

"""Simulated training: a pure function from (job state, virtual now) to the changes, events and checkpoints.

Transitions (reference §6.2); anything else is refused by `check_action`:

    validating_files ──files ok──> queued ──> running ──> succeeded
            └──invalid file──> failed      ├──pause──> paused ──resume──> queued
    any non-terminal ──cancel──> cancelled  └──(forced)──> failed

Durations are simulated seconds scaled by the clock policy (zero under `immediate`). Loss and accuracy
are deterministic functions of the job seed and the step, so a replay gives identical metrics.
"""

from __future__ import annotations

import _random
import functools
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

from contracts.limits import CHECKPOINTS_KEPT, MAX_METRIC_EVENTS, default_epochs
from mockserver.ids import base62

__all__ = ["TERMINAL", "EDGES", "Timing", "Plan", "NewEvent", "StepRun", "NewCheckpoint", "Effects", "advance",
           "check_action", "method_echo", "resolve_plan", "metrics_at", "metric_event", "reported", "model_name",
           "checkpoint_name", "checkpoint_steps", "results_csv", "SIMULATED_SECONDS"]

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
EDGES: dict[str, frozenset[str]] = {
    "validating_files": frozenset({"queued", "failed", "cancelled"}),
    "queued": frozenset({"running", "failed", "cancelled"}),
    "running": frozenset({"succeeded", "failed", "cancelled", "paused"}),
    "paused": frozenset({"queued", "cancelled"}),
    "succeeded": frozenset(), "failed": frozenset(), "cancelled": frozenset(),
}
# Simulated seconds per stage at time scale 1 (a 10-example job: 30 + 15 + 100 × 3 + 15 = 360 s).
SIMULATED_SECONDS = {"validate": 30.0, "queue": 15.0, "step": 3.0, "finalize": 15.0}


@dataclass(frozen=True, slots=True)
class Timing:
    validate: float
    queue: float
    step: float
    finalize: float

    @classmethod
    def scaled(cls, duration) -> Timing:
        return cls(**{k: duration(v) for k, v in SIMULATED_SECONDS.items()})


@dataclass(frozen=True, slots=True)
class Plan:
    """What validation decided: sizes and the resolved hyperparameters."""

    n_examples: int
    billing_tokens: int
    n_epochs: int
    batch_size: int
    learning_rate_multiplier: float
    beta: float | None = None

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.n_examples / self.batch_size)

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.n_epochs

    @property
    def trained_tokens(self) -> int:
        return self.n_epochs * self.billing_tokens

    def hyperparameters(self, method: str) -> dict[str, Any]:
        hp: dict[str, Any] = {"batch_size": self.batch_size, "learning_rate_multiplier": self.learning_rate_multiplier,
                              "n_epochs": self.n_epochs}
        if method == "dpo":
            hp["beta"] = self.beta
        return hp


@dataclass(frozen=True, slots=True)
class NewEvent:
    created_at: float
    message: str
    level: str = "info"
    type: str = "message"
    data: Any = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StepRun:
    """Training steps `first`..`last` of a running stage that began at virtual time `started` with
    `base` steps done, at `step` virtual seconds per step: their metrics and checkpoint events are
    derived on read (mockserver.history), never materialised here."""

    started: float
    base: int
    step: float
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class NewCheckpoint:
    created_at: float
    step: int
    name: str


@dataclass
class Effects:
    """What one `advance` call decided; empty when nothing is due yet."""

    changes: dict[str, Any] = field(default_factory=dict)
    events: list[NewEvent | StepRun] = field(default_factory=list)
    checkpoints: list[NewCheckpoint] = field(default_factory=list)
    succeeded_at: float | None = None
    needs_validation: bool = False

    def __bool__(self) -> bool:
        return bool(self.changes or self.events or self.checkpoints)


def resolve_plan(requested: dict[str, Any], *, n_examples: int, billing_tokens: int, base_model: str,
                 method: str) -> Plan:
    """`auto` hyperparameters as the emulator resolves them (README: "auto hyperparameters")."""
    epochs = requested.get("n_epochs", "auto")
    batch = requested.get("batch_size", "auto")
    lr = requested.get("learning_rate_multiplier", "auto")
    beta = requested.get("beta", "auto")
    return Plan(
        n_examples=n_examples, billing_tokens=billing_tokens,
        n_epochs=default_epochs(n_examples) if epochs == "auto" else int(epochs),
        batch_size=max(1, min(256, round(n_examples * 0.002))) if batch == "auto" else int(batch),
        learning_rate_multiplier=(2.0 if base_model.startswith("gpt-3.5") else 1.8) if lr == "auto" else float(lr),
        beta=(0.1 if beta == "auto" else float(beta)) if method == "dpo" else None)


def metrics_at(seed: int, step: int, total: int, *, validation: bool) -> dict[str, float]:
    """Loss falls with noise and accuracy rises, deterministically for (seed, step).

    The noise is `random.Random(seed * 1_000_003 + step).gauss(0, σ)` drawn two or three times, computed here
    without the Python layers around the generator (a metric event is derived per step on every read of a
    job's events: this is most of an events page's cost): `_random.Random` is the generator `random.Random`
    subclasses, seeded the same way, and `_gauss_pair` is `random.Random.gauss`'s own computation of a pair
    (its first call draws two numbers and keeps the second value for the next call).
    `tests/unit/test_simulator.py` checks both against `random.Random` itself."""
    loss, acc, v, vacc = _metrics(seed, step, total, validation)
    out = {"train_loss": loss, "train_mean_token_accuracy": acc}
    if validation:
        out |= {"valid_loss": v, "valid_mean_token_accuracy": vacc}
    return out


def _metrics(seed: int, step: int, total: int, validation: bool) -> tuple[float, float, float, float]:
    """`metrics_at`'s values (train loss, train accuracy, valid loss, valid accuracy; 0.0 for the last two
    without validation), as a tuple: the events page builds its own dict (`metric_event`)."""
    draw = _random.Random(seed * 1_000_003 + step).random
    x2pi = draw() * _TWOPI                             # _gauss_pair, inlined (one call less per step)
    g2rad = math.sqrt(-2.0 * math.log(1.0 - draw()))
    g1, g2 = math.cos(x2pi) * g2rad, math.sin(x2pi) * g2rad
    progress = step / max(total, 1)
    start, floor = 1.6 + (seed % 7) * 0.05, 0.05 + (seed % 5) * 0.01
    base = floor + (start - floor) * math.exp(-4.0 * progress)
    loss = max(0.0001, base * (1 + (0 + g1 * 0.08)))
    acc = min(1.0, max(0.0, 1.0 - base / (start + 0.2) + (0 + g2 * 0.015)))
    if not validation:
        return round(loss, 5), round(acc, 5), 0.0, 0.0
    v = max(0.0001, base * 1.15 * (1 + (0 + _gauss_pair(draw)[0] * 0.06)))
    return round(loss, 5), round(acc, 5), round(v, 5), round(max(0.0, acc - 0.03), 5)


_TWOPI = 2.0 * math.pi   # random.TWOPI


def _gauss_pair(draw: Any) -> tuple[float, float]:
    """The two standard normal values `random.Random.gauss` makes from two draws of `draw` (random())."""
    x2pi = draw() * _TWOPI
    g2rad = math.sqrt(-2.0 * math.log(1.0 - draw()))
    return math.cos(x2pi) * g2rad, math.sin(x2pi) * g2rad


def _token(seed_text: str) -> str:
    return base62(hashlib.sha256(seed_text.encode()).digest(), 8)


def model_name(base: str, org_slug: str, suffix: str, token: str) -> str:
    """`ft:{base}:{org}:{suffix}:{8 chars}` (reference §6.5)."""
    return f"ft:{base}:{org_slug}:{suffix}:{token}"


def checkpoint_name(final_model: str, step: int, *, final: bool) -> str:
    """The last checkpoint is the final model itself; earlier ones get their own id and `:ckpt-step-N`."""
    if final:
        return final_model
    prefix = final_model.rsplit(":", 1)[0]
    return f"{prefix}:{_token(f'{final_model}:{step}')}:ckpt-step-{step}"


def method_echo(method: str, hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """The job's `method` object: `{"type": m, m: {"hyperparameters": {...}}}`."""
    return {"type": method, method: {"hyperparameters": dict(hyperparameters)}}


def check_action(status: str, action: str) -> str | None:
    """The status an action moves to, or None when the action is not allowed from `status`."""
    if action == "cancel":
        return "cancelled" if status not in TERMINAL else None
    if action == "pause":
        return "paused" if status == "running" else None
    if action == "resume":
        return "queued" if status == "paused" else None
    raise ValueError(action)


def metric_event(at: float, seed: int, step: int, total: int, validation: bool) -> NewEvent:
    loss, acc, v, vacc = _metrics(seed, step, total, validation)
    if not validation:
        return NewEvent(at, f"Step {step}/{total}: training loss={loss:.2f}", "info", "metrics",
                        {"step": step, "train_loss": loss, "train_mean_token_accuracy": acc, "total_steps": total})
    data: dict[str, Any] = {"step": step, "train_loss": loss, "train_mean_token_accuracy": acc, "total_steps": total,
                            "valid_loss": v, "valid_mean_token_accuracy": vacc}
    message = f"Step {step}/{total}: training loss={loss:.2f}, validation loss={v:.2f}"
    if step == total:
        data |= {"full_valid_loss": v, "full_valid_mean_token_accuracy": vacc}
        message += f", full validation loss={v:.2f}"
    return NewEvent(at, message, "info", "metrics", data)


def reported(step: int, total: int) -> bool:
    """Every step for ordinary jobs; huge jobs report at most MAX_METRIC_EVENTS evenly spread steps."""
    if total <= MAX_METRIC_EVENTS:
        return True
    stride = math.ceil(total / MAX_METRIC_EVENTS)
    return step == 1 or step == total or step % stride == 0


@functools.lru_cache(maxsize=1024)
def checkpoint_steps(total: int, steps_per_epoch: int) -> tuple[int, ...]:
    """The steps that leave a checkpoint: the end of each of the last CHECKPOINTS_KEPT epochs."""
    epochs = total // steps_per_epoch
    return tuple(e * steps_per_epoch for e in range(max(1, epochs - CHECKPOINTS_KEPT + 1), epochs + 1))


def advance(job: dict[str, Any], *, now: float, timing: Timing, plan: Plan | None, validation_error: dict | None,
            final_model: str) -> Effects:
    """Move `job` (a dict of JobRow fields) as far as virtual time `now` allows."""
    fx = Effects()
    state = dict(job)
    while state["status"] not in TERMINAL and state["status"] != "paused":
        before = len(fx.events), state["status"]
        _STAGES[state["status"]](state, fx, now, timing, plan, validation_error, final_model)
        if (len(fx.events), state["status"]) == before or fx.needs_validation:
            break
    return fx


def _set(state: dict, fx: Effects, **changes: Any) -> None:
    state.update(changes)
    fx.changes.update(changes)


def _fail(state: dict, fx: Effects, at: float, error: dict) -> None:
    _set(state, fx, status="failed", error=error, estimated_finish=None, stage_started=at)
    fx.events.append(NewEvent(at, error["message"], level="error"))


def _forced(state: dict, stage: str) -> dict | None:
    forced = state.get("forced")
    if forced and forced.get("stage") == stage:
        return {"code": forced.get("code") or "server_error", "message": forced.get("message") or
                "The job failed due to an internal error.", "param": forced.get("param")}
    return None


def _validating(state, fx, now, timing, plan, validation_error, final_model) -> None:
    end = state["stage_started"] + timing.validate
    if now < end:
        return
    forced = _forced(state, "validating_files")
    if forced:
        return _fail(state, fx, end, forced)
    if plan is None and validation_error is None:
        fx.needs_validation = True
        return None
    if validation_error is not None:
        return _fail(state, fx, end, validation_error)
    _set(state, fx, status="queued", stage_started=end, n_examples=plan.n_examples,
         billing_tokens=plan.billing_tokens, total_steps=plan.total_steps)
    fx.events.append(NewEvent(end, "Files validated, moving job to queued state"))
    return None


def _queued(state, fx, now, timing, plan, validation_error, final_model) -> None:
    forced = _forced(state, "queued")
    if forced:
        return _fail(state, fx, max(state["stage_started"], min(now, state["stage_started"] + timing.queue)), forced)
    end = state["stage_started"] + timing.queue
    if now < end:
        return None
    remaining = state["total_steps"] - state["steps_done"]
    _set(state, fx, status="running", stage_started=end, steps_base=state["steps_done"],
         estimated_finish=int(end + remaining * timing.step + timing.finalize))
    if plan is not None:  # hyperparameters read "auto" until the job runs, then the resolved values
        method = (state.get("method") or {}).get("type", "supervised")
        _set(state, fx, hyperparameters=plan.hyperparameters("supervised"),
             method=method_echo(method, plan.hyperparameters(method)))
    fx.events.append(NewEvent(end, "Fine-tuning job started", data=None))
    return None


def _running(state, fx, now, timing, plan, validation_error, final_model) -> None:
    total, done, base, started = state["total_steps"], state["steps_done"], state["steps_base"], state["stage_started"]
    reachable = total if timing.step <= 0 else min(total, base + int((now - started) / timing.step + 1e-9))
    if _forced(state, "running") and reachable > done:
        reachable = done + 1
    spe = math.ceil(state["n_examples"] / max(1, plan.batch_size)) if plan else max(1, total)
    if reachable > done:
        fx.events.append(StepRun(started, base, timing.step, done + 1, reachable))
        for step in checkpoint_steps(total, spe):
            if done < step <= reachable:
                name = checkpoint_name(final_model, step, final=step == total)
                fx.checkpoints.append(NewCheckpoint(started + (step - base) * timing.step, step, name))
        _set(state, fx, steps_done=reachable)
    forced = _forced(state, "running")
    if forced and reachable > 0:
        return _fail(state, fx, started + (reachable - base) * timing.step, forced)
    finish = started + (total - base) * timing.step + timing.finalize
    if reachable == total and now >= finish:
        _set(state, fx, status="succeeded", finished_at=int(finish), fine_tuned_model=final_model,
             estimated_finish=None, stage_started=finish)
        fx.events.append(NewEvent(finish, f"New fine-tuned model created: {final_model}"))
        fx.events.append(NewEvent(finish, "The job has successfully completed"))
        fx.succeeded_at = finish
    return None


_STAGES = {"validating_files": _validating, "queued": _queued, "running": _running}


def results_csv(seed: int, total: int, *, validation: bool) -> bytes:
    """The `fine-tune-results` file: one row per step (reference §3.3 columns)."""
    lines = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
    for step in range(1, total + 1):
        m = metrics_at(seed, step, total, validation=validation)
        valid = f"{m['valid_loss']},{m['valid_mean_token_accuracy']}" if validation else ","
        lines.append(f"{step},{m['train_loss']},{m['train_mean_token_accuracy']},{valid}")
    return ("\n".join(lines) + "\n").encode()

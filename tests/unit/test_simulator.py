"""The pure simulator: transition table, timing, hyperparameter rules, names, metrics determinism."""

from __future__ import annotations

import pytest

from contracts.jobs import normalise_suffix
from contracts.limits import default_epochs
from mockserver.jobs import history
from mockserver.jobs import simulator as sim

NO_TIME = sim.Timing(0, 0, 0, 0)
PLAN = sim.Plan(n_examples=10, billing_tokens=448, n_epochs=10, batch_size=1, learning_rate_multiplier=2.0)


def expanded(fx: sim.Effects, total: int, spe: int = 10, final: str = "m") -> list[sim.NewEvent]:
    """The events the effects stand for, as the history derives them."""
    ctx = history.Context("ftjob-test", 7, total, False, spe, final)
    return history.events(history.extend(None, fx.events), ctx)


def job(**kw) -> dict:
    base = {"status": "validating_files", "stage_started": 0.0, "steps_done": 0, "steps_base": 0, "total_steps": None,
            "n_examples": None, "seed": 7, "validation_file": None, "forced": None,
            "method": {"type": "supervised"}}
    return base | kw


@pytest.mark.parametrize("status,action,target", [
    ("validating_files", "cancel", "cancelled"), ("queued", "cancel", "cancelled"), ("running", "cancel", "cancelled"),
    ("paused", "cancel", "cancelled"), ("running", "pause", "paused"), ("paused", "resume", "queued"),
    ("succeeded", "cancel", None), ("failed", "cancel", None), ("cancelled", "cancel", None),
    ("queued", "pause", None), ("validating_files", "pause", None), ("running", "resume", None),
    ("succeeded", "pause", None), ("failed", "resume", None),
])
def test_action_table(status, action, target):
    assert sim.check_action(status, action) == target
    if target is not None:
        assert target in sim.EDGES[status]


def test_terminal_states_have_no_edges():
    assert all(not sim.EDGES[s] for s in sim.TERMINAL)


def test_immediate_runs_to_success_in_one_call():
    fx = sim.advance(job(), now=0.0, timing=NO_TIME, plan=PLAN, validation_error=None, final_model="ft:x:personal::abc")
    assert fx.changes["status"] == "succeeded" and fx.changes["steps_done"] == 100
    messages = [e.message for e in expanded(fx, 100, final="ft:x:personal::abc")]
    assert messages[0] == "Files validated, moving job to queued state" and messages[1] == "Fine-tuning job started"
    assert messages[-2:] == ["New fine-tuned model created: ft:x:personal::abc", "The job has successfully completed"]
    assert [c.step for c in fx.checkpoints] == [80, 90, 100]
    assert fx.changes["hyperparameters"] == {"batch_size": 1, "learning_rate_multiplier": 2.0, "n_epochs": 10}


def test_validation_is_requested_only_when_due():
    timing = sim.Timing(30, 15, 3, 15)
    assert not sim.advance(job(), now=29.9, timing=timing, plan=None, validation_error=None, final_model="m")
    fx = sim.advance(job(), now=30, timing=timing, plan=None, validation_error=None, final_model="m")
    assert fx.needs_validation and not fx.changes


def test_realtime_steps_follow_the_clock():
    timing = sim.Timing(30, 15, 3, 15)
    fx = sim.advance(job(), now=30 + 15 + 3 * 7 + 1, timing=timing, plan=PLAN, validation_error=None, final_model="m")
    assert fx.changes["status"] == "running" and fx.changes["steps_done"] == 7
    assert [e.data["step"] for e in expanded(fx, 100) if e.type == "metrics"] == list(range(1, 8))
    assert fx.changes["estimated_finish"] == int(45 + 100 * 3 + 15)


def test_validation_error_fails_with_error_event():
    err = {"code": "invalid_n_examples", "param": "training_file", "message": "Training file has 3 example(s)"}
    fx = sim.advance(job(), now=0, timing=NO_TIME, plan=None, validation_error=err, final_model="m")
    assert fx.changes["status"] == "failed" and fx.changes["error"] == err
    assert (fx.events[-1].level, fx.events[-1].message) == ("error", err["message"])


def test_paused_job_does_not_move():
    state = job(status="paused", total_steps=100, steps_done=20, n_examples=10)
    assert not sim.advance(state, now=1e9, timing=NO_TIME, plan=PLAN, validation_error=None, final_model="m")


def test_forced_failure_in_running_stops_after_a_step():
    forced = {"stage": "running", "code": "server_error", "message": "boom"}
    fx = sim.advance(job(forced=forced), now=1e9, timing=NO_TIME, plan=PLAN, validation_error=None, final_model="m")
    assert fx.changes["status"] == "failed" and fx.changes["steps_done"] == 1
    assert fx.changes["error"]["message"] == "boom"


def test_huge_jobs_thin_metric_events():
    plan = sim.Plan(n_examples=100_000, billing_tokens=1, n_epochs=1, batch_size=1, learning_rate_multiplier=1.8)
    fx = sim.advance(job(), now=0, timing=NO_TIME, plan=plan, validation_error=None, final_model="m")
    steps = [e.data["step"] for e in expanded(fx, 100_000, spe=100_000) if e.type == "metrics"]
    assert steps[0] == 1 and steps[-1] == 100_000 and len(steps) <= 402


@pytest.mark.parametrize("n,epochs", [(3, 25), (5, 20), (10, 10), (33, 3), (100, 3), (8333, 3), (8334, 2), (30000, 1)])
def test_default_epochs_rule(n, epochs):
    assert default_epochs(n) == epochs


def test_auto_plan_and_totals():
    plan = sim.resolve_plan({"n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto"},
                            n_examples=10, billing_tokens=448, base_model="gpt-3.5-turbo-0613", method="supervised")
    assert (plan.n_epochs, plan.batch_size, plan.learning_rate_multiplier) == (10, 1, 2.0)
    assert (plan.total_steps, plan.trained_tokens) == (100, 4480)
    big = sim.resolve_plan({"batch_size": "auto"}, n_examples=25_000, billing_tokens=1, base_model="gpt-4o-mini-2024-07-18",
                           method="dpo")
    assert (big.batch_size, big.learning_rate_multiplier, big.beta, big.n_epochs) == (50, 1.8, 0.1, 1)


def _metrics_as_first_written(seed: int, step: int, total: int, *, validation: bool) -> dict[str, float]:
    """metrics_at before its draws were inlined: random.Random(...).gauss, the values every stored history and
    every client already holds."""
    import math
    import random

    rng = random.Random(seed * 1_000_003 + step)
    progress = step / max(total, 1)
    start, floor = 1.6 + (seed % 7) * 0.05, 0.05 + (seed % 5) * 0.01
    base = floor + (start - floor) * math.exp(-4.0 * progress)
    loss = max(0.0001, base * (1 + rng.gauss(0, 0.08)))
    acc = min(1.0, max(0.0, 1.0 - base / (start + 0.2) + rng.gauss(0, 0.015)))
    out = {"train_loss": round(loss, 5), "train_mean_token_accuracy": round(acc, 5)}
    if validation:
        v = max(0.0001, base * 1.15 * (1 + rng.gauss(0, 0.06)))
        out |= {"valid_loss": round(v, 5), "valid_mean_token_accuracy": round(max(0.0, acc - 0.03), 5)}
    return out


def test_metrics_draw_exactly_what_random_Random_draws():
    """Canary for metrics_at's inlined draws (`_random.Random`, random.Random.gauss's pair): the same values as
    random.Random itself, for seeds as jobs get them (63 bits), small ones, every step of small jobs and
    steps of huge ones, with and without validation."""
    import random

    rnd = random.Random(20261201)
    cases = [(seed, step, total) for seed in (0, 1, 42, 2**63 - 1) for total in (1, 30) for step in range(1, total + 1)]
    for _ in range(3000):
        total = rnd.randrange(1, 200_000)
        cases.append((rnd.randrange(2**63), rnd.randrange(1, total + 1), total))
    for seed, step, total in cases:
        for validation in (False, True):
            assert sim.metrics_at(seed, step, total, validation=validation) == \
                _metrics_as_first_written(seed, step, total, validation=validation), (seed, step, total)
    assert issubclass(random.Random, sim._random.Random)


def test_metrics_are_deterministic_and_loss_falls():
    a = [sim.metrics_at(42, s, 300, validation=True) for s in range(1, 301)]
    assert a == [sim.metrics_at(42, s, 300, validation=True) for s in range(1, 301)]
    assert sum(m["train_loss"] for m in a[-30:]) < sum(m["train_loss"] for m in a[:30]) / 3
    assert sum(m["train_mean_token_accuracy"] for m in a[-30:]) > sum(m["train_mean_token_accuracy"] for m in a[:30])


@pytest.mark.parametrize("raw,normal", [("emoji_cls_0829", "emoji-cls-0829"), ("initial_tuning", "initial-tuning"),
                                        ("My Model!", "my-model"), ("a__b", "a-b"), (None, ""), ("recipe-ner", "recipe-ner")])
def test_suffix_normalisation(raw, normal):
    assert normalise_suffix(raw) == normal


def test_names():
    final = sim.model_name("gpt-3.5-turbo-0613", "personal", "emoji-cls-0829", "7sxxxBsQ")
    assert final == "ft:gpt-3.5-turbo-0613:personal:emoji-cls-0829:7sxxxBsQ"
    assert sim.checkpoint_name(final, 300, final=True) == final
    ck = sim.checkpoint_name(final, 200, final=False)
    assert ck.startswith("ft:gpt-3.5-turbo-0613:personal:emoji-cls-0829:") and ck.endswith(":ckpt-step-200")
    assert ck.split(":")[4] != "7sxxxBsQ" and len(ck.split(":")[4]) == 8
    assert sim.model_name("gpt-4o-mini-2024-07-18", "personal", "", "Ajo5kvNY") == "ft:gpt-4o-mini-2024-07-18:personal::Ajo5kvNY"


def test_results_csv_shape():
    rows = sim.results_csv(1, 5, validation=False).decode().splitlines()
    assert rows[0] == "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"
    assert len(rows) == 6 and rows[1].startswith("1,") and rows[1].endswith(",,")

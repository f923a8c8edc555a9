"""Derived history: pages cost their own events only, ids round-trip to positions, paging walks everything once."""

from __future__ import annotations

import pytest

from mockserver.jobs import history
from mockserver.jobs import simulator as sim

JOB = "ftjob-abcdefghijklmnopqrstuvwx"


def _log(total: int) -> tuple[list, history.Context]:
    ctx = history.Context(JOB, 7, total, True, total // 10, "ft:gpt-4o-mini-2024-07-18:personal::abcdefgh")
    log = history.extend(None, [sim.NewEvent(0, f"Created fine-tuning job: {JOB}"), sim.NewEvent(0, "Validating")])
    log = history.extend(log, [sim.NewEvent(30, "Files validated"), sim.NewEvent(45, "Fine-tuning job started"),
                               sim.StepRun(45, 0, 3.0, 1, total // 3)])
    log = history.extend(log, [sim.StepRun(45, 0, 3.0, total // 3 + 1, total // 2)])  # merges into the run
    log = history.extend(log, [sim.StepRun(45, 0, 1.5, total // 2 + 1, total), sim.NewEvent(9e4, "done")])
    return log, ctx


def test_runs_of_one_stage_merge():
    log, _ = _log(10_000)
    assert [e[0] for e in log] == ["e", "e", "e", "e", "r", "r", "e"]


@pytest.mark.parametrize("before", [None, 3, 200, -1])
def test_a_page_of_a_10000_step_job_computes_only_its_events(monkeypatch, before):
    log, ctx = _log(10_000)
    calls = []
    real = sim._metrics   # what metrics_at and metric_event draw with
    monkeypatch.setattr(sim, "_metrics", lambda *a: calls.append(a) or real(*a))
    total = history.count(log, ctx)
    before = total - 1 if before == -1 else before
    rows, _ = history.page(log, ctx, total=total, limit=20, before=before)
    assert len(rows) == min(20, before if before is not None else total) and len(calls) <= 20


def test_paging_walks_every_event_once_newest_first_and_ids_round_trip():
    for steps in (100, 10_000):
        log, ctx = _log(steps)
        every = history.events(log, ctx)
        walked, before = [], None
        while True:
            rows, more = history.page(log, ctx, total=len(every), limit=37, before=before)
            walked += rows
            if not more:
                break
            before = history.event_position(JOB, rows[-1][1])
        assert [ev for _, _, ev in walked] == list(reversed(every))
        assert [p for p, _, _ in walked] == list(range(len(every) - 1, -1, -1))
        steps_seen = [e.data["step"] for e in every if e.type == "metrics"]
        assert steps_seen == sorted(steps_seen) and steps_seen[-1] == steps
        assert len({eid for _, eid, _ in walked}) == len(every)


def test_foreign_and_malformed_ids_name_nothing():
    good = history.event_id(JOB, 5)
    assert history.event_position(JOB, good) == 5
    assert history.event_position("ftjob-other", good) is None
    assert history.event_position(JOB, good[:-1]) is None
    assert history.event_position(JOB, good[:-1] + "!") is None
    assert history.event_position(JOB, "ftevent-" + "x" * 24) is None


def _pinned_corpus() -> list:
    """Pages (several positions and sizes), checkpoints, results files and ids of 120 jobs: sizes from 1 to
    123,457 steps, seeds as jobs get them and edge ones, with and without validation."""
    import random

    rnd = random.Random(168)
    out: list = []
    for k in range(120):
        total = rnd.choice([1, 2, 7, 10, 30, 100, 250, 1000, 10_000, 123_457])
        spe = max(1, total // rnd.choice([1, 2, 3, 10]))
        seed = rnd.choice([0, 1, 42, 2**63 - 1, rnd.randrange(2**63)])
        validation = rnd.random() < 0.5
        job = f"ftjob-{rnd.randrange(10**12):024d}"
        ctx = history.Context(job, seed, total, validation, spe, f"ft:gpt-4o-mini-2024-07-18:org::{k:08d}")
        a = max(1, total // 3)
        log = history.extend(None, [sim.NewEvent(0, f"Created fine-tuning job: {job}"), sim.NewEvent(1, "Validating")])
        log = history.extend(log, [sim.NewEvent(30, "Files validated"),
                                   sim.NewEvent(45, "Fine-tuning job started", data=None), sim.StepRun(45.5, 0, 3.0, 1, a)])
        if a < total:
            log = history.extend(log, [sim.StepRun(45.5, 0, 1.25, a + 1, total)])
        log = history.extend(log, [sim.NewEvent(9e4, "New fine-tuned model created"), sim.NewEvent(9e4, "done")])
        n = history.count(log, ctx)
        for before, limit in [(None, 20), (None, 1), (None, 100), (n // 2, 20), (3, 20), (n - 1, 7), (1, 5)]:
            if before is not None and not 0 <= before <= n:
                continue
            rows, more = history.page(log, ctx, total=n, limit=limit, before=before)
            out.append([before, limit, more,
                        [[p, i, e.created_at, e.message, e.level, e.type, e.data] for p, i, e in rows]])
        out.append(history.checkpoints(log, ctx, total))
        if total <= 1000:
            out.append(history.results_csv(ctx).decode())
            out.append([[p, history.event_id(job, p)] for p in range(0, n, max(1, n // 50))])
    return out


def test_derived_history_is_byte_for_byte_what_it_was():
    """Pinned: the SHA-256 of the corpus above (JSON, dict keys in their order) as main d14db8e derived it, before
    the events page's metrics were drawn through `simulator._metrics` and ids encoded two digits at a time
    (#16, eighth round). Event ids, messages, data and their key order, checkpoints, the results file: any
    change to what an existing job's history reads is a change of this digest."""
    import hashlib
    import json

    blob = json.dumps(_pinned_corpus()).encode()
    assert (len(blob), hashlib.sha256(blob).hexdigest()) == (
        3330148, "2437be9ee656dfa3e91d5fd4fd33d9476d2ba906104ffc71dc21356e1c4c4c9b")

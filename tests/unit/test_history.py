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
    real = sim.metrics_at
    monkeypatch.setattr(sim, "metrics_at", lambda *a, **k: calls.append(a) or real(*a, **k))
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

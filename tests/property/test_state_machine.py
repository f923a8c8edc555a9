"""Random API sessions (several tenants, a manual clock) never break the emulator's invariants.

A hypothesis state machine drives the public API through the official SDK (`max_retries=0`) against an
in-process emulator in `manual` transitions at time scale 1: it uploads valid and invalid files, creates
jobs, moves the clock, cancels/pauses/resumes, deletes files and fine-tuned models and lists everything
with random page sizes. After every call it checks: status changes only along the simulator's automatic
EDGES (actions only where `check_action` allows them, else 400 `invalid_job_state`), terminal states are
sticky, `fine_tuned_model` is set iff succeeded, events are ordered, unique and immutable, paging returns
each object exactly once, tenants never see each other's objects, every body conforms to the wire
contract and no answer is a 5xx.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis.strategies as st
import openai
import pytest
from hypothesis import event
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from contracts import conformance
from mockserver.jobs.simulator import EDGES, TERMINAL, check_action
from mockserver.testing import Emulator
from tests.conftest import PIG_ROWS, chat_line

ACTIONS = ("cancel", "pause", "resume")
MAX_FILES = 6   # uploads are the slowest call (the emulator fsyncs); more files add little
# Edges a job takes by itself as time passes: EDGES minus those only an action takes.
AUTO_EDGES = {s: frozenset(t for t in targets if all(check_action(s, a) != t for a in ACTIONS))
              for s, targets in EDGES.items()}


def reachable(start: str) -> set[str]:
    """Statuses a job can reach from `start` with no action, through AUTO_EDGES."""
    seen, todo = set(), [start]
    while todo:
        for nxt in AUTO_EDGES[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def conforms(kind: str, obj: Any) -> None:
    payload = obj if isinstance(obj, dict) else obj.to_dict()
    problems = conformance.check(kind, payload)
    assert problems == [], f"{kind}: {problems}"


def valid_jsonl(n: int) -> bytes:
    return "".join(chat_line(*PIG_ROWS[i % 3]) for i in range(n)).encode()


INVALID = {"three": valid_jsonl(3), "broken": valid_jsonl(5) + b'{"messages": [{"role": "user"\n' + valid_jsonl(6)}


@dataclass
class FileRef:
    tenant: int
    id: str
    deleted: bool = False


@dataclass
class JobRef:
    tenant: int
    id: str
    status: str = "validating_files"
    model: str | None = None
    model_deleted: bool = False
    events: list[dict] = field(default_factory=list)   # newest first, as last listed


class ApiMachine(RuleBasedStateMachine):
    emu: Emulator   # set by the test

    files = Bundle("files")
    jobs = Bundle("jobs")

    def __init__(self) -> None:
        super().__init__()
        self.emu.reset()
        self.emu.set_transitions("manual", 1.0)   # pins the clock: time moves only by `advance`
        self.clients: list[openai.OpenAI] = []
        self.job_refs: dict[str, JobRef] = {}
        self.file_refs: dict[str, FileRef] = {}
        self.results: dict[int, set[str]] = {}   # tenant -> results files seen on succeeded jobs

    # --- plumbing ------------------------------------------------------------------------------------

    def call(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> tuple[Any, openai.APIStatusError | None]:
        """Run one SDK call; an error must be a 4xx in the error envelope."""
        try:
            return fn(*args, **kw), None
        except openai.APIStatusError as e:
            assert e.status_code < 500, f"{e.status_code}: {e.response.text}"
            conforms("error", e.response.json())
            return None, e

    def client(self, tenant: int) -> openai.OpenAI:
        return self.clients[tenant % len(self.clients)]

    def see(self, job: Any) -> JobRef:
        """Record an observed job object and check the status invariants against the last observation."""
        conforms("fine_tuning.job", job)
        ref = self.job_refs[job.id]
        old, new = ref.status, job.status
        assert (job.fine_tuned_model is not None) == (new == "succeeded"), (new, job.fine_tuned_model)
        if old in TERMINAL:
            assert new == old, f"terminal {old} changed to {new}"
        elif new != old:
            assert new in reachable(old), f"{old} -> {new} is not along the automatic EDGES"
        ref.status = new
        event(f"observed status: {new}")
        if new == "succeeded":
            ref.model = job.fine_tuned_model
            self.results.setdefault(ref.tenant, set()).update(job.result_files)
        return ref

    # --- rules ---------------------------------------------------------------------------------------

    @initialize(target=jobs, n=st.integers(2, 3))
    def tenants_and_a_first_job(self, n: int) -> Any:
        self.clients = [self.emu.client(api_key=f"sk-state-machine-{i}", max_retries=0) for i in range(n)]
        return self.create_job(self._upload(0, valid_jsonl(10)), "gpt-3.5-turbo-0613")

    def _upload(self, tenant: int, data: bytes) -> FileRef:
        f, err = self.call(self.client(tenant).files.create, file=("t.jsonl", io.BytesIO(data)), purpose="fine-tune")
        assert err is None
        conforms("file", f)
        ref = self.file_refs[f.id] = FileRef(tenant % len(self.clients), f.id)
        return ref

    @precondition(lambda self: len(self.file_refs) < MAX_FILES)
    @rule(target=files, tenant=st.integers(0, 2), n=st.integers(10, 12))
    def upload_valid(self, tenant: int, n: int) -> FileRef:
        return self._upload(tenant, valid_jsonl(n))

    @precondition(lambda self: len(self.file_refs) < MAX_FILES)
    @rule(target=files, tenant=st.integers(0, 2), kind=st.sampled_from(sorted(INVALID)))
    def upload_invalid(self, tenant: int, kind: str) -> FileRef:
        return self._upload(tenant, INVALID[kind])

    @rule(target=jobs, file=files, model=st.sampled_from(["gpt-3.5-turbo-0613", "gpt-4o-mini"]))
    def create_job(self, file: FileRef, model: str) -> Any:
        job, err = self.call(self.client(file.tenant).fine_tuning.jobs.create, training_file=file.id, model=model)
        if file.deleted:
            assert err is not None and err.status_code == 400 and err.param == "training_file"
            return multiple()
        assert err is None and job.status == "validating_files"
        ref = self.job_refs[job.id] = JobRef(file.tenant, job.id)
        self.see(job)
        return ref

    @rule(seconds=st.floats(0, 90))
    def advance(self, seconds: float) -> None:
        self.emu.advance(seconds)

    @rule(job=jobs, seconds=st.sampled_from([5, 15, 30, 45, 60, 90, 120, 400, 1000]))
    def advance_and_retrieve(self, job: JobRef, seconds: float) -> None:
        self.emu.advance(seconds)
        self.retrieve(job)

    @rule(job=jobs)
    def retrieve(self, job: JobRef) -> None:
        got, err = self.call(self.client(job.tenant).fine_tuning.jobs.retrieve, job.id)
        assert err is None
        self.see(got)

    @rule(job=jobs, action=st.sampled_from(ACTIONS), seconds=st.sampled_from([0, 0, 10, 40, 100]))
    def act(self, job: JobRef, action: str, seconds: float) -> None:
        if seconds:
            self.emu.advance(seconds)
        jobs_api = self.client(job.tenant).fine_tuning.jobs
        before = self.see(jobs_api.retrieve(job.id)).status   # the clock is frozen: still true below
        expected = check_action(before, action)
        event(f"{action} while {before}: {'allowed' if expected else 'refused'}")
        got, err = self.call(getattr(jobs_api, action), job.id)
        if expected is None:
            assert err is not None and (err.status_code, err.code) == (400, "invalid_job_state"), (before, action)
            assert err.param == "fine_tuning_job_id"
            return
        assert err is None and got.status == expected and expected in EDGES[before], (before, action, got)
        conforms("fine_tuning.job", got)
        assert got.fine_tuned_model is None
        job.status = expected

    @rule(file=files)
    def delete_file(self, file: FileRef) -> None:
        got, err = self.call(self.client(file.tenant).files.delete, file.id)
        if file.deleted:
            assert err is not None and err.status_code == 404 and err.param == "id"
            return
        assert err is None and got.deleted is True and got.id == file.id
        conforms("file.deleted", got)
        file.deleted = True

    @rule(job=jobs)
    def delete_model(self, job: JobRef) -> None:
        if job.model is None:
            return
        models = self.client(job.tenant).models
        got, err = self.call(models.delete, job.model)
        if job.model_deleted:
            assert err is not None and err.status_code == 404
            return
        assert err is None and got.deleted is True
        conforms("model.deleted", got)
        job.model_deleted = True
        _, err = self.call(models.retrieve, job.model)
        assert err is not None and err.status_code == 404

    @rule(tenant=st.integers(0, 2), limit=st.integers(1, 5))
    def list_files(self, tenant: int, limit: int) -> None:
        tenant %= len(self.clients)
        listed = list(self.client(tenant).files.list(limit=limit))
        ids = [f.id for f in listed]
        assert len(ids) == len(set(ids)), "a file appeared twice while paging"
        assert [f.created_at for f in listed] == sorted((f.created_at for f in listed), reverse=True)
        mine = {r.id for r in self.file_refs.values() if r.tenant == tenant and not r.deleted}
        assert mine | self.results.get(tenant, set()) <= set(ids), "a live file is missing from the listing"
        for f in listed:
            conforms("file", f)
            assert f.id in mine or (f.purpose == "fine-tune-results" and f.id not in self.file_refs), f
        others = {r.id for r in self.file_refs.values() if r.tenant != tenant}
        assert not others & set(ids), "another tenant's file is listed"

    @rule(tenant=st.integers(0, 2), limit=st.integers(1, 5))
    def list_jobs(self, tenant: int, limit: int) -> None:
        tenant %= len(self.clients)
        listed = list(self.client(tenant).fine_tuning.jobs.list(limit=limit))
        mine = [j for j in self.job_refs if self.job_refs[j].tenant == tenant]
        assert [j.id for j in listed] == mine[::-1], "paging lost, repeated or reordered a job"
        for j in listed:
            self.see(j)

    @rule(job=jobs, limit=st.integers(1, 30))
    def list_events(self, job: JobRef, limit: int) -> None:
        events = [e.to_dict() for e in self.client(job.tenant).fine_tuning.jobs.list_events(job.id, limit=limit)]
        for e in events:
            conforms("fine_tuning.job.event", e)
        ids = [e["id"] for e in events]
        assert len(ids) == len(set(ids)), "an event appeared twice"
        stamps = [e["created_at"] for e in events]
        assert stamps == sorted(stamps, reverse=True), "events are not newest first"
        if job.events:
            assert len(events) >= len(job.events), "events disappeared"
            assert events[len(events) - len(job.events):] == job.events, "a seen event disappeared or changed"
        job.events = events

    @rule(job=jobs, file=files)
    def peek_across_tenants(self, job: JobRef, file: FileRef) -> None:
        other = self.client(job.tenant + 1)
        _, err = self.call(other.fine_tuning.jobs.retrieve, job.id)
        assert err is not None and err.status_code == 404
        if file.tenant != (job.tenant + 1) % len(self.clients):
            _, err = self.call(other.files.retrieve, file.id)
            assert err is not None and err.status_code == 404

    def teardown(self) -> None:
        for c in self.clients:
            c.close()


@pytest.fixture(scope="module")
def emulator():
    emu = Emulator(transitions="manual", time_scale=1.0)
    yield emu
    emu.close()


def test_random_api_sessions_keep_the_invariants(emulator):
    ApiMachine.emu = emulator
    run_state_machine_as_test(ApiMachine)

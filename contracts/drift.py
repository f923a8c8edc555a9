"""Drift: where a re-run of a recorded workflow differs from the recording, per operation.

`compare(steps)` takes `Step`s — a recorded exchange (or a job's recorded run of retrieves) with what the
target answered when the same request was sent again — and returns `Difference`s of these kinds:

    status    HTTP status differs                 error     error type/code/param/message differs
    missing   field recorded, not sent now         extra     field sent now, never recorded
    type      JSON type differs                    null      null on one side only
    enum      a status/object/type/… value one side never sent
    event     event wording one side never had     header    response header name one side never sent
    outcome   a polled job ends in another status  duration  a job takes over 2× (and > 1 s) longer/shorter

Values that differ by nature (ids, timestamps, counts, request ids, numbers inside messages) are not
differences: ids are mapped, numbers in wording become `#`, and only the kinds above are compared.
Bodies are compared by shape (every JSON path with its types), aggregated per operation — and, for a
fine-tuning job, per job status, so a running job is compared with running jobs. An allow-list
(`AllowList`) accepts known differences; `render_markdown` writes the report.
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.cassette import ID_RE, Exchange, decode_body

__all__ = ["Step", "Difference", "AllowList", "compare", "render_markdown", "ENUM_FIELDS", "VOLATILE_HEADERS",
           "TERMINAL", "durations", "statuses_seen"]

ENUM_FIELDS = frozenset({"object", "status", "purpose", "level", "type", "finish_reason", "role", "service_tier"})
VOLATILE_HEADERS = frozenset({"date", "server", "content-length", "content-encoding", "transfer-encoding",
                              "connection", "keep-alive", "vary", "alt-svc", "via"})
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
DURATION_FACTOR = 2.0      # a job's duration differs when one is over twice the other …
DURATION_SLACK = 1.0       # … and they are more than a second apart (polling adds up to an interval)


@dataclass
class Step:
    """One recorded step and its re-run: usually one exchange each; a job's retrieves, several."""

    recorded: list[Exchange]
    observed: list[Exchange]
    polled: bool = False                  # a job's retrieves, re-run by polling
    recorded_since: float | None = None   # wall time the job was created (for the duration)
    observed_since: float | None = None

    @property
    def operation(self) -> str:
        return self.recorded[0].operation


@dataclass(frozen=True, order=True)
class Difference:
    operation: str
    kind: str
    subject: str
    recorded: str = ""
    now: str = ""

    def line(self) -> str:
        return f"{self.operation} {self.kind} {self.subject}"


# --- Shapes ----------------------------------------------------------------------------------------------

def _jtype(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    return "array" if isinstance(v, list) else "object"


@dataclass
class Shape:
    types: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    enums: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, v: Any, at: str = "") -> None:
        self.types[at or "$"].add(_jtype(v))
        if isinstance(v, dict):
            for k, x in v.items():
                self.add(x, f"{at}.{k}" if at else k)
        elif isinstance(v, list):
            for x in v:
                self.add(x, f"{at}[]")
        elif isinstance(v, str) and at.rsplit(".", 1)[-1].removesuffix("[]") in ENUM_FIELDS and not ID_RE.search(v):
            self.enums[at].add(v)


def _norm(text: str) -> str:
    """Wording without the parts that differ by nature: ids, model names, numbers."""
    return re.sub(r"\d+(?:\.\d+)?(?:e-?\d+)?", "#", ID_RE.sub("<id>", text))


def _case(ex: Exchange) -> str:
    """The aggregation key: the operation, and for a fine-tuning job its status."""
    body = decode_body(ex.response_body)
    if isinstance(body, dict) and body.get("object") == "fine_tuning.job":
        return f"{ex.operation}[{body.get('status')}]"
    return ex.operation


class _Side:
    def __init__(self) -> None:
        self.shapes: dict[str, Shape] = defaultdict(Shape)
        self.events: dict[str, set[str]] = defaultdict(set)
        self.headers: dict[str, set[str]] = defaultdict(set)

    def add(self, ex: Exchange) -> None:
        body = decode_body(ex.response_body)
        self.headers[ex.operation] |= {k for k, _ in ex.response_headers if k not in VOLATILE_HEADERS}
        if ex.status >= 400 or not isinstance(body, (dict, list)):
            return
        self.shapes[_case(ex)].add(body)
        if isinstance(body, dict) and body.get("object") == "list":
            for item in body.get("data") or []:
                if isinstance(item, dict) and item.get("object") == "fine_tuning.job.event":
                    self.events[ex.operation].add(_norm(str(item.get("message", ""))))


# --- Comparison ------------------------------------------------------------------------------------------

def _error(ex: Exchange) -> dict[str, Any]:
    body = decode_body(ex.response_body)
    err = body.get("error") if isinstance(body, dict) else None
    return err if isinstance(err, dict) else {}


def _show(v: Any) -> str:
    return "—" if v is None else str(v)


def _pair(step: Step, out: list[Difference]) -> None:
    op = step.operation
    rec, obs = step.recorded[-1], step.observed[-1] if step.observed else None
    if obs is None:
        out.append(Difference(op, "status", "HTTP status", str(rec.status), "no answer"))
        return
    if rec.status != obs.status:
        now = f"{obs.status}: {_error(obs).get('message', '')}".rstrip(": ")
        out.append(Difference(op, "status", "HTTP status", str(rec.status), now))
    elif rec.status >= 400:
        er, eo = _error(rec), _error(obs)
        for key in ("type", "code", "param", "message"):
            a, b = er.get(key), eo.get(key)
            if (_norm(a) if isinstance(a, str) else a) != (_norm(b) if isinstance(b, str) else b):
                out.append(Difference(op, "error", f"error.{key}", _show(a), _show(b)))
    if step.polled and rec.status == obs.status == 200:
        _poll(step, out)


def _status(ex: Exchange) -> str | None:
    body = decode_body(ex.response_body)
    return body.get("status") if isinstance(body, dict) else None


def _poll(step: Step, out: list[Difference]) -> None:
    """A job's run of retrieves: the status it ends in, and how long it took to get there."""
    op = step.operation
    rec_end, obs_end = _status(step.recorded[-1]), _status(step.observed[-1])
    if rec_end != obs_end:
        out.append(Difference(op, "outcome", "final job status", _show(rec_end), _show(obs_end)))
        return
    dr, do = durations(step)
    if dr is not None and do is not None and abs(dr - do) > DURATION_SLACK and max(dr, do) > DURATION_FACTOR * min(dr, do):
        out.append(Difference(op, "duration", "job creation → seen finished", f"{dr:.3g} s", f"{do:.3g} s"))


def durations(step: Step) -> tuple[float | None, float | None]:
    """Wall-clock seconds from a job's creation to the first retrieve that saw it finished, in the
    recording and now (None where it did not finish or its creation was not seen)."""
    return _duration(step.recorded, step.recorded_since), _duration(step.observed, step.observed_since)


def _duration(exs: list[Exchange], since: float | None) -> float | None:
    end = next((e for e in exs if _status(e) in TERMINAL), None)
    return None if since is None or end is None else max(end.started_at - since, 0.0)


def _sets(op: str, kind: str, rec: set[str], obs: set[str], what: str, out: list[Difference]) -> None:
    for v in sorted(rec - obs):
        out.append(Difference(op, kind, v, what, "never sent"))
    for v in sorted(obs - rec):
        out.append(Difference(op, kind, v, "never recorded", what))


def _shapes(case: str, r: Shape, o: Shape, out: list[Difference]) -> None:
    for path in sorted(set(r.types) | set(o.types)):
        tr, to = r.types.get(path), o.types.get(path)
        if to is None:
            out.append(Difference(case, "missing", path, "/".join(sorted(tr or ())), "absent"))
        elif tr is None:
            out.append(Difference(case, "extra", path, "absent", "/".join(sorted(to))))
        else:
            if tr - {"null"} and to - {"null"} and tr - {"null"} != to - {"null"}:
                out.append(Difference(case, "type", path, "/".join(sorted(tr)), "/".join(sorted(to))))
            if ("null" in tr) != ("null" in to):
                out.append(Difference(case, "null", path, "/".join(sorted(tr)), "/".join(sorted(to))))
    for path in sorted(set(r.enums) & set(o.enums)):
        _sets(case, "enum", {f"{path}={v}" for v in r.enums[path]}, {f"{path}={v}" for v in o.enums[path]},
              "sent", out)


def compare(steps: Iterable[Step]) -> list[Difference]:
    out: list[Difference] = []
    rec, obs = _Side(), _Side()
    for step in steps:
        _pair(step, out)
        for ex in step.recorded:
            rec.add(ex)
        for ex in step.observed:
            obs.add(ex)
    for case in sorted(set(rec.shapes) & set(obs.shapes)):
        _shapes(case, rec.shapes[case], obs.shapes[case], out)
    for op in sorted(set(rec.events) | set(obs.events)):
        _sets(op, "event", rec.events.get(op, set()), obs.events.get(op, set()), "worded so", out)
    for op in sorted(set(rec.headers) & set(obs.headers)):
        _sets(op, "header", rec.headers[op], obs.headers[op], "sent", out)
    return sorted(set(out), key=lambda d: (d.operation, d.kind, d.subject))


def statuses_seen(exs: list[Exchange]) -> list[str]:
    seen: list[str] = []
    for e in exs:
        s = _status(e)
        if s and (not seen or seen[-1] != s):
            seen.append(s)
    return seen


# --- Allow-list and report -------------------------------------------------------------------------------

@dataclass
class AllowList:
    """Lines `OPERATION KIND SUBJECT` (shell-style globs; SUBJECT may contain spaces; `#` comments)."""

    rules: list[tuple[str, str, str]] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path | None) -> AllowList:
        if path is None:
            return cls()
        rules = []
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split(None, 2)
            if len(parts) < 2:
                raise ValueError(f"{path}:{n}: expected 'OPERATION KIND [SUBJECT]', got {line!r}")
            rules.append((parts[0], parts[1], parts[2] if len(parts) > 2 else "*"))
        return cls(rules)

    def allows(self, d: Difference) -> bool:
        return any(fnmatch.fnmatchcase(d.operation, o) and fnmatch.fnmatchcase(d.kind, k)
                   and fnmatch.fnmatchcase(d.subject, s) for o, k, s in self.rules)


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def render_markdown(diffs: list[Difference], allow: AllowList, *, source: str, target: str, steps: list[Step],
                    notes: list[str] = ()) -> str:
    bad = [d for d in diffs if not allow.allows(d)]
    sent = sum(len(s.observed) for s in steps)
    lines = [f"# Drift report: `{source}` re-run against `{target}`", "",
             f"{sum(len(s.recorded) for s in steps)} recorded exchanges, {sent} requests sent; "
             f"**{len(bad)} difference{'s' * (len(bad) != 1)}** outside the allow-list, "
             f"{len(diffs) - len(bad)} allowed.", ""]
    by_op: dict[str, list[Difference]] = defaultdict(list)
    for d in diffs:
        by_op[d.operation].append(d)
    for op in sorted(by_op):
        lines += [f"## {op}", "", "| kind | what | recorded | now | |", "|---|---|---|---|---|"]
        for d in by_op[op]:
            mark = "allowed" if allow.allows(d) else "**differs**"
            lines.append(f"| {d.kind} | `{_cell(d.subject)}` | {_cell(d.recorded)} | {_cell(d.now)} | {mark} |")
        lines.append("")
    if not diffs:
        lines += ["No differences: every operation answered as recorded.", ""]
    if notes:
        lines += ["## Notes (not differences)", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)

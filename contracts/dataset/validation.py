"""Training-file validation: the one streaming checker behind job validation and the client report.

A file is read line by line (never whole), each non-blank line is one example, numbered from 1. The
format comes from the first JSON object; every example is then checked against that format's rules,
and every well-formed example is counted in tokens with the model's encoding:

- chat: `tokens.count_messages_recipe(count, messages)` + the tokens of the JSON text of `tools` and
  `functions` when present;
- prompt_completion: tokens(prompt) + tokens(completion);
- dpo: the recipe over `input.messages` followed by the `preferred_output` message(s) (what the model is
  trained towards; the non-preferred output is not counted), plus tools/functions as for chat.

The first job-failing problem wins (lowest example number); after it the scan only counts examples (no
parsing, no tokenizing) unless `scan_all=True`, which keeps checking and counting every example so a
report can list every over-limit example. The example-count check runs last, so a format error found
earlier takes precedence over "has N example(s)". Messages follow the real API's wording (reference §7.6);
"weight" problems use the newer `invalid_file_format` code and wording observed for them, every other
format problem `invalid_training_file`. With param="validation_file" the messages say "validation file".
Method "reinforcement" takes chat files with extra top-level keys (grader data), `developer` messages and
no assistant message required. The per-format rules and their wording live in
`contracts.dataset.rules`; this module scans, renders, merges and parallelises.

Files above `parallel_threshold` bytes are split at newlines into byte ranges validated by worker
processes (the first range in the calling thread; see `_mp_context` for how workers start) and merged in
order with global numbering. Memory is bounded by MAX_LINE_BYTES plus 8 bytes per example: a longer line
(more than any example can be: ten 10 MB images as base64 fit) or one with more than MAX_LINE_VALUES JSON
values is an error naming the example, found while skipping the line, never holding it.
"""

from __future__ import annotations

import array
import itertools
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, BinaryIO, NamedTuple

import orjson

from contracts import catalog, tokens
from contracts.dataset import rules
from contracts.dataset.rules import detect_format
from contracts.limits import METHODS, MIN_EXAMPLES

__all__ = [
    "JobError", "ValidationResult", "validate_file", "validate_stream", "validate_lines", "iter_examples", "detect_format",
    "n_examples_error", "FORMATS", "METHODS", "PARALLEL_THRESHOLD", "MAX_OVER_LIMIT_KEPT",
]

FORMATS = ("chat", "prompt_completion", "dpo")
PARALLEL_THRESHOLD = 8 * 1024 * 1024   # files larger than this are validated by several processes
MAX_OVER_LIMIT_KEPT = 1000             # over-limit examples listed individually (all are counted)
MAX_WORKERS = 4
MAX_LINE_BYTES = 160 * 1024 * 1024      # longer than any possible example (10 images of 10 MB, base64)
MAX_LINE_VALUES = 2_000_000             # commas in one line: more JSON values than any example holds

ExampleHook = Callable[[int, Any, int], None]   # (example number, parsed JSON or parse error, tokens or -1)


@dataclass(frozen=True, slots=True)
class JobError:
    """What goes into a failed job's `error`."""

    code: str
    message: str
    param: str


@dataclass(slots=True)
class ValidationResult:
    """Outcome of validating one file; `example_tokens[i]` is -1 for examples that were not counted."""

    format: str | None
    n_examples: int
    example_tokens: array.array
    billing_tokens: int
    over_limit: list[tuple[int, int]]
    n_over_limit: int
    error: JobError | None
    warnings: list[str]
    problems: list[tuple[int | None, JobError]] = field(default_factory=list)
    """Every job-failing problem found, by example number (None for the example count): only the first
    one unless scan_all, else the first format problem, each listed over-limit example ("fail") and
    the example count."""


class _Job(NamedTuple):
    """Everything a (possibly forked) scan needs; picklable."""

    encoding: str
    limit: int
    model: str
    api: str
    method: str
    file_id: str
    param: str
    truncate: bool
    scan_all: bool
    fmt: str | None = "?"    # _UNSEEN until detected from the first JSON object


_UNSEEN = "?"


def _render(job: _Job, n: int | None, line: int | None, kind: str, args: tuple) -> JobError:
    body = rules.BODIES[kind].format(*args, n=n, line=line, limit=job.limit, model=job.model,
                                     file_id=job.file_id, method=job.method)
    noun = "training" if job.param == "training_file" else "validation"
    if kind in rules.FILE_FORMAT_KINDS:
        return JobError("invalid_file_format",
                        f"The job failed due to a file format error in the {noun} file. {body}", job.param)
    return JobError("invalid_training_file", f"The job failed due to an invalid {noun} file. {body}", job.param)


def n_examples_error(n: int, *, param: str = "training_file", min_examples: int = MIN_EXAMPLES) -> JobError | None:
    """The `invalid_n_examples` failure for a file of `n` examples, or None when there are enough."""
    if n >= min_examples:
        return None
    noun = "Training" if param == "training_file" else "Validation"
    return JobError("invalid_n_examples",
                    f"{noun} file has {n} example(s), but must have at least {min_examples} examples", param)


# --- Scanning -------------------------------------------------------------------------------------

@dataclass(slots=True)
class _Partial:
    """The result of scanning one run of lines, numbered locally from 1."""

    fmt: str | None = _UNSEEN
    n: int = 0
    lines: int = 0
    tokens: array.array = field(default_factory=lambda: array.array("q"))
    billing: int = 0
    over: list[tuple[int, int]] = field(default_factory=list)
    n_over: int = 0
    first: tuple | None = None          # (example, line, kind, args) of the first problem of any kind
    first_format: tuple | None = None   # the same, not counting over-limit examples


class _TooLong(bytes):
    """Stands for a line that was skipped, not read: `size` bytes, or `values` commas."""

    size: int = 0
    values: int = 0

    @classmethod
    def of(cls, size: int, values: int = 0) -> _TooLong:
        line = cls(b"~")
        line.size, line.values = size, values
        return line


def _bounded_lines(f: Any, limit: int | None = None) -> Iterator[bytes]:
    """The lines of binary file `f`, each held in memory only when at most `limit` bytes long."""
    limit = limit or MAX_LINE_BYTES
    while line := f.readline(limit + 1):
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
            continue
        size = len(line)
        del line
        while chunk := f.readline(1 << 20):
            size += len(chunk)
            if chunk.endswith(b"\n"):
                break
        yield _TooLong.of(size)


def _parse(line: bytes) -> Any:
    if type(line) is _TooLong:
        return line
    if len(line) > 1 << 20 and line.count(b",") > MAX_LINE_VALUES:
        return _TooLong.of(len(line), MAX_LINE_VALUES)
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as e:
        return e


def _object_problem(ex: Any) -> tuple:
    if type(ex) is _TooLong:
        what = (f"more than {ex.values} values" if ex.values else
                f"{ex.size} bytes long, longer than any example can be")
        return "json", (f"the line is {what}",)
    if isinstance(ex, orjson.JSONDecodeError):
        return "json", (f"{ex.msg} at char {ex.pos}",)
    return "not_object", ({list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
                          .get(type(ex), "a number"),)


def _record(p: _Partial, problem: tuple) -> None:
    if p.first is None:
        p.first = problem
    if p.first_format is None and problem[2] != "over_limit":
        p.first_format = problem


def _scan(lines: Iterable[bytes], job: _Job, on_example: ExampleHook | None = None) -> _Partial:
    """Check and count every example of `lines`; the hot loop, kept free of per-example objects."""
    p = _Partial(fmt=job.fmt)
    count_tokens = tokens.counter(job.encoding)
    examine = None if job.fmt == _UNSEEN else rules.EXAMINERS.get(job.fmt, rules.examine_nothing)
    limit, scan_all, fail = job.limit, job.scan_all, not job.truncate
    append = p.tokens.append
    stopped = False
    n = line_no = 0
    for line in lines:
        line_no += 1
        if not line or line.isspace():
            continue
        n += 1
        if stopped:
            append(-1)
            if on_example is not None:
                on_example(n, _parse(line), -1)
            continue
        ex = _parse(line)
        count = -1
        if type(ex) is not dict:
            problem = _object_problem(ex)
        else:
            problem = None
            if examine is None:
                p.fmt = detect_format(ex)
                examine = rules.EXAMINERS.get(p.fmt, rules.examine_nothing)
                problem = rules.file_problem(p.fmt, job)
                if problem is not None:
                    _record(p, (n, line_no) + problem)
            if problem is None or scan_all:
                problem, count = examine(ex, job, count_tokens)
        if problem is not None:
            _record(p, (n, line_no) + problem)
            stopped = not scan_all
        elif count > limit:
            p.n_over += 1
            if len(p.over) < MAX_OVER_LIMIT_KEPT:
                p.over.append((n, count))
            if fail:
                _record(p, (n, line_no, "over_limit", (count,)))
                stopped = not scan_all
        append(count)
        if count > 0:
            p.billing += count if count < limit else limit
        if on_example is not None:
            on_example(n, ex, count)
    p.n, p.lines = n, line_no
    return p


def _merge(parts: list[_Partial], scan_all: bool) -> _Partial:
    """Join consecutive runs: shift their numbering, keep the earliest problems, and (unless scan_all)
    drop everything counted after the first problem, as a single scan would."""
    out = parts[0]
    for p in parts[1:]:
        dn, dl = out.n, out.lines
        out.n += p.n
        out.lines += p.lines
        if out.first is not None and not scan_all:
            out.tokens.extend(array.array("q", [-1]) * p.n)
            continue
        out.tokens.extend(p.tokens)
        out.billing += p.billing
        out.n_over += p.n_over
        out.over.extend((n + dn, t) for n, t in p.over[:MAX_OVER_LIMIT_KEPT - len(out.over)])
        for name in ("first", "first_format"):
            mine, theirs = getattr(out, name), getattr(p, name)
            if mine is None and theirs is not None:
                setattr(out, name, (theirs[0] + dn, theirs[1] + dl) + theirs[2:])
    return out


def _finish(p: _Partial, job: _Job, min_examples: int) -> ValidationResult:
    if job.scan_all:
        found = [p.first_format] if p.first_format else []
        if not job.truncate:
            found += [(n, None, "over_limit", (t,)) for n, t in p.over]
        found.sort(key=lambda prob: prob[0])
    else:
        found = [p.first] if p.first else []
    problems: list[tuple[int | None, JobError]] = [(n, _render(job, n, line, kind, args))
                                                   for n, line, kind, args in found]
    count_error = n_examples_error(p.n, param=job.param, min_examples=min_examples)
    if count_error is not None and (job.scan_all or not problems):
        problems.append((None, count_error))
    warnings = []
    if job.truncate and p.n_over:
        warnings.append(f"{p.n_over} example(s) exceed the {job.limit}-token limit of {job.model} and were "
                        f"truncated; billing counts {job.limit} tokens for each.")
    fmt = None if p.fmt == _UNSEEN else p.fmt
    return ValidationResult(fmt, p.n, p.tokens, p.billing, p.over, p.n_over,
                            problems[0][1] if problems else None, warnings, problems)


# --- Files and parallelism ------------------------------------------------------------------------

def _entry(model: str) -> catalog.BaseModel:
    entry = catalog.fine_tunable(catalog.base_of(model))
    if entry is None:
        raise ValueError(f"model {model!r} cannot be fine-tuned")
    return entry


def _job(entry: catalog.BaseModel, method: str, file_id: str, param: str, over_limit: str,
         scan_all: bool) -> _Job:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if over_limit not in ("fail", "truncate"):
        raise ValueError(f"over_limit must be 'fail' or 'truncate', not {over_limit!r}")
    return _Job(entry.encoding, entry.training_limit or 0, entry.id, entry.api, method, file_id, param,
                over_limit == "truncate", scan_all)


def validate_lines(lines: Iterable[bytes], *, model: str, method: str = "supervised", file_id: str,
                   param: str = "training_file", over_limit: str = "fail", min_examples: int = MIN_EXAMPLES,
                   scan_all: bool = False, on_example: ExampleHook | None = None) -> ValidationResult:
    """Validate in-memory JSONL lines (bytes, one example each) for a job on `model`.

    `on_example(n, example, tokens)` is called for every example in order, with the parsed JSON (or the
    parse error) and its token count (-1 when not counted).
    """
    job = _job(_entry(model), method, file_id, param, over_limit, scan_all)
    return _finish(_scan(lines, job, on_example), job, min_examples)


def validate_file(path: str | os.PathLike, *, model: str, method: str = "supervised", file_id: str,
                  param: str = "training_file", over_limit: str = "fail", min_examples: int = MIN_EXAMPLES,
                  scan_all: bool = False, on_example: ExampleHook | None = None,
                  parallel_threshold: int = PARALLEL_THRESHOLD, workers: int | None = None) -> ValidationResult:
    """Validate a JSONL file for a job on `model`, streaming it; large files use several processes.

    A UTF-8 byte-order mark at the start of the file is ignored. `workers` overrides the number of
    processes (default: the usable CPUs, 2 to 4); a hook forces the single-process path.
    """
    job = _job(_entry(model), method, file_id, param, over_limit, scan_all)
    size = os.path.getsize(path)
    n_procs = workers if workers is not None else min(MAX_WORKERS, _usable_cpus())
    if on_example is None and n_procs >= 2 and size > parallel_threshold:
        fixed = _fixed_format(path, job)
        if fixed is not None:
            try:
                return _finish(_scan_parallel(path, size, fixed, n_procs), job, min_examples)
            except BrokenProcessPool:   # a worker was killed (e.g. out of memory): do it in one process
                pass
    with open(path, "rb") as f:
        return _finish(_scan(_without_bom(_bounded_lines(f)), job, on_example), job, min_examples)


def validate_stream(f: BinaryIO, *, model: str, method: str = "supervised", file_id: str,
                    param: str = "training_file", over_limit: str = "fail", min_examples: int = MIN_EXAMPLES,
                    scan_all: bool = False, on_example: ExampleHook | None = None) -> ValidationResult:
    """As `validate_file`, for a binary stream read once, in one process (bytes that are not a local file)."""
    job = _job(_entry(model), method, file_id, param, over_limit, scan_all)
    return _finish(_scan(_without_bom(f), job, on_example), job, min_examples)


def iter_examples(lines: Iterable[bytes]) -> Iterator[tuple[int, Any]]:
    """(example number, parsed JSON or the parse error) for each non-blank line; blanks are not counted."""
    n = 0
    for line in lines:
        if line and not line.isspace():
            n += 1
            yield n, _parse(line)


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _without_bom(lines: Iterable[bytes]) -> Iterator[bytes]:
    it = iter(lines)
    first = next(it, None)
    if first is None:
        return it
    return itertools.chain((first.removeprefix(b"\xef\xbb\xbf"),), it)


def _fixed_format(path: str | os.PathLike, job: _Job) -> _Job | None:
    """The job with the format of the first example fixed, when that example is a valid-for-job object
    (otherwise the file fails at example 1 and the single-process scan is as fast)."""
    with open(path, "rb") as f:
        for line in _without_bom(_bounded_lines(f)):
            if line and not line.isspace():
                ex = _parse(line)
                if type(ex) is not dict:
                    return None
                fmt = detect_format(ex)
                return job._replace(fmt=fmt) if rules.file_problem(fmt, job) is None else None
    return None


def _boundaries(path: str | os.PathLike, size: int, n: int) -> list[int]:
    """Offsets splitting the file into about `n` equal byte ranges, each ending after a newline."""
    cuts = [0]
    with open(path, "rb") as f:
        for i in range(1, n):
            f.seek(max(size * i // n - 1, cuts[-1]))
            while (piece := f.readline(1 << 20)) and not piece.endswith(b"\n"):
                pass
            if f.tell() < size and f.tell() > cuts[-1]:
                cuts.append(f.tell())
    return [*cuts, size]


def _range_lines(path: str | os.PathLike, start: int, end: int) -> Iterator[bytes]:
    with open(path, "rb") as f:
        f.seek(start)
        left = end - start
        for line in _bounded_lines(f):
            size = line.size if type(line) is _TooLong else len(line)
            left -= size
            yield line.removeprefix(b"\xef\xbb\xbf") if left + size == end and type(line) is not _TooLong else line
            if left <= 0:
                return


def _scan_range(path: str | os.PathLike, start: int, end: int, job: _Job) -> _Partial:
    return _scan(_range_lines(path, start, end), job)


def _scan_parallel(path: str | os.PathLike, size: int, job: _Job, n_procs: int) -> _Partial:
    cuts = _boundaries(path, size, n_procs)
    ranges = list(itertools.pairwise(cuts))
    if len(ranges) == 1:
        return _scan_range(path, 0, size, job)
    with ProcessPoolExecutor(max_workers=len(ranges) - 1, mp_context=_mp_context()) as pool:
        futures = [pool.submit(_scan_range, path, a, b, job) for a, b in ranges[1:]]
        first = _scan_range(path, *ranges[0], job)   # the calling process takes the first range itself
        return _merge([first, *(f.result() for f in futures)], job.scan_all)


def _mp_context() -> multiprocessing.context.BaseContext:
    """How workers start: "fork" in a single-threaded process (they inherit the loaded tokenizer, nothing
    to import); "forkserver" when threads run (the server always has some: forking them is unsafe, and a
    DeprecationWarning from Python 3.12) and always from 3.12 on, where threads of native libraries count
    too; the platform's default where neither exists."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods and (sys.version_info >= (3, 12) or threading.active_count() > 1):
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_WORKER_PRELOAD)   # only read when the fork server starts
        return ctx
    return multiprocessing.get_context("fork" if "fork" in methods else None)


# The fork server imports this module (and so only its light dependencies: contracts, tokens, the rules,
# orjson; not the app) once, and forks every worker from itself; each worker then loads its counter
# (`tokens.counter`: quicktok's bundled vocabulary, ~0.2-0.8 s). multiprocessing also re-runs the parent's main
# *script* in each worker, as for "spawn": nothing for `python -m mockserver`, `mockserver.cli`'s imports
# for the `mockserver` console script.
_WORKER_PRELOAD = [__name__]

"""Fine-tuning workflow over the official OpenAI SDK: validate → upload → create job → wait → chat.

    client = connect()                                   # OPENAI_BASE_URL / OPENAI_API_KEY, like the SDK
    job = train(client, "train.jsonl", model="gpt-4o-mini-2024-07-18", on_event=print)
    print(chat(client, job.fine_tuned_model, "Hello"))

Every HTTP exchange goes through the SDK (and its retries); this module only adds what the SDK lacks:
client-side validation before upload, following a job's events exactly once, and typed outcomes.

    ClientError
    ├── ValidationFailed    the file would be rejected (`.report`); `upload(..., force=True)` skips this
    ├── UnsupportedModel    validation asked for a model that cannot be fine-tuned
    ├── WaitTimeout         the job did not finish in time (`.job` = last state seen)
    └── JobEnded            the job ended without a model (`.job`)
        ├── JobFailed       `.error` = job.error (code, message, param)
        └── JobCancelled
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

__all__ = [
    "ClientError", "ValidationFailed", "UnsupportedModel", "WaitTimeout", "JobEnded", "JobFailed",
    "JobCancelled", "TERMINAL_STATUSES", "connect", "validate", "upload", "create_job", "wait", "train",
    "chat", "EventFollower", "ProgressBar", "metrics_step",
]

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
DEFAULT_POLL_INTERVAL = 2.0


# --- errors ------------------------------------------------------------------------------------------------


class ClientError(Exception):
    """Base of the errors this package raises itself (the SDK's own errors pass through unchanged)."""


class ValidationFailed(ClientError):
    """The training file would be rejected by the API; `report` says why."""

    def __init__(self, path: str | Path, report: Any) -> None:
        super().__init__(f"{path}: a fine-tuning job would fail on this file (force the upload to send it)")
        self.path = Path(path)
        self.report = report


class UnsupportedModel(ClientError):
    """The model cannot be fine-tuned, so there is nothing to validate a file against."""


class WaitTimeout(ClientError):
    """The job was still running when the wait timed out; `job` is the last state seen."""

    def __init__(self, job_id: str, timeout: float, job: Any = None) -> None:
        status = getattr(job, "status", "unknown")
        super().__init__(f"job {job_id} still {status} after {timeout:g} s")
        self.job_id, self.timeout, self.job = job_id, timeout, job


class JobEnded(ClientError):
    """The job reached a terminal status other than `succeeded`."""

    def __init__(self, job: Any, message: str) -> None:
        super().__init__(message)
        self.job = job


class JobFailed(JobEnded):
    """The job failed; `error` is the job's error object (`code`, `message`, `param`)."""

    def __init__(self, job: Any) -> None:
        self.error = job.error
        code, message, param = (getattr(job.error, k, None) for k in ("code", "message", "param"))
        details = ", ".join(x for x in (code, f"param {param}" if param else None) if x)
        suffix = f" ({details})" if details else ""
        super().__init__(job, f"job {job.id} failed: {message or 'no error message'}{suffix}")


class JobCancelled(JobEnded):
    """The job was cancelled before it produced a model."""

    def __init__(self, job: Any) -> None:
        super().__init__(job, f"job {job.id} was cancelled")


# --- client, files, jobs -----------------------------------------------------------------------------------


def connect(base_url: str | None = None, api_key: str | None = None, **kwargs: Any) -> Any:
    """An `openai.OpenAI` client; base URL and key default to OPENAI_BASE_URL / OPENAI_API_KEY."""
    import openai

    return openai.OpenAI(base_url=base_url or os.environ.get("OPENAI_BASE_URL") or None,
                         api_key=api_key or os.environ.get("OPENAI_API_KEY") or None, **kwargs)


def validate(path: str | Path, *, model: str, method: str = "supervised", over_limit: str = "fail") -> Any:
    """The client-side validation report of a training file (see `client.report.build_report`)."""
    from client.report import build_report
    from contracts import catalog

    if catalog.fine_tunable(catalog.base_of(model)) is None:
        raise UnsupportedModel(f"model {model!r} cannot be fine-tuned (or is unknown to this client)")
    return build_report(_existing(path), model=model, method=method, over_limit=over_limit)


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    return path


def upload(client: Any, path: str | Path, *, model: str, force: bool = False, purpose: str = "fine-tune",
           method: str = "supervised", over_limit: str = "fail") -> Any:
    """Validate `path` for `model`, then upload it; raises `ValidationFailed` if a job would fail on it.
    `force` (or a purpose other than fine-tune) skips the validation: the API then judges the file."""
    path = _existing(path)
    if not force and purpose == "fine-tune":
        report = validate(path, model=model, method=method, over_limit=over_limit)
        if report.would_fail:
            raise ValidationFailed(path, report)
    with path.open("rb") as fh:
        return client.files.create(file=fh, purpose=purpose)


def create_job(client: Any, training_file: str, *, model: str, suffix: str | None = None,
               epochs: int | None = None, validation_file: str | None = None,
               method: str | dict | None = None, seed: int | None = None,
               metadata: dict[str, str] | None = None) -> Any:
    """Create a fine-tuning job; unset options are left out of the request (the API picks defaults)."""
    params: dict[str, Any] = {"training_file": training_file, "model": model, "suffix": suffix,
                              "validation_file": validation_file, "method": _method(method, epochs),
                              "seed": seed, "metadata": metadata}
    return client.fine_tuning.jobs.create(**{k: v for k, v in params.items() if v is not None})


def _method(method: str | dict | None, epochs: int | None) -> dict | None:
    """`method` as the API wants it; `epochs` goes into its hyperparameters (the non-deprecated place)."""
    if method is None and epochs is None:
        return None
    if isinstance(method, dict):
        out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in method.items()}
        kind = out.setdefault("type", "supervised")
    else:
        kind = method or "supervised"
        out = {"type": kind}
    if epochs is not None:
        section = out.setdefault(kind, {})
        section["hyperparameters"] = {**section.get("hyperparameters", {}), "n_epochs": epochs}
    return out


# --- following a job ---------------------------------------------------------------------------------------


class EventFollower:
    """A job's new events, oldest first, each exactly once.

    The API lists events newest-first and pages towards older ones with `after=<id>`; `poll()` reads pages
    until it meets the newest event already seen (or the end), so any number of new events is caught."""

    def __init__(self, client: Any, job_id: str, *, page_size: int = 100) -> None:
        self.client, self.job_id, self.page_size = client, job_id, page_size
        self.last_id: str | None = None
        self._seen: set[str] = set()

    def poll(self) -> list[Any]:
        fresh = [e for e in reversed(self._newer_than_last()) if e.id not in self._seen]
        self._seen.update(e.id for e in fresh)
        if fresh:
            self.last_id = fresh[-1].id
        return fresh

    def _newer_than_last(self) -> list[Any]:
        out: list[Any] = []
        after: dict[str, str] = {}
        while True:
            page = self.client.fine_tuning.jobs.list_events(self.job_id, limit=self.page_size, **after)
            for event in page.data:
                if event.id == self.last_id:
                    return out
                out.append(event)
            if not page.data or getattr(page, "has_more", None) is False:
                return out
            after = {"after": page.data[-1].id}


def metrics_step(event: Any) -> tuple[int, int] | None:
    """(step, total_steps) of a metrics event, else None."""
    data = getattr(event, "data", None)
    if getattr(event, "type", None) != "metrics" or not isinstance(data, dict):
        return None
    step, total = data.get("step"), data.get("total_steps")
    return (int(step), int(total)) if isinstance(step, int) and isinstance(total, int) and total > 0 else None


class ProgressBar:
    """A tqdm bar of training steps (created at the first metrics event, so nothing shows while the job
    validates or queues); `printing()` clears it around other output and redraws it after."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.bar: tqdm | None = None

    def update(self, step: int, total: int) -> None:
        if self.bar is None:
            self.bar = tqdm(total=total, file=self.stream, desc="training", unit="step", dynamic_ncols=True)
        self.bar.total = total
        self.bar.update(step - self.bar.n)

    def printing(self) -> contextlib.AbstractContextManager[Any]:
        """What `tqdm.write` does around its line, for any callback that prints."""
        return tqdm.external_write_mode(file=self.stream) if self.bar is not None else contextlib.nullcontext()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _progress_bar(progress: bool | IO[str] | None) -> ProgressBar | None:
    """None → a bar on stderr if it is a terminal; True → on stderr; a stream → on it; False → none."""
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    if progress is False:
        return None
    return ProgressBar(sys.stderr if progress is True else progress)


def wait(client: Any, job_id: str, *, timeout: float = 3600, poll_interval: float = DEFAULT_POLL_INTERVAL,
         on_event: Callable[[Any], object] | None = None, progress: bool | IO[str] | None = None,
         page_size: int = 100, sleep: Callable[[float], object] = time.sleep,
         clock: Callable[[], float] = time.monotonic) -> Any:
    """Poll the job until it ends and return it if it succeeded; raise `JobFailed`, `JobCancelled` or
    `WaitTimeout`. Each new event goes to `on_event` once, oldest first; metrics events drive a progress
    bar (`progress`: None = on a terminal stderr, True, False, or a stream). `page_size` events per list
    request; `sleep`/`clock` are injectable (e.g. `sleep=emulator.advance` to drive a simulated clock)."""
    follower, bar = EventFollower(client, job_id, page_size=page_size), _progress_bar(progress)
    deadline = clock() + timeout
    try:
        while True:
            job = client.fine_tuning.jobs.retrieve(job_id)
            _emit(follower.poll(), on_event, bar)
            if job.status in TERMINAL_STATUSES:
                return _outcome(job)
            remaining = deadline - clock()
            if remaining <= 0:
                raise WaitTimeout(job_id, timeout, job)
            sleep(min(poll_interval, remaining))
    finally:
        if bar is not None:
            bar.close()


_wait = wait  # `train(..., wait=...)` shadows the name


def _emit(events: list[Any], on_event: Callable[[Any], object] | None, bar: ProgressBar | None) -> None:
    """Every event to `on_event` once (the bar cleared around it); metrics events also move the bar."""
    for event in events:
        if on_event is not None:
            if bar is None:
                on_event(event)
            else:
                with bar.printing():
                    on_event(event)
        step = metrics_step(event)
        if bar is not None and step is not None:
            bar.update(*step)


def _outcome(job: Any) -> Any:
    if job.status == "failed":
        raise JobFailed(job)
    if job.status == "cancelled":
        raise JobCancelled(job)
    return job


def train(client: Any, path: str | Path, *, model: str, suffix: str | None = None, epochs: int | None = None,
          validation_path: str | Path | None = None, method: str | dict | None = None,
          seed: int | None = None, metadata: dict[str, str] | None = None, force: bool = False,
          wait: bool = True, **wait_options: Any) -> Any:
    """upload → create_job → wait. Returns the finished job (or the created one with `wait=False`)."""
    kind = method.get("type", "supervised") if isinstance(method, dict) else (method or "supervised")
    training = upload(client, path, model=model, force=force, method=kind)
    validation = None
    if validation_path is not None:  # no minimum size for validation files: upload as is
        validation = upload(client, validation_path, model=model, force=True, method=kind)
    job = create_job(client, training.id, model=model, suffix=suffix, epochs=epochs, method=method, seed=seed,
                     validation_file=validation.id if validation else None, metadata=metadata)
    return _wait(client, job.id, **wait_options) if wait else job


# --- chat --------------------------------------------------------------------------------------------------


def chat(client: Any, model: str, message: str, *, system: str | None = None,
         stream: bool = False) -> str | Iterator[str]:
    """One user turn: the reply text, or with `stream=True` an iterator of its text pieces."""
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": message})
    if not stream:
        reply = client.chat.completions.create(model=model, messages=messages)
        return reply.choices[0].message.content or ""
    return _text_pieces(client.chat.completions.create(model=model, messages=messages, stream=True))


def _text_pieces(stream: Any) -> Iterator[str]:
    with stream:
        for chunk in stream:
            for choice in chunk.choices:
                if choice.delta.content:
                    yield choice.delta.content

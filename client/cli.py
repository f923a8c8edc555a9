"""`ftclient`: prepare, validate and train fine-tuning data, follow jobs and chat — over the official SDK.

    ftclient prepare qa.csv -o train.jsonl --system "Marv is a sarcastic chatbot."
    ftclient validate train.jsonl --model gpt-3.5-turbo-0613
    ftclient train train.jsonl --model gpt-3.5-turbo-0613 --wait
    ftclient chat ft:gpt-3.5-turbo-0613:personal::AbC12345 "What's the capital of France?"
    ftclient batch run requests.jsonl --wait            # Batch API: results in requests.output.jsonl

Global `--base-url` / `--api-key` default to OPENAI_BASE_URL / OPENAI_API_KEY. User errors (API errors,
unreachable server, missing files, invalid data) print one `error: ...` line and exit non-zero.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from client import workflow
from contracts.limits import METHODS

__all__ = ["main", "build_parser"]

DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ftclient", description="Fine-tune and chat through the OpenAI API "
                                "(or any server speaking it, such as the emulator).")
    p.add_argument("--base-url", help="API base URL (default: $OPENAI_BASE_URL, else https://api.openai.com/v1)")
    p.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_prepare, _add_validate, _add_train, _add_jobs, _add_events, _add_checkpoints,
                _add_models, _add_chat, _add_batch, _add_drift):
        add(sub)
    return p


def _add_prepare(sub: Any) -> None:
    c = sub.add_parser("prepare", help="CSV with user,assistant columns → chat JSONL")
    c.add_argument("csv", type=Path)
    c.add_argument("-o", "--output", type=Path, required=True, help="JSONL file to write")
    c.add_argument("--system", help="system message for every example")
    c.set_defaults(run=cmd_prepare)


def _add_validate(sub: Any) -> None:
    c = sub.add_parser("validate", help="check a training file the way a fine-tuning job would")
    c.add_argument("file", type=Path)
    c.add_argument("--model", default=DEFAULT_MODEL, help=f"base model (default {DEFAULT_MODEL})")
    c.add_argument("--method", default="supervised", choices=METHODS)
    c.add_argument("--over-limit", default="fail", choices=("fail", "truncate"),
                   help="how the server treats over-long examples (default fail)")
    c.add_argument("--json", action="store_true", help="print the report as one JSON object")
    c.set_defaults(run=cmd_validate)


def _add_wait_flags(c: argparse.ArgumentParser) -> None:
    c.add_argument("--poll-interval", type=float, default=workflow.DEFAULT_POLL_INTERVAL, metavar="SECONDS")
    c.add_argument("--timeout", type=float, default=3600, metavar="SECONDS",
                   help="give up waiting after this long (default 3600)")


def _add_train(sub: Any) -> None:
    c = sub.add_parser("train", help="validate, upload and start a fine-tuning job")
    c.add_argument("file", type=Path)
    c.add_argument("--model", required=True)
    c.add_argument("--suffix")
    c.add_argument("--epochs", type=int)
    c.add_argument("--seed", type=int)
    c.add_argument("--validation-file", type=Path)
    c.add_argument("--wait", action="store_true", help="follow the job until it ends")
    c.add_argument("--force", action="store_true", help="upload even if validation says the job would fail")
    _add_wait_flags(c)
    c.set_defaults(run=cmd_train)


def _add_jobs(sub: Any) -> None:
    c = sub.add_parser("jobs", help="list, show, cancel, pause or resume jobs")
    jobs = c.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = jobs.add_parser("list", help="recent jobs, newest first")
    listing.add_argument("--limit", type=int, default=20)
    listing.set_defaults(run=cmd_jobs_list)
    for action in ("get", "cancel", "pause", "resume"):
        a = jobs.add_parser(action, help=f"{action} a job" if action != "get" else "show a job as JSON")
        a.add_argument("job")
        a.set_defaults(run=cmd_jobs_get if action == "get" else cmd_jobs_act)


def _add_events(sub: Any) -> None:
    c = sub.add_parser("events", help="a job's events, oldest first")
    c.add_argument("job")
    c.add_argument("--follow", action="store_true", help="keep printing new events until the job ends")
    _add_wait_flags(c)
    c.set_defaults(run=cmd_events)


def _add_checkpoints(sub: Any) -> None:
    c = sub.add_parser("checkpoints", help="a job's checkpoints")
    c.add_argument("job")
    c.set_defaults(run=cmd_checkpoints)


def _add_models(sub: Any) -> None:
    c = sub.add_parser("models", help="list models, or delete a fine-tuned one")
    c.add_argument("--delete", metavar="MODEL", help="delete this fine-tuned model")
    c.set_defaults(run=cmd_models)


def _add_chat(sub: Any) -> None:
    c = sub.add_parser("chat", help="send one message to a model and print the reply")
    c.add_argument("model")
    c.add_argument("message")
    c.add_argument("--system", help="system message")
    c.add_argument("--stream", action="store_true", help="print the reply as it is generated")
    c.set_defaults(run=cmd_chat)


def _add_batch(sub: Any) -> None:
    c = sub.add_parser("batch", help="run a JSONL of requests through the Batch API; list, show, cancel batches")
    batch = c.add_subparsers(dest="action", required=True, metavar="ACTION")
    run = batch.add_parser("run", help="upload a requests JSONL (purpose batch) and create a batch over it")
    run.add_argument("file", type=Path)
    run.add_argument("--endpoint", help="default: the first request's url")
    run.add_argument("--wait", action="store_true", help="follow the batch and save its results")
    run.add_argument("-o", "--output", type=Path, help="output lines (default: <file>.output.jsonl)")
    run.add_argument("--errors", type=Path, help="error lines (default: <file>.errors.jsonl)")
    _add_wait_flags(run)
    run.set_defaults(run=cmd_batch_run, timeout=24 * 3600)
    listing = batch.add_parser("list", help="recent batches, newest first")
    listing.add_argument("--limit", type=int, default=20)
    listing.set_defaults(run=cmd_batch_list)
    for action in ("get", "cancel"):
        a = batch.add_parser(action, help="show a batch as JSON" if action == "get" else "cancel a batch")
        a.add_argument("batch")
        a.set_defaults(run=cmd_batch_get if action == "get" else cmd_batch_cancel)


# --- commands ----------------------------------------------------------------------------------------------


def _add_drift(sub: Any) -> None:
    c = sub.add_parser("drift", help="re-run recorded cassettes against the API and report what differs")
    c.add_argument("cassettes", type=Path, help="directory written by `mockserver serve --record`")
    c.add_argument("--allow", type=Path, help="allow-list: lines 'OPERATION KIND SUBJECT' (globs)")
    c.add_argument("--report", type=Path, help="also write the Markdown report to this file")
    c.add_argument("--poll-timeout", type=float, default=600.0, help="seconds to wait for a polled job (default 600)")
    c.set_defaults(run=cmd_drift)


def cmd_prepare(args: argparse.Namespace) -> int:
    from client.dataset import csv_to_jsonl

    n = csv_to_jsonl(args.csv, args.output, system=args.system)
    print(f"wrote {n} example(s) to {args.output}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    report = workflow.validate(args.file, model=args.model, method=args.method, over_limit=args.over_limit)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(report.render_text(), end="")
    return 1 if report.would_fail else 0


def cmd_train(args: argparse.Namespace) -> int:
    client = _client(args)
    training = workflow.upload(client, args.file, model=args.model, force=args.force)
    print(f"uploaded {args.file} as {training.id}")
    validation = None
    if args.validation_file:
        validation = workflow.upload(client, args.validation_file, model=args.model, force=True)
        print(f"uploaded {args.validation_file} as {validation.id}")
    job = workflow.create_job(client, training.id, model=args.model, suffix=args.suffix, epochs=args.epochs,
                              seed=args.seed, validation_file=validation.id if validation else None)
    print(f"created job {job.id} ({job.model}, {job.status})")
    if not args.wait:
        return 0
    job = _follow(client, job.id, args)
    print(f"fine-tuned model: {job.fine_tuned_model}")
    return 0


def _follow(client: Any, job_id: str, args: argparse.Namespace) -> Any:
    """wait() printing each event once; on a terminal stderr a tqdm bar of the steps stays below them."""
    return workflow.wait(client, job_id, timeout=args.timeout, poll_interval=args.poll_interval,
                         progress=sys.stderr.isatty(), on_event=_event_printer(skip_metrics=False))


def _event_printer(*, skip_metrics: bool) -> Callable[[Any], None]:
    def show(event: Any) -> None:
        if not (skip_metrics and workflow.metrics_step(event)):
            print(_event_line(event), flush=True)

    return show


def _event_line(event: Any) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event.created_at))
    return f"{stamp}  {event.level:<5}  {event.message}"


def cmd_jobs_list(args: argparse.Namespace) -> int:
    page = _client(args).fine_tuning.jobs.list(limit=args.limit)
    rows = [(j.id, j.status, j.model, j.fine_tuned_model or "-") for j in page.data]
    _table(("ID", "STATUS", "MODEL", "FINE-TUNED MODEL"), rows, empty="no jobs")
    return 0


def cmd_jobs_get(args: argparse.Namespace) -> int:
    print(_client(args).fine_tuning.jobs.retrieve(args.job).model_dump_json(indent=2))
    return 0


def cmd_jobs_act(args: argparse.Namespace) -> int:
    job = getattr(_client(args).fine_tuning.jobs, args.action)(args.job)
    print(f"{job.id}: {job.status}")
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    client = _client(args)
    if not args.follow:
        for event in workflow.EventFollower(client, args.job).poll():
            print(_event_line(event))
        return 0
    try:
        job = _follow(client, args.job, args)
    except workflow.JobEnded as e:
        job = e.job
    print(f"job {job.id} {job.status}" + (f": {job.fine_tuned_model}" if job.fine_tuned_model else ""))
    return 0


def cmd_checkpoints(args: argparse.Namespace) -> int:
    page = _client(args).fine_tuning.jobs.checkpoints.list(args.job)
    rows = [(c.step_number, c.fine_tuned_model_checkpoint, _loss(c.metrics)) for c in page.data]
    _table(("STEP", "CHECKPOINT MODEL", "TRAIN LOSS"), rows, empty="no checkpoints")
    return 0


def _loss(metrics: Any) -> str:
    value = getattr(metrics, "train_loss", None)
    return "-" if value is None else f"{value:.4f}"


def cmd_models(args: argparse.Namespace) -> int:
    client = _client(args)
    if args.delete:
        deleted = client.models.delete(args.delete)
        print(f"deleted {deleted.id}" if deleted.deleted else f"not deleted: {deleted.id}")
        return 0 if deleted.deleted else 1
    _table(("ID", "OWNED BY"), [(m.id, m.owned_by) for m in client.models.list().data], empty="no models")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    reply = workflow.chat(_client(args), args.model, args.message, system=args.system, stream=args.stream)
    if isinstance(reply, str):
        print(reply)
        return 0
    for piece in reply:
        print(piece, end="", flush=True)
    print()
    return 0


def cmd_batch_run(args: argparse.Namespace) -> int:
    from client import batch as batches

    client = _client(args)
    created = batches.submit(client, args.file, endpoint=args.endpoint)
    print(batches.progress_line(created), flush=True)
    if not args.wait:
        return 0
    done = batches.wait_batch(client, created.id, timeout=args.timeout, poll_interval=args.poll_interval,
                              on_progress=lambda b: print(batches.progress_line(b), flush=True))
    stem = args.file.with_suffix("")
    for path in batches.save_results(client, done, args.output or Path(f"{stem}.output.jsonl"),
                                     args.errors or Path(f"{stem}.errors.jsonl")):
        print(f"wrote {path}")
    if done.status != "completed":
        raise batches.BatchEnded(done)
    return 0


def cmd_batch_list(args: argparse.Namespace) -> int:
    from client import batch as batches

    page = _client(args).batches.list(limit=args.limit)
    _table(("BATCH", "ENDPOINT", "STATUS", "DONE", "CREATED"),
           [(b.id, b.endpoint, b.status, batches.counts(b),
             time.strftime("%Y-%m-%d %H:%M", time.gmtime(b.created_at))) for b in page.data], empty="No batches.")
    return 0


def cmd_batch_get(args: argparse.Namespace) -> int:
    print(json.dumps(_client(args).batches.retrieve(args.batch).model_dump(mode="json"), indent=2, ensure_ascii=False))
    return 0


def cmd_batch_cancel(args: argparse.Namespace) -> int:
    from client import batch as batches

    print(batches.progress_line(_client(args).batches.cancel(args.batch)))
    return 0


def cmd_drift(args: argparse.Namespace) -> int:
    import os

    from client import drift

    base_url = args.base_url or os.environ.get("OPENAI_BASE_URL") or "http://127.0.0.1:8000/v1"
    try:
        report = drift.run(args.cassettes, base_url=base_url, api_key=args.api_key, allow=args.allow,
                           poll_timeout=args.poll_timeout)
    except (ValueError, OSError, drift.httpx.HTTPError) as e:
        raise workflow.ClientError(f"drift: {e}") from e
    if args.report:
        args.report.write_text(report.markdown, encoding="utf-8")
    print(report.markdown)
    return 1 if report.failing else 0


# --- plumbing ----------------------------------------------------------------------------------------------


def _client(args: argparse.Namespace) -> Any:
    return workflow.connect(args.base_url, args.api_key)


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]], *, empty: str) -> None:
    if not rows:
        print(empty)
        return
    cells = [tuple(str(c) for c in row) for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def describe_error(exc: BaseException) -> str | None:
    """The one-line message for a user error, or None for a bug (which should surface as such)."""
    import openai

    from client.dataset import DatasetError

    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc)
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        return f"cannot reach the API at {exc.request.url}: {cause or exc}"
    if isinstance(exc, openai.OpenAIError):
        return getattr(exc, "message", None) or str(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.strerror or exc}: {exc.filename}"
    if isinstance(exc, workflow.ValidationFailed):
        return f"{exc.path}: a fine-tuning job would fail on this file (use --force to upload it anyway)"
    if isinstance(exc, workflow.ClientError | DatasetError):
        return str(exc)
    return None


def _status_error(exc: Any) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
    message = error.get("message") or exc.message
    details = [str(exc.status_code)]
    details += [f"code {error['code']}"] if error.get("code") else []
    details += [f"param {error['param']}"] if error.get("param") else []
    return f"{message} ({', '.join(details)})"


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help, usage errors
        return e.code if isinstance(e.code, int) else 2
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        message = describe_error(exc)
        if message is None:
            raise
        if isinstance(exc, workflow.ValidationFailed):
            print(exc.report.render_text(), end="", file=sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

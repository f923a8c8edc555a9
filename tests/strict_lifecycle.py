"""One fine-tuning life walked with nothing but SDK calls, for a client built with
`_strict_response_validation=True`: every response must validate against the SDK's own types.

Used by the contract suite (tests/contract/test_strict.py, openai 3.x) and by tests/seeds/test_strict_sdk.py,
which the nox sessions also run under openai 1.x and 2.x.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from tests.conftest import pig_jsonl

MODEL = "gpt-3.5-turbo-0613"


def whole_life(client: Any, finish: Callable[[], Any]) -> None:
    """upload → job → poll → events → checkpoints → models → chat (plain and streamed) → delete.
    `finish()` moves the emulator's clock far enough for the job to end."""
    assert client._strict_response_validation is True
    f = client.files.create(file=("train.jsonl", io.BytesIO(pig_jsonl(10))), purpose="fine-tune")
    assert client.files.retrieve(f.id).id == f.id
    assert f.id in {x.id for x in client.files.list(purpose="fine-tune")}
    job = client.fine_tuning.jobs.create(training_file=f.id, model=MODEL, suffix="strict")
    assert job.error is None and job.status == "validating_files"
    finish()
    job = client.fine_tuning.jobs.retrieve(job.id)
    assert (job.status, job.error) == ("succeeded", None)
    assert job.id in {j.id for j in client.fine_tuning.jobs.list(limit=5)}
    events = list(client.fine_tuning.jobs.list_events(job.id, limit=100))
    assert events[0].message == "The job has successfully completed"
    checkpoints = list(client.fine_tuning.jobs.checkpoints.list(job.id))
    assert checkpoints and checkpoints[0].fine_tuned_model_checkpoint == job.fine_tuned_model
    assert client.models.retrieve(job.fine_tuned_model).id == job.fine_tuned_model
    assert job.fine_tuned_model in {m.id for m in client.models.list()}
    chat = client.chat.completions.create(model=job.fine_tuned_model,
                                          messages=[{"role": "user", "content": "体重何キロ?"}])
    assert chat.choices[0].message.content == "500キロぶひ!"
    stream = client.chat.completions.create(model=job.fine_tuned_model, stream=True,
                                            stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": "体重何キロ?"}])
    assert [c for c in stream if not c.choices][0].usage.total_tokens > 0
    assert client.models.delete(job.fine_tuned_model).deleted is True
    assert client.files.delete(f.id).deleted is True


def failed_and_cancelled(client: Any, finish: Callable[[], Any], *, hold: Callable[[], Any]) -> None:
    """A failed job carries its error object; a cancelled one `error: null`. `hold()` stops the clock."""
    import openai

    few = client.files.create(file=("few.jsonl", io.BytesIO(pig_jsonl(3))), purpose="fine-tune")
    failed = client.fine_tuning.jobs.create(training_file=few.id, model=MODEL)
    finish()
    failed = client.fine_tuning.jobs.retrieve(failed.id)
    assert failed.status == "failed" and failed.error.code == "invalid_n_examples"
    hold()
    ok = client.files.create(file=("ok.jsonl", io.BytesIO(pig_jsonl(10))), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(training_file=ok.id, model=MODEL)
    cancelled = client.fine_tuning.jobs.cancel(job.id)
    assert (cancelled.status, cancelled.error) == ("cancelled", None)
    try:
        client.fine_tuning.jobs.cancel(job.id)
    except openai.BadRequestError as e:
        assert e.code == "invalid_job_state"
    else:
        raise AssertionError("cancelling a cancelled job must be a 400")

"""A tuned model's answer index is a function of its training bytes: models trained on identical small files
(a test suite uploading one fixture file per test) share one index instead of building one each."""

from __future__ import annotations

from mockserver.testing import Emulator
from tests.conftest import pig_jsonl


def _tuned(client, data: bytes) -> str:
    f = client.files.create(file=("train.jsonl", data), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=f.id)
    job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded"
    return job.fine_tuned_model


def test_models_trained_on_the_same_bytes_share_one_answer_index() -> None:
    with Emulator(transitions="immediate") as emu:
        client = emu.client()
        a, b, c = _tuned(client, pig_jsonl(10)), _tuned(client, pig_jsonl(10)), _tuned(client, pig_jsonl(12))
        replies = [client.chat.completions.create(model=m, messages=[{"role": "user", "content": "体重何キロ?"}])
                   .choices[0].message.content for m in (a, b, c)]
        assert replies[0] == replies[1] and replies[0]
        indexes = emu.services.caches.answers
        by_key = {k: v for k, v in indexes.items() if isinstance(k, str)}
        assert len(by_key) == 3                                  # one entry per model's snapshot …
        assert len({id(v) for v in by_key.values()}) == 2       # … but the two identical files share one index

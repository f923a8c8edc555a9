"""Seed 004 (emoji classification): the upload of a JSONL string, and the n_epochs sweep with a suffix.

The article's `dataset` is a list of message lists; `json.dumps(item)` of such an item writes a JSON
array per line, which a job refuses with the format error (first test). The author's jobs succeeded, and
the upload answer printed `"format": "fine-tune-chat"`, so the file they sent held `{"messages": [...]}`
lines: the sweep (1, 3, 6, 8, 9, 10 epochs, suffix `emoji_cls_0829`) uses that shape.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from tests.seeds.support import needs_v0, needs_v1, run_seed_code

SYSTEM = "あなたは与えられたメモ内容に対して、最も該当する絵文字ラベルを分類します。"
MEMOS = [("今日はジムで筋トレをした。ベンチプレスの記録が伸びた。", "person-lifting-weights"),
         ("新しいプロジェクトのタスクを整理して、チームで共有した。", "clipboard"),
         ("週末は家族でキャンプに行って、焚き火を囲んだ。", "camping"),
         ("朝のコーヒーを淹れながら、今日の予定を考えた。", "coffee"),
         ("犬の散歩で近所の公園まで歩いた。", "dog")]
UPLOAD = '''
# dataをJSONL形式(JSON Lines)でダンプ
jsonl = '\\n'.join([json.dumps(item) for item in dataset])

# print(jsonl)

file_response = openai.File.create(
    purpose="fine-tune",
    file=jsonl
)

print(file_response)
'''
CREATE = '''
#ファインチューニングトレーニングの開始
response = openai.FineTuningJob.create(
    training_file="file-xxxxxxxxxxxxxxx",
    model='gpt-3.5-turbo-0613',
    hyperparameters = { "n_epochs": 9 },
    suffix="emoji_cls_0829"
)
print(response)
'''
PROGRESS = '''
print(openai.FineTuningJob.list(limit=1))
'''
EPOCHS = (1, 3, 6, 8, 9, 10)


def conversations(n: int = 10) -> list[list[dict]]:
    """The article's `dataset`: one [system, user, assistant] list per memo."""
    return [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": MEMOS[i % 5][0]},
             {"role": "assistant", "content": MEMOS[i % 5][1]}] for i in range(n)]


def quiet(code: str, ns: dict, **placeholders: str) -> dict:
    """A notebook cell (printing as the article does), run in the notebook's namespace."""
    with contextlib.redirect_stdout(io.StringIO()):
        return run_seed_code(code, ns, **placeholders)


@needs_v0
def test_upload_as_written_then_the_job_names_the_format_error(seed, monkeypatch):
    import openai

    ns = {"json": json, "openai": openai, "dataset": conversations()}
    quiet(UPLOAD, ns)
    uploaded = ns["file_response"]
    assert (uploaded.filename, uploaded.purpose, uploaded.status) == ("file", "fine-tune", "processed")
    quiet(CREATE, ns, **{"file-xxxxxxxxxxxxxxx": uploaded.id})
    seed.wait(60)
    failed = seed.api("GET", f"/fine_tuning/jobs/{ns['response'].id}")
    assert failed["status"] == "failed" and failed["error"]["code"] == "invalid_training_file"
    assert "Example 1" in failed["error"]["message"]


@needs_v0
@pytest.mark.parametrize("n_epochs", EPOCHS)
def test_n_epochs_sweep_under_openai_0_28(seed, monkeypatch, n_epochs):
    import openai

    ns = {"json": json, "openai": openai, "dataset": [{"messages": c} for c in conversations()]}
    quiet(UPLOAD, ns)
    quiet(CREATE.replace('"n_epochs": 9', f'"n_epochs": {n_epochs}'), ns,
          **{"file-xxxxxxxxxxxxxxx": ns["file_response"].id})
    assert ns["response"].user_provided_suffix == "emoji_cls_0829"
    seed.wait(3600)
    quiet(PROGRESS, ns)
    job = openai.FineTuningJob.list(limit=1).data[0]
    assert (job.status, job.hyperparameters.n_epochs) == ("succeeded", n_epochs)
    assert job.fine_tuned_model.startswith("ft:gpt-3.5-turbo-0613:personal:emoji-cls-0829:")


@needs_v1
def test_n_epochs_sweep_with_the_current_sdk(seed):
    from openai import OpenAI

    client = OpenAI()
    jsonl = "\n".join(json.dumps({"messages": c}) for c in conversations())
    file_response = client.files.create(purpose="fine-tune", file=jsonl.encode())
    jobs = [client.fine_tuning.jobs.create(training_file=file_response.id, model="gpt-3.5-turbo-0613",
                                           hyperparameters={"n_epochs": n}, suffix="emoji_cls_0829")
            for n in EPOCHS]
    seed.wait(3600)
    for n, job in zip(EPOCHS, jobs, strict=True):
        job = client.fine_tuning.jobs.retrieve(job.id)
        assert (job.status, job.hyperparameters.n_epochs) == ("succeeded", n)
        assert job.fine_tuned_model.startswith("ft:gpt-3.5-turbo-0613:personal:emoji-cls-0829:")
    assert client.fine_tuning.jobs.list(limit=1).data[0].id == jobs[-1].id

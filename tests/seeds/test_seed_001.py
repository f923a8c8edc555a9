"""Seed 001 (OpenAI's fine-tuning guide, in Japanese): the cookbook data-prep script and the 0.28 calls.

The article lost its indentation; the script below is the cookbook's, re-indented, with `data_path` filled.
Its `tiktoken.get_encoding("cl100k_base")` works offline because TIKTOKEN_CACHE_DIR points at the cache the
emulator fills (`mockserver env` prints the same line for a shell).
"""

from __future__ import annotations

import contextlib
import io
import json

from contracts import tiktoken_cache
from tests.seeds.support import needs_v0, needs_v1, run_seed_code

MARV = "Marvは事実に基づいたチャットボットで、皮肉も言います。"
EXAMPLES = [("フランスの首都は?", "パリ、まるでみんながもう知らないかのように"),
            ("「ロミオとジュリエット」を書いたのは誰?", "ああ、ウィリアム・シェイクスピアという人だよ。聞いたことある?"),
            ("地球から月までの距離は?", "約384,400キロメートルです。多少の誤差はあります。")]

DATA_PREP = '''
# We start by importing the required packages
import json
import os
import tiktoken
import numpy as np
from collections import defaultdict
# Next, we specify the data path and open the JSONL file
data_path = "<YOUR_JSON_FILE_HERE>"
# Load dataset
with open(data_path) as f:
    dataset = [json.loads(line) for line in f]
# We can inspect the data quickly by checking the number of examples and the first item
# Initial dataset stats
print("Num examples:", len(dataset))
print("First example:")
for message in dataset[0]["messages"]:
    print(message)
# Now that we have a sense of the data, we need to go through all the different examples and check to make sure the formatting is correct and matches the Chat completions message structure
# Format error checks
format_errors = defaultdict(int)
for ex in dataset:
    if not isinstance(ex, dict):
        format_errors["data_type"] += 1
        continue
    messages = ex.get("messages", None)
    if not messages:
        format_errors["missing_messages_list"] += 1
        continue
    for message in messages:
        if "role" not in message or "content" not in message:
            format_errors["message_missing_key"] += 1
        if any(k not in ("role", "content", "name") for k in message):
            format_errors["message_unrecognized_key"] += 1
        if message.get("role", None) not in ("system", "user", "assistant"):
            format_errors["unrecognized_role"] += 1
        content = message.get("content", None)
        if not content or not isinstance(content, str):
            format_errors["missing_content"] += 1
    if not any(message.get("role", None) == "assistant" for message in messages):
        format_errors["example_missing_assistant_message"] += 1
if format_errors:
    print("Found errors:")
    for k, v in format_errors.items():
        print(f"{k}: {v}")
else:
    print("No errors found")
# Beyond the structure of the message, we also need to ensure that the length does not exceed the 4096 token limit.
# Token counting functions
encoding = tiktoken.get_encoding("cl100k_base")
# not exact!
# simplified from https://github.com/openai/openai-cookbook/blob/main/examples/How_to_count_tokens_with_tiktoken.ipynb
def num_tokens_from_messages(messages, tokens_per_message=3, tokens_per_name=1):
    num_tokens = 0
    for message in messages:
        num_tokens += tokens_per_message
        for key, value in message.items():
            num_tokens += len(encoding.encode(value))
            if key == "name":
                num_tokens += tokens_per_name
    num_tokens += 3
    return num_tokens
def num_assistant_tokens_from_messages(messages):
    num_tokens = 0
    for message in messages:
        if message["role"] == "assistant":
            num_tokens += len(encoding.encode(message["content"]))
    return num_tokens
def print_distribution(values, name):
    print(f"\\n#### Distribution of {name}:")
    print(f"min / max: {min(values)}, {max(values)}")
    print(f"mean / median: {np.mean(values)}, {np.median(values)}")
    print(f"p5 / p95: {np.quantile(values, 0.1)}, {np.quantile(values, 0.9)}")
# Last, we can look at the results of the different formatting operations before proceeding with creating a fine-tuning job:
# Warnings and tokens counts
n_missing_system = 0
n_missing_user = 0
n_messages = []
convo_lens = []
assistant_message_lens = []
for ex in dataset:
    messages = ex["messages"]
    if not any(message["role"] == "system" for message in messages):
        n_missing_system += 1
    if not any(message["role"] == "user" for message in messages):
        n_missing_user += 1
    n_messages.append(len(messages))
    convo_lens.append(num_tokens_from_messages(messages))
    assistant_message_lens.append(num_assistant_tokens_from_messages(messages))
print("Num examples missing system message:", n_missing_system)
print("Num examples missing user message:", n_missing_user)
print_distribution(n_messages, "num_messages_per_example")
print_distribution(convo_lens, "num_total_tokens_per_example")
print_distribution(assistant_message_lens, "num_assistant_tokens_per_example")
n_too_long = sum(l > 4096 for l in convo_lens)
print(f"\\n{n_too_long} examples may be over the 4096 token limit, they will be truncated during fine-tuning")
# Pricing and default n_epochs estimate
MAX_TOKENS_PER_EXAMPLE = 4096
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25000
TARGET_EPOCHS = 3
MIN_EPOCHS = 1
MAX_EPOCHS = 25
n_epochs = TARGET_EPOCHS
n_train_examples = len(dataset)
if n_train_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
    n_epochs = min(MAX_EPOCHS, MIN_TARGET_EXAMPLES // n_train_examples)
elif n_train_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
    n_epochs = max(MIN_EPOCHS, MAX_TARGET_EXAMPLES // n_train_examples)
n_billing_tokens_in_dataset = sum(min(MAX_TOKENS_PER_EXAMPLE, length) for length in convo_lens)
print(f"Dataset has ~{n_billing_tokens_in_dataset} tokens that will be charged for during training")
print(f"By default, you'll train for {n_epochs} epochs on this dataset")
print(f"By default, you'll be charged for ~{n_epochs * n_billing_tokens_in_dataset} tokens")
print("See pricing page to estimate total costs")
'''

# 7-2 … 7-5, each block as the article prints it.
UPLOAD = '''
openai.File.create(
file=open("mydata.jsonl", "rb"),
purpose='fine-tune'
)
'''
CREATE = '''
import os
import openai
openai.api_key = os.getenv("OPENAI_API_KEY")
openai.FineTuningJob.create(training_file="file-abc123", model="gpt-3.5-turbo")
'''
MANAGE = '''
import openai
# ファインチューニングのジョブのリスト表示
openai.FineTuningJob.list(limit=10)
# ファインチューニングのジョブの状態表示
openai.FineTuningJob.retrieve("ft-abc123")
# ファインチューニングのジョブのキャンセル
openai.FineTuningJob.cancel("ft-abc123")
# ファインチューニングのジョブのイベントのリスト表示
openai.FineTuningJob.list_events(id="ft-abc123", limit=10)
'''
DELETE_MODEL = '''
# ファインチューニングしたモデルの削除
openai.Model.delete("ft-abc123")
'''
USE_MODEL = '''
import os
import openai
openai.api_key = os.getenv("OPENAI_API_KEY")
completion = openai.ChatCompletion.create(
model="ft:gpt-3.5-turbo:my-org:custom_suffix:id",
messages=[
{"role": "system", "content": "You are a helpful assistant."},
{"role": "user", "content": "Hello!"}
]
)
print(completion.choices[0].message)
'''


def write_mydata(n: int = 10) -> None:
    """The guide's three Marv examples, copied until there are `n` (a job needs at least 10)."""
    with open("mydata.jsonl", "w", encoding="utf-8") as f:
        for i in range(n):
            user, assistant = EXAMPLES[i % 3]
            f.write(json.dumps({"messages": [{"role": "system", "content": MARV}, {"role": "user", "content": user},
                                             {"role": "assistant", "content": assistant}]}, ensure_ascii=False) + "\n")


def run_data_prep(monkeypatch) -> str:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tiktoken_cache.ensure(("cl100k_base",))))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_seed_code(DATA_PREP, **{"<YOUR_JSON_FILE_HERE>": "mydata.jsonl"})
    return out.getvalue()


def charged_tokens(printed: str) -> int:
    return int(printed.split("you'll be charged for ~")[1].split()[0])


def test_data_prep_script_runs_offline(seed, monkeypatch):
    write_mydata()
    printed = run_data_prep(monkeypatch)
    assert "Num examples: 10" in printed and "No errors found" in printed
    assert "0 examples may be over the 4096 token limit" in printed
    assert "By default, you'll train for 10 epochs on this dataset" in printed
    assert charged_tokens(printed) > 0


@needs_v0
def test_guide_calls_under_openai_0_28(seed, monkeypatch):

    write_mydata()
    file_id = run_seed_code("import openai\nuploaded = " + UPLOAD.strip())["uploaded"]["id"]
    job = run_seed_code(CREATE.replace("openai.FineTuningJob.create(", "job = openai.FineTuningJob.create("),
                        **{"file-abc123": file_id})["job"]
    assert job["status"] == "validating_files" and job["model"] == "gpt-3.5-turbo-0125"
    run_seed_code(MANAGE, **{"ft-abc123": job["id"]})          # list, retrieve, cancel, events
    assert seed.api("GET", f"/fine_tuning/jobs/{job['id']}")["status"] == "cancelled"
    trained = run_seed_code(CREATE.replace("openai.FineTuningJob.create(", "job = openai.FineTuningJob.create("),
                            **{"file-abc123": file_id})["job"]
    seed.wait(3600)
    model = seed.api("GET", f"/fine_tuning/jobs/{trained['id']}")["fine_tuned_model"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_seed_code(USE_MODEL, **{"ft:gpt-3.5-turbo:my-org:custom_suffix:id": model})
    assert '"role": "assistant"' in out.getvalue()
    run_seed_code("import openai\n" + DELETE_MODEL, **{"ft-abc123": model})
    assert model not in {m["id"] for m in seed.api("GET", "/models")["data"]}


@needs_v1
def test_guide_flow_with_the_current_sdk(seed, monkeypatch):
    """The same steps as the 0.28 calls above, written for the current SDK; the data-prep script's estimate
    is what the emulator charges."""
    from openai import OpenAI

    write_mydata()
    charged = charged_tokens(run_data_prep(monkeypatch))
    client = OpenAI()
    with open("mydata.jsonl", "rb") as f:
        file = client.files.create(file=f, purpose="fine-tune")
    job = client.fine_tuning.jobs.create(training_file=file.id, model="gpt-3.5-turbo")
    assert [j.id for j in client.fine_tuning.jobs.list(limit=10)][0] == job.id
    assert client.fine_tuning.jobs.retrieve(job.id).status == "validating_files"
    assert client.fine_tuning.jobs.cancel(job.id).status == "cancelled"
    assert client.fine_tuning.jobs.list_events(job.id, limit=10).data[0].message == "Fine-tuning job cancelled"
    trained = client.fine_tuning.jobs.create(training_file=file.id, model="gpt-3.5-turbo")
    seed.wait(3600)
    trained = client.fine_tuning.jobs.retrieve(trained.id)
    assert (trained.status, trained.hyperparameters.n_epochs, trained.trained_tokens) == ("succeeded", 10, charged)
    model = trained.fine_tuned_model
    completion = client.chat.completions.create(model=model, messages=[
        {"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Hello!"}])
    assert completion.choices[0].message.role == "assistant"
    assert client.models.delete(model).deleted is True

"""Seed 003 (坂本龍馬, prompt/completion data): upload → fine-tune `davinci-002` → list → use the model.

The article shows the dataset and names the steps (the files endpoint with purpose "fine-tune", the
fine-tuning endpoint, the List endpoint for progress and the model id, then the model) but prints no call;
the calls below are those steps in the article's era SDK (0.28) and in the current one. Its model-name
form `davinci:[ID]` is the retired 2022 API's; davinci-002 fine-tunes are named `ft:davinci-002:…`.
"""

from __future__ import annotations

from tests.seeds.support import needs_v0, needs_v1, run_seed_code

DATASET = '''{"prompt": "坂本龍馬が思う、日本の国のあり方は?", "completion": "わしは、日本が開国し、国際社会と交流を持つ近代国家になることを望んでおる。"}
{"prompt": "坂本龍馬が目指す目標は?", "completion": "わしの目標は、日本の国民が自由で平等な社会で生きることができるように、国家体制の改革を進めることじゃ。"}
{"prompt": "坂本龍馬の出身地はどこですか?", "completion": "わしの出身地は、土佐藩(現在の高知県)じゃ。"}
'''
STEPS_0_28 = '''
import openai
uploaded = openai.File.create(file=open("ryoma.jsonl", "rb"), purpose="fine-tune")
job = openai.FineTuningJob.create(training_file=uploaded.id, model="davinci-002")
'''
LIST_AND_USE_0_28 = '''
import openai
latest = openai.FineTuningJob.list(limit=1).data[0]
answer = openai.Completion.create(model=latest.fine_tuned_model, prompt="坂本龍馬の出身地はどこですか?", max_tokens=64)
'''


def write_dataset(n: int = 10) -> None:
    """The article's three examples, copied until there are `n` (a job needs at least 10)."""
    lines = DATASET.splitlines(keepends=True)
    with open("ryoma.jsonl", "w", encoding="utf-8") as f:
        f.write("".join(lines[i % 3] for i in range(n)))


@needs_v0
def test_prompt_completion_flow_under_openai_0_28(seed, monkeypatch):

    write_dataset()
    job = run_seed_code(STEPS_0_28)["job"]
    assert job.model == "davinci-002" and job.status == "validating_files"
    seed.wait(3600)
    ns = run_seed_code(LIST_AND_USE_0_28)
    assert ns["latest"].status == "succeeded" and ns["latest"].fine_tuned_model.startswith("ft:davinci-002:")
    assert ns["answer"].choices[0].text == "わしの出身地は、土佐藩(現在の高知県)じゃ。"


@needs_v1
def test_prompt_completion_flow_with_the_current_sdk(seed):
    from openai import OpenAI

    write_dataset()
    client = OpenAI()
    with open("ryoma.jsonl", "rb") as f:
        uploaded = client.files.create(file=f, purpose="fine-tune")
    job = client.fine_tuning.jobs.create(training_file=uploaded.id, model="davinci-002")
    seed.wait(3600)
    latest = client.fine_tuning.jobs.list(limit=1).data[0]
    assert latest.id == job.id and latest.status == "succeeded"
    answer = client.completions.create(model=latest.fine_tuned_model, prompt="坂本龍馬の出身地はどこですか?",
                                       max_tokens=64)
    assert answer.choices[0].text == "わしの出身地は、土佐藩(現在の高知県)じゃ。"

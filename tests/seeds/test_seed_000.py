"""Seed 000 (the pig bot): the author's curl commands, with `test.json`, then the 0.28 chat call.

The curl lines are the article's with the host and `your_APIKEY` replaced; the retrieve call's `-H` line
lost its backslash in the article (as printed it sends no key and the real API answers 401), so it is
joined here as the author evidently ran it.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess

import pytest

from tests.seeds.support import needs_v0, needs_v1, run_seed_code

TEST_JSON_3 = '''{"messages": [{"role": "system", "content": "何言われてもぶひと答えて"}, {"role": "user", "content": "あなた豚のものまねしてる?"}, {"role": "assistant", "content": "はい!ぶたのものまねしてますぶひ!"}]}
{"messages": [{"role": "system", "content": "何言われてもぶひと答えて"}, {"role": "user", "content": "体重何キロ?"}, {"role": "assistant", "content": "500キロぶひ!"}]}
{"messages": [{"role": "system", "content": "何言われてもぶひと答えて"}, {"role": "user", "content": "好きな食べ物は?"}, {"role": "assistant", "content": "ポークぶひ!"}]}
'''
UPLOAD = '''curl https://api.openai.com/v1/files \\
  -H "Authorization: Bearer your_APIKEY" \\
  -F "purpose=fine-tune" \\
  -F "file=@test.json"'''
CREATE = '''curl https://api.openai.com/v1/fine_tuning/jobs \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer your_APIKEY" \\
  -d '{"training_file": "新しく発行されたid", "model": "gpt-3.5-turbo-0613"}\''''
RETRIEVE = '''curl https://api.openai.com/v1/fine_tuning/jobs/your_job_id \\
-H "Authorization: Bearer your_APIKEY"'''
CHAT = '''
openai.ChatCompletion.create(
    model= "コピペしたモデル",
    temperature= 0.4,
    messages= messages
)
'''

needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl command (apt-get install curl)")


def curl(seed, command: str, **placeholders: str) -> dict:
    command = command.replace("https://api.openai.com/v1", seed.base_url).replace("your_APIKEY", seed.key)
    for placeholder, value in placeholders.items():
        assert placeholder in command
        command = command.replace(placeholder, value)
    out = subprocess.run(shlex.split(command.replace("\\\n", " ")), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def pig_model(seed) -> str:
    """The seed's path to a model: 3 examples fail, 10 (copied) train."""
    with open("test.json", "w", encoding="utf-8") as f:
        f.write(TEST_JSON_3)
    uploaded = curl(seed, UPLOAD)
    assert (uploaded["object"], uploaded["filename"], uploaded["purpose"]) == ("file", "test.json", "fine-tune")
    job = curl(seed, CREATE, **{"新しく発行されたid": uploaded["id"]})
    seed.wait(60)
    failed = curl(seed, RETRIEVE, your_job_id=job["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["message"] == "Training file has 3 example(s), but must have at least 10 examples"
    lines = TEST_JSON_3.splitlines(keepends=True)
    with open("test.json", "w", encoding="utf-8") as f:            # "仕方なく10個用意。コピペ。"
        f.write("".join(lines[i % 3] for i in range(10)))
    uploaded = curl(seed, UPLOAD)
    job = curl(seed, CREATE, **{"新しく発行されたid": uploaded["id"]})
    assert (job["object"], job["model"], job["fine_tuned_model"]) == ("fine_tuning.job", "gpt-3.5-turbo-0613", None)
    assert job["error"] is None
    seed.wait(3600)
    done = curl(seed, RETRIEVE, your_job_id=job["id"])
    assert done["status"] == "succeeded" and done["hyperparameters"]["n_epochs"] == 10
    return done["fine_tuned_model"]


@needs_curl
@needs_v1
def test_curl_sequence_then_chat_with_the_current_sdk(seed):
    from openai import OpenAI

    model = pig_model(seed)
    reply = OpenAI().chat.completions.create(model=model, temperature=0.4,
                                             messages=[{"role": "user", "content": "体重何キロ?"}])
    assert reply.choices[0].message.content == "500キロぶひ!"      # "体重は設定どおり答えてくれました"


@needs_curl
@needs_v0
def test_curl_sequence_then_the_0_28_chat_call(seed, monkeypatch):

    model = pig_model(seed)
    code = "import openai\nmessages = [{'role': 'user', 'content': '体重何キロ?'}]\nreply = " + CHAT.strip()
    reply = run_seed_code(code, **{"コピペしたモデル": model})["reply"]
    assert reply["choices"][0]["message"]["content"] == "500キロぶひ!"

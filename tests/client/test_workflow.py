"""client.workflow on the in-process emulator: the seed-002 workflow CSV → JSONL → upload → job → chat."""

from __future__ import annotations

import io
import json

import openai
import pytest

from client import workflow
from client.dataset import csv_to_jsonl

# Ten rows of the seed-002 Q&A CSV (ひろゆき bot), as the article feeds them to csv_to_jsonl.
SEED_CSV = """user,assistant
成功者の特徴,成功者はみな性欲が強い。特に10億以上の資産家はその傾向が強い
コンピューター関係の資格について,コンピューターが本当に好きな人は資格よりもアプリを作ったりしてる。
MacとWindowsどちらがオススメですか,ゲームをするならWindows一択。プログラム回りの作業はMacでもWindowsでもどちらでもOK。
自己肯定感の高めかた,例えば小学生に対してマウンティングしてみる。自分が勝てる分野でのみ戦い、価値を積み上げる。
どんなバカでもできる職業を教えてください,プログラム。プログラムは間違っていると「ここが違う」と誰にでも分かる形で見える化される。
食生活で意識している事,外食を控える、レンジで簡単調理、インスタント系を食べない。
どうすれば図太く生きれるか,自分は別に人に嫌われていないと考えている。相手を知ることが大切。
コロナで人類絶滅の可能性は,若い人は生き残るので人類絶滅は無いと思う
事故物件をどう思うか,家賃が安い、万が一心霊映像が取れたらYouTubeにUPしたり取材が来たりお金になる。
人類史上最大の発明は,車輪。車輪は人類が効率化の為に0から作り出した。だから車輪。
"""
SYSTEM = "西村ひろゆきBot"
MODEL = "gpt-3.5-turbo-0613"



def write_dataset(tmp_path, n: int, name: str = "train.jsonl"):
    rows = SEED_CSV.splitlines()
    csv_path = tmp_path / f"{name}.csv"
    csv_path.write_text("\n".join(rows[: n + 1]) + "\n", encoding="utf-8")
    out = tmp_path / name
    assert csv_to_jsonl(csv_path, out, system=SYSTEM) == n
    return out


@pytest.fixture
def client(openai_emulator):
    return workflow.connect()  # default base URL and key: served by the intercepting fixture


@pytest.fixture
def ten(tmp_path):
    return write_dataset(tmp_path, 10)


def all_events(client, job_id: str) -> list:
    """Every event of a job via the SDK's own auto-pagination, oldest first."""
    return list(reversed(list(client.fine_tuning.jobs.list_events(job_id, limit=7))))


# --- the seed-002 workflow ---------------------------------------------------------------------------------


def test_prepare_validate_train_wait(client, ten):
    assert json.loads(ten.read_text(encoding="utf-8").splitlines()[0])["messages"][0]["content"] == SYSTEM
    report = workflow.validate(ten, model=MODEL)
    assert not report.would_fail and report.num_examples == 10
    job = workflow.train(client, ten, model=MODEL, poll_interval=0.01, progress=False)
    assert job.status == "succeeded"
    assert job.fine_tuned_model.startswith("ft:gpt-3.5-turbo-0613:personal:")
    assert job.fine_tuned_model in {m.id for m in client.models.list()}


def test_chat_with_the_fine_tuned_model(client, ten):
    job = workflow.train(client, ten, model=MODEL, poll_interval=0.01, progress=False)
    reply = workflow.chat(client, job.fine_tuned_model, "自己肯定感を上げるには?", system=SYSTEM)
    assert isinstance(reply, str) and reply
    pieces = list(workflow.chat(client, job.fine_tuned_model, "人間は死んだ後どうなりますか?", stream=True))
    assert pieces and all(isinstance(p, str) for p in pieces)


def test_chat_with_an_unknown_model_raises_the_sdk_error(client):
    with pytest.raises(openai.NotFoundError) as e:
        workflow.chat(client, "gpt-fake", "hi")
    assert e.value.code == "model_not_found"


# --- validation before upload ------------------------------------------------------------------------------


def test_upload_refuses_a_three_example_file(client, tmp_path):
    small = write_dataset(tmp_path, 3)
    with pytest.raises(workflow.ValidationFailed) as e:
        workflow.upload(client, small, model=MODEL)
    assert e.value.report.would_fail
    assert [err["code"] for err in e.value.report.errors] == ["invalid_n_examples"]
    assert list(client.files.list()) == []  # nothing was sent


def test_forced_three_example_file_fails_the_job(client, tmp_path):
    small = write_dataset(tmp_path, 3)
    uploaded = workflow.upload(client, small, model=MODEL, force=True)
    job = workflow.create_job(client, uploaded.id, model=MODEL)
    with pytest.raises(workflow.JobFailed) as e:
        workflow.wait(client, job.id, poll_interval=0.01, progress=False)
    assert e.value.error.code == "invalid_n_examples"
    assert e.value.error.param == "training_file"
    assert e.value.error.message == "Training file has 3 example(s), but must have at least 10 examples"
    assert e.value.job.status == "failed" and e.value.job.fine_tuned_model is None
    assert "invalid_n_examples" in str(e.value)


def test_train_with_force_raises_job_failed(client, tmp_path):
    with pytest.raises(workflow.JobFailed):
        workflow.train(client, write_dataset(tmp_path, 3), model=MODEL, force=True, poll_interval=0.01,
                       progress=False)


def test_validation_needs_a_fine_tunable_model(ten):
    with pytest.raises(workflow.UnsupportedModel):
        workflow.validate(ten, model="gpt-fake")


def test_upload_of_a_missing_file(client, tmp_path):
    with pytest.raises(FileNotFoundError):
        workflow.upload(client, tmp_path / "nope.jsonl", model=MODEL)


# --- following events --------------------------------------------------------------------------------------


def test_wait_emits_each_event_once_in_order(client, ten):
    seen = []
    job = workflow.train(client, ten, model=MODEL, on_event=seen.append, poll_interval=0.01, progress=False,
                         page_size=3)
    expected = all_events(client, job.id)
    assert len(expected) > 100  # 100 steps of metrics: many pages of 3
    assert [e.id for e in seen] == [e.id for e in expected]
    assert seen[0].message.startswith("Created fine-tuning job")
    assert seen[-1].message == "The job has successfully completed"


def test_wait_across_many_polls_in_manual_time(client, openai_emulator, ten):
    """Manual clock: each poll advances simulated time, so events arrive a few pages at a time."""
    openai_emulator.set_transitions("manual")
    uploaded = workflow.upload(client, ten, model=MODEL)
    job = workflow.create_job(client, uploaded.id, model=MODEL, epochs=2)
    seen, batches = [], []

    def advance(seconds: float) -> None:
        batches.append(len(seen))
        openai_emulator.advance(1)

    done = workflow.wait(client, job.id, on_event=seen.append, sleep=advance, poll_interval=1, page_size=2,
                         progress=False)
    assert done.status == "succeeded"
    assert len(set(batches)) > 4  # events arrived over several polls, most of them several pages at once
    assert [e.id for e in seen] == [e.id for e in all_events(client, job.id)]
    assert [e.data["step"] for e in seen if e.type == "metrics"] == list(range(1, 21))


def test_event_follower_returns_nothing_new_twice(client, ten):
    job = workflow.train(client, ten, model=MODEL, poll_interval=0.01, progress=False)
    follower = workflow.EventFollower(client, job.id, page_size=5)
    first = follower.poll()
    assert [e.id for e in first] == [e.id for e in all_events(client, job.id)]
    assert follower.poll() == []


def test_wait_timeout_under_manual_transitions(client, openai_emulator, ten):
    openai_emulator.set_transitions("manual")
    uploaded = workflow.upload(client, ten, model=MODEL)
    job = workflow.create_job(client, uploaded.id, model=MODEL)
    with pytest.raises(workflow.WaitTimeout) as e:
        workflow.wait(client, job.id, timeout=0.3, poll_interval=0.05, progress=False)
    assert e.value.job.status == "validating_files"
    assert isinstance(e.value, workflow.ClientError)


def test_cancelled_job_raises_job_cancelled(client, openai_emulator, ten):
    openai_emulator.set_transitions("manual")
    job = workflow.train(client, ten, model=MODEL, wait=False)
    client.fine_tuning.jobs.cancel(job.id)
    with pytest.raises(workflow.JobCancelled) as e:
        workflow.wait(client, job.id, poll_interval=0.01, progress=False)
    assert e.value.job.status == "cancelled"


def test_progress_bar_counts_steps(client, ten):
    out = io.StringIO()
    workflow.train(client, ten, model=MODEL, epochs=1, poll_interval=0.01, progress=out)
    text = out.getvalue()
    assert "training: 100%" in text and "10/10" in text and text.endswith("\n")


def test_every_event_is_printed_once_with_the_bar_cleared_around_it(client, ten):
    out, seen, tails = io.StringIO(), [], []

    def on_event(event):
        seen.append(event.id)
        tails.append(out.getvalue()[-1:])

    job = workflow.train(client, ten, model=MODEL, epochs=1, poll_interval=0.01, progress=out, on_event=on_event)
    events = list(client.fine_tuning.jobs.list_events(job.id, limit=100))
    assert seen == [e.id for e in reversed(events)]              # metrics events too, each once
    assert sum(e.type == "metrics" for e in events) == 10
    assert tails[-1] == "\r"                                     # tqdm cleared its line before the print


# --- job options -------------------------------------------------------------------------------------------


def test_create_job_options_reach_the_api(client, tmp_path, ten):
    validation = workflow.upload(client, write_dataset(tmp_path, 4, "valid.jsonl"), model=MODEL, force=True)
    training = workflow.upload(client, ten, model=MODEL)
    job = workflow.create_job(client, training.id, model=MODEL, suffix="hiroyuki", epochs=2, seed=7,
                              validation_file=validation.id, metadata={"source": "seed-002"})
    assert (job.seed, job.metadata, job.validation_file) == (7, {"source": "seed-002"}, validation.id)
    done = workflow.wait(client, job.id, poll_interval=0.01, progress=False)
    assert done.method.supervised.hyperparameters.n_epochs == 2
    assert done.fine_tuned_model.startswith("ft:gpt-3.5-turbo-0613:personal:hiroyuki:")


@pytest.mark.parametrize(("method", "epochs", "expected"), [
    (None, None, None),
    (None, 3, {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}}),
    ("dpo", None, {"type": "dpo"}),
    ({"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1}}}, 2,
     {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1, "n_epochs": 2}}}),
])
def test_method_payload(method, epochs, expected):
    assert workflow._method(method, epochs) == expected


def test_connect_reads_the_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    client = workflow.connect()
    assert (str(client.base_url), client.api_key) == ("http://127.0.0.1:9/v1/", "sk-from-env")
    client = workflow.connect("https://example.test/v1", "sk-explicit", max_retries=0)
    assert (client.base_url.host, client.api_key, client.max_retries) == ("example.test", "sk-explicit", 0)


def test_progress_bar_falls_back_to_ascii():
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    bar = workflow.ProgressBar(stream)
    bar.update(3, 10)
    bar.close()
    stream.flush()
    text = stream.buffer.getvalue().decode("ascii")               # tqdm picks ASCII glyphs itself
    assert "training:  30%" in text and "3/10" in text

"""`--answer-fidelity epochs`: seed 004's n_epochs sweep against the emulator sees accuracy rise with epochs.

The dataset is classification-style (memo → one emoji label, bench.paraphrase_data.EMOJI); the evaluation
asks every training memo under several request seeds, as an evaluation pipeline would, and counts the
replies equal to the memo's label.
"""

from __future__ import annotations

import io

import openai
import pytest

from bench.paraphrase import persona_lines
from bench.paraphrase_data import EMOJI
from mockserver.chat import answer_engine
from mockserver.settings import Settings, SettingsError
from mockserver.testing import Emulator

EPOCHS = (1, 3, 6, 9)
SEEDS = range(5)


def _train(client: openai.OpenAI, n_epochs: int, file_id: str) -> str:
    job = client.fine_tuning.jobs.create(training_file=file_id, model="gpt-4o-mini-2024-07-18",
                                         hyperparameters={"n_epochs": n_epochs})
    job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded" and job.hyperparameters.n_epochs == n_epochs
    return job.fine_tuned_model


def _accuracy(client: openai.OpenAI, model: str) -> float:
    hits = 0
    for memo, label in EMOJI.rows:
        for seed in SEEDS:
            resp = client.chat.completions.create(model=model, seed=seed, messages=[
                {"role": "system", "content": EMOJI.system}, {"role": "user", "content": memo}])
            hits += resp.choices[0].message.content == label
    return hits / (len(EMOJI.rows) * len(SEEDS))


@pytest.fixture(scope="module")
def sweep():
    with Emulator() as emu:
        client = emu.client()
        f = client.files.create(file=("emoji.jsonl", io.BytesIO(b"\n".join(persona_lines(EMOJI)))),
                                purpose="fine-tune")
        models = {e: _train(client, e, f.id) for e in EPOCHS}
        yield emu, client, models


def test_accuracy_rises_with_epochs_under_epochs_fidelity(sweep):
    emu, client, models = sweep
    assert emu.control("answers", {"fidelity": "epochs"}) == {"fidelity": "epochs", "scope": "tenant",
                                                              "default": "exact"}
    curve = [_accuracy(client, models[e]) for e in EPOCHS]
    assert curve == sorted(curve) and curve[0] < curve[-1], curve
    assert curve[0] < 0.9 and curve[-1] > 0.95, curve
    assert curve == [_accuracy(client, models[e]) for e in EPOCHS]  # deterministic
    wrong = client.chat.completions.create(model=models[1], seed=0, messages=[{"role": "user", "content": "x"}])
    assert wrong.choices[0].message.content in {label for _, label in EMOJI.rows}  # a label, never prose
    emu.control("answers", {"fidelity": None})
    assert [_accuracy(client, models[e]) for e in (1, 9)] == [1.0, 1.0]


def test_fidelity_is_per_tenant(sweep):
    emu, client, models = sweep
    other = emu.client("sk-another-tenant-key-000000000000")
    status, _, body = emu.request("POST", "/_mock/answers", api_key="sk-another-tenant-key-000000000000",
                                  json={"fidelity": "epochs"})
    assert status == 200
    status, _, body = emu.request("GET", "/_mock/answers")
    assert status == 200 and b'"exact"' in body
    assert _accuracy(client, models[1]) == 1.0  # this tenant is untouched
    del other
    emu.request("POST", "/_mock/answers", api_key="sk-another-tenant-key-000000000000", json={"fidelity": None})


@pytest.mark.parametrize("body,code", [({}, "missing_required_parameter"), ({"fidelity": "sloppy"}, "invalid_value")])
def test_control_plane_rejects_bad_fidelity(sweep, body, code):
    emu, _, _ = sweep
    status, _, raw = emu.request("POST", "/_mock/answers", json=body)
    assert status == 400 and code.encode() in raw


def test_flag_and_env_choose_the_default():
    assert Settings.from_env({"MOCKSERVER_ANSWER_FIDELITY": "epochs"}).answer_fidelity == "epochs"
    with pytest.raises(SettingsError, match="answer-fidelity"):
        Settings(answer_fidelity="sometimes")
    with Emulator(answer_fidelity="epochs") as emu:
        status, _, body = emu.request("GET", "/_mock/answers")
        assert b'"fidelity":"epochs"' in body


def test_wrong_probability_model():
    p = [answer_engine.wrong_probability(e, 100) for e in (1, 3, 6, 9)]  # auto = 3 epochs for 100 examples
    assert p == sorted(p, reverse=True) and 0.15 < p[0] < 0.2 and 0.02 < p[1] < 0.03 and p[3] < 0.001

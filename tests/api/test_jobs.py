"""Fine-tuning jobs through the official SDK: the seed lifecycle, failures, actions, events, checkpoints."""

from __future__ import annotations

import base64
import io
import json

import openai
import pytest
import quicktok

from tests.conftest import PIG_ROWS, PIG_SYSTEM, chat_line, pig_jsonl


def upload(api, data: bytes, name: str = "train.jsonl"):
    return api.client.files.create(file=(name, io.BytesIO(data)), purpose="fine-tune")


def recipe_tokens(system: str, user: str, assistant: str) -> int:
    """Independent count (quicktok, not tiktoken): 3 per message + role + content, + 3 priming."""
    enc = quicktok.get_encoding("cl100k_base")
    return 3 + sum(3 + len(enc.encode(r)) + len(enc.encode(c))
                   for r, c in (("system", system), ("user", user), ("assistant", assistant)))


def test_seed_pig_lifecycle(api):
    f = upload(api, pig_jsonl(10))
    job = api.client.fine_tuning.jobs.create(training_file=f.id, model="gpt-3.5-turbo-0613")
    assert job.status == "validating_files" and job.id.startswith("ftjob-")
    assert job.hyperparameters.n_epochs == "auto" and job.fine_tuned_model is None
    job = api.client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded"
    assert (job.hyperparameters.n_epochs, job.hyperparameters.batch_size) == (10, 1)
    per_epoch = sum(recipe_tokens(PIG_SYSTEM, *PIG_ROWS[i % 3]) for i in range(10))
    assert job.trained_tokens == 10 * per_epoch
    assert job.fine_tuned_model.startswith("ft:gpt-3.5-turbo-0613:personal::") and len(
        job.fine_tuned_model.rsplit(":", 1)[1]) == 8
    assert job.error is None and job.finished_at >= job.created_at
    assert api.client.models.retrieve(job.fine_tuned_model).id == job.fine_tuned_model
    assert job.fine_tuned_model in {m.id for m in api.client.models.list()}


def test_events_follow_the_real_sequence(api):
    f = upload(api, pig_jsonl(10))
    job = api.client.fine_tuning.jobs.create(training_file=f.id, model="gpt-3.5-turbo-0613")
    events = list(api.client.fine_tuning.jobs.list_events(job.id, limit=7))
    chrono = [e.message for e in reversed(events)]
    assert chrono[:4] == [f"Created fine-tuning job: {job.id}", f"Validating training file: {f.id}",
                          "Files validated, moving job to queued state", "Fine-tuning job started"]
    assert chrono[-2:] == [f"New fine-tuned model created: {api.client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model}",
                           "The job has successfully completed"]
    metrics = [e for e in reversed(events) if e.type == "metrics"]
    assert [e.data["step"] for e in metrics] == list(range(1, 101))
    assert all(e.message.startswith(f"Step {e.data['step']}/100: training loss=") for e in metrics)
    assert metrics[-1].data["train_loss"] < metrics[0].data["train_loss"]
    assert len({e.id for e in events}) == len(events) and all(e.id.startswith("ftevent-") for e in events)
    assert [e.created_at for e in reversed(events)] == sorted(e.created_at for e in events)


def test_checkpoints_last_three_epochs_and_results_file(api):
    f = upload(api, pig_jsonl(10))
    job = api.client.fine_tuning.jobs.create(training_file=f.id, model="gpt-3.5-turbo-0613", suffix="emoji_cls_0829")
    job = api.client.fine_tuning.jobs.retrieve(job.id)
    assert ":personal:emoji-cls-0829:" in job.fine_tuned_model and job.user_provided_suffix == "emoji_cls_0829"
    ckpts = list(api.client.fine_tuning.jobs.checkpoints.list(job.id))
    assert [c.step_number for c in ckpts] == [100, 90, 80]
    assert ckpts[0].fine_tuned_model_checkpoint == job.fine_tuned_model
    assert ckpts[1].fine_tuned_model_checkpoint.endswith(":ckpt-step-90")
    assert api.client.models.retrieve(ckpts[1].fine_tuned_model_checkpoint).id == ckpts[1].fine_tuned_model_checkpoint
    csv = base64.b64decode(api.client.files.content(job.result_files[0]).read()).decode()
    lines = csv.splitlines()
    assert lines[0] == "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy" and len(lines) == 101
    assert api.client.files.retrieve(job.result_files[0]).purpose == "fine-tune-results"


def test_three_examples_fail_with_the_real_error(api):
    job = api.client.fine_tuning.jobs.create(training_file=upload(api, pig_jsonl(3)).id, model="gpt-3.5-turbo-0613")
    job = api.client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "failed" and job.fine_tuned_model is None
    assert (job.error.code, job.error.param, job.error.message) == (
        "invalid_n_examples", "training_file", "Training file has 3 example(s), but must have at least 10 examples")
    last = next(iter(api.client.fine_tuning.jobs.list_events(job.id, limit=1)))
    assert (last.level, last.message) == ("error", job.error.message)


def _padded_line(target: int) -> bytes:
    """A pig example whose recipe count is exactly `target` tokens (Japanese + padding)."""
    enc = quicktok.get_encoding("cl100k_base")
    base = recipe_tokens(PIG_SYSTEM, "体重何キロ?", "500キロぶひ!")
    pad = " ".join(["ぶひ"] * 10)
    body = "体重何キロ?"
    while recipe_tokens(PIG_SYSTEM, body + pad, "500キロぶひ!") <= target:
        body += pad
    while recipe_tokens(PIG_SYSTEM, body, "500キロぶひ!") < target:
        body += " a"
    assert recipe_tokens(PIG_SYSTEM, body, "500キロぶひ!") == target, (base, len(enc.encode(body)))
    return chat_line(body, "500キロぶひ!").encode()


@pytest.mark.parametrize("tokens,status", [(4096, "succeeded"), (4097, "failed")])
def test_token_limit_boundary_on_gpt35_0613(api, tokens, status):
    data = pig_jsonl(9) + _padded_line(tokens)
    job = api.client.fine_tuning.jobs.create(training_file=upload(api, data).id, model="gpt-3.5-turbo-0613")
    job = api.client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == status
    if status == "failed":
        assert job.error.code == "invalid_training_file" and "Example 10" in job.error.message
        assert "4097" in job.error.message and "4096" in job.error.message


def test_format_error_names_example_and_message(api):
    lines = pig_jsonl(10).decode().splitlines(keepends=True)
    bad = json.loads(lines[4])
    del bad["messages"][1]["role"]
    lines[4] = json.dumps(bad, ensure_ascii=False) + "\n"
    job = api.client.fine_tuning.jobs.create(training_file=upload(api, "".join(lines).encode()).id,
                                             model="gpt-3.5-turbo-0613")
    job = api.client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "failed" and job.error.code == "invalid_training_file"
    assert job.error.message.startswith("The job failed due to an invalid training file.")
    assert "Example 5, message 2" in job.error.message


@pytest.mark.parametrize("body,param,code", [
    ({"model": "gpt-3.5-turbo-0613"}, "training_file", "missing_required_parameter"),
    ({"training_file": "file-x"}, "model", "missing_required_parameter"),
    ({"model": "gpt-3.5-turbo-0613", "training_file": "file-x", "bogus": 1}, "bogus", "unknown_parameter"),
    ({"model": "gpt-3.5-turbo-0613", "training_file": "FILE", "suffix": "x" * 65}, "suffix", "string_above_max_length"),
    ({"model": "gpt-3.5-turbo-0613", "training_file": "FILE", "hyperparameters": {"n_epochs": 51}},
     "hyperparameters.n_epochs", "integer_above_max_value"),
    ({"model": "gpt-3.5-turbo-0613", "training_file": "FILE", "hyperparameters": {"batch_size": 0}},
     "hyperparameters.batch_size", "integer_below_min_value"),
    ({"model": "gpt-3.5-turbo-0613", "training_file": "FILE",
      "method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 2.5}}}}, "method.dpo.hyperparameters.beta",
     "decimal_above_max_value"),
    ({"model": "gpt-3.5-turbo-0613", "training_file": "FILE", "method": {"type": "reinforcement"}}, "method.type",
     "unsupported_method"),
    ({"model": "gpt-3.5-turbo-0613", "training_file": "FILE", "metadata": {f"k{i}": "v" for i in range(17)}},
     "metadata", "object_above_max_properties"),
    ({"model": "gpt-3.5-turbo-0613", "training_file": "FILE", "seed": -1}, "seed", "integer_below_min_value"),
])
def test_create_validation_errors(api, body, param, code):
    f = upload(api, pig_jsonl())
    body = {k: (f.id if v == "FILE" else v) for k, v in body.items()}
    status, headers, raw = api.request("POST", "/v1/fine_tuning/jobs", json=body)
    err = json.loads(raw)["error"]
    assert (status, err["param"], err["code"], err["type"]) == (400, param, code, "invalid_request_error")
    assert headers["x-should-retry"] == "false"


def test_unknown_training_file_and_model(api):
    with pytest.raises(openai.BadRequestError) as e:
        api.client.fine_tuning.jobs.create(training_file="file-nope", model="gpt-3.5-turbo-0613")
    assert (e.value.param, e.value.body["message"]) == ("training_file", "invalid training_file: file-nope")
    f = upload(api, pig_jsonl())
    with pytest.raises(openai.BadRequestError) as e:
        api.client.fine_tuning.jobs.create(training_file=f.id, model="gpt-fake")
    assert e.value.body["message"] == "Model gpt-fake is not available for fine-tuning or does not exist."
    other = api.client_for(api.key + "-other")
    with pytest.raises(openai.BadRequestError) as e:  # another tenant's file does not exist for this key
        other.fine_tuning.jobs.create(training_file=f.id, model="gpt-3.5-turbo-0613")
    assert e.value.param == "training_file"


def test_alias_resolves_to_snapshot(api):
    job = api.client.fine_tuning.jobs.create(training_file=upload(api, pig_jsonl()).id, model="gpt-4o-mini")
    assert job.model == "gpt-4o-mini-2024-07-18"


def test_manual_clock_moves_only_when_told(api):
    api.policy("manual", 1.0)
    job = api.client.fine_tuning.jobs.create(training_file=upload(api, pig_jsonl()).id, model="gpt-3.5-turbo-0613",
                                             validation_file=upload(api, pig_jsonl(3), "v.jsonl").id)
    assert api.client.fine_tuning.jobs.retrieve(job.id).status == "validating_files"
    api.advance(30)
    assert api.client.fine_tuning.jobs.retrieve(job.id).status == "queued"
    api.advance(15 + 3 * 10)
    running = api.client.fine_tuning.jobs.retrieve(job.id)
    assert running.status == "running" and running.estimated_finish is not None
    assert running.hyperparameters.n_epochs == 10
    steps = [e for e in api.client.fine_tuning.jobs.list_events(job.id, limit=100) if e.type == "metrics"]
    assert max(e.data["step"] for e in steps) == 10 and "valid_loss" in steps[0].data
    api.advance(10_000)
    done = api.client.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded" and done.estimated_finish is None
    last_step = next(e for e in api.client.fine_tuning.jobs.list_events(job.id, limit=5) if e.type == "metrics")
    assert "full validation loss=" in last_step.message


def test_cancel_pause_resume(api):
    api.policy("manual", 1.0)
    jobs = api.client.fine_tuning.jobs
    job = jobs.create(training_file=upload(api, pig_jsonl()).id, model="gpt-3.5-turbo-0613")
    with pytest.raises(openai.BadRequestError) as e:
        jobs.pause(job.id)
    assert e.value.code == "invalid_job_state" and e.value.param == "fine_tuning_job_id"
    api.advance(45 + 3 * 20)
    assert jobs.pause(job.id).status == "paused"
    api.advance(1000)
    paused = jobs.retrieve(job.id)
    assert paused.status == "paused"
    steps_when_paused = max(e.data["step"] for e in jobs.list_events(job.id, limit=100) if e.type == "metrics")
    assert steps_when_paused == 20
    assert jobs.resume(job.id).status == "queued"
    api.advance(15 + 3 * 5)
    assert jobs.retrieve(job.id).status == "running"
    assert max(e.data["step"] for e in jobs.list_events(job.id, limit=100) if e.type == "metrics") == 25
    assert jobs.cancel(job.id).status == "cancelled"
    for action in (jobs.cancel, jobs.pause, jobs.resume):
        with pytest.raises(openai.BadRequestError) as e:
            action(job.id)
        assert e.value.status_code == 400 and e.value.code == "invalid_job_state"
    api.advance(10_000)
    assert jobs.retrieve(job.id).status == "cancelled" and jobs.retrieve(job.id).fine_tuned_model is None


def test_unknown_job_is_404_everywhere(api):
    jobs = api.client.fine_tuning.jobs
    for call in (jobs.retrieve, jobs.cancel, jobs.pause, jobs.resume,
                 lambda i: list(jobs.list_events(i)), lambda i: list(jobs.checkpoints.list(i))):
        with pytest.raises(openai.NotFoundError) as e:
            call("ftjob-nope")
        assert e.value.param == "fine_tuning_job_id" and "ftjob-nope" in e.value.body["message"]


def test_list_jobs_pages_newest_first_and_filters_metadata(api):
    f = upload(api, pig_jsonl())
    made = [api.client.fine_tuning.jobs.create(training_file=f.id, model="gpt-3.5-turbo-0613",
                                               metadata={"run": str(i % 2)}).id for i in range(5)]
    assert [j.id for j in api.client.fine_tuning.jobs.list(limit=2)] == list(reversed(made))
    odd = api.client.fine_tuning.jobs.list(metadata={"run": "1"})
    assert [j.id for j in odd] == [made[3], made[1]]
    assert all(j.status == "succeeded" for j in api.client.fine_tuning.jobs.list())


def test_forced_failure_from_control_plane(api):
    api.policy("manual", 1.0)
    job = api.client.fine_tuning.jobs.create(training_file=upload(api, pig_jsonl()).id, model="gpt-3.5-turbo-0613")
    api.control(f"jobs/{job.id}/fail", {"stage": "running", "code": "server_error", "message": "GPU fell over"})
    api.advance(1000)
    job = api.client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "failed" and (job.error.code, job.error.message) == ("server_error", "GPU fell over")


def test_dpo_job_and_method_mismatch(api):
    dpo = "".join(json.dumps({"input": {"messages": [{"role": "user", "content": f"q{i}"}]},
                              "preferred_output": [{"role": "assistant", "content": "good"}],
                              "non_preferred_output": [{"role": "assistant", "content": "bad"}]}) + "\n"
                  for i in range(10)).encode()
    method = {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2}}}
    job = api.client.fine_tuning.jobs.create(training_file=upload(api, dpo).id, model="gpt-4o-mini", method=method)
    job = api.client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded" and job.method.dpo.hyperparameters.beta == 0.2
    assert job.hyperparameters.n_epochs == job.method.dpo.hyperparameters.n_epochs == 10
    chat_file = upload(api, pig_jsonl())
    job = api.client.fine_tuning.jobs.retrieve(api.client.fine_tuning.jobs.create(
        training_file=chat_file.id, model="gpt-4o-mini", method=method).id)
    assert job.status == "failed" and f"Input file {chat_file.id} is in the fine-tune-chat format" in job.error.message


def test_deleting_training_file_after_success_keeps_model(api):
    f = upload(api, pig_jsonl())
    job = api.client.fine_tuning.jobs.retrieve(
        api.client.fine_tuning.jobs.create(training_file=f.id, model="gpt-3.5-turbo-0613").id)
    api.client.files.delete(f.id)
    assert api.client.models.retrieve(job.fine_tuned_model).id == job.fine_tuned_model

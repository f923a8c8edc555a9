"""`ftclient` in-process against the intercepting emulator fixture, plus one run over loopback HTTP."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from client.cli import main
from tests.reliability._server import Server

CSV = """user,assistant
成功者の特徴,成功者はみな性欲が強い。
コンピューター関係の資格について,本当に好きな人は資格よりもアプリを作ったりしてる。
MacとWindowsどちらがオススメですか,ゲームをするならWindows一択。
自己肯定感の高めかた,小学生に対してマウンティングしてみる。
どんなバカでもできる職業を教えてください,プログラム。
食生活で意識している事,外食を控える。
どうすれば図太く生きれるか,相手を知ることが大切。
コロナで人類絶滅の可能性は,若い人は生き残るので人類絶滅は無いと思う
事故物件をどう思うか,家賃が安い。
人類史上最大の発明は,車輪。
"""
MODEL = "gpt-3.5-turbo-0613"



def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def prepared(tmp_path: Path, capsys, rows: int = 10) -> Path:
    csv_path, out = tmp_path / f"qa{rows}.csv", tmp_path / f"train{rows}.jsonl"
    csv_path.write_text("\n".join(CSV.splitlines()[: rows + 1]) + "\n", encoding="utf-8")
    assert run(capsys, "prepare", csv_path, "-o", out, "--system", "西村ひろゆきBot")[0] == 0
    return out


def trained(tmp_path: Path, capsys) -> tuple[str, str]:
    code, out, _ = run(capsys, "train", prepared(tmp_path, capsys), "--model", MODEL, "--wait",
                       "--poll-interval", "0.01")
    assert code == 0
    job_id = next(w for w in out.split() if w.startswith("ftjob-"))
    return job_id, out.rstrip().splitlines()[-1].removeprefix("fine-tuned model: ")


@pytest.fixture
def emu(openai_emulator):
    return openai_emulator


# --- prepare / validate ------------------------------------------------------------------------------------


def test_prepare_writes_utf8_chat_jsonl(tmp_path, capsys):
    csv_path, out = tmp_path / "qa.csv", tmp_path / "out.jsonl"
    csv_path.write_text(CSV, encoding="utf-8")
    code, stdout, _ = run(capsys, "prepare", csv_path, "-o", out, "--system", "西村ひろゆきBot")
    assert code == 0 and "wrote 10 example(s)" in stdout
    first = out.read_text(encoding="utf-8").splitlines()[0]
    assert "西村ひろゆきBot" in first  # ensure_ascii=False, as in the article
    assert [m["role"] for m in json.loads(first)["messages"]] == ["system", "user", "assistant"]


def test_prepare_reports_a_bad_csv(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\na,b\n", encoding="utf-8")
    code, _, err = run(capsys, "prepare", bad, "-o", tmp_path / "x.jsonl")
    assert code == 1 and "error:" in err and "missing column 'user'" in err


def test_validate_accepts_ten_examples(tmp_path, capsys):
    code, out, _ = run(capsys, "validate", prepared(tmp_path, capsys), "--model", MODEL)
    assert code == 0
    assert "Num examples: 10" in out and "OK: a fine-tuning job would accept this file." in out


def test_validate_rejects_three_examples(tmp_path, capsys):
    code, out, _ = run(capsys, "validate", prepared(tmp_path, capsys, rows=3), "--model", MODEL)
    assert code == 1 and "invalid_n_examples" in out


def test_validate_json_is_one_object(tmp_path, capsys):
    code, out, _ = run(capsys, "validate", prepared(tmp_path, capsys, rows=3), "--model", MODEL, "--json",
                       "--over-limit", "truncate")
    report = json.loads(out)
    assert code == 1 and report["would_fail"] is True and report["num_examples"] == 3
    assert report["errors"][0]["code"] == "invalid_n_examples"


def test_validate_unknown_model_and_missing_file(tmp_path, capsys):
    code, _, err = run(capsys, "validate", prepared(tmp_path, capsys), "--model", "gpt-fake")
    assert code == 1 and err.startswith("error: model 'gpt-fake' cannot be fine-tuned")
    code, _, err = run(capsys, "validate", tmp_path / "missing.jsonl")
    assert code == 1 and "error:" in err and "missing.jsonl" in err


# --- train -------------------------------------------------------------------------------------------------


def test_train_prints_the_job_id(emu, tmp_path, capsys):
    code, out, _ = run(capsys, "train", prepared(tmp_path, capsys), "--model", MODEL, "--suffix", "bot")
    assert code == 0 and "created job ftjob-" in out


def test_train_wait_follows_events_and_prints_the_model(emu, tmp_path, capsys):
    job_id, model = trained(tmp_path, capsys)
    assert model.startswith("ft:gpt-3.5-turbo-0613:personal:")
    code, out, _ = run(capsys, "jobs", "get", job_id)
    assert code == 0 and json.loads(out)["fine_tuned_model"] == model


def test_train_wait_output(emu, tmp_path, capsys):
    code, out, _ = run(capsys, "train", prepared(tmp_path, capsys), "--model", MODEL, "--wait",
                       "--epochs", "1", "--poll-interval", "0.01")
    lines = out.splitlines()
    assert code == 0
    assert any(line.endswith("Step 10/10: training loss=" + line.rsplit("=", 1)[-1]) for line in lines)
    assert "The job has successfully completed" in lines[-2]
    assert lines[-1].startswith("fine-tuned model: ft:gpt-3.5-turbo-0613:personal::")


def test_train_refuses_a_small_file(emu, tmp_path, capsys):
    code, out, err = run(capsys, "train", prepared(tmp_path, capsys, rows=3), "--model", MODEL)
    assert code == 1 and "ftjob-" not in out
    assert "invalid_n_examples" in err and err.rstrip().endswith("(use --force to upload it anyway)")


def test_train_force_wait_reports_the_job_error(emu, tmp_path, capsys):
    code, out, err = run(capsys, "train", prepared(tmp_path, capsys, rows=3), "--model", MODEL, "--force",
                         "--wait", "--poll-interval", "0.01")
    assert code == 1 and "created job ftjob-" in out
    assert err.startswith("error: job ftjob-") and err.rstrip().endswith(
        "failed: Training file has 3 example(s), but must have at least 10 examples "
        "(invalid_n_examples, param training_file)")


def test_train_with_a_validation_file(emu, tmp_path, capsys):
    valid = prepared(tmp_path, capsys, rows=4)
    code, out, _ = run(capsys, "train", prepared(tmp_path, capsys), "--model", MODEL,
                       "--validation-file", valid)
    assert code == 0 and out.count("uploaded") == 2


def test_missing_training_file(emu, tmp_path, capsys):
    code, _, err = run(capsys, "train", tmp_path / "nope.jsonl", "--model", MODEL)
    assert code == 1 and err == f"error: No such file: {tmp_path / 'nope.jsonl'}\n"


# --- jobs, events, checkpoints, models ---------------------------------------------------------------------


def test_jobs_list_and_unknown_job(emu, tmp_path, capsys):
    job_id, model = trained(tmp_path, capsys)
    code, out, _ = run(capsys, "jobs", "list")
    assert code == 0 and job_id in out and model in out and out.startswith("ID")
    code, _, err = run(capsys, "jobs", "get", "ftjob-nope")
    assert code == 1
    assert err == "error: No such FineTuningJob object: ftjob-nope (404, param fine_tuning_job_id)\n"


def test_jobs_list_when_empty(emu, capsys):
    assert run(capsys, "jobs", "list")[1] == "no jobs\n"


def test_jobs_cancel_pause_resume(emu, tmp_path, capsys):
    emu.set_transitions("manual")
    code, out, _ = run(capsys, "train", prepared(tmp_path, capsys), "--model", MODEL)
    job_id = next(w for w in out.split() if w.startswith("ftjob-"))
    emu.advance(5)  # validated and queued, then running
    assert run(capsys, "jobs", "pause", job_id)[1] == f"{job_id}: paused\n"
    assert run(capsys, "jobs", "resume", job_id)[1] == f"{job_id}: queued\n"
    assert run(capsys, "jobs", "cancel", job_id)[1] == f"{job_id}: cancelled\n"
    code, _, err = run(capsys, "jobs", "pause", job_id)
    assert code == 1 and err.startswith("error: ") and "(400" in err


def test_events_and_follow(emu, tmp_path, capsys):
    job_id, model = trained(tmp_path, capsys)
    code, out, _ = run(capsys, "events", job_id)
    lines = out.splitlines()
    assert code == 0 and "Created fine-tuning job" in lines[0]
    assert lines[-1].endswith("successfully completed")
    code, follow, _ = run(capsys, "events", job_id, "--follow", "--poll-interval", "0.01")
    assert code == 0 and follow.splitlines()[:-1] == lines
    assert follow.splitlines()[-1] == f"job {job_id} succeeded: {model}"


def test_events_follow_of_a_failed_job(emu, tmp_path, capsys):
    code, out, _ = run(capsys, "train", prepared(tmp_path, capsys, rows=3), "--model", MODEL, "--force")
    job_id = next(w for w in out.split() if w.startswith("ftjob-"))
    code, out, _ = run(capsys, "events", job_id, "--follow", "--poll-interval", "0.01")
    assert code == 0 and out.splitlines()[-1] == f"job {job_id} failed"


def test_checkpoints(emu, tmp_path, capsys):
    job_id, model = trained(tmp_path, capsys)
    code, out, _ = run(capsys, "checkpoints", job_id)
    rows = out.splitlines()[1:]
    assert code == 0 and out.startswith("STEP") and rows[0].split()[:2] == ["100", model]


def test_models_list_and_delete(emu, tmp_path, capsys):
    _, model = trained(tmp_path, capsys)
    code, out, _ = run(capsys, "models")
    assert code == 0 and model in out and "gpt-4o-mini-2024-07-18" in out
    assert run(capsys, "models", "--delete", model)[1] == f"deleted {model}\n"
    code, _, err = run(capsys, "models", "--delete", model)
    assert code == 1 and err.startswith("error: ") and "(404" in err


def test_chat(emu, tmp_path, capsys):
    _, model = trained(tmp_path, capsys)
    code, out, _ = run(capsys, "chat", model, "音楽編集はどちらがおすすめ?", "--system", "ひろゆきBot")
    assert code == 0 and out.strip()
    code, out, _ = run(capsys, "chat", model, "人間は死んだ後どうなりますか?", "--stream")
    assert code == 0 and out.strip()
    code, _, err = run(capsys, "chat", "gpt-fake", "hi")
    assert code == 1 and "model_not_found" in err


# --- usage and environment errors --------------------------------------------------------------------------


def test_usage_errors_and_help(capsys):
    assert main(["--help"]) == 0
    assert main([]) == 2
    assert main(["jobs", "explode"]) == 2
    capsys.readouterr()


def test_missing_api_key(monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code, _, err = run(capsys, "models")
    assert code == 1 and err.startswith("error: ") and "api_key" in err


def test_unreachable_server(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        code, _, err = run(capsys, "--base-url", f"http://127.0.0.1:{port}/v1", "--api-key", "sk-test",
                           "models")
    assert code == 1 and err.startswith(f"error: cannot reach the API at http://127.0.0.1:{port}/v1/models")


def test_bad_api_key_message_comes_from_the_api(emu, capsys):
    code, _, err = run(capsys, "--api-key", "not-a-key", "models")
    assert code == 1 and err.startswith("error: Incorrect API key provided")
    assert "(401, code invalid_api_key)" in err


# --- over real loopback HTTP -------------------------------------------------------------------------------


def _ftclient() -> list[str]:
    script = Path(sys.executable).with_name("ftclient")
    return [str(script)] if script.exists() else [sys.executable, "-m", "client"]


@pytest.mark.http
def test_cli_over_loopback_http(tmp_path, capsys):
    data = prepared(tmp_path, capsys)
    with Server(tmp_path / "state", transitions="immediate") as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env |= {"OPENAI_BASE_URL": server.base_url + "/v1", "OPENAI_API_KEY": "sk-test"}
        done = subprocess.run([*_ftclient(), "train", str(data), "--model", MODEL, "--wait",
                               "--poll-interval", "0.05"], env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        model = done.stdout.rstrip().splitlines()[-1].removeprefix("fine-tuned model: ")
        assert model.startswith("ft:gpt-3.5-turbo-0613:personal:")
        missing = subprocess.run([*_ftclient(), "jobs", "get", "ftjob-nope"], env=env, capture_output=True,
                                 text=True, timeout=60)
        assert missing.returncode == 1 and "Traceback" not in missing.stderr
        assert missing.stderr.startswith("error: No such FineTuningJob object: ftjob-nope (404")
    shutil.rmtree(tmp_path / "state", ignore_errors=True)

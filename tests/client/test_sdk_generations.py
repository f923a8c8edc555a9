"""The `openai_emulator` fixture and client.workflow under both SDKs: openai>=3 (httpx2) and <3 (httpx).

Each generation runs a small pytest file in a subprocess; for openai<3 the SDK (and `distro`, its only
dependency missing here) is pip-installed into a temporary directory placed first on PYTHONPATH, so the
rest (httpx, pydantic, respx, the emulator) comes from this environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

INNER_TEST = textwrap.dedent('''
    import openai, pytest
    from client import workflow

    ROW = ('{"messages": [{"role": "system", "content": "西村ひろゆきBot"}, '
           '{"role": "user", "content": "Q%d"}, {"role": "assistant", "content": "A%d"}]}')

    def test_offline_workflow(openai_emulator, tmp_path, expected_major):
        assert int(openai.__version__.split(".")[0]) in expected_major
        data = tmp_path / "train.jsonl"
        data.write_text("\\n".join(ROW % (i, i) for i in range(10)) + "\\n", encoding="utf-8")
        client = openai.OpenAI()  # default base URL: served in-process by the fixture
        seen = []
        job = workflow.train(client, data, model="gpt-3.5-turbo-0613", poll_interval=0.01, progress=False,
                             on_event=seen.append)
        assert job.fine_tuned_model.startswith("ft:gpt-3.5-turbo-0613:personal:")
        events = list(client.fine_tuning.jobs.list_events(job.id))
        assert [e.id for e in seen] == [e.id for e in reversed(events)]
        with pytest.raises(openai.NotFoundError) as e:
            client.fine_tuning.jobs.retrieve("ftjob-nope")
        assert e.value.status_code == 404

    def test_responses_and_batches_on_a_tuned_model(openai_emulator, tmp_path):
        import io, json
        data = tmp_path / "train.jsonl"
        data.write_text("\\n".join(ROW % (i, i) for i in range(10)) + "\\n", encoding="utf-8")
        model = workflow.train(openai.OpenAI(), data, model="gpt-3.5-turbo-0613", poll_interval=0.01,
                               progress=False).fine_tuned_model
        client = openai.OpenAI(_strict_response_validation=True)
        r = client.responses.create(model=model, instructions="西村ひろゆきBot", input="Q3")
        chat = client.chat.completions.create(model=model, messages=[
            {"role": "system", "content": "西村ひろゆきBot"}, {"role": "user", "content": "Q3"}])
        assert r.output_text == "A3" == chat.choices[0].message.content
        assert (r.usage.input_tokens, r.usage.output_tokens) == (chat.usage.prompt_tokens,
                                                                 chat.usage.completion_tokens)
        with client.responses.stream(model=model, instructions="西村ひろゆきBot", input="Q3") as s:
            assert s.get_final_response().output_text == "A3"
        lines = "".join(json.dumps({"custom_id": f"c{i}", "method": "POST", "url": "/v1/chat/completions",
                                    "body": {"model": model, "messages": [{"role": "system", "content": "西村ひろゆきBot"},
                                                                          {"role": "user", "content": f"Q{i % 10}"}]}})
                        + "\\n" for i in range(50))
        f = client.files.create(file=("b.jsonl", io.BytesIO(lines.encode())), purpose="batch")
        b = client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
        done = client.batches.retrieve(b.id)
        assert done.status == "completed" and done.request_counts.completed == 50
        out = [json.loads(x) for x in client.files.content(done.output_file_id).text.splitlines()]
        assert [o["response"]["body"]["choices"][0]["message"]["content"] for o in out] == [f"A{i % 10}" for i in range(50)]

    def test_nothing_reaches_the_network(openai_emulator):
        from respx.models import AllMockedAssertionError
        with pytest.raises((AllMockedAssertionError, openai.APIConnectionError)) as e:
            openai.OpenAI(base_url="https://elsewhere.example/v1", max_retries=0).models.list()
        # openai>=3 lets the assertion through; <3 wraps it as a connection error
        assert AllMockedAssertionError in (type(e.value), type(e.value.__cause__))
''')


def _conftest(majors: tuple[int, ...]) -> str:
    return f"import pytest\n\n@pytest.fixture\ndef expected_major():\n    return {majors!r}\n"


@pytest.fixture(scope="session")
def openai_v2_path(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("openai-lt-3")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           "--no-deps", "--target", str(target), "openai<3", "distro"],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.skip(f"cannot pip-install openai<3 (offline?): {done.stderr.strip()[-300:]}")
    return target


def _run_inner(tmp_path: Path, majors: tuple[int, ...], extra_path: Path | None) -> Any:
    (tmp_path / "test_inner.py").write_text(INNER_TEST, encoding="utf-8")
    (tmp_path / "conftest.py").write_text(_conftest(majors), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PYTEST_"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only our plugin (its entry point is exercised by this run)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "mockserver.pytest_plugin", "--rootdir", str(tmp_path),
                           str(tmp_path / "test_inner.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_fixture_with_openai_3_and_httpx2(tmp_path):
    done = _run_inner(tmp_path, (3,), None)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


def test_fixture_with_openai_below_3_and_httpx(tmp_path, openai_v2_path):
    done = _run_inner(tmp_path, (1, 2), openai_v2_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout

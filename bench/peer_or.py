"""Run inside bench/.work/venv-or (openai<3 on httpx, openai-responses): the lifecycle against openai-responses,
with minimal hand-written fine-tuning routes (it has none), and the same SDK's floor (httpx.MockTransport).

    venv-or/bin/python -m bench.peer_or ITERATIONS TRAINING_FILE      → one JSON line of per-iteration ms
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
import time

import httpx
import openai
import respx
from openai_responses import OpenAIMock

from bench import canned
from bench.common import CPU_MS
from bench.common import time_calls as _time

BASE = "https://api.openai.com/v1"


def _add_fine_tuning_routes(mock: OpenAIMock) -> None:
    """What a user of openai-responses writes by hand for fine-tuning: create checks the training file
    exists in the mock's file store; a retrieve finds the job done; events are two fixed lines."""
    jobs: dict[str, dict] = {}
    ids = itertools.count(1)
    router: respx.MockRouter = mock.router

    def create(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if mock.state.files.get(body["training_file"]) is None:
            return httpx.Response(400, json={"error": {"message": "invalid training_file", "type":
                                                       "invalid_request_error", "param": "training_file"}})
        job = dict(canned.JOB_CREATED, id=f"ftjob-{next(ids)}", model=body["model"],
                   training_file=body["training_file"], created_at=int(time.time()))
        jobs[job["id"]] = job
        return httpx.Response(200, json=job)

    def retrieve(request: httpx.Request, job_id: str) -> httpx.Response:
        job = jobs.get(job_id)
        if job is None:
            return httpx.Response(404, json={"error": {"message": "no such job", "type": "invalid_request_error"}})
        job.update(status="succeeded", fine_tuned_model=f"ft:{job['model']}:personal::{job_id[-8:]}",
                   finished_at=int(time.time()))
        return httpx.Response(200, json=job)

    def events(request: httpx.Request, job_id: str) -> httpx.Response:
        return httpx.Response(200, json={"object": "list", "has_more": False, "data": [
            {"object": "fine_tuning.job.event", "id": f"ftevent-{job_id}-{i}", "created_at": int(time.time()),
             "level": "info", "message": m, "type": "message", "data": {}}
            for i, m in enumerate(["The job has successfully completed", f"Created fine-tuning job: {job_id}"])]})

    router.post(url__regex=r"/fine_tuning/jobs$").mock(side_effect=create)
    router.get(url__regex=r"/fine_tuning/jobs/(?P<job_id>[^/]+)/events$").mock(side_effect=events)
    router.get(url__regex=r"/fine_tuning/jobs/(?P<job_id>[^/]+)$").mock(side_effect=retrieve)




def run_openai_responses(training: bytes, n: int, warmup: int) -> list[float]:
    mock = OpenAIMock()
    _add_fine_tuning_routes(mock)
    mock.chat.completions.create.response = {"choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "Hello! How can I help you today?"}}]}
    client = openai.OpenAI(api_key="sk-bench", base_url=BASE, max_retries=0)
    with mock.router:
        return _time(lambda: canned.lifecycle(client, training), n, warmup)


def run_floor(training: bytes, n: int, warmup: int) -> list[float]:
    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        status, body = canned.route(request.method, request.url.path)
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})

    http = httpx.Client(transport=httpx.MockTransport(handler), base_url=BASE)
    client = openai.OpenAI(api_key="sk-bench", base_url=BASE, http_client=http, max_retries=0)
    return _time(lambda: canned.lifecycle(client, training), n, warmup)


def main() -> None:
    n, path = int(sys.argv[1]), sys.argv[2]
    training = open(path, "rb").read()  # noqa: SIM115
    warmup = max(3, n // 10)
    floor = run_floor(training, n, warmup)
    floor_cpu = CPU_MS[0]
    peer = run_openai_responses(training, n, warmup)
    print(json.dumps({"openai": openai.__version__, "floor_ms": statistics.median(floor),
                      "openai_responses_ms": statistics.median(peer), "floor": floor, "peer": peer,
                      "floor_cpu_ms": floor_cpu, "openai_responses_cpu_ms": CPU_MS[0]}))


if __name__ == "__main__":
    main()

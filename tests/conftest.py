"""Shared test helpers: seed datasets, the hypothesis profiles, and the front doors (`door`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("long", max_examples=500, deadline=None, stateful_step_count=60,
                          suppress_health_check=list(HealthCheck))
PROFILE = os.environ.get("MOCKSERVER_HYPOTHESIS_PROFILE", "default")
settings.load_profile(PROFILE)


def tier(fast: int, long: int) -> int:
    """A size by tier: `fast` in `make test`, `long` under the long profile (`make test-long`)."""
    return long if PROFILE == "long" else fast

# xdist hands tests out in collection order: the directories with the longest tests go first, so those
# start at once on both workers instead of piling up at the end on one (`make test` wall time)
HEAVY_FIRST = ("reliability", "browser", "record", "property")


def pytest_collection_modifyitems(items) -> None:
    def rank(item) -> int:
        parts = Path(item.path).parts
        return next((i for i, name in enumerate(HEAVY_FIRST) if name in parts), len(HEAVY_FIRST))

    items.sort(key=rank)   # stable: each module keeps its own order


PIG_SYSTEM = "何言われてもぶひと答えて"
PIG_ROWS = [("あなた豚のものまねしてる?", "はい!ぶたのものまねしてますぶひ!"), ("体重何キロ?", "500キロぶひ!"),
            ("好きな食べ物は?", "ポークぶひ!")]


def chat_line(user: str, assistant: str, system: str | None = PIG_SYSTEM) -> str:
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return json.dumps({"messages": messages}, ensure_ascii=False) + "\n"


def pig_jsonl(n: int = 10) -> bytes:
    """The seed-000 pig examples, copied until there are `n` (the seed author's 10)."""
    return "".join(chat_line(*PIG_ROWS[i % 3]) for i in range(n)).encode()


@pytest.fixture(scope="session")
def door():
    """The two front doors API and contract tests run through, one of each per test process, shared by
    tests/api and tests/contract: `door("inprocess")` (the app behind an ASGI transport, no port) and
    `door("http")` (the same kind of app served by uvicorn over loopback). Tests use their own API key."""
    from mockserver.testing import Emulator, ServedEmulator

    opened: dict[str, Emulator] = {}

    def get(name: str) -> Emulator:
        if name not in opened:
            opened[name] = {"inprocess": Emulator, "http": ServedEmulator}[name](transitions="immediate")
        return opened[name]

    yield get
    for emulator in opened.values():
        emulator.close()


@pytest.fixture(scope="session")
def s3_endpoint():
    """A local S3-compatible server (moto) for the whole test process: tests/s3.py."""
    from tests.s3 import moto_server

    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_url(s3_endpoint, monkeypatch):
    """`s3://<a bucket of this test's own>/blobs`, this process's AWS_* variables set for it."""
    from tests.s3 import bucket

    with bucket(s3_endpoint, monkeypatch) as url:
        yield url

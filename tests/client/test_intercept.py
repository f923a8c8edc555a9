"""mockserver.intercept and the pytest plugin: SDK traffic is served in-process; nothing else passes."""

from __future__ import annotations

import asyncio

import httpx
import httpx2
import openai
import pytest
import respx
from respx.models import AllMockedAssertionError

from mockserver.intercept import BaseURL, intercept
from mockserver.testing import Emulator, offline_openai

JSONL = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'


def test_fixture_serves_a_default_sdk_client(openai_emulator):
    client = openai.OpenAI()  # default base URL, key from the environment (set by the fixture)
    assert client.base_url.host == "api.openai.com"
    models = {m.id for m in client.models.list()}
    assert "gpt-4o-mini-2024-07-18" in models


def test_fixture_client_shares_the_tenant_of_default_clients(openai_emulator, openai_emulator_client):
    uploaded = openai_emulator_client.files.create(file=("train.jsonl", JSONL), purpose="fine-tune")
    assert openai.OpenAI().files.retrieve(uploaded.id).filename == "train.jsonl"


def test_fixture_sets_a_dummy_key_only_when_unset(monkeypatch, request):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    request.getfixturevalue("openai_emulator")
    import os

    assert os.environ["OPENAI_API_KEY"] == "sk-test"


def test_sdk_errors_come_from_the_emulator(openai_emulator):
    with pytest.raises(openai.NotFoundError) as e:
        openai.OpenAI().files.retrieve("file-nope")
    assert e.value.status_code == 404
    assert e.value.param == "id"
    assert "No such File object: file-nope" in str(e.value)


def test_other_hosts_raise_instead_of_reaching_the_network(openai_emulator):
    with pytest.raises(AllMockedAssertionError):
        httpx2.get("https://example.com/")
    with pytest.raises(AllMockedAssertionError):
        openai.OpenAI(base_url="https://elsewhere.example/v1", max_retries=0).models.list()
    with pytest.raises(AllMockedAssertionError):  # same host, outside the base path
        httpx2.get("https://api.openai.com/v2/models")


def test_async_clients_are_served_through_the_async_bridge(openai_emulator, monkeypatch):
    calls = []
    original = openai_emulator.bridge.acall

    async def spy(*args, **kwargs):
        calls.append(args[1])
        return await original(*args, **kwargs)

    monkeypatch.setattr(openai_emulator.bridge, "acall", spy)

    async def fetch():
        client = openai.AsyncOpenAI()
        names = ("gpt-4o", "gpt-4.1", "babbage-002")
        return await asyncio.gather(*(client.models.retrieve(m) for m in names))

    assert [m.id for m in asyncio.run(fetch())] == ["gpt-4o", "gpt-4.1", "babbage-002"]
    assert len(calls) == 3 and all(url.startswith("https://api.openai.com/v1/models/") for url in calls)


def test_sync_client_inside_a_coroutine_uses_the_blocking_bridge(openai_emulator):
    async def inside():
        return openai.OpenAI().models.retrieve("gpt-4o").id

    assert asyncio.run(inside()) == "gpt-4o"


def test_custom_base_url_with_a_path_prefix_is_mapped_to_v1():
    with offline_openai(["https://gateway.test/openai/v1"]) as emu:
        client = openai.OpenAI(api_key="sk-test", base_url="https://gateway.test/openai/v1")
        uploaded = client.files.create(file=("t.jsonl", JSONL), purpose="fine-tune")
        status, _, _ = emu.request("GET", f"/v1/files/{uploaded.id}", api_key="sk-test")
        assert status == 200


def test_openai_base_url_from_the_environment_is_intercepted_too(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1")
    with Emulator() as emu, intercept(emu) as seen:
        assert BaseURL.parse("http://localhost:8000/v1") in seen.base_urls
        assert openai.OpenAI(api_key="sk-test").models.retrieve("gpt-4o").id == "gpt-4o"
        openai.OpenAI(api_key="sk-test", base_url="https://api.openai.com/v1").models.retrieve("gpt-4o")
        assert seen.served == 2


def test_httpx_generation_is_intercepted_with_the_httpcore_mocker():
    """openai<3 is built on httpx; the same emulator answers it (the full SDK check runs in a subprocess)."""
    with Emulator() as emu, intercept(emu, sdk="httpx"):
        r = httpx.get("https://api.openai.com/v1/models/gpt-4o", headers={"Authorization": "Bearer sk-test"})
        assert r.status_code == 200 and r.json()["id"] == "gpt-4o"
        with pytest.raises(AllMockedAssertionError):
            httpx.get("https://example.com/")


def test_all_generations_at_once():
    with Emulator() as emu, intercept(emu, sdk="all") as seen:
        auth = {"Authorization": "Bearer sk-test"}
        assert httpx.get("https://api.openai.com/v1/models", headers=auth).status_code == 200
        assert httpx2.get("https://api.openai.com/v1/models", headers=auth).status_code == 200
        assert len(seen.routers) == 2 and seen.served == 2


def test_each_emulator_is_isolated_and_the_innermost_interception_wins():
    with offline_openai() as outer:
        openai.OpenAI(api_key="sk-test").files.create(file=("a.jsonl", JSONL), purpose="fine-tune")
        with offline_openai() as inner:
            assert inner is not outer
            assert list(openai.OpenAI(api_key="sk-test").files.list()) == []
        assert len(list(openai.OpenAI(api_key="sk-test").files.list())) == 1


def test_interception_ends_with_the_context():
    with Emulator() as emu:
        with intercept(emu) as seen:
            router = seen.routers[0]
        from respx.mocks import Mocker

        assert router not in Mocker.registry["httpcore2"].routers


def test_it_coexists_with_the_httpx2_mock_fixture(openai_emulator, httpx2_mock):
    httpx2_mock.get("https://status.example/health").mock(return_value=respx.MockResponse(204))
    assert httpx2.get("https://status.example/health").status_code == 204
    assert openai.OpenAI().models.retrieve("gpt-4o").id == "gpt-4o"


@pytest.mark.parametrize("url", ["ftp://x/v1", "api.openai.com/v1", "https:///v1"])
def test_base_urls_must_be_http(url):
    with pytest.raises(ValueError, match="not an http"):
        BaseURL.parse(url)


def test_unknown_sdk_choice_is_refused():
    with Emulator() as emu, pytest.raises(ValueError, match="sdk must be one of"):
        intercept(emu, sdk="requests").__enter__()

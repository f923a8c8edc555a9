"""Encodings offline through tiktoken's own cache: for the emulator and, via `mockserver env`, for users."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import sys
import textwrap

import quicktok
import tiktoken.load
import tiktoken_ext.openai_public as openai_public

from contracts import tiktoken_cache, tokens

NO_NETWORK = textwrap.dedent("""
    import socket
    def no_network(*a, **k):
        raise OSError("network disabled in this test")
    socket.socket.connect = socket.socket.connect_ex = no_network
    socket.create_connection = socket.getaddrinfo = no_network
""")
USER_SCRIPT = NO_NETWORK + textwrap.dedent("""
    import tiktoken                                  # a user's own script: plain tiktoken, nothing else
    for name in ("cl100k_base", "o200k_base", "r50k_base", "p50k_base", "gpt2"):
        enc = tiktoken.get_encoding(name)
        assert enc.decode(enc.encode("体重何キロ? hello")) == "体重何キロ? hello"
        print(name, len(enc.encode("体重何キロ? hello   world")))
""")


def _exports(env: dict[str, str]) -> dict[str, str]:
    out = subprocess.run([sys.executable, "-m", "mockserver", "env"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    pairs = [shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in out.stdout.splitlines()]
    return dict(pairs)


def test_eval_mockserver_env_makes_plain_tiktoken_work_offline():
    env = {k: v for k, v in os.environ.items() if k not in ("TIKTOKEN_CACHE_DIR", "OPENAI_BASE_URL")}
    env["MOCKSERVER_PORT"] = "9123"
    exported = _exports(env)
    assert exported["OPENAI_BASE_URL"] == "http://127.0.0.1:9123/v1" and exported["OPENAI_API_KEY"].startswith("sk-")
    assert exported["TIKTOKEN_CACHE_DIR"] == str(tiktoken_cache.cache_dir())
    out = subprocess.run([sys.executable, "-c", USER_SCRIPT], env={**env, **exported}, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    counts = dict(line.split() for line in out.stdout.splitlines())
    assert counts["cl100k_base"] == str(len(quicktok.get_encoding("cl100k_base").encode("体重何キロ? hello   world")))
    assert counts["r50k_base"] != counts["p50k_base"]          # p50k has whitespace-run tokens
    names = set(os.listdir(exported["TIKTOKEN_CACHE_DIR"]))
    for url, _ in [*tiktoken_cache.BLOBS.values(), *tiktoken_cache.GPT2_FILES.values()]:
        assert hashlib.sha1(url.encode()).hexdigest() in names   # the very names tiktoken looks up


def test_the_cache_is_rebuilt_from_bundled_data_and_verified(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert tiktoken_cache.ensure(("r50k_base",)) == tmp_path.resolve()
    url, expected = tiktoken_cache.BLOBS["r50k_base"]
    blob = tmp_path / tiktoken_cache.cache_file(url)
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == expected
    blob.write_bytes(b"corrupt\n")
    tiktoken_cache.ensure(("r50k_base",))
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == expected


def test_the_emulator_uses_tiktokens_documented_cache_unpatched():
    enc = tokens.get_encoding("cl100k_base")
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(tiktoken_cache.cache_dir())
    assert openai_public.load_tiktoken_bpe is tiktoken.load.load_tiktoken_bpe     # nothing patched
    assert enc is tokens.get_encoding("cl100k_base") and enc.name == "cl100k_base"
    for name, (url, expected) in tiktoken_cache.BLOBS.items():                   # canary: tiktoken's own URLs
        source = json.dumps(getattr(openai_public, name).__code__.co_consts)
        assert url in source and expected in source, name


def test_same_ids_as_an_independent_tokenizer():
    text = "ぶひぶひ 500キロ! The quick brown fox 🐷 <|endoftext|>"
    for name in ("cl100k_base", "o200k_base"):
        assert tokens.get_encoding(name).encode_ordinary(text) == quicktok.get_encoding(name).encode_ordinary(text)


def test_model_to_encoding():
    assert tokens.encoding_for_model("gpt-3.5-turbo-0613").name == "cl100k_base"
    assert tokens.encoding_for_model("ft:gpt-4o-mini-2024-07-18:personal::abc:ckpt-step-3").name == "o200k_base"
    assert tokens.encoding_for_model("ft:gpt-4.1-2025-04-14:org:x:abcdefgh").name == "o200k_base"
    assert tokens.encoding_for_model("davinci-002").name == "cl100k_base"


def test_recipe_counts_names_and_priming():
    enc = tokens.get_encoding("cl100k_base")
    msgs = [{"role": "user", "name": "bob", "content": "hi"}]
    expected = 3 + 3 + len(enc.encode("user")) + len(enc.encode("bob")) + 1 + len(enc.encode("hi"))
    assert tokens.count_messages_recipe(tokens.counter("cl100k_base"), msgs) == expected


CALLS = [{"id": "call_1", "type": "function", "function": {"name": "weigh", "arguments": '{"unit": "kg"}'}}]


def test_image_parts_cost_a_fixed_85_tokens_and_text_parts_their_text():
    enc = tokens.get_encoding("cl100k_base")
    head = 3 + 3 + len(enc.encode("user"))
    for url in ("https://x/y.png", "data:image/png;base64," + "iVBORw0KGgo" * 100_000):
        parts = [{"type": "text", "text": "これは"}, {"type": "image_url", "image_url": {"url": url}},
                 {"type": "text", "text": "何?"},
                 {"type": "image_url", "image_url": {"url": url, "detail": "high"}}]
        msgs = [{"role": "user", "content": parts}]
        assert tokens.count_messages_recipe(tokens.counter("cl100k_base"), msgs) == head + len(enc.encode("これは何?")) + 2 * 85
    assert tokens.IMAGE_TOKENS == 85


def test_tool_calls_and_function_call_count_their_json_text():
    enc = tokens.get_encoding("cl100k_base")
    call = {"name": "weigh", "arguments": "{}"}
    msgs = [{"role": "assistant", "content": None, "tool_calls": CALLS},
            {"role": "assistant", "function_call": call}]
    expected = 3 + 2 * (3 + len(enc.encode("assistant"))) + sum(
        len(enc.encode(json.dumps(v, ensure_ascii=False, separators=(",", ":")))) for v in (CALLS, call))
    assert tokens.count_messages_recipe(tokens.counter("cl100k_base"), msgs) == expected


def test_strings_only_ignores_every_non_string_value_as_the_cookbook_does():
    enc = tokens.get_encoding("cl100k_base")
    parts = [{"type": "text", "text": "これは?"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]
    msgs = [{"role": "user", "name": 7, "content": parts},
            {"role": "assistant", "content": None, "tool_calls": CALLS, "weight": 1},
            {"role": "assistant", "content": "ぶひ"}]
    strings = ["user", "assistant", "assistant", "ぶひ"]
    expected = 3 + 3 * len(msgs) + sum(len(enc.encode(t)) for t in strings) + 1   # + 1 for the name
    assert tokens.count_messages_recipe(tokens.counter("cl100k_base"), msgs, strings_only=True) == expected
    assert tokens.count_messages_recipe(tokens.counter("cl100k_base"), msgs) > expected

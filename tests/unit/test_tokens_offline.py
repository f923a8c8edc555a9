"""The tokenizer works with networking disabled and matches tiktoken's expected files."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import quicktok

from contracts import tokens

SCRIPT = textwrap.dedent("""
    import os, socket, sys, tempfile
    os.environ["TIKTOKEN_CACHE_DIR"] = tempfile.mkdtemp()          # an empty cache: tiktoken would download
    os.environ["MOCKSERVER_TOKEN_CACHE"] = sys.argv[1]              # our own cache: empty, or as the test left it
    def no_network(*a, **k):
        raise OSError("network disabled in this test")
    socket.socket.connect = no_network
    socket.create_connection = no_network
    socket.getaddrinfo = no_network
    import tiktoken.load
    tiktoken.load.read_file = no_network                              # tiktoken's own downloader must not run
    from contracts import tokens
    for name in ("cl100k_base", "o200k_base"):
        enc = tokens.get_encoding(name)
        assert enc.decode(enc.encode("体重何キロ? hello")) == "体重何キロ? hello"
    print("offline-ok", tokens.count_chat("gpt-3.5-turbo-0613", [{"role": "user", "content": "体重何キロ?"}]))
""")


def _run_offline(cache_dir) -> list[str]:
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(cache_dir)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_encodings_load_with_network_disabled(tmp_path):
    expected = 3 + 3 + 1 + len(quicktok.get_encoding("cl100k_base").encode("体重何キロ?"))  # priming, message, "user"
    assert _run_offline(tmp_path) == ["offline-ok", str(expected)]          # rebuilt from the bundled vocabulary
    cached = sorted(p.name for p in tmp_path.iterdir())
    assert cached == ["cl100k_base-223921b76ee99bde.tiktoken", "o200k_base-446a9538cb6c348e.tiktoken"]
    assert _run_offline(tmp_path) == ["offline-ok", str(expected)]          # loaded from the verified copy
    (tmp_path / cached[0]).write_bytes(b"corrupt\n")
    assert _run_offline(tmp_path) == ["offline-ok", str(expected)]          # hash mismatch: rebuilt
    assert (tmp_path / cached[0]).stat().st_size > 1_000_000


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

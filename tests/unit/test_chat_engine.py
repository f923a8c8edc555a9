"""Pure chat logic: the answer index, the JSON-schema subset, reply planning, token cuts and stream pieces."""

from __future__ import annotations

import orjson
import pytest

from contracts import errors
from contracts.tokens import get_encoding
from mockserver.chat import answers, engine, json_schema, wire
from mockserver.chat.answers import Answer
from mockserver.chat.request import parse_chat, parse_completion

ENC = get_encoding("cl100k_base")


def chat(system: str | None, user: str, assistant: str | dict) -> bytes:
    msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
    msgs.append(assistant if isinstance(assistant, dict) else {"role": "assistant", "content": assistant})
    return orjson.dumps({"messages": msgs})


PIG = [chat("何言われてもぶひと答えて", q, a) for q, a in [
    ("あなた豚のものまねしてる?", "はい!ぶたのものまねしてますぶひ!"), ("体重何キロ?", "500キロぶひ!"),
    ("好きな食べ物は?", "ポークぶひ!")]]


# --- answer index ----------------------------------------------------------------------------------------


def test_exact_match_is_normalized():
    index = answers.build_index(PIG)
    assert len(index) == 3
    for q in ("体重何キロ?", "体重何キロ?", "  体重何キロ?  "):
        assert index.lookup(None, q) == Answer("500キロぶひ!")


def test_similarity_threshold():
    index = answers.build_index(PIG)
    conv = answers.Conversation(None, "体重は何キロ?")
    score, best = index.rank(conv)[0]
    assert best == 1 and answers.MATCH_THRESHOLD <= score < 1
    assert index.lookup("何言われてもぶひと答えて", "体重は何キロ?").content == "500キロぶひ!"
    assert index.lookup(None, "体重何キロですか?").content == "500キロぶひ!"
    for unrelated in ("今日の天気は?", "好きな色は?", "x", ""):
        assert index.lookup(None, unrelated) is None


def test_same_system_prompt_is_preferred():
    lines = [chat("A", "hello there", "from A"), chat("B", "hello there", "from B"),
             chat("A", "tell me a joke please", "joke A"), chat("B", "tell me a joke please!", "joke B")]
    index = answers.build_index(lines)
    assert index.lookup("B", "hello there").content == "from B"
    assert index.lookup(None, "hello there").content == "from A"
    assert index.lookup("b", "Tell me a joke, please").content == "joke B"


def test_other_formats_and_tool_calls():
    lines = [
        orjson.dumps({"prompt": "Q: capital of France?\n\n###\n\n", "completion": " Paris END"}),
        orjson.dumps({"input": {"messages": [{"role": "user", "content": "Rate this"}]},
                      "preferred_output": [{"role": "assistant", "content": "Good"}],
                      "non_preferred_output": [{"role": "assistant", "content": "Bad"}]}),
        chat(None, "weather in Oslo", {"role": "assistant", "tool_calls": [
            {"id": "c1", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]}),
        b"not json", b"", orjson.dumps({"messages": [{"role": "user", "content": "no answer"}]}),
    ]
    index = answers.build_index(lines)
    assert len(index) == 3
    assert index.lookup(None, "Q: capital of France?\n\n###\n\n").content == " Paris END"
    assert index.lookup(None, "Rate this").content == "Good"
    assert index.lookup(None, "weather in Oslo") == Answer(None, "get_weather", "{\"city\": \"Oslo\"}")


def test_multi_turn_indexes_every_trained_assistant_turn():
    line = orjson.dumps({"messages": [
        {"role": "system", "content": "S"}, {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": [{"type": "text", "text": "second"}]},
        {"role": "assistant", "content": "second answer", "weight": 1},
        {"role": "user", "content": "third"}, {"role": "assistant", "content": "not trained", "weight": 0}]})
    index = answers.build_index([line])
    assert len(index) == 2
    assert index.lookup("S", "second").content == "second answer"
    assert index.lookup("S", "first question").content == "first answer"
    assert index.lookup("S", "third") is None


def test_earlier_turns_break_ties_between_identical_questions():
    def convo(topic: str, answer: str) -> bytes:
        return orjson.dumps({"messages": [{"role": "user", "content": f"tell me about {topic}"},
                                          {"role": "assistant", "content": f"{topic} is nice"},
                                          {"role": "user", "content": "why is that?"},
                                          {"role": "assistant", "content": answer}]})
    index = answers.build_index([convo("Paris", "because of the food"), convo("Oslo", "because of the fjords")])
    assert index.lookup(None, "why is that?", ("tell me about Oslo",)).content == "because of the fjords"
    assert index.lookup(None, "why is that?", ("tell me about Paris",)).content == "because of the food"


def test_index_answers_from_ten_thousand_examples():
    """Exact and near lookups stay right at 10,000 examples (their speed is `make bench`'s business)."""
    words = ["朝", "昼", "夜", "会議", "散歩", "料理", "読書", "映画", "運動", "買い物", "掃除", "勉強", "旅行", "音楽",
             "写真", "仕事", "家族", "友達", "天気", "公園"]
    lines = []
    for i in range(10_000):
        memo = "".join(words[(i * 7 + k * 13 + (i // 20) * k) % len(words)] for k in range(25)) + f"メモ番号{i}"
        lines.append(chat("ラベルを付けて", memo, f"label-{i}"))
    index = answers.build_index(lines)
    probe = orjson.loads(lines[4321])["messages"][1]["content"]
    assert index.lookup("ラベルを付けて", probe).content == "label-4321"
    near = index.lookup(None, probe[:-6] + "とても楽しい一日だった")
    assert near is not None and near.content.startswith("label-")


# --- JSON schema subset -------------------------------------------------------------------------------------

SCHEMAS = [
    {"type": "string", "minLength": 30},
    {"type": "string", "maxLength": 3},
    {"type": "string", "format": "date-time"},
    {"type": "integer", "minimum": 5, "maximum": 9},
    {"type": "number", "exclusiveMinimum": 1.5},
    {"type": "integer", "maximum": -3},
    {"type": "boolean"}, {"type": "null"}, {"const": [1, 2]}, {"enum": ["b", "c"]},
    {"type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 4},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}], "items": False},
    {"oneOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
               {"type": "string"}]},
    {"allOf": [{"properties": {"x": {"type": "string"}}, "required": ["x"]},
               {"properties": {"y": {"type": "integer"}}, "required": ["y"]}]},
    {"type": "object", "required": ["free"], "additionalProperties": {"type": "number"}},
    {"$defs": {"node": {"type": "object", "properties": {"name": {"type": "string"}, "kids": {
        "type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 0}}, "required": ["name", "kids"]}},
     "$ref": "#/$defs/node"},
    {"definitions": {"c": {"enum": ["red", "green"]}}, "type": "object",
     "properties": {"c": {"$ref": "#/definitions/c"}}},
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_generated_values_validate(schema):
    value = json_schema.generate(schema, "some reply text")
    assert json_schema.validate(value, schema) == [], value


@pytest.mark.parametrize("value,schema", [
    ("x", {"type": "integer"}), (True, {"type": "integer"}), (1.5, {"type": "integer"}),
    ({"a": 1}, {"type": "object", "properties": {"a": {"type": "string"}}}),
    ({}, {"type": "object", "required": ["a"]}),
    ({"b": 1}, {"properties": {}, "additionalProperties": False}),
    ([1], {"type": "array", "minItems": 2}), ("toolong", {"maxLength": 3}), ("abc", {"pattern": "^x"}),
    (10, {"maximum": 9}), (1, {"exclusiveMinimum": 1}), ("z", {"enum": ["a"]}), (2, {"const": 1}),
    (None, {"anyOf": [{"type": "string"}, {"type": "integer"}]}),
    (1, {"oneOf": [{"type": "integer"}, {"minimum": 0}]}),
    ({"n": {"name": 1}}, {"$defs": {"p": {"properties": {"name": {"type": "string"}}}}, "properties": {
        "n": {"$ref": "#/$defs/p"}}}),
])
def test_validator_rejects(value, schema):
    assert json_schema.validate(value, schema) != []


def test_enum_picks_the_reply_when_it_is_a_member():
    assert json_schema.generate({"enum": ["cat", "dog"]}, " Dog ") == "dog"
    with pytest.raises(json_schema.SchemaError):
        json_schema.generate({"$ref": "#/$defs/missing"}, "x")
    with pytest.raises(json_schema.SchemaError):   # not an index (int() refuses it): was a ValueError, a 500
        json_schema.generate({"allOf": [{}], "properties": {"a": {"$ref": "#/allOf/\u00b2"}}}, "x")
    assert json_schema.generate({"allOf": [{}], "properties": {"a": {"$ref": "#/allOf/0"}}}, "x") is not None


# --- replies and options ----------------------------------------------------------------------------------


def test_template_reply_is_deterministic():
    d = engine.request_digest("gpt-4o", [{"role": "user", "content": "hi"}], 1)
    assert engine.template_reply("hi", d, 0) == engine.template_reply("hi", d, 0)
    assert engine.request_digest("gpt-4o", [{"content": "hi", "role": "user"}], 1) == d
    assert engine.request_digest("gpt-4o", [{"role": "user", "content": "hi"}], 2) != d
    replies = {engine.template_reply("hi", engine.request_digest("m", [], s), 0) for s in range(20)}
    assert len(replies) > 2 and all('"hi"' in r for r in replies)
    long = engine.template_reply("x" * 100, d, 0)
    assert "x" * 48 + "…" in long and "x" * 49 not in long
    assert engine.template_reply("   ", d, 0) in engine.GREETINGS


def test_stop_and_token_cap():
    assert engine.apply_stop("one two three", ["three", "two"]) == "one "
    assert engine.apply_stop("abc", []) == "abc"
    req = parse_chat({"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 2})
    c = engine.content_choice(ENC, "体重何キロ?", req, 0)
    ids = ENC.encode_ordinary("体重何キロ?")
    assert (c.ids, c.finish_reason, c.completion_tokens) == (ids[:2], "length", 2)
    assert c.text == ENC.decode(ids[:2])


def test_cut_inside_a_character_drops_the_partial_bytes():
    text = "🦊🦊"
    ids = ENC.encode_ordinary(text)
    assert len(ids) > 2
    req = parse_chat({"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 1})
    c = engine.content_choice(ENC, text, req, 0)
    assert c.text == "" and c.completion_tokens == 1
    pieces = wire.token_pieces(ENC, c.ids)
    assert "".join(p for p, _ in pieces) == "" and sum(len(pos) for _, pos in pieces) == 1


@pytest.mark.parametrize("text", ["500キロぶひ!", "plain ascii text", "emoji 🦊 mixed 日本語 🎉!", ""])
def test_stream_pieces_are_whole_characters(text):
    ids = ENC.encode_ordinary(text)
    pieces = wire.token_pieces(ENC, ids)
    assert "".join(p for p, _ in pieces) == text
    assert sorted(pos for _, ps in pieces for pos in ps) == list(range(len(ids)))
    assert all("\ufffd" not in p for p, _ in pieces)


def test_logprob_entries_are_deterministic_and_ranked():
    ids = ENC.encode_ordinary("体重")
    a = engine.logprob_entries(ENC, ids, 42, 5)
    assert a == engine.logprob_entries(ENC, ids, 42, 5) and a != engine.logprob_entries(ENC, ids, 43, 5)
    assert a[0]["token"].startswith("bytes:") or a[0]["token"] == "体"
    for e in a:
        assert e["top_logprobs"][0]["token"] == e["token"] and len(e["top_logprobs"]) == 5
        assert [t["logprob"] for t in e["top_logprobs"]] == sorted((t["logprob"] for t in e["top_logprobs"]),
                                                                   reverse=True)
    legacy = engine.legacy_logprobs(engine.logprob_entries(ENC, ENC.encode_ordinary("ab cd"), 1, 2), 3)
    assert legacy["text_offset"][0] == 3 and len(legacy["top_logprobs"][0]) == 2


Q = answers.Conversation(None, "q")


def test_plan_reply_tools():
    weather = {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
    other = {"type": "function", "function": {"name": "lookup_stock"}}
    base = {"model": "m", "messages": [{"role": "user", "content": "please lookup stock ACME"}],
            "tools": [weather, other]}
    kind, name, args = engine.plan_reply(parse_chat(base | {"tool_choice": "required"}), None, "reply",
                                         answers.Conversation(None, "please lookup stock ACME"))
    assert (kind, name, orjson.loads(args)) == ("tool", "lookup_stock", {})
    kind, name, _ = engine.plan_reply(parse_chat(base), None, "reply", Q)
    assert (kind, name) == ("content", "reply")
    trained = Answer(None, "get_weather", '{"city": "Oslo"}')
    assert engine.plan_reply(parse_chat(base), trained, "x", Q) == (
        "tool", "get_weather", '{"city": "Oslo"}')
    assert engine.plan_reply(parse_chat(base | {"tool_choice": "none"}), trained, "x", Q)[0] == "content"
    no_tools = parse_chat({"model": "m", "messages": [{"role": "user", "content": "q"}]})
    assert engine.plan_reply(no_tools, trained, "x", Q)[0] == "content"
    assert engine.plan_reply(no_tools, trained, "x", Q, from_fixture=True)[0] == "tool"


def test_tool_arguments_come_from_the_conversation():
    weather = {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"},
                                         "unit": {"type": "string", "enum": ["fahrenheit", "celsius"]}},
        "required": ["city", "unit"], "additionalProperties": False}}}
    for question, city in (("What's the weather in Paris, in celsius?", "Paris"), ("東京の天気は?", "東京")):
        req = parse_chat({"model": "m", "messages": [{"role": "user", "content": question}], "tools": [weather],
                          "tool_choice": "required"})
        kind, name, args = engine.plan_reply(req, None, "reply", answers.Conversation.of(req.messages))
        assert (kind, name, orjson.loads(args)["city"]) == ("tool", "get_weather", city)
    assert orjson.loads(args)["unit"] == "fahrenheit" and "celsius" in orjson.loads(
        engine.plan_reply(parse_chat({"model": "m", "tools": [weather], "tool_choice": "required", "messages": [
            {"role": "user", "content": "Paris in celsius"}]}), None, "r", answers.Conversation(None, "Paris in celsius"))[2]
    ).values()


def test_shape_content():
    assert engine.shape_content('{"a": 1}', {"type": "json_object"}) == '{"a": 1}'
    assert orjson.loads(engine.shape_content("hi", {"type": "json_object"})) == {"answer": "hi"}
    fmt = {"type": "json_schema", "json_schema": {"name": "n", "schema": {
        "type": "object", "properties": {"v": {"type": "integer"}}, "required": ["v"]}}}
    assert engine.shape_content('{"v": 3}', fmt) == '{"v": 3}'
    assert orjson.loads(engine.shape_content('{"v": "x"}', fmt)) == {"v": 0}
    bad = {"type": "json_schema", "json_schema": {"name": "n", "schema": {"$ref": "#/$defs/nope"}}}
    with pytest.raises(errors.BadRequest):
        engine.shape_content("x", bad)


# --- request parsing ---------------------------------------------------------------------------------------


def test_parse_chat_fills_the_request():
    req = parse_chat({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2, "stop": "END",
                      "max_completion_tokens": 9, "stream": True, "stream_options": {"include_usage": True},
                      "logprobs": True, "top_logprobs": 2, "seed": 5, "service_tier": "flex"})
    assert (req.n, req.stop, req.max_tokens, req.max_param, req.stream, req.include_usage) == (
        2, ["END"], 9, "max_completion_tokens", True, True)
    assert (req.logprobs, req.top_logprobs, req.seed, req.service_tier) == (True, 2, 5, "flex")


@pytest.mark.parametrize("body,param", [
    ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
    ({"messages": [{"role": "user", "content": []}]}, "messages[0].content"),
    ({"messages": [{"role": "user", "content": [{"type": "text"}]}]}, "messages[0].content[0].text"),
    ({"messages": [{"role": "system", "content": [{"type": "image_url", "image_url": {}}]}]},
     "messages[0].content[0].type"),
    ({"tools": [{"type": "function", "function": {"name": "bad name"}}]}, "tools[0].function.name"),
    ({"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {
        "type": "function", "function": {"name": "g"}}}, "tool_choice"),
    ({"parallel_tool_calls": True}, "parallel_tool_calls"),
    ({"metadata": {"k": 1}}, "metadata.k"),
    ({"logit_bias": {"abc": 1}}, "logit_bias"),
    ({"logit_bias": {"\u00b2": 1}}, "logit_bias"),
    ({"service_tier": "gold"}, "service_tier"),
])
def test_parse_chat_errors(body, param):
    full = {"model": "m", "messages": [{"role": "user", "content": "x"}]} | body
    with pytest.raises(errors.BadRequest) as e:
        parse_chat(full)
    assert e.value.param == param


def test_parse_completion():
    req = parse_completion({"model": "davinci-002", "prompt": ["a", [15339, 1917]], "echo": True,
                            "logprobs": 0})
    assert (req.prompts, req.prompt_token_counts, req.max_tokens, req.echo) == (
        ["a", "hello world"], [None, 2], 16, True)
    with pytest.raises(errors.BadRequest) as e:
        parse_completion({"model": "davinci-002", "prompt": [{"x": 1}]})
    assert e.value.param == "prompt[0]"
    with pytest.raises(errors.BadRequest) as e:
        parse_completion({"model": "davinci-002"})
    assert e.value.code == "missing_required_parameter"

"""contracts.dataset.validation: boundaries, every format rule, token counts against quicktok, parallel = serial."""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import threading
from pathlib import Path

import orjson
import pytest
import quicktok

from contracts import tokens
from contracts.dataset import validation
from contracts.dataset.validation import JobError, validate_file, validate_lines

MODEL = "gpt-3.5-turbo-0613"
FILE_ID = "file-abc123"
QT = quicktok.get_encoding("cl100k_base")   # independent oracle: same ids as tiktoken's cl100k_base
PREFIX = "The job failed due to an invalid training file. "
BAD = PREFIX + "Invalid file format. "
SYSTEM = "何言われてもぶひと答えて"
PIGS = [("あなた豚のものまねしてる?", "はい!ぶたのものまねしてますぶひ!"), ("体重何キロ?", "500キロぶひ!"),
        ("好きな食べ物は?", "ポークぶひ!")]


def chat(user: str, assistant: str, system: str | None = SYSTEM) -> dict:
    messages = [{"role": "system", "content": system}] if system else []
    return {"messages": [*messages, {"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


def pig_examples(n: int = 10) -> list[dict]:
    return [chat(*PIGS[i % 3]) for i in range(n)]


def lines(examples: list) -> list[bytes]:
    return [e if isinstance(e, bytes) else orjson.dumps(e) + b"\n" for e in examples]


def run(examples: list, **kw) -> validation.ValidationResult:
    kw.setdefault("model", MODEL)
    return validate_lines(lines(examples), file_id=FILE_ID, **kw)


def oracle_tokens(messages: list[dict]) -> int:
    """The cookbook recipe, counted with quicktok."""
    total = 3
    for m in messages:
        total += 3 + sum(len(QT.encode(v)) for v in m.values() if isinstance(v, str)) + ("name" in m)
    return total


def with_bad(bad: dict | bytes, at: int = 4, n: int = 10) -> list:
    examples: list = pig_examples(n)
    examples[at - 1] = bad
    return examples


# --- Example counts -------------------------------------------------------------------------------

def test_ten_examples_pass_with_recipe_token_counts():
    examples = pig_examples(10)
    r = run(examples)
    assert (r.error, r.format, r.n_examples, r.problems, r.warnings) == (None, "chat", 10, [], [])
    expected = [oracle_tokens(e["messages"]) for e in examples]
    assert list(r.example_tokens) == expected
    assert expected[:3] == [63, 44, 48]
    assert r.billing_tokens == sum(expected)
    assert (r.over_limit, r.n_over_limit) == ([], 0)


@pytest.mark.parametrize("n", [9, 3, 0])
def test_fewer_than_ten_examples_fail_with_the_real_message(n):
    r = run(pig_examples(n))
    assert r.error == JobError("invalid_n_examples",
                               f"Training file has {n} example(s), but must have at least 10 examples",
                               "training_file")
    assert r.n_examples == n
    assert r.problems == [(None, r.error)]


def test_validation_file_wording_and_custom_minimum():
    r = run(pig_examples(2), param="validation_file", min_examples=5)
    assert r.error == JobError("invalid_n_examples", "Validation file has 2 example(s), but must have at least "
                               "5 examples", "validation_file")
    assert run(pig_examples(2), min_examples=2).error is None


def test_validation_file_format_errors_name_the_validation_file():
    r = run(with_bad(msgs(U)), param="validation_file")
    assert r.error == JobError("invalid_training_file", "The job failed due to an invalid validation file. Invalid "
                               "file format. Example 4 has no assistant message.", "validation_file")


def test_format_error_takes_precedence_over_the_example_count():
    r = run(with_bad(b"{oops\n", at=2, n=3))
    assert r.n_examples == 3
    assert r.error.code == "invalid_training_file"
    assert "Example 2 cannot be parsed" in r.error.message


def test_blank_lines_are_ignored_and_not_counted():
    raw = lines(pig_examples(10))
    raw = [b"\n", raw[0], b"   \r\n", *raw[1:5], b"\t\n", *raw[5:], b"\n"]
    r = validate_lines(raw, model=MODEL, file_id=FILE_ID)
    assert (r.n_examples, r.error, len(r.example_tokens)) == (10, None, 10)
    raw.insert(5, b"{not json}\n")   # physical line 6, example 4
    r = validate_lines(raw, model=MODEL, file_id=FILE_ID)
    assert r.n_examples == 11
    assert r.error.message == (BAD + "Example 4 cannot be parsed. Error: line contains invalid json: unexpected "
                               "character, expected a string key at char 1 (line 6)")


def test_iter_examples_numbers_non_blank_lines():
    got = list(validation.iter_examples([b"\n", b'{"a": 1}\n', b"  \n", b"[2]\n", b"{x\n"]))
    assert [(n, ex) for n, ex in got[:2]] == [(1, {"a": 1}), (2, [2])]
    assert got[2][0] == 3 and isinstance(got[2][1], orjson.JSONDecodeError)


# --- Token limit ----------------------------------------------------------------------------------

def sized_example(target: int) -> dict:
    """A pig example whose recipe count is exactly `target`: repeated Japanese, padded with ASCII words."""
    base = "体重何キロ?" * ((target - 40) // 6)
    for pad in range(0, 400):
        ex = chat(base + " hello" * pad, "500キロぶひ!")
        count = oracle_tokens(ex["messages"])
        if count == target:
            return ex
        assert count < target, "padding overshot the target"
    raise AssertionError("no exact padding found")


@pytest.mark.parametrize("target", [4096, 4097])
def test_sized_example_is_exact_by_quicktok(target):
    ex = sized_example(target)
    assert oracle_tokens(ex["messages"]) == target
    assert tokens.count_messages_recipe(tokens.counter("cl100k_base"), ex["messages"]) == target


def test_exactly_the_limit_is_allowed():
    r = run(with_bad(sized_example(4096)))
    assert r.error is None
    assert r.example_tokens[3] == 4096
    assert (r.over_limit, r.n_over_limit) == ([], 0)


def test_one_token_over_the_limit_fails():
    r = run(with_bad(sized_example(4097)))
    assert r.error == JobError("invalid_training_file", PREFIX + "Example 4 has 4097 tokens, which exceeds the "
                               "maximum of 4096 tokens for gpt-3.5-turbo-0613.", "training_file")
    assert (r.over_limit, r.n_over_limit) == ([(4, 4097)], 1)
    assert list(r.example_tokens[4:]) == [-1] * 6   # nothing is counted after the first failure


def test_truncate_mode_warns_and_bills_the_limit():
    examples = with_bad(sized_example(4097))
    examples[7] = sized_example(4097)
    r = run(examples, over_limit="truncate")
    assert r.error is None
    assert r.warnings == ["2 example(s) exceed the 4096-token limit of gpt-3.5-turbo-0613 and were truncated; "
                          "billing counts 4096 tokens for each."]
    assert (r.over_limit, r.n_over_limit) == ([(4, 4097), (8, 4097)], 2)
    assert r.billing_tokens == sum(min(t, 4096) for t in r.example_tokens) == sum(r.example_tokens) - 2


def test_alias_resolves_to_the_snapshot_limit():
    r = run(with_bad(sized_example(4097)), model="gpt-3.5-turbo")   # → gpt-3.5-turbo-0125, 16,385 tokens
    assert r.error is None and r.example_tokens[3] == 4097


def test_o200k_models_count_with_their_encoding():
    examples = pig_examples(10)
    r = run(examples, model="gpt-4o-mini")
    o200k = quicktok.get_encoding("o200k_base")
    first = examples[0]["messages"]
    assert r.example_tokens[0] == 3 + sum(3 + sum(len(o200k.encode(v)) for v in m.values()) for m in first)
    assert r.example_tokens[0] != oracle_tokens(first)


# --- Format rules ---------------------------------------------------------------------------------

def msgs(*messages: dict, **top) -> dict:
    return {"messages": list(messages), **top}


U = {"role": "user", "content": "体重何キロ?"}
A = {"role": "assistant", "content": "500キロぶひ!"}
CALL = [{"id": "call_1", "type": "function", "function": {"name": "weigh", "arguments": "{}"}}]

FORMAT_CASES = {
    "invalid json": (b'{"messages": [\n', "invalid_training_file", BAD + "Example 4 cannot be parsed. Error: line "
                     "contains invalid json: unexpected end of data at char 15 (line 4)"),
    "not an object": (b'["messages"]\n', "invalid_training_file", BAD + "Example 4 cannot be parsed. Error: "
                      "expected a JSON object, got an array (line 4)"),
    "missing messages": ({"prompt": "a", "completion": "b"}, "invalid_training_file",
                         BAD + "Example 4 is missing key 'messages'."),
    "empty messages": (msgs(), "invalid_training_file", BAD + "Example 4 'messages' must be a non-empty list."),
    "messages not a list": ({"messages": "hi"}, "invalid_training_file",
                            BAD + "Example 4 'messages' must be a non-empty list."),
    "unrecognized top key": (msgs(U, A, metadata={}), "invalid_training_file",
                             BAD + "Example 4 contains an unrecognized key 'metadata'."),
    "missing role": (msgs(U, {"content": "x"}, A), "invalid_training_file",
                     BAD + "Example 4, message 2 Discriminator 'role' is missing in value"),
    "message not an object": (msgs(U, A, "hi"), "invalid_training_file",
                              BAD + "Example 4, message 3 Input should be a valid dictionary"),
    "developer role": (msgs({"role": "developer", "content": "x"}, U, A), "invalid_training_file",
                       BAD + "Example 4, message 1 Input tag 'developer' found using 'role' does not match any "
                       "of the expected tags: 'system', 'user', 'assistant', 'tool', 'function'"),
    "unrecognized message key": (msgs(U, {**A, "foo": 1}), "invalid_training_file",
                                 BAD + "Example 4, message 2 contains an unrecognized key 'foo'."),
    "tool_calls on user": (msgs({**U, "tool_calls": CALL}, A), "invalid_training_file",
                           BAD + "Example 4, message 1 contains an unrecognized key 'tool_calls'."),
    "function without name": (msgs(U, {"role": "function", "content": "{}"}, A), "invalid_training_file",
                              BAD + "Example 4, message 2 is missing key 'name'."),
    "tool without tool_call_id": (msgs(U, {"role": "tool", "content": "{}"}, A), "invalid_training_file",
                                  BAD + "Example 4, message 2 is missing key 'tool_call_id'."),
    "missing content": (msgs({"role": "user"}, A), "invalid_training_file",
                        BAD + "Example 4, message 1 is missing key 'content'."),
    "empty content": (msgs(U, {"role": "assistant", "content": ""}), "invalid_training_file",
                      BAD + "Example 4, message 2 'content' must be a non-empty string."),
    "null content without calls": (msgs(U, {"role": "assistant", "content": None}), "invalid_training_file",
                                   BAD + "Example 4, message 2 'content' must be a non-empty string."),
    "bad content part": (msgs({"role": "user", "content": [{"type": "audio"}]}, A), "invalid_training_file",
                         BAD + "Example 4, message 1 content part 1 is invalid: 'type' must be 'text' or "
                         "'image_url'."),
    "name not a string": (msgs({**U, "name": 5}, A), "invalid_training_file",
                          BAD + "Example 4, message 1 'name' must be a string."),
    "weight on user": (msgs({**U, "weight": 1}, A), "invalid_file_format",
                       "The job failed due to a file format error in the training file. Invalid file format. "
                       'Example 4 contains an extra "weight".'),
    "weight not 0/1": (msgs(U, {**A, "weight": 2}), "invalid_file_format",
                       "The job failed due to a file format error in the training file. Invalid file format. "
                       'Example 4, message 2 "weight" must be 0 or 1.'),
    "weight true": (msgs(U, {**A, "weight": True}), "invalid_file_format",
                    "The job failed due to a file format error in the training file. Invalid file format. "
                    'Example 4, message 2 "weight" must be 0 or 1.'),
    "no assistant": (msgs({"role": "system", "content": "s"}, U), "invalid_training_file",
                     BAD + "Example 4 has no assistant message."),
    "tools not a list": (msgs(U, A, tools={}), "invalid_training_file",
                         BAD + "Example 4 'tools' must be a list of objects."),
}


@pytest.mark.parametrize("case", FORMAT_CASES)
def test_each_format_rule_names_the_example_and_message(case):
    bad, code, message = FORMAT_CASES[case]
    r = run(with_bad(bad))
    assert r.error == JobError(code, message, "training_file")
    assert r.n_examples == 10
    assert r.example_tokens[3] == -1 and r.example_tokens[2] > 0


def test_a_role_that_is_not_a_string_is_the_role_message_not_a_crash():
    r = run(with_bad(msgs({"role": ["user"], "content": "x"}, A)))
    assert r.error.code == "invalid_training_file" and "Input tag '['user']' found using 'role'" in r.error.message


VALID_CASES = {
    "weights 0 and 1": msgs(U, {**A, "weight": 0}, U, {**A, "weight": 1}),
    "name": msgs({**U, "name": "ぶた"}, A),
    "tool round trip": msgs(U, {"role": "assistant", "content": None, "tool_calls": CALL},
                            {"role": "tool", "tool_call_id": "call_1", "content": "500"}, A),
    "legacy function call": msgs(U, {"role": "assistant", "function_call": {"name": "weigh", "arguments": "{}"}},
                                 {"role": "function", "name": "weigh", "content": "500"}, A),
    "image part": msgs({"role": "user", "content": [{"type": "text", "text": "これは?"},
                                                    {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
                       A),
    "parallel_tool_calls": msgs(U, A, parallel_tool_calls=False),
}


@pytest.mark.parametrize("case", VALID_CASES)
def test_valid_variants_pass(case):
    r = run(with_bad(VALID_CASES[case]))
    assert r.error is None
    assert r.example_tokens[3] == tokens.count_messages_recipe(tokens.counter("cl100k_base"),
                                                               VALID_CASES[case]["messages"])


def test_name_adds_one_token_per_the_recipe():
    ex = msgs({**U, "name": "ぶた"}, A)
    r = run(with_bad(ex))
    assert r.example_tokens[3] == oracle_tokens(ex["messages"]) == oracle_tokens([U, A]) + len(QT.encode("ぶた")) + 1


def test_tools_add_the_tokens_of_their_json_text():
    tools = [{"type": "function", "function": {"name": "weigh", "parameters": {"type": "object"}}}]
    r = run(with_bad(msgs(U, A, tools=tools)))
    assert r.example_tokens[3] == oracle_tokens([U, A]) + len(QT.encode(orjson.dumps(tools).decode()))


def test_extra_weight_is_the_real_message_without_a_message_place():
    r = run(with_bad(msgs({"role": "system", "content": "s", "weight": 0}, U, A), at=1))
    reference = ("The job failed due to a file format error in the training file. Invalid file format. "
                 'Example 1 contains an extra "weight".')   # reference §7.6 [OBS-25-10], verbatim
    assert r.error == JobError("invalid_file_format", reference, "training_file")


def test_image_parts_count_a_fixed_cost_whatever_the_url():
    def image(url: str) -> dict:
        return msgs({"role": "user", "content": [{"type": "text", "text": "これは?"},
                                                 {"type": "image_url", "image_url": {"url": url}}]}, A)

    small = run(with_bad(image("https://x/y.png"))).example_tokens[3]
    huge = run(with_bad(image("data:image/png;base64," + "iVBORw0KGgo" * 200_000))).example_tokens[3]
    expected = oracle_tokens([{"role": "user"}, A]) + len(QT.encode("これは?")) + tokens.IMAGE_TOKENS
    assert small == huge == expected


def test_public_api_stays_in_validation():
    for name in ("JobError", "ValidationResult", "validate_file", "validate_lines", "iter_examples",
                 "detect_format", "n_examples_error"):
        assert name in validation.__all__ and callable(getattr(validation, name)), name
    assert validation.detect_format({"prompt": "p"}) == "prompt_completion"
    assert validation.n_examples_error(3).code == "invalid_n_examples"


def test_first_failing_example_wins():
    examples = with_bad(msgs(U), at=6)
    examples[2] = msgs({"content": "x"}, A)
    r = run(examples)
    assert r.error.message == BAD + "Example 3, message 1 Discriminator 'role' is missing in value"
    assert r.problems == [(3, r.error)]


def test_unknown_first_example_is_an_unexpected_format():
    r = run([{"text": "hello"}, *pig_examples(10)])
    assert r.format is None
    assert r.error == JobError("invalid_training_file", PREFIX + "Unexpected file format, expected either "
                               "prompt/completion pairs or chat messages.", "training_file")
    assert r.n_examples == 11


def test_utf8_bom_is_ignored(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"".join(lines(pig_examples(10))))
    r = validate_file(path, model=MODEL, file_id=FILE_ID)
    assert (r.error, r.n_examples) == (None, 10)


def test_unknown_model_method_or_mode_is_a_programming_error():
    for kw in ({"model": "gpt-fake"}, {"method": "rlhf"}, {"over_limit": "drop"}):
        with pytest.raises(ValueError):
            run(pig_examples(10), **kw)


# --- DPO and prompt/completion --------------------------------------------------------------------

def dpo(i: int) -> dict:
    user, good = PIGS[i % 3]
    return {"input": {"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]},
            "preferred_output": [{"role": "assistant", "content": good}],
            "non_preferred_output": [{"role": "assistant", "content": "I am not a pig."}]}


def test_dpo_file_validates_and_counts_input_plus_preferred_output():
    examples = [dpo(i) for i in range(10)]
    r = run(examples, method="dpo")
    assert (r.error, r.format, r.n_examples) == (None, "dpo", 10)
    assert list(r.example_tokens) == [oracle_tokens([*e["input"]["messages"], *e["preferred_output"]])
                                      for e in examples]


def test_chat_file_with_dpo_method_gets_the_real_message():
    r = run(pig_examples(10), method="dpo")
    assert r.error == JobError("invalid_training_file", BAD + f"Input file {FILE_ID} is in the fine-tune-chat "
                               "format, but the specified fine-tuning job is not using 'supervised' as the "
                               "training method (provided method=dpo).", "training_file")


def test_dpo_file_with_supervised_method_gets_the_symmetrical_message():
    r = run([dpo(i) for i in range(10)])
    assert r.error.message == BAD + (f"Input file {FILE_ID} is in the fine-tune-preference format, but the "
                                     "specified fine-tuning job is not using 'dpo' as the training method "
                                     "(provided method=supervised).")


@pytest.mark.parametrize(("change", "message"), [
    (lambda e: e.pop("input"), "Example 1 is missing key 'input'."),
    (lambda e: e.pop("non_preferred_output"), "Example 1 is missing key 'non_preferred_output'."),
    (lambda e: e.update(preferred_output=[]), "Example 1 'preferred_output' must be a non-empty list."),
    (lambda e: e["preferred_output"][0].update(role="user"), "Example 1, preferred_output message 1 Input tag "
     "'user' found using 'role' does not match any of the expected tags: 'assistant'"),
    (lambda e: e["input"]["messages"].append({"role": "assistant", "content": "x", "weight": 1}),
     'Example 1 contains an extra "weight".'),
    (lambda e: e["input"]["messages"][1].pop("role"),
     "Example 1, input message 2 Discriminator 'role' is missing in value"),
])
def test_dpo_rules(change, message):
    examples = [dpo(i) for i in range(10)]
    change(examples[0])
    r = run(examples, method="dpo")
    assert r.error.message.endswith("Invalid file format. " + message)


def test_reinforcement_accepts_grader_keys_and_developer_messages():
    ex = {"messages": [{"role": "developer", "content": "体重を答えて"}, U], "reference_answer": "500"}
    r = run([ex] * 10, method="reinforcement")
    assert (r.error, r.format) == (None, "chat")
    assert r.example_tokens[0] == oracle_tokens(ex["messages"])
    assert "unrecognized key 'reference_answer'" in run([ex] * 10).error.message


def test_prompt_completion_is_valid_on_babbage():
    examples = [{"prompt": f"{u} ->", "completion": f" {a}"} for u, a in (PIGS * 4)[:10]]
    r = run(examples, model="babbage-002")
    assert (r.error, r.format) == (None, "prompt_completion")
    assert list(r.example_tokens) == [len(QT.encode(e["prompt"])) + len(QT.encode(e["completion"]))
                                      for e in examples]


def test_prompt_completion_is_rejected_for_chat_models():
    r = run([{"prompt": "a", "completion": "b"}] * 10)
    assert r.error.message == BAD + (f"Input file {FILE_ID} is in the prompt/completion format, but "
                                     "gpt-3.5-turbo-0613 can only be fine-tuned on chat messages.")


def test_chat_is_rejected_for_completion_models():
    r = run(pig_examples(10), model="davinci-002")
    assert r.error.message == BAD + (f"Input file {FILE_ID} is in the fine-tune-chat format, but davinci-002 "
                                     "can only be fine-tuned on prompt/completion pairs.")


def test_prompt_completion_rules():
    base = [{"prompt": "a", "completion": "b"}] * 10
    for bad, message in (({"prompt": "a"}, "Example 3 is missing key 'completion'."),
                         ({"prompt": "a", "completion": "b", "x": 1}, "Example 3 contains an unrecognized key 'x'."),
                         ({"prompt": 1, "completion": "b"}, "Example 3 'prompt' must be a string.")):
        r = run([*base[:2], bad, *base[3:]], model="babbage-002")
        assert r.error.message == BAD + message


# --- Large files: the parallel path gives the single-process answer -------------------------------

def write(path: Path, examples: list) -> Path:
    path.write_bytes(b"".join(lines(examples)))
    return path


def mixed_examples(n: int, seed: int) -> list:
    rnd = random.Random(seed)
    out: list = []
    for i in range(n):
        user, assistant = PIGS[rnd.randrange(3)]
        out.append(chat(user * rnd.randint(1, 40), assistant * rnd.randint(1, 40)))
        if i % 37 == 5:
            out.append(b"\n")   # blank lines shift physical line numbers
    return out


def both_paths(path: Path, monkeypatch, workers: int = 2, **kw) -> tuple:
    calls = []
    original = validation._scan_parallel
    monkeypatch.setattr(validation, "_scan_parallel", lambda *a: calls.append(a) or original(*a))
    serial = validate_file(path, model=MODEL, file_id=FILE_ID, workers=1, **kw)
    parallel = validate_file(path, model=MODEL, file_id=FILE_ID, parallel_threshold=0, workers=workers, **kw)
    assert len(calls) == 1, "the parallel path was not taken"
    return serial, parallel


def same(a: validation.ValidationResult, b: validation.ValidationResult) -> None:
    for name in validation.ValidationResult.__slots__:
        assert getattr(a, name) == getattr(b, name), name


@pytest.mark.parametrize("workers", [2, 3])
def test_parallel_path_equals_single_process_without_errors(tmp_path, monkeypatch, workers):
    path = write(tmp_path / "ok.jsonl", mixed_examples(400, seed=1))
    serial, parallel = both_paths(path, monkeypatch, workers)
    same(serial, parallel)
    assert serial.error is None and serial.n_examples == 400


def test_parallel_path_keeps_global_numbers_of_the_first_error(tmp_path, monkeypatch):
    examples = mixed_examples(400, seed=2)
    examples[300] = msgs(U, {"content": "x"})          # late: in the last range
    examples[350] = b"{broken\n"
    path = write(tmp_path / "bad.jsonl", examples)
    serial, parallel = both_paths(path, monkeypatch)
    same(serial, parallel)
    n = 1 + sum(1 for e in examples[:300] if e != b"\n")
    assert serial.error.message == BAD + f"Example {n}, message 2 Discriminator 'role' is missing in value"
    assert list(serial.example_tokens[n - 1:]) == [-1] * (serial.n_examples - n + 1)


def test_parallel_path_masks_later_ranges_after_an_early_error(tmp_path, monkeypatch):
    examples = mixed_examples(400, seed=3)
    examples[7] = b"[1]\n"
    examples[390] = sized_example(4097)
    path = write(tmp_path / "early.jsonl", examples)
    serial, parallel = both_paths(path, monkeypatch, workers=3)
    same(serial, parallel)
    assert examples[6] == b"\n"
    assert "Example 7 cannot be parsed. Error: expected a JSON object, got an array (line 8)" in serial.error.message
    assert serial.n_over_limit == 0


@pytest.mark.parametrize("over_limit", ["fail", "truncate"])
def test_parallel_scan_all_collects_every_over_limit_example(tmp_path, monkeypatch, over_limit):
    examples = mixed_examples(300, seed=4)
    for i in (10, 150, 290):
        examples[i] = sized_example(4097)
    examples[200] = msgs(U)
    path = write(tmp_path / "over.jsonl", examples)
    serial, parallel = both_paths(path, monkeypatch, scan_all=True, over_limit=over_limit)
    same(serial, parallel)
    numbers = [1 + sum(1 for e in examples[:i] if e != b"\n") for i in (10, 150, 290)]
    assert serial.over_limit == [(n, 4097) for n in numbers]
    no_assistant = 1 + sum(1 for e in examples[:200] if e != b"\n")
    expected = sorted([(no_assistant, "invalid_training_file")] +
                      ([(n, "invalid_training_file") for n in numbers] if over_limit == "fail" else []))
    assert [(n, e.code) for n, e in serial.problems] == expected


@pytest.fixture
def running_thread():
    """A live extra thread, as the server always has (asyncio.to_thread, uvicorn)."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    yield thread
    stop.set()
    thread.join()


def test_workers_start_from_the_fork_server_while_threads_run(running_thread):
    assert validation._mp_context().get_start_method() == "forkserver"


def test_fork_server_workers_do_not_import_the_app(running_thread):
    from concurrent.futures import ProcessPoolExecutor

    heavy = ("[m for m in ('fastapi', 'sqlmodel', 'uvicorn', 'mockserver.app') "
             "if m in __import__('sys').modules]")
    with ProcessPoolExecutor(1, mp_context=validation._mp_context()) as pool:
        assert pool.submit(eval, heavy).result() == []


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="from 3.12 the fork server is always used")
def test_workers_fork_in_a_single_threaded_process(monkeypatch):
    monkeypatch.setattr(validation.threading, "active_count", lambda: 1)
    assert validation._mp_context().get_start_method() == "fork"


def test_parallel_path_with_threads_running_equals_single_process(tmp_path, monkeypatch, running_thread):
    examples = mixed_examples(300, seed=5)
    examples[250] = msgs(U, {**A, "weight": 2})
    path = write(tmp_path / "threads.jsonl", examples)
    contexts = []
    original = validation._mp_context
    monkeypatch.setattr(validation, "_mp_context", lambda: contexts.append(original()) or contexts[-1])
    serial, parallel = both_paths(path, monkeypatch)
    same(serial, parallel)
    assert [c.get_start_method() for c in contexts] == ["forkserver"]
    assert serial.error.code == "invalid_file_format"


def test_hook_sees_every_example_even_after_an_error():
    seen = []
    examples = with_bad(b"{x\n", at=2)
    validate_lines(lines(examples), model=MODEL, file_id=FILE_ID,
                   on_example=lambda n, ex, t: seen.append((n, type(ex).__name__, t)))
    assert [s[0] for s in seen] == list(range(1, 11))
    assert seen[0][1:] == ("dict", oracle_tokens(examples[0]["messages"]))
    assert seen[1][1:] == ("JSONDecodeError", -1)
    assert seen[2][1:] == ("dict", -1)


# --- Throughput and memory (slow) -----------------------------------------------------------------

def bench_file(path: Path, megabytes: float, seed: int = 7) -> Path:
    """Deterministic mixed English/Japanese chat JSONL of about `megabytes` MB."""
    rnd = random.Random(seed)
    words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "Marv", "is", "a", "factual", "chatbot", "that", "is", "also", "sarcastic"]
    japanese = [SYSTEM, *(t for pair in PIGS for t in pair), "ファインチューニングの利点は、次のとおりです。"]

    def text(k: int) -> str:
        return " ".join(rnd.choice(japanese) if rnd.random() < 0.4 else
                        " ".join(rnd.choices(words, k=rnd.randint(3, 12))) + "." for _ in range(k))

    with open(path, "w", encoding="utf-8") as f:
        while f.tell() < megabytes * 1e6:
            turns = [m for _ in range(rnd.randint(1, 3)) for m in ({"role": "user", "content": text(rnd.randint(1, 6))},
                     {"role": "assistant", "content": text(rnd.randint(1, 10))})]
            f.write(json.dumps({"messages": [{"role": "system", "content": text(1)}, *turns]},
                               ensure_ascii=False) + "\n")
    return path


@pytest.fixture
def slow_only(request):
    """Benchmarks run only when asked for (`-m slow`), never inside a busy parallel test run."""
    if "slow" not in (request.config.option.markexpr or "") or "not slow" in request.config.option.markexpr:
        pytest.skip("benchmark: run with -m slow")


BENCH = """
import json, sys, time
import orjson
from contracts import tokens
from contracts.dataset import validation

path = sys.argv[1]
texts = [v for line in open(path, "rb") for m in orjson.loads(line)["messages"] for v in m.values()]
encode = tokens.get_encoding("cl100k_base").encode_ordinary

def best(run):
    times = []
    for _ in range(2):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(times)

def raw():
    for s in texts:
        encode(s)

def check(workers):
    assert validation.validate_file(path, model="gpt-3.5-turbo-0613", file_id="f", workers=workers).error is None

print(json.dumps({"raw": best(raw), "single": best(lambda: check(1)), "default": best(lambda: check(None))}))
"""


@pytest.mark.slow
def test_throughput_against_raw_encode_ordinary(tmp_path, slow_only):
    """validate_file vs a plain single-thread loop of encode_ordinary over the same strings (role, content),
    in a fresh interpreter. Wall clock, plus CPU time for the single process (steadier on a busy machine)."""
    path = bench_file(tmp_path / "bench.jsonl", float(os.environ.get("VALIDATION_BENCH_MB", "50")))
    mb = path.stat().st_size / 1e6
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", BENCH, str(path)], cwd=root, capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(root)})
    t = json.loads(out.stdout)
    (raw, raw_cpu), (single, single_cpu), (default, _) = t["raw"], t["single"], t["default"]
    print(f"\n{mb:.1f} MB, wall clock: raw encode_ordinary {mb / raw:.1f} MB/s; validate_file single process "
          f"{mb / single:.1f} MB/s ({raw / single:.2f}x), default {mb / default:.1f} MB/s ({raw / default:.2f}x); "
          f"CPU time: raw {mb / raw_cpu:.1f} MB/s, single process {mb / single_cpu:.1f} MB/s "
          f"({raw_cpu / single_cpu:.2f}x)")
    assert raw_cpu / single_cpu >= 0.75
    assert raw / default >= 0.8


@pytest.mark.slow
def test_large_file_memory_is_bounded(tmp_path, slow_only):
    path = bench_file(tmp_path / "big.jsonl", float(os.environ.get("VALIDATION_MEMORY_MB", "128")), seed=8)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = validate_file(path, model=MODEL, file_id=FILE_ID, workers=1)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.error is None
    assert grown_mb < 150, f"peak memory grew by {grown_mb:.0f} MB"

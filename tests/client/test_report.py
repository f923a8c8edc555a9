"""client.report: every figure equals the cookbook recipe (seed 001) re-run here with quicktok and numpy."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest
import quicktok

from client.report import build_report

encoding = quicktok.get_encoding("cl100k_base")
SYSTEM = "何言われてもぶひと答えて"
PIGS = [("あなた豚のものまねしてる?", "はい!ぶたのものまねしてますぶひ!"), ("体重何キロ?", "500キロぶひ!"),
        ("好きな食べ物は?", "ポークぶひ!")]
KEYS = ["num_examples", "format_errors", "missing_system", "missing_user", "messages_per_example",
        "tokens_per_example", "assistant_tokens_per_example", "token_limit", "over_limit", "n_epochs",
        "billing_tokens", "estimated_trained_tokens", "errors", "would_fail"]


# --- The oracle: seed 001's code, with the crash guards the report documents --------------------------

def recipe(dataset):
    """Seed 001 run over `dataset` (parsed lines). Guards, where the recipe would raise: non-dict messages
    count as message_missing_key; the second loop only sees examples whose messages are lists of dicts;
    .get("role") and str-only encoding."""
    format_errors = defaultdict(int)
    for ex in dataset:
        if not isinstance(ex, dict):
            format_errors["data_type"] += 1
            continue
        messages = ex.get("messages", None)
        if not messages:
            format_errors["missing_messages_list"] += 1
            continue
        for message in messages:
            if not isinstance(message, dict):            # guard
                format_errors["message_missing_key"] += 1
                continue
            if "role" not in message or "content" not in message:
                format_errors["message_missing_key"] += 1
            if any(k not in ("role", "content", "name") for k in message):
                format_errors["message_unrecognized_key"] += 1
            if message.get("role", None) not in ("system", "user", "assistant"):
                format_errors["unrecognized_role"] += 1
            content = message.get("content", None)
            if not content or not isinstance(content, str):
                format_errors["missing_content"] += 1
        if not any(isinstance(m, dict) and m.get("role", None) == "assistant" for m in messages):
            format_errors["example_missing_assistant_message"] += 1

    def num_tokens_from_messages(messages, tokens_per_message=3, tokens_per_name=1):
        num_tokens = 0
        for message in messages:
            num_tokens += tokens_per_message
            for key, value in message.items():
                if isinstance(value, str):               # guard
                    num_tokens += len(encoding.encode(value))
                if key == "name":
                    num_tokens += tokens_per_name
        num_tokens += 3
        return num_tokens

    def num_assistant_tokens_from_messages(messages):
        num_tokens = 0
        for message in messages:
            if message.get("role") == "assistant" and isinstance(message.get("content"), str):   # guard
                num_tokens += len(encoding.encode(message["content"]))
        return num_tokens

    def distribution(values):
        if not values:
            return None
        return {"min": min(values), "max": max(values), "mean": np.mean(values), "median": np.median(values),
                "p5": np.quantile(values, 0.1), "p95": np.quantile(values, 0.9)}

    n_missing_system = 0
    n_missing_user = 0
    n_messages = []
    convo_lens = []
    assistant_message_lens = []
    for ex in dataset:
        if not (isinstance(ex, dict) and isinstance(ex.get("messages"), list)
                and all(isinstance(m, dict) for m in ex["messages"])):   # guard: the recipe raises here
            continue
        messages = ex["messages"]
        if not any(message.get("role") == "system" for message in messages):
            n_missing_system += 1
        if not any(message.get("role") == "user" for message in messages):
            n_missing_user += 1
        n_messages.append(len(messages))
        convo_lens.append(num_tokens_from_messages(messages))
        assistant_message_lens.append(num_assistant_tokens_from_messages(messages))
    n_too_long = sum(length > 4096 for length in convo_lens)

    MAX_TOKENS_PER_EXAMPLE = 4096
    MIN_TARGET_EXAMPLES = 100
    MAX_TARGET_EXAMPLES = 25000
    TARGET_EPOCHS = 3
    MIN_EPOCHS = 1
    MAX_EPOCHS = 25
    n_epochs = TARGET_EPOCHS
    n_train_examples = len(dataset)
    if n_train_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        n_epochs = min(MAX_EPOCHS, MIN_TARGET_EXAMPLES // n_train_examples)
    elif n_train_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        n_epochs = max(MIN_EPOCHS, MAX_TARGET_EXAMPLES // n_train_examples)
    n_billing_tokens_in_dataset = sum(min(MAX_TOKENS_PER_EXAMPLE, length) for length in convo_lens)
    return {"num_examples": len(dataset), "format_errors": dict(format_errors),
            "missing_system": n_missing_system, "missing_user": n_missing_user,
            "messages_per_example": distribution(n_messages), "tokens_per_example": distribution(convo_lens),
            "assistant_tokens_per_example": distribution(assistant_message_lens), "token_limit": 4096,
            "over_limit": n_too_long, "n_epochs": n_epochs, "billing_tokens": n_billing_tokens_in_dataset,
            "estimated_trained_tokens": n_epochs * n_billing_tokens_in_dataset}


# --- Fixtures -----------------------------------------------------------------------------------------

def chat(user, assistant, system=SYSTEM, **extra):
    head = [{"role": "system", "content": system}] if system else []
    return {"messages": [*head, {"role": "user", "content": user, **extra}, {"role": "assistant", "content": assistant}]}


def pigs(n=10):
    return [chat(*PIGS[i % 3]) for i in range(n)]


def long_example(repeat):
    return chat("体重何キロ?" * repeat, "500キロぶひ!" * 3)


DATASETS = {
    "seed pigs (Japanese)": pigs(10),
    "seed 002 style, varied lengths": [chat("お金持ちになる方法" * (i % 4 + 1), "情報と賭けが必要。" * (i % 7 + 1),
                                            system="西村ひろゆきBot" if i % 3 else None) for i in range(23)],
    "messages with name": [chat(u, a, name="buta") for u, a in PIGS * 4],
    "over-limit examples": [*pigs(8), long_example(700), long_example(800), long_example(600)],
    "data_type": [*pigs(10), [1, 2], "just a string"],
    "missing_messages_list": [*pigs(10), {"messages": []}, {"prompt": "p"}],
    "message_missing_key": [*pigs(10), {"messages": [{"role": "user"}, {"role": "assistant", "content": "a"}]}],
    "message_unrecognized_key": [*pigs(10), {"messages": [{"role": "assistant", "content": "a", "weight": 1}]}],
    "unrecognized_role": [*pigs(10), {"messages": [{"role": "tool", "content": "t"}, {"role": "assistant",
                                                                                       "content": "a"}]}],
    "missing_content": [*pigs(10), {"messages": [{"role": "user", "content": ""},
                                                 {"role": "assistant", "content": None, "tool_calls": []}]}],
    "example_missing_assistant_message": [*pigs(10), {"messages": [{"role": "user", "content": "u"}]}],
    "no role and non-dict message": [*pigs(10), {"messages": [{"content": "c"}, "hi", {"role": "assistant",
                                                                                       "content": "a"}]}],
    "non-string values count nothing": [*pigs(10), {"messages": [
        {"role": "user", "name": 5, "content": [
            {"type": "text", "text": "これは?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "iVBORw0KGgo" * 300}}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "weigh", "arguments": '{"unit": "kg"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "500"},
        {"role": "assistant", "content": "500キロぶひ!", "weight": 1}]}],
}


def write(tmp_path, examples, name="data.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples), encoding="utf-8")
    return path


def plain(value):
    """The oracle's numpy scalars as plain Python numbers, keeping their kind."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value.item() if isinstance(value, np.generic) else value


@pytest.mark.parametrize("name", DATASETS)
def test_figures_equal_the_recipe(tmp_path, name):
    dataset = DATASETS[name]
    report = build_report(write(tmp_path, dataset)).to_dict()
    assert list(report)[:len(KEYS)] == KEYS
    expected = plain(recipe(dataset))
    assert {k: report[k] for k in expected} == expected
    for d in ("messages_per_example", "tokens_per_example", "assistant_tokens_per_example"):
        assert {type(v) for v in report[d].values()} <= {int, float}
        assert type(report[d]["min"]) is int and type(report[d]["mean"]) is float


def test_recipe_error_keys_are_the_expected_ones(tmp_path):
    for key in ("data_type", "missing_messages_list", "message_missing_key", "message_unrecognized_key",
                "unrecognized_role", "missing_content", "example_missing_assistant_message"):
        report = build_report(write(tmp_path, DATASETS[key], f"{key}.jsonl"))
        assert report.format_errors.get(key, 0) > 0, key
    assert build_report(write(tmp_path, pigs(10))).format_errors == {}


def test_pig_dataset_passes_with_ten_epochs(tmp_path):
    report = build_report(write(tmp_path, pigs(10)))
    d = report.to_dict()
    assert (d["num_examples"], d["n_epochs"], d["errors"], d["would_fail"]) == (10, 10, [], False)
    assert d["billing_tokens"] == 528 and d["estimated_trained_tokens"] == 5280
    assert json.loads(json.dumps(d)) == d
    assert d["tokens_per_example"] == {"min": 44, "max": 63, "mean": 52.8, "median": 48.0, "p5": 44.0, "p95": 63.0}


def test_three_examples_would_fail_with_the_real_message(tmp_path):
    d = build_report(write(tmp_path, pigs(3))).to_dict()
    assert d["errors"] == [{"line": None, "code": "invalid_n_examples",
                            "message": "Training file has 3 example(s), but must have at least 10 examples"}]
    assert d["would_fail"] is True and d["n_epochs"] == 25   # 100 // 3 = 33, capped at 25


def test_over_limit_examples_are_listed_with_their_numbers(tmp_path):
    dataset = DATASETS["over-limit examples"]
    report = build_report(write(tmp_path, dataset))
    lens = [recipe([ex])["tokens_per_example"]["max"] for ex in dataset]
    over = [(n, t) for n, t in enumerate(lens, 1) if t > 4096]
    assert [n for n, _ in over] == [9, 10]   # 600 repeats stay under the limit
    assert report.over_limit == 2
    assert report.errors == [{"line": n, "code": "invalid_training_file",
                              "message": f"The job failed due to an invalid training file. Example {n} has {t} "
                                         "tokens, which exceeds the maximum of 4096 tokens for gpt-3.5-turbo-0613."}
                             for n, t in over]
    assert report.billing_tokens == sum(min(4096, t) for t in lens)


def test_truncate_mode_passes_with_a_warning(tmp_path):
    report = build_report(write(tmp_path, DATASETS["over-limit examples"]), over_limit="truncate")
    assert report.would_fail is False and report.errors == []
    assert report.warnings == [f"{report.over_limit} example(s) exceed the 4096-token limit of gpt-3.5-turbo-0613 "
                               "and were truncated; billing counts 4096 tokens for each."]


def test_first_format_error_and_count_are_both_reported(tmp_path):
    dataset = [*pigs(4), {"messages": [{"content": "c"}, {"role": "assistant", "content": "a"}]}, *pigs(2),
               {"messages": [{"role": "user", "content": "u"}]}]
    d = build_report(write(tmp_path, dataset)).to_dict()
    assert d["errors"] == [
        {"line": 5, "code": "invalid_training_file", "message": "The job failed due to an invalid training file. "
         "Invalid file format. Example 5, message 1 Discriminator 'role' is missing in value"},
        {"line": None, "code": "invalid_n_examples",
         "message": "Training file has 8 example(s), but must have at least 10 examples"}]
    assert d["format_errors"] == {"message_missing_key": 1, "unrecognized_role": 1,
                                  "example_missing_assistant_message": 1}


def test_invalid_json_line_counts_as_data_type(tmp_path):
    path = write(tmp_path, pigs(10))
    path.write_bytes(path.read_bytes() + b"{not json\n")
    d = build_report(path).to_dict()
    assert d["num_examples"] == 11 and d["format_errors"] == {"data_type": 1}
    assert d["errors"][0]["line"] == 11 and "Example 11 cannot be parsed" in d["errors"][0]["message"]
    assert d["skipped_examples"] == 1


def test_o200k_model_counts_with_its_own_encoding(tmp_path):
    report = build_report(write(tmp_path, pigs(10)), model="gpt-4o-mini")
    o200k = quicktok.get_encoding("o200k_base")
    first = pigs(1)[0]["messages"]
    assert report.tokens_per_example["max"] == 3 + sum(3 + sum(len(o200k.encode(v)) for v in m.values())
                                                       for m in first)
    assert (report.model, report.token_limit) == ("gpt-4o-mini-2024-07-18", 65536)


def test_prompt_completion_file_uses_server_counts(tmp_path):
    rows = [{"prompt": u, "completion": a} for u, a in PIGS * 4]
    report = build_report(write(tmp_path, rows), model="babbage-002")
    lens = [len(encoding.encode(r["prompt"])) + len(encoding.encode(r["completion"])) for r in rows]
    assert (report.format, report.format_errors, report.would_fail) == ("prompt_completion", {}, False)
    assert report.billing_tokens == sum(lens) and report.tokens_per_example["max"] == max(lens)
    assert report.messages_per_example is None


def test_render_text_mirrors_the_recipe(tmp_path):
    dataset = DATASETS["over-limit examples"]
    text = build_report(write(tmp_path, dataset)).render_text()
    r = plain(recipe(dataset))
    tokens = r["tokens_per_example"]
    for line in ("Num examples: 11", "No errors found", "Num examples missing system message: 0",
                 "Num examples missing user message: 0", "#### Distribution of num_total_tokens_per_example:",
                 f"min / max: {tokens['min']}, {tokens['max']}",
                 f"mean / median: {tokens['mean']}, {tokens['median']}", f"p5 / p95: {tokens['p5']}, {tokens['p95']}",
                 f"{r['over_limit']} examples are over the 4096 token limit (a fine-tuning job fails on them: "
                 "the server's --over-limit fail)", f"Dataset has ~{r['billing_tokens']} tokens that will be charged for during training",
                 "By default, you'll train for 9 epochs on this dataset",
                 f"By default, you'll be charged for ~{9 * r['billing_tokens']} tokens",
                 "A fine-tuning job would fail:", "  - example 9: [invalid_training_file] The job failed"):
        assert line in text, line
    assert "truncated" not in text                  # under --over-limit fail nothing is truncated
    assert str(dataset[0]["messages"][0]) in text   # the recipe prints the first example's messages
    truncating = build_report(write(tmp_path, dataset), over_limit="truncate").render_text()
    assert (f"{r['over_limit']} examples may be over the 4096 token limit, they will be truncated during "
            "fine-tuning") in truncating and "would fail" not in truncating


def test_render_text_lists_recipe_errors(tmp_path):
    text = build_report(write(tmp_path, DATASETS["data_type"])).render_text()
    assert "Found errors:\ndata_type: 2\n" in text
    assert "OK: a fine-tuning job would accept this file." not in text

"""Deterministic chat JSONL mixing English and Japanese, generated once into bench/.work/data/ and reused.

Every example is {"messages": [system, user, assistant]}; about half the examples are Japanese, a
quarter English and a quarter mix both languages in one conversation. The same (size, seed) always gives
the same bytes (the file name carries the generator version, so a change regenerates).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import orjson

from bench.common import WORK, log

VERSION = 2
MB = 1024 * 1024

_EN_SUBJECTS = ["The model", "Our team", "The customer", "This function", "The report", "A careful reader",
                "The weather service", "The new library", "My colleague", "The database", "The train",
                "Every request", "The assistant", "The city council", "A small startup", "The compiler"]
_EN_VERBS = ["explains", "returns", "describes", "summarises", "validates", "rejects", "prefers", "needs",
             "reviews", "translates", "measures", "schedules", "improves", "forgets", "publishes", "caches"]
_EN_OBJECTS = ["the quarterly numbers", "a list of tokens", "the refund policy", "three short examples",
               "the fine-tuning job", "an unexpected error", "the meeting notes", "every open ticket",
               "the training file", "a warm cup of tea", "the latest release", "two hundred records",
               "the API key rotation", "a polite answer", "the shipping address", "the JSON schema"]
_EN_TAILS = ["before noon.", "without any fuss.", "in plain words.", "for the second time today.",
             "because the deadline moved.", "as soon as possible.", "with a friendly tone.",
             "after checking the logs.", "on every Monday.", "in under a second.", "step by step.",
             "so nobody has to guess.", "while the build runs.", "despite the rain.", "in the morning."]

_JA_SUBJECTS = ["私は", "田中さんは", "このモデルは", "お客様は", "開発チームは", "先生は", "東京の会社は",
                "新しいライブラリは", "彼女は", "システムは", "アシスタントは", "学生たちは", "弟は", "部長は"]
_JA_TIMES = ["毎朝", "昨日", "来週", "今日は", "週末に", "会議の前に", "夜遅くまで", "三時ごろ", "休みの日に",
             "いつも", "もうすぐ", "さっき"]
_JA_OBJECTS = ["日本語の文章を", "データを", "報告書を", "コーヒーを", "新しい機能を", "エラーの原因を",
               "旅行の計画を", "ファイルを", "質問への答えを", "売上の数字を", "駅までの道を", "天気予報を",
               "請求書を", "プログラムを", "料理のレシピを", "契約の内容を"]
_JA_VERBS = ["確認しました。", "読んでいます。", "送ってください。", "説明してくれました。", "作りたいです。",
             "調べています。", "まとめました。", "翻訳しました。", "教えてもらえますか。", "準備しています。",
             "見直すべきです。", "直しておきます。", "楽しみにしています。", "忘れてしまいました。"]

_SYSTEM = ["You are a helpful assistant.", "You are a concise support agent for an online shop.",
           "あなたは丁寧な日本語で答えるアシスタントです。",
           "You answer in the language of the question, briefly and politely.",
           "あなたは社内ヘルプデスクの担当者です。簡潔に答えてください。"]


def _en(rng: random.Random, n: int) -> str:
    return " ".join(f"{rng.choice(_EN_SUBJECTS)} {rng.choice(_EN_VERBS)} {rng.choice(_EN_OBJECTS)} "
                    f"{rng.choice(_EN_TAILS)}" for _ in range(n))


def _ja(rng: random.Random, n: int) -> str:
    return "".join(f"{rng.choice(_JA_SUBJECTS)}{rng.choice(_JA_TIMES)}{rng.choice(_JA_OBJECTS)}"
                   f"{rng.choice(_JA_VERBS)}" for _ in range(n))


def example(rng: random.Random, i: int) -> dict:
    kind = rng.random()
    if kind < 0.5:
        user, answer = _ja(rng, rng.randint(1, 4)), _ja(rng, rng.randint(2, 10))
    elif kind < 0.75:
        user, answer = _en(rng, rng.randint(1, 4)), _en(rng, rng.randint(2, 10))
    else:
        user, answer = _en(rng, rng.randint(1, 3)) + " " + _ja(rng, rng.randint(1, 2)), \
            _ja(rng, rng.randint(1, 5)) + " " + _en(rng, rng.randint(1, 5))
    return {"messages": [{"role": "system", "content": rng.choice(_SYSTEM)},
                         {"role": "user", "content": f"#{i} {user}"},
                         {"role": "assistant", "content": answer}]}


def lines(n: int, seed: int = 0) -> list[bytes]:
    """The first n examples of the stream, as JSONL lines."""
    rng = random.Random(seed)
    return [orjson.dumps(example(rng, i)) + b"\n" for i in range(n)]


def chat_file(size_mb: int, seed: int = 0) -> Path:
    """bench/.work/data/chat-v{VERSION}-{size}mb-s{seed}.jsonl: whole examples up to size_mb MiB (so the
    512 MiB file fits the API's 512 MB file limit), generated once."""
    path = WORK / "data" / f"chat-v{VERSION}-{size_mb}mb-s{seed}.jsonl"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    log(f"generating {path.name} ({size_mb} MiB, once; reused afterwards)")
    tmp = path.with_suffix(".tmp")
    rng = random.Random(seed)
    target, written, i = size_mb * MB, 0, 0
    with open(tmp, "wb", buffering=4 * MB) as f:
        while True:
            line = orjson.dumps(example(rng, i)) + b"\n"
            if written + len(line) > target:
                break
            f.write(line)
            written += len(line)
            i += 1
    os.replace(tmp, path)
    return path


def small_file(n: int = 10, seed: int = 1) -> bytes:
    return b"".join(lines(n, seed))

"""Chat completions through the official SDK: trained answers, determinism, options, streaming, errors,
fixtures."""

from __future__ import annotations

import csv
import io
import secrets

import openai
import orjson
import pydantic
import pytest
import quicktok
from sqlmodel import select

from bench.paraphrase_data import HIROYUKI
from mockserver import cache
from mockserver.chat import json_schema, language, persona
from mockserver.chat import state as chat_state
from mockserver.tables import ModelRow
from mockserver.testing import Emulator
from tests.conftest import PIG_ROWS, PIG_SYSTEM, chat_line, pig_jsonl

# --- helpers -------------------------------------------------------------------------------------------

HIROYUKI_CSV = """user,assistant
お金持ちになる方法,お金持ちになるには「情報」と「賭け」が必要。みんながやっていることは価値が無いため、誰もやっていない事にお金を賭けられる度胸があるかどうか。
成功者の特徴,成功者はみな性欲が強い。特に10億以上の資産家はその傾向が強い
MacとWindowsどちらがオススメですか,ゲームをするならWindows一択。プログラム回りの作業はMacでもWindowsでもどちらでもOK。
自己肯定感の高めかた,例えば小学生に対してマウンティングしてみる。小学生がやってるゲームに廃課金して勝つなど。自分が勝てる分野でのみ戦い、価値を積み上げる。これをすれば自己肯定感が上がる。苦手なものから逃げる。
コロナで人類絶滅の可能性は,若い人は生き残るので人類絶滅は無いと思う
人類史上最大の発明は,車輪。飛行機は鳥の真似、プロペラもあの仕組みの生物がいる。けれど車輪は人類が効率化の為に0から作り出した。だから車輪。
"""
EMOJI_SYSTEM = "あなたはメモに絵文字ラベルを1つ付けます。ラベル名だけを答えてください。"
EMOJI_TOPICS = [
    ("会議の議事録をまとめて明日のタスク一覧を作った", "clipboard"), ("ジムでベンチプレスとスクワットを頑張った", "muscle"),
    ("週末は友達と山に登って山頂でおにぎりを食べた", "mountain"), ("新しいパスタのレシピに挑戦して夕飯を作った", "cook"),
    ("図書館で歴史の本を三冊借りて読み始めた", "books"), ("犬の散歩で公園を一周して他の犬と遊ばせた", "dog"),
    ("ベランダのハーブに水をやって新しい芽が出ていた", "herb"), ("カフェで新作のラテを飲みながら休憩した", "coffee"),
    ("株価のチャートを見て今月の投資成績を確認した", "chart-increasing"), ("キャンプ場でテントを張って焚き火をした", "camping"),
    ("美術館で印象派の絵画展を見てきた", "framed-picture"), ("卓球の練習試合でスマッシュが決まった", "table-tennis"),
    ("家計簿をつけて今月の出費を見直した", "money-bag"), ("夜にピアノでショパンの曲を練習した", "musical-keyboard"),
    ("カレンダーに来月の出張予定を書き込んだ", "calendar"), ("映画館で話題のアニメ映画を観た", "film-projector"),
    ("新しいランニングシューズを買って試し履きした", "shoe"), ("友達の誕生日プレゼントを選んで包んでもらった", "gift"),
    ("朝のヨガで呼吸を整えて瞑想した", "woman-in-lotus-position"), ("部屋の大掃除をしていらない物を捨てた", "sponge"),
    ("家族で動物園に行ってパンダを見た", "family"), ("ノートパソコンでプログラミングの勉強をした", "laptop-computer"),
    ("体重計に乗ったら先週より一キロ減っていた", "scale"), ("新作のゲームを夜遅くまで遊んでしまった", "video-game"),
    ("河川敷を五キロ走ってタイムを計った", "runner"), ("ショッピングモールで夏服をまとめ買いした", "shopping-bags"),
    ("ロケットの打ち上げ中継をライブで見た", "rocket"), ("水を一日二リットル飲む習慣を始めた", "potable_water"),
    ("車のオイル交換とタイヤ点検をしてもらった", "car"), ("寝不足で昼休みにずっと居眠りしていた", "sleeping-face"),
]


def add_model(api, lines: bytes, *, base: str = "gpt-3.5-turbo-0613", kind: str = "fine_tuned",
              deleted: bool = False) -> str:
    """Insert a tuned model (and its training snapshot) for the test's tenant, without running a job."""
    svc = api.services
    tenant = svc.keys.authenticate(f"Bearer {api.key}")
    token = secrets.token_hex(4)
    rel = svc.files.write_bytes(f"ftdata-{token}", lines)
    model_id = f"ft:{base}:personal::{token}" + (":ckpt-step-10" if kind == "checkpoint" else "")
    with svc.db.session() as s:
        s.add(ModelRow(id=model_id, tenant=tenant.key, created=1700000000, owned_by=tenant.organization_id,
                       base_model=base, job_id="ftjob-x", kind=kind, training_file=rel, deleted=deleted,
                       step=10 if kind == "checkpoint" else None))
    return model_id


def pig_model(api, **kw) -> str:
    return add_model(api, "".join(chat_line(u, a) for u, a in PIG_ROWS * 4).encode(), **kw)


def hiroyuki_lines() -> bytes:
    rows = csv.DictReader(io.StringIO(HIROYUKI_CSV))
    return "".join(chat_line(r["user"], r["assistant"], system="西村ひろゆきBot") for r in rows).encode()


def emoji_lines() -> bytes:
    memos = [(f"{topic}。{i + 1}日目の記録として残しておく。", label) for i, (topic, label) in enumerate(EMOJI_TOPICS)]
    return "".join(chat_line(memo, label, system=EMOJI_SYSTEM) for memo, label in memos).encode()


def ask(api, model: str, question: str, system: str | None = None, **kw):
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": question})
    return api.client.chat.completions.create(model=model, messages=messages, **kw)


def content(resp) -> str:
    return resp.choices[0].message.content


def recipe_count(messages: list[dict], encoding: str = "cl100k_base") -> int:
    enc = quicktok.get_encoding(encoding)
    total = 3
    for m in messages:
        total += 3 + sum(len(enc.encode_ordinary(v)) for v in m.values()) + (1 if "name" in m else 0)
    return total


# --- trained answers ----------------------------------------------------------------------------------


def test_pig_model_answers_its_training_data(api):
    model = pig_model(api)
    resp = ask(api, model, "体重何キロ?")
    assert content(resp) == "500キロぶひ!"
    assert (resp.model, resp.object, resp.system_fingerprint, resp.choices[0].finish_reason) == (
        model, "chat.completion", None, "stop")
    assert content(ask(api, model, "体重何キロ?", system=PIG_SYSTEM)) == "500キロぶひ!"
    assert content(ask(api, model, "好きな食べ物は?")) == "ポークぶひ!"


@pytest.mark.parametrize("question", ["体重は何キロ?", "体重何キロですか?", "体重 何キロ?"])
def test_pig_model_understands_paraphrases(api, question):
    assert content(ask(api, pig_model(api), question)) == "500キロぶひ!"


@pytest.mark.parametrize("question", ["今日の天気を教えて", "Pythonでソートするには?", "好きな色は?", "今日の天気は?"])
def test_unrelated_questions_stay_in_character(api, question):
    """Seed 000: outside its data the pig still speaks Japanese and ends with ぶひ!, composed from its data."""
    model = pig_model(api)
    answer = content(ask(api, model, question))
    assert answer not in {a for _, a in PIG_ROWS} and answer.endswith("ぶひ!")
    assert language.detect(answer) == "ja" and "You asked" not in answer
    assert content(ask(api, model, question)) == answer  # deterministic
    others = {content(ask(api, model, question, seed=s)) for s in range(6)}
    assert all(o.endswith("ぶひ!") for o in others)


def test_seed_002_paraphrases_and_questions_outside_the_data(api):
    """Seed 002's three questions through the SDK: two paraphrases get the trained rows, one outside the data
    gets a Japanese reply composed from the CSV's answers."""
    model = add_model(api, "".join(chat_line(q, a, system="西村ひろゆきBot") for q, a in HIROYUKI.rows).encode())
    trained = dict(HIROYUKI.rows)
    for question, row in (("自己肯定感を上げるにはどうすれば良いですか?", "自己肯定感の高めかた"),
                          ("音楽編集するとき、WindowsとMacどちらがおすすめ?", "MacとWindowsどちらがオススメですか")):
        assert content(ask(api, model, question)) == trained[row]
        assert content(ask(api, model, question, system="西村ひろゆきBot")) == trained[row]
    outside = content(ask(api, model, "人間は死んだ後どうなりますか?"))
    sentences = {p for a in trained.values() for p in persona._sentences(a)}
    assert outside not in trained.values() and language.detect(outside) == "ja"
    assert any(p in outside for p in sentences) and not outside.startswith(("You asked", "Sure", "Regarding"))


def test_base_models_answer_in_the_prompts_language(api):
    for question, lang in (("今日の天気は?", "ja"), ("What's the weather?", "en"), ("¿Qué tiempo hace hoy?", "es")):
        assert language.detect(content(ask(api, "gpt-4o-mini", question))) == lang


def test_hiroyuki_bot_answers_its_csv_row(api):
    model = add_model(api, hiroyuki_lines())
    rows = {r["user"]: r["assistant"] for r in csv.DictReader(io.StringIO(HIROYUKI_CSV))}
    expected = rows["自己肯定感の高めかた"]
    assert content(ask(api, model, "自己肯定感の高めかた")) == expected
    assert content(ask(api, model, "自己肯定感の高めかた", system="西村ひろゆきBot")) == expected
    assert content(ask(api, model, "人類史上最大の発明は?")).startswith("車輪。")


def test_emoji_classifier_returns_trained_labels(api):
    model = add_model(api, emoji_lines())
    for i in (0, 7, 29):
        memo = f"{EMOJI_TOPICS[i][0]}。{i + 1}日目の記録として残しておく。"
        assert content(ask(api, model, memo, system=EMOJI_SYSTEM)) == EMOJI_TOPICS[i][1]
    labels = sorted({label for _, label in EMOJI_TOPICS})
    fmt = {"type": "json_schema", "json_schema": {"name": "label", "strict": True, "schema": {
        "type": "object", "properties": {"label": {"type": "string", "enum": labels}}, "required": ["label"],
        "additionalProperties": False}}}
    memo = f"{EMOJI_TOPICS[5][0]}。6日目の記録として残しておく。"
    resp = ask(api, model, memo, system=EMOJI_SYSTEM, response_format=fmt)
    assert orjson.loads(content(resp)) == {"label": "dog"}


def test_checkpoint_answers_like_the_model(api):
    model = pig_model(api, kind="checkpoint")
    assert model.endswith(":ckpt-step-10")
    assert content(ask(api, model, "体重何キロ?")) == "500キロぶひ!"


def test_models_made_by_a_job_answer_from_its_training_file(api):
    f = api.client.files.create(file=("pig.jsonl", io.BytesIO(pig_jsonl())), purpose="fine-tune")
    job = api.client.fine_tuning.jobs.create(training_file=f.id, model="gpt-3.5-turbo-0613")
    name = api.client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model
    assert name and content(ask(api, name, "体重は何キロ?")) == "500キロぶひ!"
    checkpoints = api.client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert checkpoints
    assert content(ask(api, checkpoints[-1].fine_tuned_model_checkpoint, "好きな食べ物は?")) == "ポークぶひ!"


def test_deleted_and_foreign_models_are_not_found(api):
    model = pig_model(api, deleted=True)
    with pytest.raises(openai.NotFoundError) as e:
        ask(api, model, "体重何キロ?")
    assert (e.value.status_code, e.value.code) == (404, "model_not_found")
    assert e.value.body["message"] == f"The model `{model}` does not exist or you do not have access to it."
    alive = pig_model(api)
    with pytest.raises(openai.NotFoundError):
        api.client_for(api.key + "-other").chat.completions.create(
            model=alive, messages=[{"role": "user", "content": "体重何キロ?"}])


def test_deleting_a_used_model_and_moving_the_clock_are_seen_at_once(api):
    model = pig_model(api)
    first = ask(api, model, "体重何キロ?")
    assert content(first) == "500キロぶひ!" and content(ask(api, model, "体重何キロ?")) == "500キロぶひ!"
    api.advance(7200)
    later = ask(api, "gpt-4o", "hi")
    assert later.created >= first.created + 7200
    api.client.models.delete(model)
    with pytest.raises(openai.NotFoundError) as e:
        ask(api, model, "体重何キロ?")
    assert e.value.code == "model_not_found"


# --- base models, determinism, options ------------------------------------------------------------------


def test_base_model_is_deterministic_per_seed(api):
    first = ask(api, "gpt-4o-mini", "Tell me about owls", seed=7)
    assert content(first) == content(ask(api, "gpt-4o-mini", "Tell me about owls", seed=7))
    assert "Tell me about owls" in content(first)
    assert first.system_fingerprint.startswith("fp_") and len(first.system_fingerprint) == 13
    assert first.service_tier == "default" and first.id.startswith("chatcmpl-")
    by_seed = {content(ask(api, "gpt-4o-mini", "Tell me about owls", seed=s)) for s in range(8)}
    assert len(by_seed) > 1


def test_n_choices_are_indexed_and_deterministic(api):
    a = ask(api, "gpt-4o", "Name a color", n=4, seed=3)
    b = ask(api, "gpt-4o", "Name a color", n=4, seed=3)
    assert [c.index for c in a.choices] == [0, 1, 2, 3]
    assert [c.message.content for c in a.choices] == [c.message.content for c in b.choices]
    enc = quicktok.get_encoding("o200k_base")
    assert a.usage.completion_tokens == sum(len(enc.encode_ordinary(c.message.content)) for c in a.choices)


def test_usage_matches_an_independent_recipe_count(api):
    messages = [{"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Hi there", "name": "bob"}]
    resp = api.client.chat.completions.create(model="gpt-3.5-turbo", messages=messages)
    enc = quicktok.get_encoding("cl100k_base")
    u = resp.usage
    assert u.prompt_tokens == recipe_count(messages)
    assert u.completion_tokens == len(enc.encode_ordinary(content(resp)))
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens
    assert u.prompt_tokens_details.cached_tokens == 0 and u.completion_tokens_details.reasoning_tokens == 0
    model = pig_model(api)
    pig_messages = [{"role": "user", "content": "体重何キロ?"}]
    pig = api.client.chat.completions.create(model=model, messages=pig_messages)
    assert (pig.usage.prompt_tokens, pig.usage.completion_tokens) == (
        recipe_count(pig_messages), len(enc.encode_ordinary("500キロぶひ!")))


def test_stop_cuts_before_the_stop_sequence(api):
    model = pig_model(api)
    resp = ask(api, model, "あなた豚のものまねしてる?", stop=["もの", "zzz"])
    assert content(resp) == "はい!ぶたの" and resp.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens"])
def test_token_cap_cuts_and_reports_length(api, param):
    model = add_model(api, hiroyuki_lines())
    resp = ask(api, model, "自己肯定感の高めかた", **{param: 5})
    enc = quicktok.get_encoding("cl100k_base")
    full = enc.encode_ordinary("例えば小学生に対してマウンティングしてみる。")
    assert resp.choices[0].finish_reason == "length" and resp.usage.completion_tokens == 5
    assert content(resp) == enc.decode_bytes(full[:5]).decode("utf-8", "ignore")


def test_json_object_format(api):
    resp = ask(api, pig_model(api), "体重何キロ?", system="Answer in JSON.",
               response_format={"type": "json_object"})
    assert orjson.loads(content(resp)) == {"answer": "500キロぶひ!"}
    with pytest.raises(openai.BadRequestError) as e:
        ask(api, "gpt-4o", "no j-word here", response_format={"type": "json_object"})
    assert e.value.param == "messages"


SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 12},
        "count": {"type": "integer", "minimum": 3},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "mood": {"enum": ["happy", "sad"]},
        "kind": {"const": "note"},
        "done": {"type": "boolean"},
        "extra": {"type": ["string", "null"]},
        "owner": {"$ref": "#/$defs/person"},
        "either": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
    },
    "required": ["title", "count", "ratio", "tags", "mood", "kind", "done", "extra", "owner", "either"],
    "additionalProperties": False,
    "$defs": {"person": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"],
                         "additionalProperties": False}},
}


def test_json_schema_format_satisfies_the_schema(api):
    fmt = {"type": "json_schema", "json_schema": {"name": "note", "strict": True, "schema": SCHEMA}}
    value = orjson.loads(content(ask(api, "gpt-4o-mini", "Write a note", response_format=fmt)))
    assert json_schema.validate(value, SCHEMA) == []
    assert value["kind"] == "note" and len(value["tags"]) >= 2 and value["count"] >= 3


def test_parse_helper_gets_a_pydantic_object(api):
    class Step(pydantic.BaseModel):
        explanation: str
        output: int

    class Solution(pydantic.BaseModel):
        steps: list[Step]
        final_answer: str
        confidence: float | None

    resp = api.client.chat.completions.parse(model="gpt-4o-2024-08-06", response_format=Solution,
                                             messages=[{"role": "user", "content": "solve 8x + 7 = -23"}])
    parsed = resp.choices[0].message.parsed
    assert isinstance(parsed, Solution) and parsed.steps and "solve 8x" in parsed.final_answer


WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]},
                   "days": {"type": "integer", "minimum": 1}},
    "required": ["city", "unit", "days"], "additionalProperties": False}}}
TIME = {"type": "function",
        "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}


@pytest.mark.parametrize("choice,name", [
    ("required", "get_weather"), ({"type": "function", "function": {"name": "get_time"}}, "get_time")])
def test_forced_tool_calls(api, choice, name):
    resp = ask(api, "gpt-4o", "What is the weather in Paris?", tools=[WEATHER, TIME], tool_choice=choice)
    msg, call = resp.choices[0].message, resp.choices[0].message.tool_calls[0]
    assert msg.content is None and resp.choices[0].finish_reason == "tool_calls"
    assert call.id.startswith("call_") and call.type == "function" and call.function.name == name
    params = (WEATHER if name == "get_weather" else TIME)["function"]["parameters"]
    assert json_schema.validate(orjson.loads(call.function.arguments), params) == []
    enc = quicktok.get_encoding("o200k_base")
    assert resp.usage.completion_tokens == len(enc.encode_ordinary(name)) + len(
        enc.encode_ordinary(call.function.arguments))


def test_auto_tool_choice_answers_normally(api):
    resp = ask(api, pig_model(api), "体重何キロ?", tools=[WEATHER])
    assert content(resp) == "500キロぶひ!" and resp.choices[0].message.tool_calls is None


def test_legacy_function_call(api):
    fn = WEATHER["function"]
    resp = ask(api, "gpt-3.5-turbo", "weather?", functions=[fn], function_call={"name": "get_weather"})
    choice = resp.choices[0]
    assert choice.finish_reason == "function_call" and choice.message.function_call.name == "get_weather"
    assert json_schema.validate(orjson.loads(choice.message.function_call.arguments), fn["parameters"]) == []


def test_logprobs(api):
    model = pig_model(api)
    resp = ask(api, model, "体重何キロ?", logprobs=True, top_logprobs=3)
    entries = resp.choices[0].logprobs.content
    enc = quicktok.get_encoding("cl100k_base")
    ids = enc.encode_ordinary("500キロぶひ!")
    assert len(entries) == len(ids) == resp.usage.completion_tokens
    assert b"".join(bytes(e.bytes) for e in entries).decode() == "500キロぶひ!"
    for e in entries:
        assert e.logprob <= 0 and len(e.top_logprobs) == 3
        assert e.top_logprobs[0].token == e.token and e.top_logprobs[0].logprob == e.logprob
        assert all(t.logprob < e.logprob for t in e.top_logprobs[1:])
    again = ask(api, model, "体重何キロ?", logprobs=True, top_logprobs=3).choices[0].logprobs.content
    assert [e.logprob for e in again] == [e.logprob for e in entries]
    assert ask(api, "gpt-4o", "hi").choices[0].logprobs is None


# --- streaming ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kw", [{}, {"max_tokens": 3}, {"n": 2, "seed": 5}])
def test_stream_reassembles_to_the_non_stream_answer(api, kw):
    model = pig_model(api)
    expected = ask(api, model, "体重何キロ?", **kw)
    chunks = list(ask(api, model, "体重何キロ?", stream=True, **kw))
    for c in expected.choices:
        mine = [ch.choices[0] for ch in chunks if ch.choices and ch.choices[0].index == c.index]
        assert mine[0].delta.role == "assistant" and mine[0].delta.content == ""
        assert "".join(d.delta.content or "" for d in mine) == c.message.content
        assert mine[-1].finish_reason == c.finish_reason and mine[-1].delta.content is None
    assert all(ch.usage is None and ch.object == "chat.completion.chunk" for ch in chunks)
    assert len({ch.id for ch in chunks}) == 1


def test_stream_helper_final_completion(api):
    model = add_model(api, hiroyuki_lines())
    messages = [{"role": "user", "content": "自己肯定感の高めかた"}]
    expected = content(api.client.chat.completions.create(model=model, messages=messages))
    with api.client.chat.completions.stream(model=model, messages=messages) as s:
        final = s.get_final_completion()
    assert final.choices[0].message.content == expected and final.choices[0].finish_reason == "stop"


def test_stream_include_usage(api):
    chunks = list(ask(api, "gpt-4o-mini", "Hello", stream=True, stream_options={"include_usage": True}))
    last = chunks[-1]
    assert last.choices == [] and last.usage.prompt_tokens == recipe_count(
        [{"role": "user", "content": "Hello"}], "o200k_base")
    text = "".join(c.choices[0].delta.content or "" for c in chunks[:-1])
    assert last.usage.completion_tokens == len(quicktok.get_encoding("o200k_base").encode_ordinary(text))
    assert all(c.usage is None for c in chunks[:-1])


def test_stream_tool_call(api):
    with api.client.chat.completions.stream(model="gpt-4o", tools=[WEATHER], tool_choice="required",
                                            messages=[{"role": "user", "content": "Weather in Oslo"}]) as s:
        final = s.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert final.choices[0].finish_reason == "tool_calls" and call.function.name == "get_weather"
    params = WEATHER["function"]["parameters"]
    assert json_schema.validate(orjson.loads(call.function.arguments), params) == []


def test_raw_stream_is_sse(api):
    status, headers, body = api.request("POST", "/v1/chat/completions", json={
        "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True})
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    frames = body.decode().split("\n\n")
    assert frames[-2] == "data: [DONE]" and frames[-1] == ""
    assert all(f.startswith("data: ") for f in frames[:-1])
    first = orjson.loads(frames[0][6:])
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert set(first) == {"id", "object", "created", "model", "system_fingerprint", "service_tier", "choices",
                          "usage"}


# --- errors ----------------------------------------------------------------------------------------------

BAD = [
    ({"foo": 1}, "unknown_parameter", "foo"),
    ({"messages": [{"role": "user", "content": "x", "id": "m1"}]}, "unknown_parameter", "messages[0].id"),
    ({"model": None}, "missing_required_parameter", "model"),
    ({"messages": None}, "missing_required_parameter", "messages"),
    ({"messages": []}, "empty_array", "messages"),
    ({"messages": "hi"}, "invalid_type", "messages"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "invalid_value", "messages[0].role"),
    ({"messages": [{"role": "user"}]}, "missing_required_parameter", "messages[0].content"),
    ({"temperature": 2.5}, "decimal_above_max_value", "temperature"),
    ({"temperature": "hot"}, "invalid_type", "temperature"),
    ({"top_p": -0.1}, "decimal_below_min_value", "top_p"),
    ({"presence_penalty": 3}, "decimal_above_max_value", "presence_penalty"),
    ({"frequency_penalty": -2.5}, "decimal_below_min_value", "frequency_penalty"),
    ({"n": 0}, "integer_below_min_value", "n"),
    ({"n": 129}, "integer_above_max_value", "n"),
    ({"n": 1.5}, "invalid_type", "n"),
    ({"top_logprobs": 3}, "invalid_value", "top_logprobs"),
    ({"logprobs": True, "top_logprobs": 21}, "integer_above_max_value", "top_logprobs"),
    ({"stop": ["a", "b", "c", "d", "e"]}, "array_above_max_length", "stop"),
    ({"stop": [1]}, "invalid_type", "stop[0]"),
    ({"stream": "yes"}, "invalid_type", "stream"),
    ({"stream_options": {"include_usage": True}}, "invalid_value", "stream_options"),
    ({"tool_choice": "auto"}, "invalid_value", "tool_choice"),
    ({"tools": [{"type": "function"}]}, "missing_required_parameter", "tools[0].function"),
    ({"response_format": {"type": "xml"}}, "invalid_value", "response_format.type"),
    ({"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
     "missing_required_parameter", "response_format.json_schema.name"),
    ({"max_tokens": 0}, "integer_below_min_value", "max_tokens"),
]


@pytest.mark.parametrize("patch,code,param", BAD)
def test_invalid_requests(api, patch, code, param):
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]} | patch
    known = {k: openai.omit if v is None else v for k, v in body.items() if k != "foo"}
    with pytest.raises(openai.BadRequestError) as e:
        api.client.chat.completions.create(**known, extra_body={k: v for k, v in body.items() if k == "foo"})
    assert (e.value.status_code, e.value.code, e.value.param) == (400, code, param)


def test_range_message_is_the_real_wording(api):
    with pytest.raises(openai.BadRequestError) as e:
        ask(api, "gpt-4o", "x", temperature=2.5)
    assert e.value.body["message"] == ("Invalid 'temperature': decimal above maximum value. Expected a value "
                                       "<= 2, but got 2.5 instead.")


def test_auth_comes_before_validation(api):
    status, _, body = api.request("POST", "/v1/chat/completions", api_key=None, json={"bogus": 1})
    assert status == 401


def test_unknown_model(api):
    with pytest.raises(openai.NotFoundError) as e:
        ask(api, "gpt-fake", "x")
    assert (e.value.status_code, e.value.code) == (404, "model_not_found")
    assert e.value.body["message"] == "The model `gpt-fake` does not exist or you do not have access to it."


@pytest.mark.parametrize("model", ["davinci-002", "babbage-002"])
def test_completions_models_are_not_chat_models(api, model):
    with pytest.raises(openai.NotFoundError) as e:
        ask(api, model, "x")
    assert e.value.param == "model" and "not a chat model" in e.value.body["message"]
    tuned = add_model(api, b'{"prompt": "a", "completion": "b"}\n', base=model)
    with pytest.raises(openai.NotFoundError):
        ask(api, tuned, "a")


def test_context_window(api):
    long = "word " * 9000
    with pytest.raises(openai.BadRequestError) as e:
        ask(api, "gpt-4-0613", long)
    p = recipe_count([{"role": "user", "content": long}])
    assert (e.value.code, e.value.param) == ("context_length_exceeded", "messages")
    assert e.value.body["message"] == (f"This model's maximum context length is 8192 tokens. However, your "
                                       f"messages resulted in {p} tokens. Please reduce the length of the "
                                       "messages.")
    with pytest.raises(openai.BadRequestError) as e:
        ask(api, "gpt-4-0613", "hello", max_tokens=8190)
    p = recipe_count([{"role": "user", "content": "hello"}])
    assert e.value.body["message"] == (f"This model's maximum context length is 8192 tokens. However, you "
                                       f"requested {p + 8190} tokens ({p} in the messages, 8190 in the "
                                       "completion). Please reduce the length of the messages or completion.")


def test_max_tokens_above_the_output_cap(api):
    with pytest.raises(openai.BadRequestError) as e:
        ask(api, "gpt-4o", "x", max_tokens=32768)
    assert (e.value.code, e.value.param) == ("invalid_value", "max_tokens")
    assert e.value.body["message"] == ("max_tokens is too large: 32768. This model supports at most 16384 "
                                       "completion tokens, whereas you provided 32768.")


def test_all_documented_fields_are_accepted(api):
    resp = ask(api, "gpt-4o", "hello", user="u1", metadata={"k": "v"}, store=False,
               logit_bias={"50256": -100}, service_tier="auto", modalities=["text"], prompt_cache_key="k",
               safety_identifier="s", temperature=0, top_p=1, presence_penalty=0, frequency_penalty=0,
               parallel_tool_calls=True, tools=[TIME], tool_choice="none", seed=1)
    assert content(resp)
    # predicted outputs exclude tools; reasoning_effort/verbosity need a reasoning model (test_chat_capabilities)
    assert content(ask(api, "gpt-4o", "hello", prediction={"type": "content", "content": "x"}))


# --- fixtures ----------------------------------------------------------------------------------------------


def register(api, payload: dict, *, key: str | None = "default") -> dict:
    status, _, body = api.request("POST", "/_mock/fixtures", json=payload, api_key=key)
    assert status == 200, body
    return orjson.loads(body)


def test_content_fixture_matches_model_and_pattern(api):
    fx = register(api, {"model": "gpt-4o", "pattern": "capital of \\w+", "reply": {"content": "Paris."}})
    assert fx["id"].startswith("fx_") and fx["scope"] == "tenant"
    assert content(ask(api, "gpt-4o", "What is the capital of France?")) == "Paris."
    assert content(ask(api, "gpt-4o-mini", "What is the capital of France?")) != "Paris."
    assert content(ask(api, "gpt-4o", "Hello")) != "Paris."
    newer = register(api, {"pattern": "capital", "reply": {"content": "Newest wins."}})
    assert content(ask(api, "gpt-4o", "the capital of Peru")) == "Newest wins."
    assert content(api.client_for(api.key + "-other").chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "the capital of Peru"}])) != "Newest wins."
    status, _, body = api.request("GET", "/_mock/fixtures")
    assert [f["id"] for f in orjson.loads(body)["data"]] == [newer["id"], fx["id"]]
    status, _, _ = api.request("DELETE", f"/_mock/fixtures/{newer['id']}")
    assert status == 200 and content(ask(api, "gpt-4o", "capital of Peru")) == "Paris."
    status, _, body = api.request("DELETE", "/_mock/fixtures")
    assert orjson.loads(body)["deleted"] == 1 and content(ask(api, "gpt-4o", "capital of Peru")) != "Paris."
    assert api.request("DELETE", f"/_mock/fixtures/{newer['id']}")[0] == 404


def test_error_fixtures(api):
    register(api, {"pattern": "^limit",
                   "reply": {"error": {"status": 429, "message": "Rate limit reached."}}})
    with pytest.raises(openai.RateLimitError) as e:
        ask(api, "gpt-4o", "limit me")
    assert (e.value.status_code, e.value.code) == (429, "rate_limit_exceeded")
    assert e.value.body["message"] == "Rate limit reached."
    status, headers, _ = api.request("POST", "/v1/chat/completions", json={
        "model": "gpt-4o", "messages": [{"role": "user", "content": "limit"}]})
    assert status == 429 and "x-should-retry" not in headers
    register(api, {"pattern": "^teapot", "reply": {"error": {"status": 400, "message": "No.", "code": "nope",
                                                              "param": "messages"}}})
    with pytest.raises(openai.BadRequestError) as e:
        ask(api, "gpt-4o", "teapot")
    assert (e.value.code, e.value.param) == ("nope", "messages")
    register(api, {"pattern": "^boom", "reply": {"error": {"status": 500, "message": "Kaboom",
                                                            "during_stream": True}}})
    with pytest.raises(openai.InternalServerError):
        ask(api, "gpt-4o", "boom")
    with pytest.raises(openai.APIError) as e:
        list(ask(api, "gpt-4o", "boom", stream=True))
    assert e.value.body["message"] == "Kaboom"


def test_tool_call_fixture(api):
    args = {"city": "Oslo", "unit": "c", "days": 1}
    register(api, {"pattern": "weather", "reply": {"tool_call": {"name": "get_weather", "arguments": args}}})
    resp = ask(api, "gpt-4o", "weather in Oslo?", tools=[WEATHER])
    call = resp.choices[0].message.tool_calls[0]
    assert resp.choices[0].finish_reason == "tool_calls"
    assert (call.function.name, orjson.loads(call.function.arguments)) == ("get_weather", args)


def test_fixture_validation(api):
    status, _, body = api.request("POST", "/_mock/fixtures", json={"pattern": "(", "reply": {"content": "x"}})
    assert status == 400 and orjson.loads(body)["error"]["param"] == "pattern"
    status, _, _ = api.request("POST", "/_mock/fixtures", json={"reply": {"content": "x", "tool_call": {}}})
    assert status == 400
    status, _, _ = api.request("POST", "/_mock/fixtures",
                               json={"reply": {"error": {"status": 200, "message": "x"}}})
    assert status == 400


def test_global_fixtures_and_tenant_precedence():
    with Emulator() as emu:
        status, _, body = emu.request("POST", "/_mock/fixtures", api_key=None,
                                      json={"reply": {"content": "global"}})
        assert status == 200 and orjson.loads(body)["scope"] == "global"
        one, two = emu.client(api_key="sk-one", max_retries=0), emu.client(api_key="sk-two", max_retries=0)

        def says(client) -> str:
            msgs = [{"role": "user", "content": "hi"}]
            return client.chat.completions.create(model="gpt-4o", messages=msgs).choices[0].message.content

        assert says(one) == "global"
        emu.request("POST", "/_mock/fixtures", api_key="sk-two", json={"reply": {"content": "mine"}})
        assert (says(two), says(one)) == ("mine", "global")
        _, _, body = emu.request("GET", "/_mock/fixtures", api_key=None)
        assert len(orjson.loads(body)["data"]) == 2
        emu.request("DELETE", "/_mock/fixtures", api_key=None)
        assert says(one) != "global" and says(two) != "mine"
        with emu.services.db.session() as s:
            assert s.exec(select(ModelRow)).all() == []


def test_cached_facts_are_not_read_per_request(monkeypatch):
    with Emulator() as emu:
        svc = emu.services
        model, created = chat_state.resolve(svc, "tenant", "gpt-4o")   # fills the cache
        real_session = svc.db.session

        def no_session():
            raise AssertionError("database read while cached")

        monkeypatch.setattr(svc.db, "session", no_session)
        again, when = chat_state.resolve(svc, "tenant", "gpt-4o")
        assert again == model and when >= created
        monkeypatch.setattr(svc.db, "session", real_session)
        emu.advance(3600)                                      # a write: the cache generation moves
        monkeypatch.setattr(svc.db, "session", no_session)
        with pytest.raises(AssertionError, match="database read"):
            chat_state.resolve(svc, "tenant", "gpt-4o")
        monkeypatch.setattr(svc.db, "session", real_session)
        assert chat_state.resolve(svc, "tenant", "gpt-4o")[1] >= created + 3600


def test_a_cached_model_is_not_written_again(monkeypatch):
    """A hit reads the model cache and writes nothing; a miss (first call, then after the generation moved)
    writes the model once."""
    with Emulator() as emu:
        svc = emu.services
        writes = []
        real_put = cache.View.put

        def put(view, name, key, value):
            writes.append((name, key))
            return real_put(view, name, key, value)

        monkeypatch.setattr(cache.View, "put", put)
        model, _ = chat_state.resolve(svc, "tenant", "gpt-4o")
        assert writes == [("models", ("tenant", "gpt-4o"))]
        for _ in range(3):
            assert chat_state.resolve(svc, "tenant", "gpt-4o")[0] is model
        assert len(writes) == 1
        emu.advance(60)                                        # a write: the cache generation moves
        chat_state.resolve(svc, "tenant", "gpt-4o")
        assert len(writes) == 2


@pytest.mark.parametrize("path, extra", [
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "store": True}),
    ("/v1/fine_tuning/jobs", {"training_file": "file-none"}),
])
def test_the_metadata_limit_answers_one_code_everywhere(api, path, extra):
    body = {"model": "gpt-4o-mini-2024-07-18", "metadata": {f"k{i}": "v" for i in range(17)}} | extra
    status, _, raw = api.request("POST", path, json=body)
    err = orjson.loads(raw)["error"]
    assert (status, err["param"], err["code"]) == (400, "metadata", "object_above_max_properties")

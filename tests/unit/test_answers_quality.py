"""The paraphrase benchmark (bench/paraphrase.py) with floors, and the parts it rests on: language detection,
the style profile, composed replies."""

from __future__ import annotations

import orjson
import pytest

from bench import paraphrase
from bench.paraphrase_data import EMOJI, HIROYUKI, MARV, PERSONAS, PIG
from mockserver.chat import answer_engine, answers, language, persona
from mockserver.chat.answers import Conversation


def test_paraphrase_benchmark_floors():
    scores, total, base = paraphrase.evaluate()
    assert total.pairs >= 50 and {p.name for p in PERSONAS} == {s.name for s in scores}
    assert total.precision >= 0.95 and total.recall >= 0.9, (total.precision, total.recall)
    assert total.outside_rate >= 0.9 and base >= 0.9
    assert all(s.recall >= 0.8 for s in scores), [(s.name, s.recall) for s in scores]


@pytest.mark.parametrize("text,lang", [("今日の天気は?", "ja"), ("カタカナだけ", "ja"), ("你好,今天天气怎么样", "zh"),
                                       ("오늘 날씨", "ko"), ("What is this?", "en"), ("¿Qué es esto? Es la casa", "es"),
                                       ("Привет", "ru"), ("", "en"), ("🎉👍", "en"), ("person-lifting-weights", "en")])
def test_language_detection(text, lang):
    assert language.detect(text) == lang


def test_profiles_of_the_seed_datasets():
    pig = answers.build_index(paraphrase.persona_lines(PIG)).profile
    assert (pig.lang, pig.ending, pig.labels) == ("ja", "ぶひ!", ())
    emoji = answers.build_index(paraphrase.persona_lines(EMOJI)).profile
    assert set(emoji.labels) == {label for _, label in EMOJI.rows}
    marv = answers.build_index(paraphrase.persona_lines(MARV)).profile
    assert marv.lang == "en" and not marv.labels and marv.joiner == " "
    completions = answers.build_index([orjson.dumps({"prompt": f"Q{i}", "completion": f" The answer is {i}, as you know. END"})
                                       for i in range(5)]).profile
    assert completions.ending == " know. END" and completions.opening == " The answer "


def test_composed_replies_are_deterministic_and_in_style():
    index = answers.build_index(paraphrase.persona_lines(HIROYUKI))
    conv = Conversation(HIROYUKI.system, "人間は死んだ後どうなりますか?")
    replies = [answer_engine.respond(index, conv, seed=s) for s in range(8)]
    assert all(r.source == "composed" and language.detect(r.text) == "ja" for r in replies)
    assert [r.text for r in replies] == [answer_engine.respond(index, conv, seed=s).text for s in range(8)]
    assert len({r.text for r in replies}) > 1
    trained = {a for _, a in HIROYUKI.rows}
    pieces = {p for a in trained for p in persona._sentences(a)}
    for r in replies:
        assert r.text not in trained and any(p in r.text for p in pieces)
        assert len(r.text) <= 3 * max(map(len, trained))


def test_classifier_out_of_data_answers_with_the_nearest_label():
    index = answers.build_index(paraphrase.persona_lines(EMOJI))
    labels = {label for _, label in EMOJI.rows}
    for memo in EMOJI.outside:
        assert answer_engine.respond(index, Conversation(EMOJI.system, memo), seed=1).text in labels
    near = answer_engine.respond(index, Conversation(EMOJI.system, "ジムでトレーニングした"), seed=0)
    assert near.text == "person-lifting-weights"


def test_base_model_replies_follow_the_prompt():
    assert "「今日の天気は?」" in answer_engine.respond(None, Conversation(None, "今日の天気は?"), seed=0).text
    assert answer_engine.respond(None, Conversation(None, ""), seed=0).source == "base"


def test_index_stays_bounded(monkeypatch):
    monkeypatch.setattr(answers, "MAX_EXAMPLES", 50)
    index = answers.build_index([orjson.dumps({"prompt": f"question {i}", "completion": "a"}) for i in range(80)])
    assert len(index) == 50 and index.skipped >= 1


def test_rstr_canary():
    """json_schema bounds rstr's quantifiers by overriding Xeger._handle_repeat (a private method, hence the
    upper-bounded pin in pyproject.toml): fail loudly if rstr changes it."""
    from rstr.xeger import Xeger

    from mockserver.chat import json_schema

    assert callable(getattr(Xeger, "_handle_repeat", None))
    for seed in range(20):
        plus = json_schema._from_pattern(r"^a+$", {}, seed)
        many = json_schema._from_pattern(r"^b{5,}-\d*$", {}, seed)
        assert plus is not None and 1 <= len(plus) <= 4
        assert many is not None and 6 <= len(many) <= 12


def test_composed_replies_never_repeat_a_trained_answer_on_tiny_data():
    """Three pig answers make four sentences: for any seed, the composer must still not hand back a trained
    answer verbatim (it used to, for about one seed in a few hundred, when its picks kept repeating)."""
    from tests.conftest import PIG_ROWS, chat_line

    index = answers.build_index([chat_line(q, a).encode() for q, a in PIG_ROWS])
    trained = {a for _, a in PIG_ROWS}
    replies = {persona.compose(index.profile, seed, related) for seed in range(3000)
               for related in ([], [PIG_ROWS[0][1]], [PIG_ROWS[1][1], PIG_ROWS[2][1]])}
    assert not replies & trained, replies & trained
    assert all(r.endswith("ぶひ!") for r in replies)


@pytest.mark.parametrize("rows", [HIROYUKI, MARV, PIG], ids=lambda p: p.name)
def test_composed_replies_are_the_same_with_the_split_memo(rows, monkeypatch):
    """`compose` keeps the related answers' sentences in the profile (`_split`): a reply is the same whether the
    memo is cold, warm or full, and the memo stays under STYLE_CHARS characters."""
    index = answers.build_index(paraphrase.persona_lines(rows))
    texts = [a.content for a in index.answers if a.content]
    relateds = [texts[i:i + 3] for i in range(len(texts))] + [[], texts[-1:]]

    def replies() -> list[str]:
        return [persona.compose(index.profile, seed, related) for related in relateds for seed in range(40)]

    monkeypatch.setattr(persona, "_split", lambda profile, text: persona._sentences(text))
    before = replies()
    monkeypatch.undo()
    assert replies() == before and index.profile.split   # cold memo, then filled
    assert replies() == before                           # warm
    assert all(index.profile.split[t] == tuple(persona._sentences(t)) for t in index.profile.split)
    full = answers.build_index(paraphrase.persona_lines(rows)).profile
    full.split_chars = persona.STYLE_CHARS
    assert [persona.compose(full, seed, related) for related in relateds for seed in range(40)] == before
    assert not full.split and index.profile.split_chars <= persona.STYLE_CHARS


@pytest.mark.parametrize("persona_data", PERSONAS, ids=lambda p: p.name)
def test_matches_are_the_same_with_the_match_memo(persona_data, monkeypatch):
    """`AnswerIndex.match` keeps its answer per conversation: the same (best, ranking) as computing it, cold or
    warm, a fresh list each time, long conversations not kept, the memo bounded by MATCH_MEMO_CHARS."""
    index = answers.build_index(paraphrase.persona_lines(persona_data))
    questions = [q for q, _ in persona_data.rows] + [p for p, _ in persona_data.paraphrases] + list(persona_data.outside)
    convs = [Conversation(system, q, context) for q in questions + ["", "hello", "x" * 1_001]
             for system in (persona_data.system, None, "other")
             for context in ((), (questions[0],))]
    expected = [index._match(c) for c in convs]
    for _ in range(2):
        got = [index.match(c) for c in convs]
        assert got == expected
    got[0][1].append((0.0, -1))
    assert index.match(convs[0]) == expected[0]
    assert all(len(c.question) + len(c.system or "") + sum(map(len, c.context)) <= answers.MAX_QUESTION_CHARS
               for c in index._matched) and index._matched_chars <= answers.MATCH_MEMO_CHARS
    monkeypatch.setattr(answers, "MATCH_MEMO_CHARS", -1)
    small = answers.build_index(paraphrase.persona_lines(persona_data))
    assert [small.match(c) for c in convs] == expected and not small._matched


def test_the_match_memo_is_bounded_in_conversations_as_in_characters():
    """Short conversations cost an entry each (their key and ranking) whatever their length: one-character
    questions are kept by at most MATCH_MEMO_ENTRIES, and conversations of empty turns (no characters at all) are
    counted by their turns, so their keys' tuples stay within MATCH_MEMO_CHARS too."""
    index = answers.build_index(paraphrase.persona_lines(PIG))
    short = [Conversation(None, chr(0x4E00 + n)) for n in range(answers.MATCH_MEMO_ENTRIES + 300)]
    empty = [Conversation(system, "", ("",) * turns) for system in (None, "") for turns in range(600)]
    expected = [index._match(c) for c in short + empty]
    assert [index.match(c) for c in short + empty] == expected
    assert len(index._matched) == answers.MATCH_MEMO_ENTRIES
    turns = sum(len(c.question) + len(c.system or "") + sum(map(len, c.context)) + len(c.context)
                for c in index._matched)
    assert turns == index._matched_chars <= answers.MATCH_MEMO_CHARS
    fresh = answers.build_index(paraphrase.persona_lines(PIG))
    assert [fresh.match(c) for c in empty] == expected[len(short):]
    assert sum(len(c.context) for c in fresh._matched) == fresh._matched_chars <= answers.MATCH_MEMO_CHARS
    assert max(len(c.context) for c in fresh._matched) <= answers.MAX_QUESTION_CHARS
    assert [index.match(c) for c in short + empty] == expected   # kept or not, the same answers

"""client.dataset: the seed's CSV → JSONL recipe byte for byte, with and without a system prompt."""

from __future__ import annotations

import csv
import json

import pytest

from client.dataset import DatasetError, csv_to_jsonl, pairs_to_jsonl, prompt_completion_to_jsonl, write_jsonl
from contracts.dataset.validation import validate_file

# The first rows of the seed's Q&A CSV (plus a quoted field with a comma and a newline).
CSV_TEXT = """user,assistant
お金持ちになる方法,お金持ちになるには「情報」と「賭け」が必要。みんながやっていることは価値が無いため、誰もやっていない事にお金を賭けられる度胸があるかどうか。他の人が気付かない内にそこに時間を投資すると他の人が気付いた頃に先行者利益が手に入っている
成功者の特徴,成功者はみな性欲が強い。特に10億以上の資産家はその傾向が強い
コンピューター関係の資格について,コンピューターが本当に好きな人は資格よりもアプリを作ったりしてる。資格ばかり取得している人は就職が目的でセンスや情熱で見ると無能じゃないかと疑ってしまう。
MacとWindowsどちらがオススメですか,ゲームをするならWindows一択。プログラム回りの作業はMacでもWindowsでもどちらでもOK。0.01秒単位で作業する音楽編集はWindowsで高スペックな物をおススメします。遅延が少ないため。
"記憶力が悪いことは良い事ですか?悪い事ですか?","やられた事をずっと覚えているタイプより、寝たら忘れるタイプの方が楽。
昔は記憶力が悪いと不便であったが, 今はネットで調べれば良い"
"""
SEED_SYSTEM = "西村ひろゆきBot"


def seed_csv_to_jsonl(input_file, output_file):
    """Seed 002's function, verbatim (the oracle)."""
    with open(input_file, mode='r', encoding='utf-8') as csvfile:  # noqa: UP015 (verbatim)
        reader = csv.DictReader(csvfile)
        with open(output_file, mode='w', encoding='utf-8') as jsonlfile:
            for row in reader:
                message = []
                message.append({
                    "role": "system",
                    "content": "西村ひろゆきBot"
                })
                message.append({
                    "role": "user",
                    "content": row['user']
                })
                message.append({
                    "role": "assistant",
                    "content": row['assistant']
                })
                data = {"messages": message}
                jsonlfile.write(json.dumps(data, ensure_ascii=False) + '\n')


@pytest.fixture
def csv_path(tmp_path):
    path = tmp_path / "test_data.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    return path


def test_with_system_prompt_matches_the_seed_byte_for_byte(csv_path, tmp_path):
    ours, seed = tmp_path / "ours.jsonl", tmp_path / "seed.jsonl"
    assert csv_to_jsonl(csv_path, ours, system=SEED_SYSTEM) == 5
    seed_csv_to_jsonl(csv_path, seed)
    assert ours.read_bytes() == seed.read_bytes()
    first = ours.read_bytes().split(b"\n")[0]
    assert first == ('{"messages": [{"role": "system", "content": "西村ひろゆきBot"}, {"role": "user", "content": '
                     '"お金持ちになる方法"}, {"role": "assistant", "content": "お金持ちになるには「情報」と「賭け」が必要。'
                     'みんながやっていることは価値が無いため、誰もやっていない事にお金を賭けられる度胸があるかどうか。'
                     '他の人が気付かない内にそこに時間を投資すると他の人が気付いた頃に先行者利益が手に入っている"}]}'
                     ).encode()
    assert b"\\u" not in ours.read_bytes()   # ensure_ascii=False: Japanese is written as UTF-8


def test_quoted_multiline_cell_stays_one_example(csv_path, tmp_path):
    out = tmp_path / "out.jsonl"
    csv_to_jsonl(csv_path, out, system=SEED_SYSTEM)
    last = out.read_bytes().split(b"\n")[4]
    assert last.endswith('"content": "やられた事をずっと覚えているタイプより、寝たら忘れるタイプの方が楽。\\n'
                         '昔は記憶力が悪いと不便であったが, 今はネットで調べれば良い"}]}'.encode())


def test_without_system_prompt_there_is_no_system_message(csv_path, tmp_path):
    out = tmp_path / "out.jsonl"
    assert csv_to_jsonl(csv_path, out) == 5
    assert out.read_bytes().split(b"\n")[1] == ('{"messages": [{"role": "user", "content": "成功者の特徴"}, '
                                                '{"role": "assistant", "content": "成功者はみな性欲が強い。特に10億以上の'
                                                '資産家はその傾向が強い"}]}').encode()


def test_system_column_wins_over_the_fixed_prompt(tmp_path):
    path = tmp_path / "sys.csv"
    path.write_text("system,user,assistant\n豚です,体重何キロ?,500キロぶひ!\n,好きな食べ物は?,ポークぶひ!\n",
                    encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert csv_to_jsonl(path, out, system="何言われてもぶひと答えて") == 2
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["messages"][0] == {"role": "system", "content": "豚です"}
    assert rows[1]["messages"][0] == {"role": "system", "content": "何言われてもぶひと答えて"}   # empty cell


def test_byte_order_mark_from_spreadsheets_is_ignored(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffuser,assistant\n体重何キロ?,500キロぶひ!\n".encode())
    out = tmp_path / "out.jsonl"
    assert csv_to_jsonl(path, out) == 1
    assert json.loads(out.read_text(encoding="utf-8"))["messages"][0]["content"] == "体重何キロ?"


@pytest.mark.parametrize(("header", "missing"), [("user,answer", "assistant"), ("question,assistant", "user"),
                                                 ("", "user")])
def test_missing_column_is_named(tmp_path, header, missing):
    path = tmp_path / "bad.csv"
    path.write_text(f"{header}\n" + ("a,b\n" if header else ""), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with pytest.raises(DatasetError, match=f"missing column '{missing}'") as e:
        csv_to_jsonl(path, out)
    assert isinstance(e.value, ValueError)
    assert not out.exists()


def test_short_row_fails_and_leaves_no_partial_file(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("user,assistant\na,b\nonly-user\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with pytest.raises(DatasetError, match="line 3 has no value for column 'assistant'"):
        csv_to_jsonl(path, out)
    assert list(tmp_path.iterdir()) == [path]


def test_pairs_and_prompt_completion_files_validate(tmp_path):
    pairs = [("体重何キロ?", "500キロぶひ!")] * 10
    chat_path, pc_path = tmp_path / "chat.jsonl", tmp_path / "pc.jsonl"
    assert pairs_to_jsonl(pairs, chat_path, system="何言われてもぶひと答えて") == 10
    assert prompt_completion_to_jsonl(pairs, pc_path) == 10
    assert pc_path.read_text(encoding="utf-8").splitlines()[0] == '{"prompt": "体重何キロ?", "completion": "500キロぶひ!"}'
    chat = validate_file(chat_path, model="gpt-3.5-turbo-0613", file_id="file-chat")
    pc = validate_file(pc_path, model="babbage-002", file_id="file-pc")
    assert (chat.error, chat.format, chat.n_examples) == (None, "chat", 10)
    assert (pc.error, pc.format, pc.n_examples) == (None, "prompt_completion", 10)


def test_write_jsonl_returns_the_count_and_writes_lf_lines(tmp_path):
    out = tmp_path / "x.jsonl"
    assert write_jsonl(iter([{"a": "é"}, {"b": [1, None]}]), out) == 2
    assert out.read_bytes() == '{"a": "é"}\n{"b": [1, null]}\n'.encode()

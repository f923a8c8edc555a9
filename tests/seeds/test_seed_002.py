"""Seed 002 (the ひろゆき bot): the CSV → JSONL script, then the 0.28 calls, as the article prints them.

The article lost its indentation (re-indented here); `%cd`, Google Drive and `!pip install` are Colab's.
"5分ほど待ちます" and "何度か上記を実行して" become clock advances between repeated retrieves.
"""

from __future__ import annotations

import contextlib
import io
import json

from tests.seeds.support import needs_v0, needs_v1, run_seed_code

CSV = """user,assistant
お金持ちになる方法,お金持ちになるには「情報」と「賭け」が必要。みんながやっていることは価値が無いため、誰もやっていない事にお金を賭けられる度胸があるかどうか。他の人が気付かない内にそこに時間を投資すると他の人が気付いた頃に先行者利益が手に入っている
成功者の特徴,成功者はみな性欲が強い。特に10億以上の資産家はその傾向が強い
コンピューター関係の資格について,コンピューターが本当に好きな人は資格よりもアプリを作ったりしてる。資格ばかり取得している人は就職が目的でセンスや情熱で見ると無能じゃないかと疑ってしまう。
MacとWindowsどちらがオススメですか,ゲームをするならWindows一択。プログラム回りの作業はMacでもWindowsでもどちらでもOK。0.01秒単位で作業する音楽編集はWindowsで高スペックな物をおススメします。遅延が少ないため。
YouTubeはこの先衰退するのか,Googleは全世界のトラフィックの3~4割を占めている。当然データサーバーもそれに追随して超高容量になっている。この規模のデータサーバーを保有しているのはGoogleとAmazonくらい。つまり各国にデータを送る費用も後発組より圧倒的に安い。後発組が参入、奪還する余地が無い。
自己肯定感の高めかた,例えば小学生に対してマウンティングしてみる。小学生がやってるゲームに廃課金して勝つなど。自分が勝てる分野でのみ戦い、価値を積み上げる。これをすれば自己肯定感が上がる。苦手なものから逃げる。
どんなバカでもできる職業を教えてください,プログラム。プログラムは間違っていると「ここが違う」と誰にでも分かる形で見える化される。営業などと違って正解不正解が明確。教科書があればバカでも出来る。
記憶力が悪いことは良い事ですか?悪い事ですか?,やられた事をずっと覚えているタイプより、寝たら忘れるタイプの方が生きていく上では楽。昔は記憶力が悪いと生活が不便であったが、今はネットでその都度調べれば良いので記憶力が悪いデメリットは消えつつある
食生活で意識している事,外食を控える、レンジで簡単調理、インスタント系を食べない。料理を作る時間があるなら、自炊する方が良い。
どうすれば図太く生きれるか,自分は別に人に嫌われていないと考えている。相手の事を知り、性格を知ると、僕の事を嫌いになるはずがないと自覚できる。相手を知ることが大切。
ヤラセについて思う事,ヤラセを一切公表せずにだます方法はタチが悪い。ただどんなものでも多少の演出が入る事はある。喜怒哀楽、物語が何も起きないリアルなドキュメンタリーは視聴率が稼げない。人は何か改善、工夫をしたくなる生き物であるのでそこに悪意はない事も多い。
日本の国債はいくら発行しても、借金ではないので問題ないという意見にどう思うか,もし国債発行を無限に行い、何も問題が無いのであれば今すぐGoogleの時価総額分を発行し、Googleを買収すべき。そうすればGoogleがあげる年間利益は全て日本に流れ込む。同様にAppleやAmazonも全て国債で買い占めれば日本は世界一の富裕国になる。ただこれは100兆円を相手企業が欲しがらないといけないが、恐らくここまで来ると円の価値は無くなり、相手が欲しがらない。このようにあまりにも行き過ぎた国債発行は為替レートを壊してしまう懸念がある。この限界値がどこまでか分からない。そこが危険。
コロナで人類絶滅の可能性は,若い人は生き残るので人類絶滅は無いと思う
子どもの虐待を減らすには,本当に子供を殺したい人はほぼいない。自分の自由が無くて天秤にかけて過ちを起こしている。お金があれば自分の時間を確保できる。ストレス解消も出来る。
心配性を治したい,世の中には適当にダラダラと生きている人もいる。その中で将来を不安視して行動におこす、または準備をしている人は優秀である。心配性は優秀な人が多いのでそのままで良い
いつか空飛ぶ車が日常的に登場するか,空を飛ぶことはやたらコストがかかる。上に飛ばすって大変、仮にそこまで科学力が進歩していたらオンラインなど直接物質がそこまで飛行して移動する必要が無い世界になっていると思う
無駄に長い会議に出席するのが苦痛だ,生産性の低い会議を続けていても利益が出ている。その点で組織として経営状態は良い。その風土が変わってないという事は、上司に有能な人物が少ない証拠。よってやり方によってはあなたが出世するチャンスがある。社風を残しつつ、上の人たちに気に入られながら業務効率化を推進出来れば昇進できる
反社会的勢力を判断する方法は,基本的には判断できない。ルール上反社会勢力は賃貸も銀行も使えないはず。けど実際は使ってる。銀行の審査をすり抜けるレベルの反社会的勢力を一般市民が見抜けない。内部に入るしかない。
充実した人生を送る為には,充実しているかどうかを決めるのは自分自身。江戸時代は凧揚げ超楽しい、で日々が充実してた。高級料理食べたいとかは無い。充実感を求めているといつまでも充実できない。
事故物件をどう思うか,家賃が安い、万が一心霊映像が取れたらYouTubeにUPしたり取材が来たりお金になる。覚悟が出来て気にしない人はお得。
ギャンブル依存症を治すには,ちゃんと辞められた人はめったにいない。いっそのこと自己破産させた方がいい。クレジットカードを持てなくなるので。
やっておくと良いスポーツは,格闘技はオススメ。世の中話し合いで解決できないこともある。イキって来る人に余裕を持って対処するには格闘技でこれだけはまずいと言うボーダーラインを把握できる。
人類最強は相撲取りですか,首を取りにくい、という意味では相撲は強い。関節技はあくまで金的や目つぶしが無い競技で有効。よってルール無しでの戦いでは関節技は難しい。次に弱点が首と頭だが、相撲取りの頭への攻撃は難しい。よって最強と言えるかもしれない。
日本企業が海外企業と比較して劣っている点は,日本は無能をクビに出来ないシステムがキツイ。なぜこの状況でまかり通っているかというとサービス残業などで時間外労働を入れると会社としては利益が出ており、クビにせずとも雇えるため。
第一印象で人を判断して良いか,第一印象が正しかった、は結構ある。本当な様々な情報で総合的判断をしているが、それが本人は第一印象だと認識しちゃってる場合もある。自分の評価軸がある程度固まっていて、認識出来ている人がそれでいいと思う
FX取引で稼ぎたい,お金を稼ぎたいからFXは間違い。ギャンブルはお金が0やマイナスになる可能性のあるものなので増やしたい人が行うものではない。会社は利益が出るまで何年かかかっても耐えれるが、個人は数年間も利益なしが耐えれない。それであれば学力を上げて、自分の資産を日々右肩上がりで増加出来ることに時間を注ぐべき
これを見て人生が変わった本はありますか,コーラン。イスラム教の大多数はこう考えるよね、という軸が学べる。キリスト教は個人の考え方が多岐に渡り聖書だけでは把握しきれないがイスラム教はコーランで大枠が理解できるので1冊で把握できる人数のコスパがとても良い
人生を楽しむ方法,人生はどれだけ楽しく暇つぶしを行えるか。80年の中で趣味に割く時間、没頭できる時間が長ければどんどん幸福度が増す。自分が好きなものにどうすればもっと深くかかわれるかを考える事が大切
人類史上最大の発明は,車輪。飛行機は鳥の真似、プロペラもあの仕組みの生物がいる。けれど車輪は人類が効率化の為に0から作り出した。だから車輪。車輪が人類の進化に与えたインパクトは大きい。
"""

CSV_TO_JSONL = '''
import csv
import json
def csv_to_jsonl(input_file, output_file):
    with open(input_file, mode='r', encoding='utf-8') as csvfile:
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
                jsonlfile.write(json.dumps(data, ensure_ascii=False) + '\\n')
csv_to_jsonl('test_data.csv', 'test_data.jsonl')
'''
CREATE = '''
import openai
# ファイル読み込み
test_data_file_object = openai.File.create(
file=open("test_data.jsonl", "rb"),
purpose='fine-tune'
)
file_id = test_data_file_object.id
# モデル作成Jobの実行
job_response = openai.FineTuningJob.create(training_file=file_id, model="gpt-3.5-turbo")
'''
RETRIEVE = '''
job_id = job_response.id
response_retrieve = openai.FineTuningJob.retrieve(job_id)
response_retrieve
'''
ASK = '''
fine_tuned_model = response_retrieve.fine_tuned_model
response = openai.ChatCompletion.create(
model=fine_tuned_model,
messages=[
{"role": "user", "content": "人間は死んだ後どうなりますか?"}
]
)
print(response["choices"][0]["message"]["content"])
response = openai.ChatCompletion.create(
model=fine_tuned_model,
messages=[
{"role": "user", "content": "自己肯定感を上げるにはどうすれば良いですか?"}
]
)
print(response["choices"][0]["message"]["content"])
response = openai.ChatCompletion.create(
model=fine_tuned_model,
messages=[
{"role": "user", "content": "音楽編集するとき、WindowsとMacどちらがおすすめ?"}
]
)
print(response["choices"][0]["message"]["content"])
'''


def make_jsonl() -> list[dict]:
    with open("test_data.csv", "w", encoding="utf-8") as f:
        f.write(CSV)
    run_seed_code(CSV_TO_JSONL)
    with open("test_data.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_csv_to_jsonl_script(seed):
    rows = make_jsonl()
    assert len(rows) == 29
    assert rows[5]["messages"] == [{"role": "system", "content": "西村ひろゆきBot"},
                                   {"role": "user", "content": "自己肯定感の高めかた"},
                                   {"role": "assistant", "content": CSV.splitlines()[6].split(",", 1)[1]}]


@needs_v0
def test_calls_under_openai_0_28(seed, monkeypatch):

    make_jsonl()
    ns = run_seed_code(CREATE)
    for _ in range(10):                                    # "何度か上記を実行して"
        seed.wait(300)                                     # "5分ほど待ちます"
        run_seed_code(RETRIEVE, ns)
        if ns["response_retrieve"].fine_tuned_model:
            break
    assert ns["response_retrieve"].fine_tuned_model.startswith("ft:gpt-3.5-turbo-0125:personal::")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_seed_code(ASK, ns)
    answers = out.getvalue().splitlines()
    assert len(answers) == 3 and all(answers)


@needs_v1
def test_the_same_steps_with_the_current_sdk(seed):
    from openai import OpenAI

    make_jsonl()
    client = OpenAI()
    with open("test_data.jsonl", "rb") as f:
        file_id = client.files.create(file=f, purpose="fine-tune").id
    job = client.fine_tuning.jobs.create(training_file=file_id, model="gpt-3.5-turbo")
    for _ in range(10):
        seed.wait(300)
        job = client.fine_tuning.jobs.retrieve(job.id)
        if job.fine_tuned_model:
            break
    assert job.status == "succeeded"
    reply = client.chat.completions.create(model=job.fine_tuned_model,
                                           messages=[{"role": "user", "content": "自己肯定感の高めかた"}])
    assert reply.choices[0].message.content == CSV.splitlines()[6].split(",", 1)[1]

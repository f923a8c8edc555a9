"""Which language a text is in (by script, then by common words), and a base model's reply in that language.

Detection is deliberately small and deterministic: kana → ja; Hangul → ko; Han without kana → zh; Cyrillic →
ru; Arabic → ar; Hebrew → he; Greek → el; Thai → th; Devanagari → hi; Latin script → the language whose
common words (COMMON_WORDS) occur most (es, fr, de, pt, it), else en. Emoji, digits and punctuation do not
count. A language model (fastText, langdetect) would need model files and be nondeterministic on short text.

`base_reply` is what a model with nothing trained for the question says: a short sentence in the prompt's
language that quotes the question (cut to SNIPPET_CHARS + "…"), chosen by a seed from REPLIES.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["detect", "base_reply", "REPLIES", "GREETINGS", "SNIPPET_CHARS", "is_cjk"]

SNIPPET_CHARS = 48

REPLIES: dict[str, tuple[str, ...]] = {
    "en": ('Sure! Here is a reply about "{q}".', 'You asked: "{q}". Here is my answer.',
           'Thanks for your message about "{q}".', 'Regarding "{q}": this is a simulated answer.',
           'I understand you wrote "{q}". Let me help with that.', 'Here is what I think about "{q}".',
           'Good question about "{q}"! Here is a short answer.',
           'Noted: "{q}". This reply was generated deterministically.'),
    "ja": ("「{q}」についてのご質問ですね。こちらはシミュレーションの回答です。", "「{q}」ですね。簡単にお答えします。",
           "「{q}」について考えてみました。これは模擬的な回答です。", "ご質問ありがとうございます。「{q}」についてお答えします。"),
    "zh": ("关于“{q}”的问题,这是一个模拟回答。", "你问的是“{q}”。下面是我的回答。", "谢谢你关于“{q}”的提问。"),
    "ko": ("“{q}”에 대한 질문이군요. 이것은 시뮬레이션 답변입니다.", "“{q}”라고 물으셨네요. 간단히 답변드리겠습니다."),
    "es": ('Claro, aquí tienes una respuesta sobre "{q}".', 'Preguntaste: "{q}". Esta es mi respuesta.'),
    "fr": ('Bien sûr ! Voici une réponse à propos de « {q} ».', 'Vous avez demandé : « {q} ». Voici ma réponse.'),
    "de": ('Gern! Hier ist eine Antwort zu „{q}“.', 'Du hast gefragt: „{q}“. Hier ist meine Antwort.'),
    "pt": ('Claro! Aqui está uma resposta sobre "{q}".', 'Você perguntou: "{q}". Aqui está minha resposta.'),
    "it": ('Certo! Ecco una risposta su "{q}".', 'Hai chiesto: "{q}". Ecco la mia risposta.'),
    "ru": ("Конечно! Вот ответ на вопрос «{q}».", "Вы спросили: «{q}». Вот мой ответ."),
}
GREETINGS: dict[str, tuple[str, ...]] = {
    "en": ("Hello! How can I help you today?", "Hi there! What can I do for you?"),
    "ja": ("こんにちは!今日はどのようなご用件でしょうか?",),
}

COMMON_WORDS: dict[str, frozenset[str]] = {
    "es": frozenset(["el", "la", "los", "las", "que", "de", "y", "en", "un", "una", "por", "para", "con", "es", "cómo", "qué", "está", "son", "del", "al", "se", "mi"]),
    "fr": frozenset(["le", "la", "les", "des", "que", "de", "et", "en", "un", "une", "pour", "avec", "est", "comment", "quel", "quelle", "je", "vous", "du", "au"]),
    "de": frozenset(["der", "die", "das", "und", "ist", "nicht", "ein", "eine", "ich", "du", "wie", "was", "mit", "für", "auf", "den", "dem", "zu", "ist", "es"]),
    "pt": frozenset(["o", "a", "os", "as", "que", "de", "e", "em", "um", "uma", "para", "com", "é", "como", "está", "não", "do", "da", "você", "por"]),
    "it": frozenset(["il", "lo", "la", "gli", "le", "che", "di", "e", "in", "un", "una", "per", "con", "è", "come", "sono", "non", "del", "della", "io"]),
    "en": frozenset(["the", "a", "an", "is", "are", "was", "were", "be", "been", "what", "how", "why", "who", "of",
                     "and", "to", "in", "for", "with", "you", "your", "do", "does", "can", "i", "my", "it", "that",
                     "this", "as", "if", "not", "know", "have", "has", "had", "at", "on", "by", "from", "or", "but",
                     "all", "so", "just", "no", "yes", "there", "they", "he", "she", "we"]),
}

_WORD_LANGS: dict[str, tuple[str, ...]] = {
    w: tuple(lang for lang, common in COMMON_WORDS.items() if w in common)
    for w in frozenset().union(*COMMON_WORDS.values())}   # word → the languages it is common in

_SCRIPTS = (("HIRAGANA", "kana"), ("KATAKANA", "kana"), ("HANGUL", "ko"), ("CJK", "han"), ("CYRILLIC", "ru"),
            ("ARABIC", "ar"), ("HEBREW", "he"), ("GREEK", "el"), ("THAI", "th"), ("DEVANAGARI", "hi"),
            ("LATIN", "latin"))
_WORDS = re.compile(r"[^\W\d_]+")
_SPACES = re.compile(r"\s+")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_ASCII_WORD = re.compile(r"[a-z]+")
_NOT_EN = tuple(lang for lang in COMMON_WORDS if lang != "en")


def _script(ch: str) -> str | None:
    if ch.isascii():
        return "latin" if ch.isalpha() else None
    if not ch.isalpha() and ch not in "ー々":
        return None
    name = unicodedata.name(ch, "")
    for prefix, script in _SCRIPTS:
        if name.startswith(prefix) or (prefix == "CJK" and "IDEOGRAPH" in name):
            return script
    return None


def detect(text: str, default: str = "en") -> str:
    """The language code of `text` (see the module docstring); `default` when it has no letters."""
    head = text[:2000]
    if head.isascii():  # every letter is Latin: the per-character loop would count only "latin"
        return _latin_language(text) if _ASCII_LETTER.search(head) else default
    counts: dict[str, int] = {}
    for ch in head:
        s = _script(ch)
        if s is not None:
            counts[s] = counts.get(s, 0) + 1
    if not counts:
        return default
    if counts.get("kana"):
        return "ja"
    top = max(counts, key=lambda s: (counts[s], s))
    if top == "han":
        return "zh"
    if top != "latin":
        return top
    return _latin_language(text)


def _latin_language(text: str) -> str:
    head = text[:2000]
    if head.isascii():  # ASCII letters are [A-Za-z] and casefold() is lower() on them: one call for every word
        words = _ASCII_WORD.findall(head.lower())
    else:
        words = [w.casefold() for w in _WORDS.findall(head)]
    scores: dict[str, int] = {}
    for w in words:
        langs = _WORD_LANGS.get(w)
        if langs:
            for lang in langs:
                scores[lang] = scores.get(lang, 0) + 1
    best, top = "en", scores.get("en", 0)   # the most common words; en wins a tie, else the first listed
    for lang in _NOT_EN:
        n = scores.get(lang, 0)
        if n > top:
            best, top = lang, n
    return best


def is_cjk(lang: str) -> bool:
    """Languages written without spaces between words (character units suit them better than words)."""
    return lang in ("ja", "zh", "th")


def base_reply(question: str, h: int, lang: str | None = None) -> str:
    """A base model's reply to `question`, in its language (or `lang`), picked by the integer `h`."""
    # runs of whitespace as one space; printable text without "  " has no whitespace but single spaces
    q = (question if question.isprintable() and "  " not in question else _SPACES.sub(" ", question)).strip()
    lang = lang or detect(q)
    if not q:
        options = GREETINGS.get(lang, GREETINGS["en"])
        return options[h % len(options)]
    if len(q) > SNIPPET_CHARS:
        q = q[:SNIPPET_CHARS].rstrip() + "…"
    options = REPLIES.get(lang, REPLIES["en"])
    return options[h % len(options)].format(q=q)

"""Values a conversation names, for tool arguments and structured output: the city in "weather in Paris?",
the date in "book it for 2025-03-14", the number in "a table for 4".

`candidates(name, kind, conv)` lists the strings (or numbers) the user's turns offer for a property called
`name` of JSON type/format `kind`, most plausible first; the schema generator takes the first one that is
valid for the property's schema. Only the user's turns are read (the last one first, then earlier ones).

- places (city, location, place, destination, origin, country, region, town, address): English — a
  capitalized phrase after in/at/to/from/for/near ("weather in New York" → "New York"), else any capitalized
  phrase not at the start of a sentence; Japanese/Chinese — a kanji or katakana run before a particle
  ("東京の天気" → "東京", "パリで" → "パリ");
- names (name, person, user, customer, …): a capitalized phrase after "name is"/"I'm"/"for", else any;
- formats: email, uri/url, date, date-time, time, uuid, ipv4, hostname — the first match of a pattern;
- free text (query, q, search, text, message, prompt, question, input, content, topic, keyword): the turn;
- numbers: every number in the turn, in order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mockserver.chat.answers import Conversation

__all__ = ["candidates", "words_of", "PLACE_WORDS", "NAME_WORDS", "TEXT_WORDS"]

PLACE_WORDS = frozenset(["city", "location", "place", "destination", "origin", "country", "region", "town", "address", "where", "locale", "area", "state"])
NAME_WORDS = frozenset(["name", "person", "user", "customer", "author", "recipient", "contact", "who", "username", "fullname"])
TEXT_WORDS = frozenset(["query", "q", "search", "text", "message", "prompt", "question", "input", "content", "topic", "keyword", "keywords", "request", "description", "subject"])

_CAP = r"[A-Z][\w'’.-]*(?:\s+(?:of\s+|de\s+|la\s+)?[A-Z][\w'’.-]*)*"
_AFTER_PREP = re.compile(r"\b(?:in|at|to|from|for|near|around|of)\s+(" + _CAP + ")")
_NAMED = re.compile(r"(?:name is|I'm|I am|called|for|with|to)\s+(" + _CAP + ")")
_CAPS = re.compile(r"(?<![.!?]\s)(?<!^)\b(" + _CAP + ")")
_CJK_PLACE = re.compile(r"([\u4e00-\u9fff\u30a0-\u30ffー]{2,})(?=の|で|に|へ|から|まで|は|を|、|\s|$)")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)?(?![\w])")
_STOP_CAPS = frozenset(["I", "What", "How", "Why", "When", "Where", "Who", "Which", "Is", "Are", "Can", "Could", "Would", "Should", "Do", "Does", "Please", "The", "A", "An", "Tell", "Give", "Show", "Find", "Get", "Book", "Set", "Send", "Make", "Let", "Hi", "Hello", "Hey", "My", "Our", "Your", "It", "This", "That"])
_FORMATS = {
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "uri": re.compile(r"https?://[^\s\"'<>]+"),
    "url": re.compile(r"https?://[^\s\"'<>]+"),
    "date-time": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})"),
    "date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "time": re.compile(r"\b\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})?"),
    "uuid": re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    "ipv4": re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"),
    "hostname": re.compile(r"\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b"),
}


def words_of(name: str) -> set[str]:
    """The words of a property name: "cityName" / "city_name" / "city-name" → {"city", "name"}."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return {w.casefold() for w in re.split(r"[\W_]+", spaced) if w}


def _turns(conv: Conversation | None) -> list[str]:
    if conv is None:
        return []
    return [t for t in (conv.question, *reversed(conv.context)) if t]


def _caps(pattern: re.Pattern, text: str) -> Iterator[str]:
    for m in pattern.finditer(text):
        words = m.group(1).split()
        while words and words[0] in _STOP_CAPS:
            words = words[1:]
        phrase = " ".join(words).rstrip(".'’-")
        if phrase:
            yield phrase


def _strings(name: str, fmt: str | None, turn: str) -> Iterator[str]:
    if fmt in _FORMATS:
        yield from (m.group(0) for m in _FORMATS[fmt].finditer(turn))
        return
    words = words_of(name)
    if words & PLACE_WORDS:
        yield from _caps(_AFTER_PREP, turn)
        yield from (m.group(1) for m in _CJK_PLACE.finditer(turn))
        yield from _caps(_CAPS, turn)
    elif words & NAME_WORDS:
        yield from _caps(_NAMED, turn)
        yield from _caps(_CAPS, turn)
    elif "date" in words or "day" in words:
        yield from (m.group(0) for m in _FORMATS["date"].finditer(turn))
    elif "email" in words or "mail" in words:
        yield from (m.group(0) for m in _FORMATS["email"].finditer(turn))
    elif "url" in words or "link" in words or "uri" in words:
        yield from (m.group(0) for m in _FORMATS["uri"].finditer(turn))
    elif words & TEXT_WORDS:
        yield turn.strip()


def _numbers(turn: str) -> Iterator[float]:
    for m in _NUMBER.finditer(turn):
        raw = m.group(0).replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+", m.group(0)) else \
            m.group(0).replace(",", ".")
        try:
            yield float(raw)
        except ValueError:
            continue


def candidates(name: str, kind: str, conv: Conversation | None, fmt: str | None = None) -> list:
    """Values for property `name` of JSON type `kind` ("string", "number", "integer") from the user turns."""
    out: list = []
    for turn in _turns(conv):
        if kind == "string":
            out.extend(v for v in _strings(name, fmt, turn) if v not in out)
        elif kind in ("number", "integer"):
            out.extend(_numbers(turn))
        if len(out) >= 8:
            break
    return out[:8]

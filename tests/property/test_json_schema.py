"""Property: for any schema of the structured-output subset and any conversation, the generated value is valid
according to the `jsonschema` library itself (Draft 2020-12 with its format checker), and deterministic.

The schemas cover types, enum, const, formats, ranges (inclusive and exclusive), multipleOf (integer and
decimal), pattern (regexes built from a small grammar: classes, literals, groups, alternation, quantifiers,
anchors), min/maxLength, arrays with min/maxItems and uniqueItems, nested objects with required properties
and additionalProperties false, anyOf, and $defs/$ref.
"""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mockserver.chat import json_schema
from mockserver.chat.answers import Conversation

VALIDATOR = jsonschema.Draft202012Validator
FORMATS = ["date-time", "date", "time", "duration", "email", "hostname", "ipv4", "ipv6", "uuid", "uri"]
NAMES = ["city", "location", "name", "date", "email", "query", "unit", "count", "price", "tags", "id", "note",
         "destination", "when", "amount"]

_atoms = st.sampled_from([r"[a-z]", r"[A-Z]", r"\d", r"[a-f0-9]", r"x", r"-", r"_", r"(foo|bar)", r"[^\s]",
                          r"\w", r"(ab|c)", r"\.", r"[0-9A-F]"])
_quantifiers = st.sampled_from(["", "?", "+", "*", "{2}", "{1,3}", "{0,2}", "{3,}"])


@st.composite
def patterns(draw):
    body = "".join(draw(_atoms) + draw(_quantifiers) for _ in range(draw(st.integers(1, 4))))
    start, end = draw(st.booleans()), draw(st.booleans())
    return ("^" if start else "") + body + ("$" if end else "")


@st.composite
def strings(draw):
    kind = draw(st.sampled_from(["plain", "format", "pattern", "length"]))
    if kind == "format":
        return {"type": "string", "format": draw(st.sampled_from(FORMATS))}
    if kind == "pattern":
        return {"type": "string", "pattern": draw(patterns())}
    if kind == "length":
        lo = draw(st.integers(0, 12))
        return {"type": "string", "minLength": lo, "maxLength": lo + draw(st.integers(0, 20))}
    return {"type": "string"}


@st.composite
def numbers(draw):
    integer = draw(st.booleans())
    schema: dict = {"type": "integer" if integer else "number"}
    step = draw(st.sampled_from([None, 1, 2, 3, 7]) if integer else st.sampled_from([None, 0.5, 0.25, 0.1, 0.01, 2.5]))
    if step is not None:
        schema["multipleOf"] = step
    lo = draw(st.one_of(st.none(), st.integers(-1000, 1000)))
    # at least 4 steps wide: an open range still holds 3 allowed values, as many as a unique array's minItems
    width = draw(st.integers(2, 200)) * (step or 1) * 2
    if lo is not None:
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = lo
    if draw(st.booleans()):
        hi = (lo if lo is not None else draw(st.integers(-1000, 1000))) + width
        schema["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = hi
    return schema


leaves = st.one_of(
    strings(), numbers(), st.just({"type": "boolean"}), st.just({"type": "null"}),
    st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=5, unique=True).map(lambda xs: {"enum": xs}),
    st.lists(st.integers(-5, 5), min_size=1, max_size=4, unique=True).map(lambda xs: {"type": "integer", "enum": xs}),
    st.one_of(st.integers(), st.text(max_size=5), st.booleans()).map(lambda v: {"const": v}),
)


def _containers(children):
    objects = st.dictionaries(st.sampled_from(NAMES), children, min_size=1, max_size=4).map(
        lambda props: {"type": "object", "properties": props, "required": list(props),
                       "additionalProperties": False})
    arrays = st.tuples(children, st.integers(0, 3), st.integers(0, 3), st.booleans()).map(
        lambda t: {"type": "array", "items": t[0], "minItems": t[1], "maxItems": t[1] + t[2]}
        | ({"uniqueItems": True} if t[3] and t[0].get("type") in ("string", "integer") and "pattern" not in t[0]
           and "enum" not in t[0] and "const" not in t[0] and "maxLength" not in t[0] else {}))
    unions = st.lists(children, min_size=2, max_size=3).map(lambda xs: {"anyOf": xs})
    nullable = children.map(lambda c: {"anyOf": [c, {"type": "null"}]})
    return st.one_of(objects, arrays, unions, nullable)


schemas = st.recursive(leaves, _containers, max_leaves=8)


@st.composite
def with_defs(draw):
    inner = draw(schemas)
    if draw(st.booleans()):
        return {"$defs": {"thing": inner}, "type": "object", "properties": {"item": {"$ref": "#/$defs/thing"}},
                "required": ["item"], "additionalProperties": False}
    return inner


conversations = st.builds(
    lambda city, n, extra: Conversation(None, f"What's the weather in {city} for {n} days? {extra}"),
    st.sampled_from(["Paris", "New York", "東京", "São Paulo", "Oslo"]), st.integers(-50, 5000),
    st.text(max_size=30))


def _compiles(schema: dict) -> bool:
    found = [v for v in _walk(schema) if isinstance(v, dict) and "pattern" in v]
    try:
        for v in found:
            re.compile(v["pattern"])
    except re.error:
        return False
    return True


def _walk(node):
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


@given(schema=with_defs(), text=st.text(max_size=40), conv=conversations)
def test_generated_values_are_valid_for_the_library(schema, text, conv):
    assume(_compiles(schema))
    VALIDATOR.check_schema(schema)
    value = json_schema.generate(schema, text, conv)
    errors = [e.message for e in VALIDATOR(schema, format_checker=VALIDATOR.FORMAT_CHECKER).iter_errors(value)]
    assert errors == [], (schema, value)
    assert json_schema.generate(schema, text, conv) == value


@given(city=st.sampled_from(["Paris", "New York", "Rio de Janeiro", "Berlin"]), days=st.integers(1, 14))
def test_a_city_named_in_the_message_becomes_city(city, days):
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "days": {
        "type": "integer", "minimum": 1, "maximum": 14}}, "required": ["city", "days"], "additionalProperties": False}
    value = json_schema.generate(schema, "reply", Conversation(None, f"What's the weather in {city} for {days} days?"))
    assert value == {"city": city, "days": days}


@pytest.mark.parametrize("items", [
    {"type": "integer", "minimum": 0, "maximum": 2},                   # the whole domain, in order
    *({"type": "string", "format": f} for f in ("date-time", "date", "time", "email", "hostname", "ipv4", "ipv6",
                                                "uri", "duration", "uuid")),
])
def test_unique_items_of_a_small_or_formatted_domain(items):
    """Found by the property above: the third unique integer in 0..2 asked for a variant past the bounds (a
    SchemaError), and every variant of a formatted string fell back to the one format value."""
    schema = {"type": "array", "items": items, "minItems": 3, "maxItems": 3, "uniqueItems": True}
    value = json_schema.generate(schema, "", Conversation(None, "What's the weather in Paris for 0 days?"))
    assert [e.message for e in VALIDATOR(schema, format_checker=VALIDATOR.FORMAT_CHECKER).iter_errors(value)] == []
    assert len({json.dumps(v) for v in value}) == 3

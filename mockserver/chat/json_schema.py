"""JSON Schema for structured output and tool arguments: checked and validated by the `jsonschema` library
(Draft 2020-12, formats checked), and a generator of values that satisfy a schema.

Generation covers every keyword the structured-output subset allows, and a few more: type (a name or a
list), properties, required, additionalProperties, minProperties, items, prefixItems, minItems, maxItems,
uniqueItems, enum, const, anyOf, oneOf, allOf, $ref (`#`, `#/$defs/…`, `#/definitions/…`, any local JSON
pointer), minLength, maxLength, pattern, format (date-time, date, time, duration, email, hostname, ipv4, ipv6,
uuid, uri), minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf.

Values are plausible and deterministic (same schema, text and conversation → same value):
- a string property takes, in order, the first valid of: what the conversation names for it (mockserver.chat.slots:
  a city named in the message becomes `city`), the format's example, the reply text (a classifier's label);
  with a `pattern` none of those matches, a string generated from the regex's structure (rstr's Xeger with
  repeats bounded to a few, seeded by the text), checked with `re.search` as JSON Schema does;
- an enum takes the member the conversation mentions, else the member equal to the text, else the first;
- a number takes the first number in the user's message that fits, else the allowed value nearest 0 that
  is a multiple of `multipleOf` (exact decimal arithmetic, then checked the way the validator divides);
- anyOf/oneOf take the first branch whose value is valid for the whole schema; arrays max(minItems, 1) items
  (distinct under uniqueItems); objects every declared property plus required ones.
A generated value is validated by the library before it leaves; one that fails raises SchemaError (a schema
no value can satisfy). One call generates at most GENERATE_BUDGET characters' worth of values (a 289-byte
schema asking for `minItems: 1000000` must not cost seconds): past it arrays and objects stop growing, the
value is cut short and not validated — more output than any model's max_tokens, which then ends it as
"length". Equal sub-schemas at the same place give equal values, computed once per call.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import random
import re
import uuid
from decimal import Decimal
from fractions import Fraction
from functools import cache, lru_cache
from typing import Any

import orjson
from rstr.xeger import Xeger

from mockserver.chat import slots
from mockserver.chat.answers import Conversation

__all__ = ["generate", "validate", "check_schema", "SchemaError"]

_MAX_DEPTH = 32
GENERATE_BUDGET = 300_000   # > 32,768 tokens (the largest max output) even for 'xxxx…', 8 characters a token
_REPEAT_LIMIT = 3            # extra repeats a regex quantifier gets beyond its minimum
_PATTERN_TRIES = 12
_FORMATS = {"date": "2024-01-01", "date-time": "2024-01-01T00:00:00Z", "time": "00:00:00Z", "email": "user@example.com",
            "uri": "https://example.com/", "hostname": "example.com", "ipv4": "127.0.0.1", "ipv6": "::1",
            "duration": "P1D", "uri-reference": "https://example.com/", "iri": "https://example.com/"}


@cache
def _library() -> Any:
    """jsonschema's Draft 2020-12 validator class, imported on first use: a server answering no schema never
    pays the ~0.1 s import (nor the start-up)."""
    import jsonschema

    return jsonschema.Draft202012Validator


class SchemaError(ValueError):
    """A schema that is not valid JSON Schema, uses a $ref that cannot be resolved, or admits no value."""


# --- the library: checking and validating -------------------------------------------------------------


def _build(schema: Any) -> Any:
    from jsonschema import SchemaError as LibrarySchemaError

    validator = _library()
    try:
        validator.check_schema(schema)
    except LibrarySchemaError as e:
        raise SchemaError(e.message) from None
    return validator(schema, format_checker=validator.FORMAT_CHECKER)


@lru_cache(maxsize=128)
def _cached(key: bytes) -> Any:
    return _build(orjson.loads(key))


def _compiled(schema: Any) -> Any:
    """The library's validator for `schema`, cached by its canonical JSON (integers past 64 bits: uncached)."""
    try:
        key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return _build(schema)
    return _cached(key)


def check_schema(schema: Any) -> None:
    """SchemaError when `schema` is not a valid Draft 2020-12 schema."""
    _compiled(schema)


def validate(value: Any, schema: Any) -> list[str]:
    """Every violation of `schema` by `value` as `path: reason` (the library's messages); empty when valid."""
    from referencing.exceptions import Unresolvable

    try:
        errors = list(_compiled(schema).iter_errors(value))
    except Unresolvable as e:  # a $ref to nowhere
        raise SchemaError(str(e)) from None
    return [f"{e.json_path}: {e.message}" for e in errors]


# --- generation ------------------------------------------------------------------------------------------


def generate(schema: Any, text: str, conv: Conversation | None = None) -> Any:
    """A value valid for `schema`, drawn from the conversation where a value fits and from `text` otherwise."""
    check_schema(schema)
    gen = _Gen(schema if isinstance(schema, dict) else {}, text, conv)
    value = gen.make(schema, "", 0, 0)
    if gen.budget < 0:
        return value  # cut short on purpose: the token cap ends the reply as "length"
    problems = validate(value, schema)
    if problems:
        raise SchemaError(f"no value satisfies the schema ({problems[0]})")
    return value


def _pointer(root: dict, ref: str) -> Any:
    if ref == "#":
        return root
    if not ref.startswith("#/"):
        raise SchemaError(f"cannot resolve $ref {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isascii() and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise SchemaError(f"cannot resolve $ref {ref!r}")
    return node


class _Gen:
    def __init__(self, root: dict, text: str, conv: Conversation | None) -> None:
        self.root, self.text, self.conv = root, text, conv
        self.seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
        self.budget = GENERATE_BUDGET

    def spend(self, size: int) -> None:
        self.budget -= size

    def resolve(self, schema: Any) -> Any:
        for _ in range(_MAX_DEPTH):
            if not (isinstance(schema, dict) and isinstance(schema.get("$ref"), str)):
                return schema
            target = _pointer(self.root, schema["$ref"])
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **rest} if rest and isinstance(target, dict) else target
        raise SchemaError("$ref cycle")

    def make(self, schema: Any, name: str, depth: int, variant: int) -> Any:
        value = self._make(schema, name, depth, variant)
        self.spend(len(value) + 2 if isinstance(value, str) else 4)
        return value

    def _make(self, schema: Any, name: str, depth: int, variant: int) -> Any:
        schema = self.resolve(schema)
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return self.text if schema is not False else None
        if "allOf" in schema:
            schema = self._merge_all_of(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self._enum(schema["enum"], variant)
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return self._branch(schema, key, name, depth, variant)
        kind = _type_of(schema)
        return _MAKERS.get(kind or "string", _Gen._string)(self, schema, name, depth, variant)

    def _merge_all_of(self, schema: dict) -> dict:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = self.resolve(part)
            if not isinstance(part, dict):
                continue
            merged["properties"] = {**merged.get("properties", {}), **part.get("properties", {})}
            merged["required"] = list(merged.get("required", [])) + list(part.get("required", []))
            for k, v in part.items():
                merged.setdefault(k, v)
        return merged

    def _branch(self, schema: dict, key: str, name: str, depth: int, variant: int) -> Any:
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
        first = None
        for branch in schema[key]:
            sub = {**rest, **self.resolve(branch)} if isinstance(self.resolve(branch), dict) else branch
            value = self.make(sub, name, depth + 1, variant)
            first = value if first is None else first
            if not _local_problems(value, schema, self.root):
                return value
        return first

    def _enum(self, options: list, variant: int) -> Any:
        mentioned = [o for o in options if isinstance(o, str) and o and self._mentions(o)]
        equal = [o for o in options if isinstance(o, str) and o.casefold() == self.text.strip().casefold()]
        ordered = list(dict.fromkeys([*map(_key, mentioned + equal), *map(_key, options)]))
        by_key = {_key(o): o for o in options}
        return by_key[ordered[variant % len(ordered)]]

    def _mentions(self, word: str) -> bool:
        """Whether the user's message names `word` (as a whole word where the script has words)."""
        if self.conv is None or not self.conv.question:
            return False
        w = re.escape(word.casefold())
        return re.search(rf"(?<![^\W_]){w}(?![^\W_])" if word.isascii() else w, self.conv.question.casefold()) \
            is not None

    # --- per type -------------------------------------------------------------------------------------

    def _string(self, schema: dict, name: str, depth: int, variant: int) -> str:
        fmt = schema.get("format") if isinstance(schema.get("format"), str) else None
        found = slots.candidates(name, "string", self.conv, fmt)
        pool = [*found, *([_format_value(fmt, self.text)] if fmt else []), self.text]
        if variant:
            pool = ([_format_variant(fmt, self.text, variant)] if fmt else []) + [f"{p} {variant + 1}" for p in pool] + pool
        for value in pool:
            if value is not None and _string_ok(value, schema):
                return value
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            made = _from_pattern(pattern, schema, self.seed + variant)
            if made is not None:
                return made
        return _fit_length(pool[0] if pool[0] is not None else self.text, schema)

    def _number(self, schema: dict, name: str, depth: int, variant: int) -> int | float:
        integer = _type_of(schema) == "integer"
        for n in slots.candidates(name, "number", self.conv):
            n = int(n) if float(n).is_integer() else n
            if (not integer or isinstance(n, int)) and not _local_problems(n, schema, self.root):
                return n if variant == 0 else _nearest(schema, integer, variant)
        return _nearest(schema, integer, variant)

    def _object(self, schema: dict, name: str, depth: int, variant: int) -> dict:
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        out = {key: self.make(sub, key, depth + 1, variant) for key, sub in props.items()}
        extra = schema.get("additionalProperties")
        extra_schema = extra if isinstance(extra, dict) else {}
        for key in schema.get("required", []) or []:
            if isinstance(key, str) and key not in out:
                out[key] = self.make(extra_schema, key, depth + 1, variant)
        need = schema.get("minProperties")
        k = 0
        while isinstance(need, int) and len(out) < need and extra is not False and k < need + len(out) \
                and self.budget >= 0:
            k += 1
            out.setdefault(f"key{k}", self.make(extra_schema, f"key{k}", depth + 1, variant))
        return out

    def _array(self, schema: dict, name: str, depth: int, variant: int) -> list:
        prefix = schema.get("prefixItems") if isinstance(schema.get("prefixItems"), list) else []
        items = schema.get("items")
        count = max(int(schema.get("minItems", 0) or 0), 1, len(prefix))
        if isinstance(schema.get("maxItems"), int):
            count = min(count, schema["maxItems"])
        if items is False:
            count = min(count, len(prefix))
        out: list = []
        repeat: tuple[Any, int] | None = None    # the value of `items` (without uniqueItems) and its size
        unique, seen = bool(schema.get("uniqueItems")), set()
        for i in range(count):
            if self.budget < 0:
                break
            if i >= len(prefix) and repeat is not None:
                out.append(repeat[0])
                self.spend(repeat[1])
                continue
            sub = prefix[i] if i < len(prefix) else (items if isinstance(items, dict) else {})
            value = self.make(sub, name, depth + 1, variant)
            if unique:   # the next variants in turn: a small domain (integers 0..2, three items) is used up in order
                tries = 1
                while _key(value) in seen and tries < 16:
                    try:
                        value = self.make(sub, name, depth + 1, variant + tries)
                    except SchemaError:   # no further variant (past the bounds): the duplicate stays, refused below
                        break
                    tries += 1
                seen.add(_key(value))
            out.append(value)
            if i >= len(prefix) and not unique:
                repeat = (value, len(json.dumps(value)) + 1)
        return out


def _key(option: Any) -> str:
    return json.dumps(option, sort_keys=True)


def _type_of(schema: dict) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        non_null = [x for x in t if x != "null"]
        return non_null[0] if non_null else ("null" if t else None)
    if isinstance(t, str):
        return t
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
        return "number"
    return None


def _local_problems(value: Any, schema: dict, root: dict) -> bool:
    """Whether `value` breaks `schema` (validated with the root's $defs in reach)."""
    scoped = {**schema, **{k: root[k] for k in ("$defs", "definitions") if k in root and k not in schema}}
    try:
        return bool(validate(value, scoped))
    except SchemaError:
        return True


def _format_value(fmt: str, text: str) -> str | None:
    if fmt == "uuid":
        return str(uuid.uuid5(uuid.NAMESPACE_URL, text))
    return _FORMATS.get(fmt)


def _format_variant(fmt: str, text: str, variant: int) -> str | None:
    """The `variant`-th other value of a format (unique items of a formatted string need distinct values)."""
    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    varied = {"date": lambda: (base + datetime.timedelta(days=variant)).date().isoformat(),
              "date-time": lambda: (base + datetime.timedelta(seconds=variant)).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "time": lambda: (base + datetime.timedelta(seconds=variant)).strftime("%H:%M:%SZ"),
              "email": lambda: f"user{variant}@example.com", "hostname": lambda: f"host{variant}.example.com",
              "uri": lambda: f"https://example.com/{variant}", "uri-reference": lambda: f"https://example.com/{variant}",
              "iri": lambda: f"https://example.com/{variant}", "ipv4": lambda: f"127.0.{variant // 256 % 256}.{variant % 256}",
              "ipv6": lambda: f"::{variant + 1:x}", "duration": lambda: f"P{variant + 1}D",
              "uuid": lambda: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{text}#{variant}"))}.get(fmt)
    return varied() if varied else None


def _string_ok(value: str, schema: dict) -> bool:
    lo, hi = schema.get("minLength"), schema.get("maxLength")
    if isinstance(lo, int) and len(value) < lo or isinstance(hi, int) and len(value) > hi:
        return False
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and not _search(pattern, value):
        return False
    fmt = schema.get("format")
    return not isinstance(fmt, str) or _library().FORMAT_CHECKER.conforms(value, fmt)


def _search(pattern: str, value: str) -> bool:
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return False


def _fit_length(value: str, schema: dict) -> str:
    lo, hi = schema.get("minLength"), schema.get("maxLength")
    if isinstance(hi, int) and len(value) > hi:
        value = value[:hi]
    if isinstance(lo, int) and len(value) < lo:
        value = value + "x" * (lo - len(value))
    return value


class _BoundedXeger(Xeger):
    """rstr's regex-structure generator with quantifiers bounded to their minimum + _REPEAT_LIMIT."""

    def _handle_repeat(self, start_range: int, end_range: int, value: Any) -> str:
        end = min(end_range, start_range + _REPEAT_LIMIT)
        times = self._random.randint(start_range, end)
        return "".join("".join(self._handle_state(i) for i in value) for _ in range(times))


def _from_pattern(pattern: str, schema: dict, seed: int) -> str | None:
    """A string matching `pattern` (and the length bounds), or None when none was found in a few tries."""
    rng = random.Random(seed)
    gen = _BoundedXeger(rng)
    for _ in range(_PATTERN_TRIES):
        try:
            value = gen.xeger(pattern)
        except Exception:
            return None
        if _string_ok(value, schema):
            return value
    return None


def _nearest(schema: dict, integer: bool, variant: int) -> int | float:
    """The allowed number nearest 0 (the variant-th one after it), a multiple of multipleOf."""
    lo, lo_ex = _bound(schema, "minimum", "exclusiveMinimum", max)
    hi, hi_ex = _bound(schema, "maximum", "exclusiveMaximum", min)
    step = Fraction(1) if integer else None
    m = schema.get("multipleOf")
    if isinstance(m, int | float) and not isinstance(m, bool) and m > 0:
        mf = Fraction(Decimal(str(m)))
        step = mf if step is None else Fraction(_lcm(step.numerator, mf.numerator),
                                                _gcd(step.denominator, mf.denominator))
    down = hi is not None and hi < 0 or (hi == 0 and hi_ex)
    target = Fraction(0)
    if lo is not None and lo > 0 or lo == 0 and lo_ex:
        target = lo
    elif down:
        target = hi
    if step is None:
        step = Fraction(1, 2)
        if not _within(target, lo, lo_ex, hi, hi_ex):
            target += -step if down else step
    k0 = (target // step) if down else -((-target) // step)
    for i in range(variant, variant + 32):
        value = (k0 - i if down else k0 + i) * step
        if not _within(value, lo, lo_ex, hi, hi_ex):
            continue
        out: int | float = int(value) if value.denominator == 1 else float(value)
        if not _local_problems(out, schema, {}):
            return out
    raise SchemaError("no number satisfies the bounds and multipleOf")


def _within(v: Fraction, lo: Fraction | None, lo_ex: bool, hi: Fraction | None, hi_ex: bool) -> bool:
    return (lo is None or v > lo or (v == lo and not lo_ex)) and (hi is None or v < hi or (v == hi and not hi_ex))


def _bound(schema: dict, inclusive: str, exclusive: str, pick: Any) -> tuple[Fraction | None, bool]:
    options = []
    for key, ex in ((inclusive, False), (exclusive, True)):
        v = schema.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool):
            options.append((Fraction(Decimal(str(v))), ex))
    if not options:
        return None, False
    best = pick(v for v, _ in options)
    return best, any(ex for v, ex in options if v == best)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return abs(a)


def _lcm(a: int, b: int) -> int:
    return abs(a * b) // _gcd(a, b)


_MAKERS = {"string": _Gen._string, "number": _Gen._number, "integer": _Gen._number, "object": _Gen._object,
           "array": _Gen._array, "boolean": lambda self, s, n, d, v: v % 2 == 0, "null": lambda *_: None}

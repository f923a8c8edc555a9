"""A small JSON-Schema subset: generate a value that satisfies a schema, and validate values against one.

Supported keywords (both directions): type (a name or a list), properties, required, additionalProperties,
items, prefixItems, minItems, maxItems, enum, const, anyOf, oneOf, allOf, $ref to `#/$defs/…` or
`#/definitions/…`, minLength, maxLength, minimum, maximum, exclusiveMinimum, exclusiveMaximum, pattern
(validation only) and format (date, date-time, time, email, uri, uuid when generating).

Generation is deterministic: strings are the given text (cut to maxLength, padded to minLength), enums
take the member equal to the text if there is one (so a classifier's label lands in an enum) else the
first, anyOf/oneOf take their first branch, numbers the smallest allowed value (0 when unbounded),
booleans true, arrays max(minItems, 1) items (capped by maxItems), objects every declared property.
One call generates at most GENERATE_BUDGET characters' worth of values (a 289-byte schema asking for
`minItems: 1000000` must not cost seconds): past it arrays and objects stop growing and strings are not
padded, so the value is cut short — more output than any model's max_tokens, which then ends it as "length".
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from typing import Any

__all__ = ["generate", "validate", "SchemaError"]

_MAX_DEPTH = 32
GENERATE_BUDGET = 300_000   # > 32,768 tokens (the largest max output) even for 'xxxx…', 8 characters a token
_budget: ContextVar[list[int] | None] = ContextVar("json_schema_budget", default=None)


def _left() -> int:
    left = _budget.get()
    return GENERATE_BUDGET if left is None else left[0]


def _spend(n: int) -> bool:
    """Take n characters from the current generation's budget; False once it is spent."""
    left = _budget.get()
    if left is None:
        return True
    left[0] -= n
    return left[0] >= 0
_FORMATS = {"date": "2024-01-01", "date-time": "2024-01-01T00:00:00Z", "time": "00:00:00",
            "email": "user@example.com", "uri": "https://example.com/", "hostname": "example.com",
            "ipv4": "127.0.0.1"}
_TYPES: dict[str, Any] = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


class SchemaError(ValueError):
    """The schema uses a $ref this module cannot resolve."""


def _resolve(schema: Any, root: dict) -> Any:
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        if ref == "#":
            schema = root
        else:
            m = re.fullmatch(r"#/(\$defs|definitions)/(.+)", ref)
            name = m.group(2).replace("~1", "/").replace("~0", "~") if m else ""
            target = (root.get(m.group(1)) or {}).get(name) if m else None
            if target is None:
                raise SchemaError(f"cannot resolve $ref {ref!r}")
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **rest} if rest else target
        seen += 1
        if seen > _MAX_DEPTH:
            raise SchemaError("$ref cycle")
    return schema


def _merge_all_of(schema: dict, root: dict) -> dict:
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        part = _resolve(part, root)
        if not isinstance(part, dict):
            continue
        merged["properties"] = {**merged.get("properties", {}), **part.get("properties", {})}
        merged["required"] = list(merged.get("required", [])) + list(part.get("required", []))
        for k, v in part.items():
            merged.setdefault(k, v)
    return merged


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
    return None


# --- generation --------------------------------------------------------------------------------


def generate(schema: Any, text: str, *, root: dict | None = None, _depth: int = 0) -> Any:
    """A value satisfying `schema` (within the supported subset), built from `text`."""
    if _budget.get() is None:
        token = _budget.set([GENERATE_BUDGET])
        try:
            return generate(schema, text, root=root, _depth=_depth)
        finally:
            _budget.reset(token)
    root = root if root is not None else (schema if isinstance(schema, dict) else {})
    schema = _resolve(schema, root)
    if not isinstance(schema, dict) or _depth > _MAX_DEPTH:
        return text if _depth <= _MAX_DEPTH else None
    if "allOf" in schema:
        schema = _merge_all_of(schema, root)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return _pick_enum(schema["enum"], text)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return generate(schema[key][0], text, root=root, _depth=_depth + 1)
    kind = _type_of(schema)
    maker = _MAKERS.get(kind or "string", _make_string)
    return maker(schema, text, root, _depth)


def _pick_enum(options: list, text: str) -> Any:
    wanted = text.strip().casefold()
    for option in options:
        if isinstance(option, str) and option.casefold() == wanted:
            return option
    return options[0]


def _make_string(schema: dict, text: str, root: dict, depth: int) -> str:
    fmt = schema.get("format")
    if fmt == "uuid":
        value = str(uuid.uuid5(uuid.NAMESPACE_URL, text))
    else:
        value = _FORMATS.get(fmt, text) if isinstance(fmt, str) else text
    max_len, min_len = schema.get("maxLength"), schema.get("minLength")
    if isinstance(max_len, int) and len(value) > max_len:
        value = value[:max_len]
    if isinstance(min_len, int) and len(value) < min_len:
        value = value + "x" * min(min_len - len(value), max(0, _left()))
    _spend(len(value) + 2)
    return value


def _make_number(schema: dict, text: str, root: dict, depth: int) -> int | float:
    integer = schema.get("type") == "integer" or (isinstance(schema.get("type"), list)
                                                  and "integer" in schema["type"])
    lo, hi = schema.get("minimum"), schema.get("maximum")
    ex_lo, ex_hi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    value: float = 0
    if isinstance(lo, int | float):
        value = lo
    elif isinstance(ex_lo, int | float) and not isinstance(ex_lo, bool):
        value = ex_lo + (1 if integer else 0.5)
    elif isinstance(hi, int | float) and value > hi:
        value = hi
    elif isinstance(ex_hi, int | float) and not isinstance(ex_hi, bool) and value >= ex_hi:
        value = ex_hi - 1
    if integer:
        value = int(value) if float(value).is_integer() else int(value) + 1
    return value


def _make_object(schema: dict, text: str, root: dict, depth: int) -> dict:
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    out = {name: generate(sub, text, root=root, _depth=depth + 1) for name, sub in props.items()
           if _spend(len(name) + 4)}
    for name in schema.get("required", []) or []:
        if isinstance(name, str) and name not in out and _spend(len(name) + 4):
            extra = schema.get("additionalProperties")
            out[name] = generate(extra if isinstance(extra, dict) else {}, text, root=root, _depth=depth + 1)
    return out


def _make_array(schema: dict, text: str, root: dict, depth: int) -> list:
    prefix = schema.get("prefixItems") if isinstance(schema.get("prefixItems"), list) else []
    items = schema.get("items")
    count = max(int(schema.get("minItems", 0) or 0), 1, len(prefix))
    if isinstance(schema.get("maxItems"), int):
        count = min(count, schema["maxItems"])
    if items is False:
        count = min(count, len(prefix))
    out = []
    for i in range(count):
        if not _spend(2):
            break
        sub = prefix[i] if i < len(prefix) else (items if isinstance(items, dict) else {})
        out.append(generate(sub, text, root=root, _depth=depth + 1))
    return out


_MAKERS = {"string": _make_string, "number": _make_number, "integer": _make_number, "object": _make_object,
           "array": _make_array, "boolean": lambda *_: True, "null": lambda *_: None}


# --- validation --------------------------------------------------------------------------------


def validate(value: Any, schema: Any, *, root: dict | None = None, path: str = "$") -> list[str]:
    """Every violation of `schema` by `value` as `path: reason`; empty when the value is valid."""
    root = root if root is not None else (schema if isinstance(schema, dict) else {})
    schema = _resolve(schema, root)
    if schema is True or schema is None or schema == {}:
        return []
    if schema is False:
        return [f"{path}: no value is allowed here"]
    out: list[str] = []
    for check in _CHECKS:
        out += check(value, schema, root, path)
    return out


def _check_type(value: Any, schema: dict, root: dict, path: str) -> list[str]:
    t = schema.get("type")
    if t is None:
        return []
    names = t if isinstance(t, list) else [t]
    return [] if any(_is_type(value, n) for n in names) else [f"{path}: expected type {t}, got {value!r}"]


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return type(value) is int or (type(value) is float and value.is_integer())
    if name == "number":
        return type(value) in (int, float)
    expected = _TYPES.get(name)
    return expected is not None and type(value) is expected


def _check_values(value: Any, schema: dict, root: dict, path: str) -> list[str]:
    out = []
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: expected const {schema['const']!r}")
    if isinstance(schema.get("enum"), list) and value not in schema["enum"]:
        out.append(f"{path}: {value!r} is not one of {schema['enum']!r}")
    return out


def _check_combinators(value: Any, schema: dict, root: dict, path: str) -> list[str]:
    out = []
    if isinstance(schema.get("anyOf"), list) and not any(
            not validate(value, s, root=root, path=path) for s in schema["anyOf"]):
        out.append(f"{path}: matches no anyOf branch")
    if isinstance(schema.get("oneOf"), list):
        hits = sum(1 for s in schema["oneOf"] if not validate(value, s, root=root, path=path))
        if hits != 1:
            out.append(f"{path}: matches {hits} oneOf branches, expected exactly 1")
    for sub in schema.get("allOf", []) if isinstance(schema.get("allOf"), list) else []:
        out += validate(value, sub, root=root, path=path)
    return out


def _check_object(value: Any, schema: dict, root: dict, path: str) -> list[str]:
    if not isinstance(value, dict):
        return []
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    out = [f"{path}: missing required property {name!r}" for name in schema.get("required", []) or []
           if name not in value]
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in props:
            out += validate(item, props[key], root=root, path=f"{path}.{key}")
        elif extra is False:
            out.append(f"{path}: additional property {key!r} is not allowed")
        elif isinstance(extra, dict):
            out += validate(item, extra, root=root, path=f"{path}.{key}")
    return out


def _check_array(value: Any, schema: dict, root: dict, path: str) -> list[str]:
    if not isinstance(value, list):
        return []
    out = []
    if isinstance(schema.get("minItems"), int) and len(value) < schema["minItems"]:
        out.append(f"{path}: fewer than {schema['minItems']} items")
    if isinstance(schema.get("maxItems"), int) and len(value) > schema["maxItems"]:
        out.append(f"{path}: more than {schema['maxItems']} items")
    prefix = schema.get("prefixItems") if isinstance(schema.get("prefixItems"), list) else []
    items = schema.get("items")
    for i, item in enumerate(value):
        sub = prefix[i] if i < len(prefix) else items
        if sub is False:
            out.append(f"{path}[{i}]: no item is allowed here")
        elif isinstance(sub, dict):
            out += validate(item, sub, root=root, path=f"{path}[{i}]")
    return out


def _check_scalar(value: Any, schema: dict, root: dict, path: str) -> list[str]:
    out = []
    if isinstance(value, str):
        if isinstance(schema.get("minLength"), int) and len(value) < schema["minLength"]:
            out.append(f"{path}: shorter than {schema['minLength']}")
        if isinstance(schema.get("maxLength"), int) and len(value) > schema["maxLength"]:
            out.append(f"{path}: longer than {schema['maxLength']}")
        if isinstance(schema.get("pattern"), str) and not re.search(schema["pattern"], value):
            out.append(f"{path}: does not match {schema['pattern']!r}")
    elif type(value) in (int, float):
        bounds = (("minimum", lambda v, b: v >= b), ("maximum", lambda v, b: v <= b),
                  ("exclusiveMinimum", lambda v, b: v > b), ("exclusiveMaximum", lambda v, b: v < b))
        for key, ok in bounds:
            b = schema.get(key)
            if type(b) in (int, float) and not ok(value, b):
                out.append(f"{path}: {value} violates {key} {b}")
    return out


_CHECKS = (_check_type, _check_values, _check_combinators, _check_object, _check_array, _check_scalar)

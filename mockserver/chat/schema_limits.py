"""The real API's size limits on structured-output schemas, checked before any generation work.

`check_schema(schema, kind=..., name=..., param=...)` walks the schema once, iteratively (a schema nested
100,000 deep costs no recursion), and raises the 400 the real API answers when it has more object
properties, deeper object nesting, more enum values, or more characters of names and enum/const values
than `contracts.limits.SchemaLimits` allows: `invalid_json_schema` for response_format, and
`invalid_function_parameters` for tools/functions, with the real "Invalid schema for …" prefix.
"""

from __future__ import annotations

from typing import Any

from contracts import errors
from contracts.limits import SchemaLimits

__all__ = ["check_schema", "schema_size"]

_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMA_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains")


def schema_size(schema: Any) -> tuple[int, int, int, int]:
    """(object properties, deepest object nesting, enum values, name/enum/const characters)."""
    props = depth = enums = chars = 0
    stack: list[tuple[Any, int]] = [(schema, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, list):
            stack.extend((x, level) for x in node)
            continue
        if not isinstance(node, dict):
            continue
        is_object = node.get("type") == "object" or isinstance(node.get("properties"), dict)
        here = level + 1 if is_object else level
        depth = max(depth, here)
        if isinstance(node.get("enum"), list):
            enums += len(node["enum"])
            chars += sum(len(str(v)) for v in node["enum"])
        if "const" in node:
            chars += len(str(node["const"]))
        for key in _SUBSCHEMA_MAPS:
            sub = node.get(key)
            if isinstance(sub, dict):
                if key == "properties":
                    props += len(sub)
                chars += sum(len(str(k)) for k in sub)
                stack.extend((v, here) for v in sub.values())
        for key in _SUBSCHEMA_LISTS:
            if isinstance(node.get(key), list):
                stack.extend((v, here) for v in node[key])
        for key in _SUBSCHEMA_ONE:
            if isinstance(node.get(key), dict | list):
                stack.append((node[key], here))
        if depth > SchemaLimits.MAX_DEPTH + 1 or props > SchemaLimits.MAX_PROPERTIES:
            break   # already over: no need to walk the rest of a hostile schema
    return props, depth, enums, chars


def _problem(schema: Any) -> str | None:
    props, depth, enums, chars = schema_size(schema)
    lim = SchemaLimits
    if depth > lim.MAX_DEPTH:
        return f"the schema nests objects more than {lim.MAX_DEPTH} levels deep; at most {lim.MAX_DEPTH} are allowed."
    if props > lim.MAX_PROPERTIES:
        return f"the schema has more than {lim.MAX_PROPERTIES} object properties in total."
    if enums > lim.MAX_ENUM_VALUES:
        return f"the schema has {enums} enum values in total; at most {lim.MAX_ENUM_VALUES} are allowed."
    if chars > lim.MAX_NAME_CHARS:
        return (f"the total string length of property names, definition names, enum values and const values "
                f"is {chars}; at most {lim.MAX_NAME_CHARS} characters are allowed.")
    return None


def check_schema(schema: Any, *, kind: str, name: str, param: str) -> None:
    """400 when `schema` is over the real limits; `kind` is "response_format" or "function"."""
    problem = _problem(schema)
    if problem is None:
        return
    code = "invalid_json_schema" if kind == "response_format" else "invalid_function_parameters"
    raise errors.BadRequest(f"Invalid schema for {kind} '{name}': {problem}", param=param, code=code)

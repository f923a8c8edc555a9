"""Conformance checks: does a response body look exactly like one the real API would send?

    problems = check("fine_tuning.job", payload)     # [] when it conforms

Two independent checks, problems from both are returned:

1. the OpenAPI spec (the official `openapi.yaml`, read at run time, never copied into the project):
   no key outside the schema's `properties`, no enum value outside its `enum`, every `required` key
   present, JSON types right (`$ref`, `allOf`, `anyOf`/`oneOf` with null branches, `nullable`);
2. the official SDK model (`contracts.wire`), validated strictly (`Model.model_validate(payload, strict=True)`).

The real wire differs from the spec in a few documented ways; those are listed once, in DEVIATIONS, and
accepted by both checks. The spec is found at `$OPENAI_OPENAPI_SPEC` or `<repo>/../shared/reference/
openai-openapi.yaml`; when it is absent the spec check is skipped (see `spec_status()`) and only the SDK
check runs. Loading the 3 MB YAML is slow, so the components the checks need are cached as JSON in
`$XDG_CACHE_HOME` (or the temp dir) under the spec's sha256.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic

from contracts.wire import SHAPES, shape

__all__ = ["check", "check_spec", "check_sdk", "spec_status", "spec_path", "components", "SpecUnavailable",
           "Deviation", "DEVIATIONS", "DOCUMENTED_EXTRAS", "SPEC_ENV"]

SPEC_ENV = "OPENAI_OPENAPI_SPEC"
_REPO = Path(__file__).resolve().parents[1]


class SpecUnavailable(RuntimeError):
    """The OpenAPI spec (or a YAML parser for it) is not available; the message says why."""


# --- Documented deviations of the real wire from the spec: the one place --------------------------------

def _always(parent: Any) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Deviation:
    """One accepted difference: an `extra` key, an `enum` value or a `null` at `path` (Schema.prop[.prop])."""

    path: str
    what: str                        # "extra" | "enum" | "null"
    value: Any
    source: str
    when: Callable[[Any], bool] = _always   # tested on the object that holds the value


def _empty_page(parent: Any) -> bool:
    return isinstance(parent, dict) and not parent.get("data")


DEVIATIONS: tuple[Deviation, ...] = (
    Deviation("FineTuningJob.user_provided_suffix", "extra", None,
              "sent on real jobs [reference §5.2: OBS-24-08, OBS-24-12]"),
    Deviation("FineTuningJob.usage_metrics", "extra", None, "in the spec's own job examples [reference §5.2]"),
    Deviation("FineTuningJob.shared_with_openai", "extra", None, "in the spec's own job examples [reference §5.2]"),
    Deviation("CreateChatCompletionStreamResponse.obfuscation", "extra", None,
              "stream padding, on by default [reference §9]"),
    Deviation("FineTuningJob.status", "enum", "paused",
              "the pause endpoint's example and SDK `jobs.pause()`; absent from the enum [reference §6.1]"),
    Deviation("FineTuningJobEvent.data", "null", None, "`Fine-tuning job started` has data: null [reference §6.3]"),
    Deviation("OpenAIFile.expires_at", "null", None, "null on files without expiry [reference §3.2 example]"),
    Deviation("OpenAIFile.status_details", "null", None, "null on processed files [reference §3.2 example]"),
    Deviation("CreateChatCompletionResponse.system_fingerprint", "null", None,
              "observed null for fine-tuned models [reference §9: OBS-24-02]"),
    Deviation("CreateChatCompletionStreamResponse.system_fingerprint", "null", None,
              "observed null for fine-tuned models [reference §9: OBS-24-02]"),
    Deviation("CreateCompletionResponse.choices[].finish_reason", "null", None,
              "legacy completion stream chunks share the body schema; only the last chunk has a reason"),
    Deviation("Response.store", "extra", None, "sent on real responses; in the spec's own Response example"),
    Deviation("Response.user", "null", None, "`user: null` in the spec's own Response example"),
    *(Deviation(path, "null", None,
              "no usage until a response finishes (queued/in-progress responses and their stream events)",
              lambda parent: isinstance(parent, dict) and parent.get("status") in ("queued", "in_progress",
                                                                                   "cancelled"))
      for path in ("Response.usage", "ResponseUsage")),
    *(Deviation(f"Batch.{name}", "null", None, "null until set, as in the spec's own Batch examples")
      for name in ("errors", "output_file_id", "error_file_id", "in_progress_at", "finalizing_at", "completed_at",
                   "failed_at", "expired_at", "cancelling_at", "cancelled_at")),
    *(Deviation(f"ListBatchesResponse.{name}", "null", None, "an empty page has no first/last id (UNVERIFIED)",
                _empty_page) for name in ("first_id", "last_id")),
    Deviation("ListFilesResponse.first_id", "null", None,
              "an empty page has no first id (UNVERIFIED; the checkpoints list types it string|null)", _empty_page),
    Deviation("ListFilesResponse.last_id", "null", None,
              "an empty page has no last id (UNVERIFIED; the checkpoints list types it string|null)", _empty_page),
)
DOCUMENTED_EXTRAS = {d.path.rsplit(".", 1)[1]: d.path.rsplit(".", 1)[0] for d in DEVIATIONS if d.what == "extra"}


def _deviation(path: str, what: str, value: Any, parent: Any) -> Deviation | None:
    for d in DEVIATIONS:
        if d.path == path and d.what == what and (what == "extra" or d.value == value) and d.when(parent):
            return d
    return None


# --- Loading the spec -----------------------------------------------------------------------------------

def spec_path() -> Path:
    """Where the OpenAPI spec is read from: $OPENAI_OPENAPI_SPEC, else beside the repository."""
    env = os.environ.get(SPEC_ENV)
    return Path(env) if env else _REPO.parent / "shared" / "reference" / "openai-openapi.yaml"


def spec_status() -> tuple[bool, str]:
    """(available, explanation) for reports and skip reasons."""
    try:
        schemas = components()
    except SpecUnavailable as e:
        return False, str(e)
    return True, f"OpenAPI spec {spec_path()} ({len(schemas)} component schemas in use)"


@functools.cache
def components() -> dict[str, Any]:
    """The component schemas the shapes need (and everything they reference), descriptions stripped."""
    path = spec_path()
    if not path.is_file():
        raise SpecUnavailable(f"OpenAPI spec not found at {path} (set ${SPEC_ENV} to its path); "
                              "spec-based conformance checks are skipped")
    raw = path.read_bytes()
    roots = sorted({s.schema for s in SHAPES.values()})
    digest = hashlib.sha256(raw + json.dumps(roots).encode()).hexdigest()   # new shapes → a new cache entry
    cache = _cache_dir() / f"{digest}.json"
    try:
        return json.loads(cache.read_text())
    except (OSError, ValueError):
        pass
    needed = _closure(_parse_yaml(raw, path)["components"]["schemas"], roots)
    _write_atomically(cache, json.dumps(needed, default=str))
    return needed


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or tempfile.gettempdir()
    return Path(base) / "ft-emulator-openapi"


def _parse_yaml(raw: bytes, path: Path) -> dict:
    try:
        import yaml
    except ImportError:
        raise SpecUnavailable(f"PyYAML is not installed, so {path} cannot be read; spec-based conformance "
                              "checks are skipped (pip install pyyaml)") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(raw, Loader=loader)


_NOISE = frozenset({"description", "example", "examples", "x-oaiMeta", "title", "x-oaiExpandable"})


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        # drop documentation, but keep a *property* that happens to be called "title" etc. (its value is a dict)
        return {k: _strip(v) for k, v in node.items() if not (k in _NOISE and not isinstance(v, dict))}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _closure(schemas: dict, roots: list[str]) -> dict:
    out: dict[str, Any] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in out:
            continue
        out[name] = _strip(schemas[name])
        todo.extend(_refs(out[name]))
    return out


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"].rsplit("/", 1)[1]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache dir only costs speed


# --- The spec check -------------------------------------------------------------------------------------

_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def check_spec(kind: str, payload: Any) -> list[str]:
    """Problems of `payload` against the OpenAPI schema of `kind`; raises SpecUnavailable."""
    schemas = components()
    name = shape(kind).schema
    return _Walker(schemas).check(schemas[name], payload, name, parent=None)


class _Walker:
    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas

    def check(self, schema: dict, value: Any, path: str, *, parent: Any) -> list[str]:
        if value is None and self._nullable(schema):   # also `{$ref: …, nullable: true}`
            return []
        if "$ref" in schema:   # inside a referenced component the path restarts at its name
            name = schema["$ref"].rsplit("/", 1)[1]
            return self.check(self.schemas[name], value, name, parent=parent)
        if "allOf" in schema:
            parts = [p for p in schema["allOf"] if set(p) - {"nullable"}]
            merged = parts[0] if len(parts) == 1 else self._merged(parts)   # one part: keep its $ref path
            return self.check(merged, value, path, parent=parent)
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            tagged = self._tagged(schema, branches, value)
            if tagged is not None:   # a discriminated union: the branch the tag names, and only it
                return self.check(tagged, value, path, parent=parent)
            return self._union(branches, value, path, parent)
        return self._typed(schema, value, path, parent)

    def _tagged(self, schema: dict, branches: list, value: Any) -> dict | None:
        prop = (schema.get("discriminator") or {}).get("propertyName")
        if prop is None or not isinstance(value, dict):
            return None
        matches = []
        for branch in branches:
            target = branch
            while "$ref" in target:
                target = self.schemas[target["$ref"].rsplit("/", 1)[1]]
            if "allOf" in target:
                target = self._merged(target["allOf"])
            if value.get(prop) in ((target.get("properties") or {}).get(prop) or {}).get("enum", ()):
                matches.append(branch)
        return matches[0] if len(matches) == 1 else None   # a shared tag: the closest branch decides

    def _merged(self, parts: list[dict]) -> dict:
        """One schema from `allOf` parts: their keywords combined, properties and required lists joined."""
        out: dict[str, Any] = {}
        for part in parts:
            while "$ref" in part:
                part = self.schemas[part["$ref"].rsplit("/", 1)[1]]
            for key, value in part.items():
                if key == "properties":
                    out["properties"] = {**out.get("properties", {}), **value}
                elif key == "required":
                    out["required"] = [*out.get("required", []), *value]
                elif key != "nullable":
                    out.setdefault(key, value)
        return out

    def _nullable(self, schema: dict) -> bool:
        if schema.get("nullable") is True or schema.get("type") == "null":
            return True
        if "$ref" in schema:
            return self._nullable(self.schemas[schema["$ref"].rsplit("/", 1)[1]])
        return any(self._nullable(s) for key in ("allOf", "anyOf", "oneOf") for s in schema.get(key, ()))

    def _union(self, branches: list, value: Any, path: str, parent: Any) -> list[str]:
        """[] if some branch accepts the value, else the problems of the closest branch (same JSON type first)."""
        best: tuple[bool, int, list[str]] | None = None
        for branch in branches:
            problems = self.check(branch, value, path, parent=parent)
            if not problems:
                return []
            rank = (not self._same_type(branch, value), len(problems), problems)
            if best is None or rank[:2] < best[:2]:
                best = rank
        return best[2] if best else []

    def _same_type(self, schema: dict, value: Any) -> bool:
        if "$ref" in schema:
            return self._same_type(self.schemas[schema["$ref"].rsplit("/", 1)[1]], value)
        kind = schema.get("type") or ("object" if "properties" in schema else None)
        return kind is None or _JSON_TYPES[kind](value)

    def _typed(self, schema: dict, value: Any, path: str, parent: Any) -> list[str]:
        kind = schema.get("type") or ("object" if "properties" in schema else None)
        if value is None and kind is not None:
            return [] if _deviation(path, "null", None, parent) else [f"{path}: null, expected {kind}"]
        if kind is not None and not _JSON_TYPES[kind](value):
            return [f"{path}: {type(value).__name__} {_short(value)}, expected {kind}"]
        if "enum" in schema and value not in schema["enum"] and not _deviation(path, "enum", value, parent):
            return [f"{path}: {value!r} is not one of {schema['enum']}"]
        problems = _range(schema, value, path)
        if kind == "array" and "items" in schema:
            for item in value:
                problems += self.check(schema["items"], item, path + "[]", parent=value)
        elif kind == "object":
            problems += self._object(schema, value, path)
        return problems

    def _object(self, schema: dict, value: dict, path: str) -> list[str]:
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        problems = [f"{path}: required key {key!r} is missing" for key in schema.get("required", ())
                    if key not in value]
        for key, item in value.items():
            if props is not None and key in props:
                problems += self.check(props[key], item, f"{path}.{key}", parent=value)
            elif isinstance(extra, dict):
                problems += self.check(extra, item, f"{path}.{key}", parent=value)
            elif props is not None and not _deviation(f"{path}.{key}", "extra", None, value):
                problems.append(f"{path}: key {key!r} is not in the schema (the real API would not send it)")
        return problems


def _range(schema: dict, value: Any, path: str) -> list[str]:
    if not _JSON_TYPES["number"](value):
        return []
    low, high = schema.get("minimum"), schema.get("maximum")
    exclusive = schema.get("exclusiveMinimum")
    if isinstance(exclusive, int | float) and not isinstance(exclusive, bool):
        low, exclusive = exclusive, True
    if low is not None and (value < low or (exclusive is True and value == low)):
        return [f"{path}: {value} is below the minimum {low}"]
    if high is not None and value > high:
        return [f"{path}: {value} is above the maximum {high}"]
    return []


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- The SDK check --------------------------------------------------------------------------------------

def check_sdk(kind: str, payload: Any) -> list[str]:
    """Problems strict validation with the official SDK model reports, less the documented deviations."""
    s = shape(kind)
    try:
        s.sdk.model_validate(payload, strict=True)
    except pydantic.ValidationError as e:
        return [f"sdk {s.sdk.__name__}: {'.'.join(map(str, err['loc']))}: {err['msg']} (got {_short(err['input'])})"
                for err in e.errors() if not _sdk_deviation(kind, payload, err)]
    return []


def _sdk_deviation(kind: str, payload: Any, err: dict) -> bool:
    """Is this SDK error one of DEVIATIONS? Its loc is turned into schema paths (`Job.error.code`, `X.items[].y`)."""
    loc = tuple(err["loc"])
    s = shape(kind)
    base, start = s.schema, 0
    if s.item is not None and loc[:1] == ("data",) and len(loc) > 1 and isinstance(loc[1], int):
        base, start = shape(s.item).schema, 2
    path = base
    for i in range(start, len(loc)):   # union members add loc parts: every prefix is a candidate
        path += "[]" if isinstance(loc[i], int) else f".{loc[i]}"
        value, parent = _lookup(payload, loc[: i + 1]), _lookup(payload, loc[:i])
        if any(d.path == path and (d.what == "null" and value is None or d.what == "enum" and d.value == value)
               and d.when(parent) for d in DEVIATIONS):
            return True
    return False


def _lookup(payload: Any, loc: tuple) -> Any:
    node = payload
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


# --- Both -----------------------------------------------------------------------------------------------

def check(kind: str, payload: Any) -> list[str]:
    """Every problem the spec check (when the spec is available) and the SDK check find; [] = conforms."""
    problems = check_sdk(kind, payload)
    with contextlib.suppress(SpecUnavailable):
        problems = check_spec(kind, payload) + problems
    return problems

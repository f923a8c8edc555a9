"""The job-request model (contracts.jobs, pydantic + contracts.requests' translator) answers every body exactly
as the hand-written parser it replaced did: same status, code, param and message for the first problem, the
same JobRequest when there is none. The old parser is kept here, verbatim, as the oracle (and nowhere else).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import errors, limits
from contracts.jobs import AUTO, JobRequest, normalise_suffix, parse_job_request
from contracts.metadata import check_metadata
from tests.conftest import tier

# the limits under the names the old parser used
BATCH_SIZE_RANGE, BETA_MAX, INTEGRATION_TEXT_MAX = limits.BATCH_SIZE_RANGE, limits.BETA_MAX, limits.INTEGRATION_TEXT_MAX
MAX_INTEGRATION_TAGS, MAX_INTEGRATIONS, METHODS = limits.MAX_INTEGRATION_TAGS, limits.MAX_INTEGRATIONS, limits.METHODS
N_EPOCHS_RANGE, SEED_MAX, SUFFIX_MAX = limits.N_EPOCHS_RANGE, limits.SEED_MAX, limits.SUFFIX_MAX

# --- the hand-written parser this replaced (contracts/jobs.py before the request models) -----------------

_TOP_KEYS = {"model", "training_file", "validation_file", "hyperparameters", "method", "suffix", "seed",
             "integrations", "metadata"}
_HP_KEYS = {"supervised": {"n_epochs", "batch_size", "learning_rate_multiplier"},
            "dpo": {"n_epochs", "batch_size", "learning_rate_multiplier", "beta"}}


def old_parse(body: dict[str, Any]) -> JobRequest:
    for key in body:
        if key not in _TOP_KEYS:
            raise errors.unknown_parameter(key)
    model = _required_str(body, "model")
    training_file = _required_str(body, "training_file")
    validation_file = _optional_str(body, "validation_file")
    method, hp = _method_and_hyperparameters(body)
    return JobRequest(model=model, training_file=training_file, validation_file=validation_file, method=method,
                      hyperparameters=hp, suffix=_suffix(body.get("suffix")), seed=_seed(body.get("seed")),
                      integrations=_integrations(body.get("integrations")),
                      metadata=check_metadata("metadata", body.get("metadata")))


def _required_str(body: dict, key: str) -> str:
    if body.get(key) is None:
        raise errors.missing_parameter(key)
    value = body[key]
    if not isinstance(value, str):
        raise errors.invalid_type(key, "a string", value)
    if not value:
        raise errors.invalid_value(key, f"Invalid '{key}': empty string. Expected a non-empty string.")
    return value


def _optional_str(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise errors.invalid_type(key, "a string", value)
    return value or None


def _method_and_hyperparameters(body: dict) -> tuple[str, dict[str, Any]]:
    method = body.get("method")
    legacy = body.get("hyperparameters")
    if method is not None and legacy is not None:
        raise errors.invalid_value("hyperparameters", "Specify hyperparameters either in 'method' or in the "
                                   "deprecated top-level 'hyperparameters', not both.")
    if method is None:
        return "supervised", _hyperparameters(legacy, "hyperparameters", "supervised")
    if not isinstance(method, dict):
        raise errors.invalid_type("method", "an object", method)
    kind = method.get("type")
    if kind is None:
        raise errors.missing_parameter("method.type")
    if kind not in METHODS:
        raise errors.invalid_value("method.type", f"Invalid 'method.type': expected one of {', '.join(METHODS)}, "
                                   f"but got {kind!r} instead.")
    if kind == "reinforcement":
        raise errors.BadRequest("Reinforcement fine-tuning (method type 'reinforcement') needs graders, which "
                                "this emulator does not run; use 'supervised' or 'dpo'.", param="method.type",
                                code="unsupported_method")
    for key in method:
        if key not in ("type", kind):
            raise errors.unknown_parameter(f"method.{key}")
    section = method.get(kind) or {}
    if not isinstance(section, dict):
        raise errors.invalid_type(f"method.{kind}", "an object", section)
    for key in section:
        if key != "hyperparameters":
            raise errors.unknown_parameter(f"method.{kind}.{key}")
    return kind, _hyperparameters(section.get("hyperparameters"), f"method.{kind}.hyperparameters", kind)


def _hyperparameters(raw: Any, path: str, method: str) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise errors.invalid_type(path, "an object", raw)
    allowed = _HP_KEYS[method]
    for key in raw:
        if key not in allowed:
            raise errors.unknown_parameter(f"{path}.{key}")
    hp = {key: AUTO for key in sorted(allowed)}
    for key, value in raw.items():
        hp[key] = _hp_value(f"{path}.{key}", key, value)
    return hp


def _hp_value(path: str, key: str, value: Any) -> Any:
    if value == AUTO or value is None:
        return AUTO
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise errors.invalid_type(path, "'auto' or a number", value)
    if key in ("n_epochs", "batch_size"):
        if isinstance(value, float) and not value.is_integer():
            raise errors.invalid_type(path, "'auto' or an integer", value)
        lo, hi = N_EPOCHS_RANGE if key == "n_epochs" else BATCH_SIZE_RANGE
        value = int(value)
        if value < lo:
            raise errors.below_min(path, lo, value)
        if value > hi:
            raise errors.above_max(path, hi, value)
        return value
    if value <= 0:
        raise errors.below_min(path, 0, float(value), exclusive=True)
    if key == "beta" and value > BETA_MAX:
        raise errors.above_max(path, BETA_MAX, float(value))
    return value


def _suffix(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise errors.invalid_type("suffix", "a string", value)
    if len(value) > SUFFIX_MAX:
        raise errors.string_too_long("suffix", SUFFIX_MAX, len(value))
    if value and not normalise_suffix(value):
        raise errors.invalid_value("suffix", "Invalid 'suffix': it must contain at least one letter or digit.")
    return value or None


def _seed(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.invalid_type("seed", "an integer", value)
    if value < 0:
        raise errors.below_min("seed", 0, value)
    if value > SEED_MAX:
        raise errors.above_max("seed", SEED_MAX, value)
    return value


def _integrations(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise errors.invalid_type("integrations", "an array", value)
    if len(value) > MAX_INTEGRATIONS:
        raise errors.BadRequest(f"Invalid 'integrations': array too long. Expected an array with maximum length "
                                f"{MAX_INTEGRATIONS}, but got an array with length {len(value)} instead.",
                                param="integrations", code="array_above_max_length")
    for i, item in enumerate(value):
        path = f"integrations[{i}]"
        if not isinstance(item, dict):
            raise errors.invalid_type(path, "an object", item)
        for key in item:
            if key not in ("type", "wandb"):
                raise errors.unknown_parameter(f"{path}.{key}")
        if item.get("type") != "wandb":
            raise errors.invalid_value(f"{path}.type", f"Invalid '{path}.type': only 'wandb' is supported.")
        wandb = item.get("wandb")
        if not isinstance(wandb, dict) or not isinstance(wandb.get("project"), str):
            raise errors.missing_parameter(f"{path}.wandb.project")
        _wandb(f"{path}.wandb", wandb)
    return value


def _wandb(path: str, wandb: dict) -> None:
    """Only the documented keys, each string at most INTEGRATION_TEXT_MAX (tags: MAX_INTEGRATION_TAGS, ≤ 64)."""
    for key, item in wandb.items():
        if key not in ("project", "name", "entity", "tags"):
            raise errors.unknown_parameter(f"{path}.{key}")
        if key == "tags":
            if not isinstance(item, list):
                raise errors.invalid_type(f"{path}.tags", "an array", item)
            if len(item) > MAX_INTEGRATION_TAGS:
                raise errors.BadRequest(f"Invalid '{path}.tags': array too long. Expected an array with maximum "
                                        f"length {MAX_INTEGRATION_TAGS}, but got an array with length {len(item)} "
                                        "instead.", param=f"{path}.tags", code="array_above_max_length")
            for j, tag in enumerate(item):
                _bounded_str(f"{path}.tags[{j}]", tag, 64)
        elif item is not None:
            _bounded_str(f"{path}.{key}", item, INTEGRATION_TEXT_MAX)


def _bounded_str(path: str, value: Any, limit: int) -> None:
    if not isinstance(value, str):
        raise errors.invalid_type(path, "a string", value)
    if len(value) > limit:
        raise errors.string_too_long(path, limit, len(value))



# --- random bodies ----------------------------------------------------------------------------------------

scalars_s = st.sampled_from([None, True, False, 0, 1, -1, 2, 2.0, 2.5, 0.0, -0.5, 50, 51, 256, 257, 3.0, 1e9,
                            SEED_MAX, SEED_MAX + 1, "", "auto", "x", "file-abc", "gpt-4o-mini", "wandb", "dpo",
                            "supervised", "reinforcement", "___", "a" * 65, "a" * 129, "Emoji_cls", [], {}])
keys_s = st.sampled_from(["n_epochs", "batch_size", "learning_rate_multiplier", "beta", "type", "supervised",
                         "dpo", "hyperparameters", "project", "name", "entity", "tags", "wandb", "bogus"])


def json_s(depth: int = 2) -> st.SearchStrategy:
    if depth == 0:
        return scalars_s
    inner = json_s(depth - 1)
    return st.one_of(scalars_s, st.lists(inner, max_size=3), st.dictionaries(keys_s, inner, max_size=3))


num_s = st.sampled_from(["auto", None, 1, 2, 3, 10, 0.5, 2.0, 1.5, 0.1])
hp_s = st.one_of(scalars_s, st.dictionaries(keys_s, st.one_of(scalars_s, json_s(1)), max_size=4),
                 st.fixed_dictionaries({}, optional={"n_epochs": scalars_s, "batch_size": scalars_s,
                                                     "learning_rate_multiplier": scalars_s, "beta": scalars_s}),
                 st.fixed_dictionaries({}, optional={"n_epochs": num_s, "batch_size": num_s,
                                                     "learning_rate_multiplier": num_s, "beta": num_s}))
section_s = st.one_of(scalars_s, st.fixed_dictionaries({}, optional={"hyperparameters": hp_s, "bogus": scalars_s}))
method_s = st.one_of(scalars_s, st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["supervised", "dpo", "reinforcement", "bad", 3, None]),
    "supervised": section_s, "dpo": section_s, "bogus": scalars_s}))
wandb_s = st.one_of(scalars_s, st.dictionaries(st.sampled_from(["project", "name", "entity", "tags", "bogus"]),
                                             st.one_of(scalars_s, st.lists(scalars_s, max_size=3),
                                                       st.lists(st.just("t"), min_size=64, max_size=66)),
                                             max_size=4))
integration_s = st.one_of(scalars_s, st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["wandb", "other", 1]), "wandb": wandb_s, "bogus": scalars_s}))
metadata_s = st.one_of(scalars_s, st.dictionaries(st.sampled_from(["k", "a" * 65, "b"]),
                                                st.one_of(scalars_s, st.just("v" * 513)), max_size=3),
                      st.dictionaries(st.text(max_size=3), st.just("v"), min_size=17, max_size=18))
name_s = st.one_of(scalars_s, st.just("gpt-4o-mini"), st.just("file-abc"))
FIELD_S = {"model": name_s, "training_file": name_s,
           "validation_file": scalars_s, "hyperparameters": hp_s, "method": method_s, "suffix": scalars_s,
           "seed": scalars_s, "integrations": st.one_of(scalars_s, st.lists(integration_s, max_size=6)),
           "metadata": metadata_s}


@st.composite
def bodies(draw) -> dict[str, Any]:
    """Bodies with a few fields each, in a random order, often valid but for one or two problems."""
    names = draw(st.lists(st.sampled_from(sorted(FIELD_S)), unique=True, max_size=6))
    body = {"model": "gpt-4o-mini", "training_file": "file-abc"} if draw(st.booleans()) else {}
    for name in names:
        body[name] = draw(FIELD_S[name])
    if draw(st.integers(0, 7)) == 0:
        body["bogus"] = draw(scalars_s)
    if draw(st.booleans()):
        body = dict(reversed(list(body.items())))
    return body


def _outcome(parse, body: dict[str, Any]) -> Any:
    try:
        return parse(body)
    except errors.APIError as e:
        return (e.status, e.type, e.code, e.param, e.message)


@settings(max_examples=tier(settings.default.max_examples, 8_000))   # long tier: 8,000 (20,000 took ~48 s there)
@given(bodies())
def test_the_model_answers_every_body_as_the_hand_parser_did(body):
    assert _outcome(parse_job_request, body) == _outcome(old_parse, body)


# --- precedence: which problem wins when a body has several ------------------------------------------------

_OK = {"model": "gpt-4o-mini", "training_file": "file-abc"}


@pytest.mark.parametrize("body,param,code", [
    ({"seed": "x", "bogus": 1, "model": 5}, "bogus", "unknown_parameter"),            # unknown key first
    ({"training_file": "", "seed": -1}, "model", "missing_required_parameter"),          # then declared order
    ({**_OK, "seed": -1, "suffix": 5}, "suffix", "invalid_type"),
    ({**_OK, "method": {"type": "x"}, "hyperparameters": {"n_epochs": 0}}, "hyperparameters", "invalid_value"),
    ({"method": {"type": "x"}, "hyperparameters": {}}, "model", "missing_required_parameter"),
    ({**_OK, "method": {"bogus": 1, "type": "x"}}, "method.type", "invalid_value"),    # the type before its keys
    ({**_OK, "method": {"type": "reinforcement", "bogus": 1}}, "method.type", "unsupported_method"),
    ({**_OK, "method": {"dpo": {"hyperparameters": {"beta": 9}}, "supervised": {}, "type": "dpo"}},
     "method.supervised", "unknown_parameter"),
    ({**_OK, "hyperparameters": {"batch_size": 0, "n_epochs": 0}}, "hyperparameters.batch_size",
     "integer_below_min_value"),                                                          # body order inside
    ({**_OK, "hyperparameters": {"batch_size": 0, "bogus": 1}}, "hyperparameters.bogus", "unknown_parameter"),
    ({**_OK, "integrations": [{"type": "wandb", "wandb": {"name": 5, "bogus": 1, "project": "p"}}]},
     "integrations[0].wandb.name", "invalid_type"),                                       # wandb: body order
    ({**_OK, "integrations": [{"type": "x", "bogus": 1}]}, "integrations[0].bogus", "unknown_parameter"),
    ({**_OK, "integrations": [{"type": "wandb"}] * 6}, "integrations", "array_above_max_length"),
    ({**_OK, "metadata": {f"k{i}": 1 for i in range(17)}}, "metadata", "object_above_max_properties"),
])
def test_precedence(body, param, code):
    with pytest.raises(errors.APIError) as e:
        parse_job_request(body)
    assert (e.value.param, e.value.code) == (param, code)
    assert _outcome(old_parse, body)[2:4] == (code, param)

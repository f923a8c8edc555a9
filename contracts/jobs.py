"""The job-creation request contract: parse and check `POST /fine_tuning/jobs` bodies (reference §5.1)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from contracts import errors
from contracts.limits import (
    BATCH_SIZE_RANGE,
    BETA_MAX,
    INTEGRATION_TEXT_MAX,
    MAX_INTEGRATION_TAGS,
    MAX_INTEGRATIONS,
    METHODS,
    N_EPOCHS_RANGE,
    SEED_MAX,
    SUFFIX_MAX,
)
from contracts.metadata import check_metadata

__all__ = ["JobRequest", "parse_job_request", "normalise_suffix", "METHODS", "AUTO"]

AUTO = "auto"
_TOP_KEYS = {"model", "training_file", "validation_file", "hyperparameters", "method", "suffix", "seed",
             "integrations", "metadata"}
_HP_KEYS = {"supervised": {"n_epochs", "batch_size", "learning_rate_multiplier"},
            "dpo": {"n_epochs", "batch_size", "learning_rate_multiplier", "beta"}}


@dataclass
class JobRequest:
    model: str
    training_file: str
    validation_file: str | None
    method: str
    hyperparameters: dict[str, Any]       # requested values, "auto" where not given
    suffix: str | None
    seed: int | None
    integrations: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, str] | None = None


def parse_job_request(body: dict[str, Any]) -> JobRequest:
    """Check every field; the first problem raises the real 400 with `param` naming the field."""
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


def normalise_suffix(suffix: str | None) -> str:
    """How a suffix appears in the model name: `emoji_cls_0829` → `emoji-cls-0829` (lower case, [a-z0-9-])."""
    if not suffix:
        return ""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", suffix.lower())).strip("-")


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


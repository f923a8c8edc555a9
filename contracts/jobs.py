"""The job-creation request contract: `POST /fine_tuning/jobs` bodies (reference §5.1) as pydantic models.

`parse_job_request(body)` checks a body with `JobBody` (contracts.requests: strict types, unknown keys
refused, the first problem as the real 400 with `param` naming the field) and returns the `JobRequest` the
server stores. Which problem is reported first: an unknown key, then model, training_file, validation_file,
hyperparameters (with `method` too: refused), method (its type, its unknown keys, its section), suffix,
seed, integrations, metadata; inside `hyperparameters` and each `wandb`, the keys in the body's order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, Field, WrapValidator

from contracts import errors
from contracts.limits import (
    BATCH_SIZE_RANGE,
    BETA_MAX,
    INTEGRATION_TAG_MAX,
    INTEGRATION_TEXT_MAX,
    MAX_INTEGRATION_TAGS,
    MAX_INTEGRATIONS,
    METHODS,
    N_EPOCHS_RANGE,
    SEED_MAX,
    SUFFIX_MAX,
)
from contracts.metadata import Metadata
from contracts.requests import RequestModel, api_error, parse, present, reject, untagged

__all__ = ["JobRequest", "JobBody", "parse_job_request", "normalise_suffix", "METHODS", "AUTO"]

AUTO = "auto"


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


def normalise_suffix(suffix: str | None) -> str:
    """How a suffix appears in the model name: `emoji_cls_0829` → `emoji-cls-0829` (lower case, [a-z0-9-])."""
    if not suffix:
        return ""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", suffix.lower())).strip("-")


# --- field types ----------------------------------------------------------------------------------------

def _hyperparameter(kind: str, lo: float, hi: float | None, *, exclusive: bool = False) -> Any:
    """`"auto"` (or null), or a number in range; `kind` "integer": a whole number (2.0 counts as 2)."""
    def check(value: Any) -> Any:
        if value == AUTO or value is None:
            return AUTO
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise api_error("invalid_type", "'auto' or a number", value)
        if kind == "integer":
            if isinstance(value, float) and not value.is_integer():
                raise api_error("invalid_type", "'auto' or an integer", value)
            value = int(value)
        got = value if kind == "integer" else float(value)
        if value < lo or (exclusive and value <= lo):
            raise api_error("below_min", lo, got, exclusive=exclusive)
        if hi is not None and value > hi:
            raise api_error("above_max", hi, got)
        return value
    return Annotated[Any, BeforeValidator(check)]


def _suffix(value: str | None) -> str | None:
    if value and not normalise_suffix(value):
        raise api_error("invalid_value", "Invalid '{path}': it must contain at least one letter or digit.")
    return value or None


def _falsy_is_absent(value: Any) -> Any:
    return value or None


NEpochs = _hyperparameter("integer", N_EPOCHS_RANGE[0], N_EPOCHS_RANGE[1])
BatchSize = _hyperparameter("integer", BATCH_SIZE_RANGE[0], BATCH_SIZE_RANGE[1])
Multiplier = _hyperparameter("decimal", 0, None, exclusive=True)
Beta = _hyperparameter("decimal", 0, BETA_MAX, exclusive=True)
Text = Annotated[str, Field(max_length=INTEGRATION_TEXT_MAX)]


# --- the body -------------------------------------------------------------------------------------------

class SupervisedHyperparameters(RequestModel):
    _input_order: ClassVar[bool] = True
    n_epochs: NEpochs = AUTO
    batch_size: BatchSize = AUTO
    learning_rate_multiplier: Multiplier = AUTO


class DpoHyperparameters(SupervisedHyperparameters):
    beta: Beta = AUTO


def _none_is_empty(value: Any) -> Any:
    return {} if value is None else value


def _legacy_hyperparameters(value: Any) -> Any:
    if value is _BOTH:
        raise reject(errors.invalid_value("hyperparameters", "Specify hyperparameters either in 'method' or in "
                                          "the deprecated top-level 'hyperparameters', not both."))
    return _none_is_empty(value)


class SupervisedSection(RequestModel):
    hyperparameters: Annotated[SupervisedHyperparameters, BeforeValidator(_none_is_empty)] = \
        SupervisedHyperparameters()


class DpoSection(RequestModel):
    hyperparameters: Annotated[DpoHyperparameters, BeforeValidator(_none_is_empty)] = DpoHyperparameters()


class SupervisedMethod(RequestModel):
    type: Literal["supervised"]
    supervised: Annotated[SupervisedSection | None, BeforeValidator(_falsy_is_absent)] = None


class DpoMethod(RequestModel):
    type: Literal["dpo"]
    dpo: Annotated[DpoSection | None, BeforeValidator(_falsy_is_absent)] = None


def _method_type(value: Any) -> Any:
    """The method's `type` decides which section it may have: checked before anything else in it."""
    if not isinstance(value, dict):
        return value                          # the union refuses it: not an object
    kind = value.get("type")
    if kind is None:
        raise api_error("missing_parameter", at="type")
    if kind not in METHODS:
        raise api_error("invalid_value", f"Invalid '{{path}}': expected one of {', '.join(METHODS)}, but got "
                        f"{kind!r} instead.", at="type")
    if kind == "reinforcement":
        raise reject(errors.BadRequest(
            "Reinforcement fine-tuning (method type 'reinforcement') needs graders, which this emulator does not "
            "run; use 'supervised' or 'dpo'.", param="method.type", code="unsupported_method"))
    return value


Method = Annotated[SupervisedMethod | DpoMethod, Field(discriminator="type"), WrapValidator(untagged),
                   BeforeValidator(_method_type)]


class Wandb(RequestModel):
    _unknown_first: ClassVar[bool] = False    # each key in the body's order, unknown or not
    _input_order: ClassVar[bool] = True
    project: Text
    name: Text | None = None
    entity: Text | None = None
    tags: Annotated[list[Annotated[str, Field(max_length=INTEGRATION_TAG_MAX)]],
                    Field(max_length=MAX_INTEGRATION_TAGS)] = []


def _with_project(value: Any) -> Any:
    if not isinstance(value, dict) or not isinstance(value.get("project"), str):
        raise api_error("missing_parameter", at="project")
    return value


def _only_wandb(value: Any) -> Any:
    if value != "wandb":
        raise api_error("invalid_value", "Invalid '{path}': only 'wandb' is supported.")
    return value


class Integration(RequestModel):
    type: Annotated[Any, AfterValidator(_only_wandb)] = Field(default=None, validate_default=True)
    wandb: Annotated[Wandb, BeforeValidator(_with_project)] = Field(default=None, validate_default=True)


class JobBody(RequestModel):
    """`POST /v1/fine_tuning/jobs`, as sent."""

    model: Annotated[str, BeforeValidator(present), Field(min_length=1)]
    training_file: Annotated[str, BeforeValidator(present), Field(min_length=1)]
    validation_file: str | None = None
    hyperparameters: Annotated[SupervisedHyperparameters | None, BeforeValidator(_legacy_hyperparameters)] = None
    method: Method | None = None
    suffix: Annotated[str | None, Field(max_length=SUFFIX_MAX), AfterValidator(_suffix)] = None
    seed: Annotated[int | None, Field(ge=0, le=SEED_MAX)] = None
    integrations: Annotated[list[Integration] | None, Field(max_length=MAX_INTEGRATIONS)] = None
    metadata: Metadata = None


def _both(body: Any) -> Any:
    """Hyperparameters go in `method` or (deprecated) at the top level, not both: the body's
    `hyperparameters` is then refused where it stands (after model and the files, before the method)."""
    if isinstance(body, dict) and body.get("method") is not None and body.get("hyperparameters") is not None:
        return {k: v for k, v in body.items() if k != "method"} | {"hyperparameters": _BOTH}
    return body


_BOTH = object()


def parse_job_request(body: dict[str, Any]) -> JobRequest:
    """Check every field; the first problem raises the real 400 with `param` naming the field."""
    req = parse(JobBody, _both(body))
    if req.method is None:
        kind, hp = "supervised", req.hyperparameters or SupervisedHyperparameters()
    else:
        kind = req.method.type
        section = getattr(req.method, kind)
        hp = section.hyperparameters if section is not None else \
            (SupervisedHyperparameters() if kind == "supervised" else DpoHyperparameters())
    return JobRequest(model=req.model, training_file=req.training_file,
                      validation_file=req.validation_file or None, method=kind, hyperparameters=dict(sorted(hp.model_dump().items())), suffix=req.suffix,
                      seed=req.seed, integrations=list(body.get("integrations") or []), metadata=req.metadata)

"""Request models of the `/_mock` control plane (the emulator's own API, not OpenAI's), checked and translated
by contracts.requests. Keys a body does not use are ignored, as they always were here; each limit from
contracts.limits, each choice from mockserver.settings."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field

from contracts.limits import FORCED_FAILURE_STAGES, TIME_SCALE_RANGE
from contracts.requests import RequestModel, api_error
from mockserver.settings import ANSWER_FIDELITY, TRANSITIONS

__all__ = ["AdvanceBody", "PolicyBody", "FidelityBody", "FailBody", "SeedBody", "ResetBody"]


class ControlBody(RequestModel):
    model_config = ConfigDict(extra="ignore")


def _one_of(allowed: tuple[str, ...], message: str, *, nullable: bool = True) -> Any:
    """One of `allowed` (or null when `nullable`); else `invalid_value` with `message`."""
    def check(value: Any) -> Any:
        if (value is not None or not nullable) and value not in allowed:
            raise api_error("invalid_value", message)
        return value
    return BeforeValidator(check)


def _seconds(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise api_error("invalid_type", "a number", value)
    if value < 0:
        raise api_error("below_min", 0, value)
    return value


def _time_scale(value: Any) -> Any:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                              or not TIME_SCALE_RANGE[0] <= value <= TIME_SCALE_RANGE[1]):
        raise api_error("invalid_value", f"'{{path}}' must be a number from {TIME_SCALE_RANGE[0]} to "
                                         f"{TIME_SCALE_RANGE[1]:g}.")
    return value


def _seed(value: Any) -> Any:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise api_error("invalid_value", "'{path}' must be a non-negative integer or null.")
    return value


class AdvanceBody(ControlBody):
    """`POST /_mock/clock/advance`: `seconds` ≥ 0 (the clock's own upper bound is checked when it moves)."""

    seconds: Annotated[Any, BeforeValidator(_seconds)] = Field(default=None, validate_default=True)


class PolicyBody(ControlBody):
    """`POST /_mock/policy`: either or both of `transitions`, `time_scale`."""

    transitions: Annotated[Any, _one_of(TRANSITIONS, f"'{{path}}' must be one of "
                                                     f"{', '.join(TRANSITIONS)}.")] = None
    time_scale: Annotated[Any, BeforeValidator(_time_scale)] = None


class FidelityBody(ControlBody):
    """`POST /_mock/answers`: `fidelity` is required; null goes back to the flag."""

    fidelity: Annotated[Any, _one_of(ANSWER_FIDELITY, f"'{{path}}' must be one of {', '.join(ANSWER_FIDELITY)} "
                                                      "or null.")]


class FailBody(ControlBody):
    """`POST /_mock/jobs/{id}/fail`: the stage to fail at and the error the job reports."""

    stage: Annotated[Any, _one_of(FORCED_FAILURE_STAGES, f"'{{path}}' must be one of "
                                  f"{', '.join(FORCED_FAILURE_STAGES)}.", nullable=False)] = "running"
    code: Any = None
    message: Any = None
    param: Any = None


class SeedBody(ControlBody):
    """`POST /_mock/seed`: a non-negative integer, or null for fresh randomness."""

    seed: Annotated[Any, BeforeValidator(_seed)] = None


class ResetBody(ControlBody):
    """`POST /_mock/reset`: everything, or only the tenant of `api_key`."""

    api_key: Any = None

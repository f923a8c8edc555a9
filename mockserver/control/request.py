"""Request models of the `/_mock` control plane (the emulator's own API, not OpenAI's), checked and translated
by contracts.requests. Keys a body does not use are ignored, as they always were here; each limit from
contracts.limits, each choice from mockserver.settings."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, model_validator

from contracts import errors
from contracts.limits import FORCED_FAILURE_STAGES, TIME_SCALE_RANGE
from contracts.requests import RequestModel, api_error, present, reject
from mockserver.chat import fixtures
from mockserver.settings import ANSWER_FIDELITY, TRANSITIONS

__all__ = ["AdvanceBody", "PolicyBody", "FidelityBody", "FailBody", "SeedBody", "ResetBody", "FixtureBody"]


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


# --- /_mock/fixtures -------------------------------------------------------------------------------------

def _named(value: Any) -> Any:
    if not isinstance(value, str) or not value:
        raise api_error("missing_parameter")
    return value


def _error_status(value: Any) -> Any:
    if type(value) is not int or not 400 <= value <= 599:
        raise api_error("invalid_value", f"Invalid '{{path}}': expected an HTTP error status 400-599, got {value!r}.")
    return value


def _text(value: Any) -> Any:
    if not isinstance(value, str):
        raise api_error("missing_parameter")
    return value


def _pattern(value: str | None) -> str | None:
    if value is not None:
        try:
            fixtures.check_pattern(value)
        except errors.APIError as e:
            raise reject(e) from None
    return value


class ToolCallReply(ControlBody):
    name: Annotated[Any, BeforeValidator(_named)] = Field(default=None, validate_default=True)
    arguments: Any = {}


class ErrorReply(ControlBody):
    status: Annotated[Any, BeforeValidator(_error_status)] = Field(default=None, validate_default=True)
    message: Annotated[Any, BeforeValidator(_text)] = Field(default=None, validate_default=True)
    type: Any = None
    code: Any = None
    param: Any = None
    during_stream: Any = None


class Reply(RequestModel):
    """Exactly one of `content`, `tool_call`, `error`; `during_stream` (errors only): after the first chunk."""

    content: str = None  # type: ignore[assignment]    # absent is fine, null is not a string
    tool_call: ToolCallReply = None  # type: ignore[assignment]
    error: ErrorReply = None  # type: ignore[assignment]
    during_stream: Any = None

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: Any) -> Any:
        if isinstance(data, dict) and sum(k in data for k in ("content", "tool_call", "error")) != 1:
            raise api_error("invalid_value", "A fixture reply needs exactly one of 'content', 'tool_call' or "
                                             "'error'.")
        return data

    def stored(self) -> dict:
        """The reply as fixtures keep it: tool-call arguments as a JSON string, error fields as strings."""
        if self.tool_call is not None:
            args = self.tool_call.arguments
            return {"tool_call": {"name": self.tool_call.name,
                                  "arguments": args if isinstance(args, str) else orjson.dumps(args).decode()}}
        if self.error is not None:
            e = self.error
            out = {"status": e.status, "message": e.message}
            out |= {key: str(getattr(e, key)) for key in ("type", "code", "param") if getattr(e, key) is not None}
            out["during_stream"] = bool(e.during_stream if "during_stream" in e.model_fields_set
                                        else self.during_stream or False)
            return {"error": out}
        return {"content": self.content}


class FixtureBody(RequestModel):
    """`POST /_mock/fixtures`: a canned reply for chat requests to `model` (any when absent) whose last user
    message matches `pattern` (an RE2 regular expression; any when absent)."""

    model: str | None = None
    pattern: Annotated[str | None, AfterValidator(_pattern)] = None
    reply: Annotated[Reply, BeforeValidator(present)]

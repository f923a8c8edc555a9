"""`POST /v1/batches` request body as a model (contracts.requests: strict types, unknown keys refused, the
first problem as the real 400); each limit from contracts.limits."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from contracts.limits import (
    BATCH_COMPLETION_WINDOWS,
    BATCH_ENDPOINTS,
    BATCH_SERVED_ENDPOINTS,
    EXPIRES_AFTER_RANGE,
)
from contracts.metadata import Metadata
from contracts.requests import RequestModel, api_error, parse, present

__all__ = ["BatchBody", "parse_create"]


def _supported(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _endpoint(value: str) -> str:
    if value not in BATCH_ENDPOINTS:
        raise api_error("invalid_value", f"Invalid value: '{value}'. Supported values are: "
                                         f"{_supported(BATCH_ENDPOINTS)}.")
    if value not in BATCH_SERVED_ENDPOINTS:
        raise api_error("invalid_value", f"The emulator does not serve '{value}'; its batches run "
                                         f"{_supported(BATCH_SERVED_ENDPOINTS)}.")
    return value


def _window(value: str) -> str:
    if value not in BATCH_COMPLETION_WINDOWS:
        raise api_error("invalid_value", f"Invalid value: '{value}'. Supported values are: "
                                         f"{_supported(BATCH_COMPLETION_WINDOWS)}.")
    return value


def _anchor(value: Any) -> Any:
    if not isinstance(value, str):
        raise api_error("invalid_type", "a string", value)
    if value != "created_at":
        raise api_error("invalid_value", f"Invalid value: '{value}'. Supported values are: 'created_at'.")
    return value


class OutputExpiry(RequestModel):
    anchor: Annotated[Literal["created_at"], BeforeValidator(_anchor), BeforeValidator(present)]
    seconds: Annotated[int, Field(ge=EXPIRES_AFTER_RANGE[0], le=EXPIRES_AFTER_RANGE[1]), BeforeValidator(present)]


class BatchBody(RequestModel):
    """`POST /v1/batches`, as sent."""

    input_file_id: Annotated[str, BeforeValidator(present)]
    endpoint: Annotated[str, AfterValidator(_endpoint), BeforeValidator(present)]
    completion_window: Annotated[str, AfterValidator(_window), BeforeValidator(present)]
    metadata: Metadata = None
    output_expires_after: OutputExpiry | None = None


def parse_create(body: dict) -> dict:
    """The validated create body, or the real 400."""
    parse(BatchBody, body)
    return body

"""`POST /v1/batches` request body: its fields, checked with the chat request's validators (the same
messages and codes); each limit from contracts.limits."""

from __future__ import annotations

from contracts import errors
from contracts.limits import (
    BATCH_COMPLETION_WINDOWS,
    BATCH_ENDPOINTS,
    BATCH_SERVED_ENDPOINTS,
    EXPIRES_AFTER_RANGE,
)
from mockserver.chat import request as cr

__all__ = ["parse_create"]

_FIELDS = frozenset({"input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after"})


def _supported(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def parse_create(body: dict) -> dict:
    """The validated create body, or the real 400."""
    for key in body:
        if key not in _FIELDS:
            raise errors.unknown_parameter(key)
    cr.as_string("input_file_id", cr.required("", body, "input_file_id"))
    endpoint = cr.as_string("endpoint", cr.required("", body, "endpoint"))
    if endpoint not in BATCH_ENDPOINTS:
        raise errors.invalid_value("endpoint", f"Invalid value: '{endpoint}'. Supported values are: "
                                   f"{_supported(BATCH_ENDPOINTS)}.")
    if endpoint not in BATCH_SERVED_ENDPOINTS:
        raise errors.invalid_value("endpoint", f"The emulator does not serve '{endpoint}'; its batches run "
                                   f"{_supported(BATCH_SERVED_ENDPOINTS)}.")
    window = cr.as_string("completion_window", cr.required("", body, "completion_window"))
    if window not in BATCH_COMPLETION_WINDOWS:
        raise errors.invalid_value("completion_window", f"Invalid value: '{window}'. Supported values are: "
                                   f"{_supported(BATCH_COMPLETION_WINDOWS)}.")
    if body.get("metadata") is not None:
        cr.check_metadata("metadata", body["metadata"])
    if body.get("output_expires_after") is not None:
        exp = cr.as_object("output_expires_after", body["output_expires_after"])
        cr.no_unknown("output_expires_after", exp, {"anchor", "seconds"})
        cr.as_enum("output_expires_after.anchor", cr.required("output_expires_after", exp, "anchor"), ("created_at",))
        cr.as_int("output_expires_after.seconds", cr.required("output_expires_after", exp, "seconds"), *EXPIRES_AFTER_RANGE)
    return body

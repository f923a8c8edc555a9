"""`metadata` on every endpoint that takes it (fine-tuning jobs, chat completions, responses, batches): at
most METADATA_MAX_PAIRS string pairs, keys up to METADATA_KEY_MAX and values up to METADATA_VALUE_MAX
characters. One check, so the same limit answers the same code everywhere."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from contracts import errors
from contracts.limits import METADATA_KEY_MAX, METADATA_MAX_PAIRS, METADATA_VALUE_MAX
from contracts.requests import reject

__all__ = ["check_metadata", "Metadata"]


def check_metadata(param: str, value: Any) -> dict[str, str] | None:
    """`value` when it is valid metadata (None passes), else the API's 400 for `param`."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise errors.invalid_type(param, "an object", value)
    if len(value) > METADATA_MAX_PAIRS:
        raise errors.BadRequest(f"Invalid '{param}': too many properties. Expected an object with at most "
                                f"{METADATA_MAX_PAIRS} properties, but got {len(value)} instead.",
                                param=param, code="object_above_max_properties")
    for key, item in value.items():
        if len(key) > METADATA_KEY_MAX:
            raise errors.BadRequest(f"Invalid '{param}': key {key[:20]!r}… is longer than {METADATA_KEY_MAX} "
                                    "characters.", param=param, code="string_above_max_length")
        if not isinstance(item, str):
            raise errors.invalid_type(f"{param}.{key}", "a string", item)
        if len(item) > METADATA_VALUE_MAX:
            raise errors.string_too_long(f"{param}.{key}", METADATA_VALUE_MAX, len(item))
    return value


def _checked(value: Any) -> Any:
    try:
        return check_metadata("metadata", value)
    except errors.APIError as e:
        raise reject(e) from None


Metadata = Annotated[dict[str, str] | None, BeforeValidator(_checked)]
"""A request model's top-level `metadata` field, checked by `check_metadata` (the chat hot path calls it
directly)."""

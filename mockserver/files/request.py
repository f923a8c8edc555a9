"""Request models of `/v1/files` (the multipart form's fields) and `/v1/uploads` (create and complete bodies),
checked and translated by contracts.requests; each limit from contracts.limits."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, ValidationInfo, WrapValidator

from contracts import errors
from contracts.limits import (
    EXPIRES_AFTER_RANGE,
    FILE_PURPOSES,
    FILENAME_MAX,
    MAX_UPLOAD_BYTES,
    MIME_TYPE_MAX,
    UPLOAD_PURPOSES,
)
from contracts.requests import RequestModel, api_error, present, reject

__all__ = ["FileForm", "UploadBody", "CompleteBody"]


def _purpose(allowed: tuple[str, ...], name: str) -> Any:
    """One of `allowed`; with `require_jsonl` in the validation context (`--require-jsonl-extension`), a
    fine-tune file's name (the field `name`) must end in .jsonl."""
    def check(value: str, info: ValidationInfo) -> str:
        if value not in allowed:
            raise reject(errors.bad_purpose(value, allowed))
        filename = info.data.get(name) or ""
        jsonl = filename.lower().endswith(".jsonl")
        if (info.context or {}).get("require_jsonl") and value == "fine-tune" and not jsonl:
            raise reject(errors.not_jsonl())
        return value
    return AfterValidator(check)


def _filled(value: Any) -> Any:
    """A form field sent empty is not sent."""
    if value is None or value == "":
        raise api_error("missing_parameter")
    return value


def _created_at(value: Any) -> Any:
    if value != "created_at":
        raise api_error("invalid_value", "Invalid '{path}': expected 'created_at'.")
    return value


def _form_seconds(value: Any) -> int:
    """`expires_after[seconds]`: a form field holding a whole number of seconds in EXPIRES_AFTER_RANGE."""
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()):   # int() refuses "²"
        raise api_error("invalid_type", "an integer", value)
    seconds, (low, high) = int(value), EXPIRES_AFTER_RANGE
    if seconds < low:
        raise api_error("below_min", low, seconds)
    if seconds > high:
        raise api_error("above_max", high, seconds)
    return seconds


class FormExpiry(RequestModel):
    model_config = ConfigDict(extra="ignore")
    anchor: Annotated[Any, AfterValidator(_created_at)] = Field(default=None, validate_default=True)
    seconds: Annotated[Any, BeforeValidator(_form_seconds)] = Field(default=None, validate_default=True)


class FileForm(RequestModel):
    """`POST /v1/files`: the file part's name (`file`), `purpose`, `expires_after[anchor|seconds]`; other
    form fields are ignored, as the real API does."""

    model_config = ConfigDict(extra="ignore")
    file: Annotated[str | None, Field(max_length=FILENAME_MAX)] = None
    purpose: Annotated[str, BeforeValidator(_filled), _purpose(FILE_PURPOSES, "file")] = \
        Field(default=None, validate_default=True)
    expires_after: FormExpiry | None = None

    @classmethod
    def of(cls, filename: str | None, fields: dict[str, str]) -> dict[str, Any]:
        """The model's input from a received multipart form."""
        body: dict[str, Any] = {"file": filename, "purpose": fields.get("purpose")}
        expiry = {k: fields[f"expires_after[{k}]"] for k in ("anchor", "seconds")
                  if f"expires_after[{k}]" in fields}
        if expiry:
            body["expires_after"] = expiry
        return body


class UploadBody(RequestModel):
    """`POST /v1/uploads`; every missing field is reported before any other problem."""

    _missing_first: ClassVar[bool] = True
    filename: Annotated[str, Field(max_length=FILENAME_MAX)]
    purpose: Annotated[str, _purpose(UPLOAD_PURPOSES, "filename")]
    bytes: Annotated[int, Field(ge=0, le=MAX_UPLOAD_BYTES)]
    mime_type: Annotated[str, Field(max_length=MIME_TYPE_MAX)]
    expires_after: Any = None     # accepted; uploads expire UPLOAD_TTL_SECONDS after creation regardless


def _strings(value: Any, handler: Any) -> list[str]:
    try:
        return handler(value)
    except ValueError:
        raise api_error("invalid_type", "an array of strings", value) from None


def _distinct(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise api_error("invalid_value", "Each part id may appear only once in '{path}'.")
    return value


class CompleteBody(RequestModel):
    """`POST /v1/uploads/{id}/complete`."""

    part_ids: Annotated[list[str], WrapValidator(_strings), AfterValidator(_distinct), BeforeValidator(present)]
    md5: str | None = None

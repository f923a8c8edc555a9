"""Error types, codes and messages of the real API; raised deep, rendered once at the edge.

    APIError                     status, type, code, param, message → {"error": {...}}
    ├── BadRequest               400 invalid_request_error
    ├── Unauthorized             401 invalid_request_error
    ├── PermissionDenied         403 invalid_request_error
    ├── NotFound                 404 invalid_request_error
    ├── MethodNotAllowed         405 invalid_request_error
    ├── Conflict                 409 invalid_request_error
    ├── PayloadTooLarge          413 invalid_request_error
    ├── RateLimited              429 (fixtures only)
    └── ServerError              500 server_error

Every error is deterministic, so the envelope is sent with `x-should-retry: false` unless the
status is one the SDK should retry (429 and 5xx raised on purpose by fixtures).
"""

from __future__ import annotations

import builtins
from typing import Any

from contracts.limits import FILE_PURPOSES

__all__ = [
    "APIError", "BadRequest", "Unauthorized", "PermissionDenied", "NotFound", "MethodNotAllowed", "Conflict",
    "PayloadTooLarge", "RateLimited", "ServerError", "envelope",
    "missing_api_key", "invalid_api_key", "no_such_file", "no_such_object", "bad_purpose",
    "not_jsonl", "invalid_training_file", "model_not_available", "model_not_found", "unknown_parameter",
    "missing_parameter", "invalid_type", "above_max", "below_min", "invalid_value", "string_too_long", "empty_string",
    "array_too_long", "route_not_found",
    "method_not_allowed", "file_too_large", "invalid_json_body", "unsupported_parameter", "unsupported_value",
]


class APIError(Exception):
    """An error the API answers with; `status` and `type` come from the subclass."""

    status = 400
    type = "invalid_request_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None,
                 status: int | None = None, type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        if status is not None:
            self.status = status
        if type is not None:
            self.type = type

    def body(self) -> dict[str, Any]:
        return envelope(self.message, type=self.type, param=self.param, code=self.code)


def _kind(name: str, status: int, doc: str, type: str = "invalid_request_error") -> type[APIError]:
    """One APIError subclass of the table below (the tree in this module's docstring)."""
    return builtins.type(name, (APIError,), {"status": status, "type": type, "__doc__": doc, "__module__": __name__})


BadRequest = _kind("BadRequest", 400, "400: a request the API refuses as written.")
Unauthorized = _kind("Unauthorized", 401, "401: no key, or a key the emulator's key ring refuses.")
PermissionDenied = _kind("PermissionDenied", 403, "403: the caller may not do this (the control plane's guard).")
NotFound = _kind("NotFound", 404, "404: unknown, deleted, or another tenant's object (never told apart), "
                 "or an unknown route.")
MethodNotAllowed = _kind("MethodNotAllowed", 405, "405: a known route, another method.")
Conflict = _kind("Conflict", 409, "409: the object's state forbids the action (the Batch API's cancel of a "
                 "finished batch).")
PayloadTooLarge = _kind("PayloadTooLarge", 413, "413: a body or file over its limit (contracts.limits).")
RateLimited = _kind("RateLimited", 429, "429: raised by fixtures only.", "requests")
ServerError = _kind("ServerError", 500, "500: an internal error (or a fixture's).", "server_error")


def envelope(message: str, *, type: str = "invalid_request_error", param: str | None = None,
             code: str | None = None) -> dict[str, Any]:
    """The one error body shape: all four keys, nulls kept."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


# --- Messages as the real API words them (reference §2.4, §3, §5) ---------------------------------

_KEYS_URL = "https://platform.openai.com/account/api-keys"


def missing_api_key() -> Unauthorized:
    return Unauthorized(
        "You didn't provide an API key. You need to provide your API key in an Authorization header "
        "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank "
        "username) if you're accessing the API from your browser and are prompted for a username and "
        f"password. You can obtain an API key from {_KEYS_URL}.")


def _mask(key: str) -> str:
    return key if len(key) <= 8 else f"{key[:3]}{'*' * min(len(key) - 7, 40)}{key[-4:]}"


def invalid_api_key(key: str) -> Unauthorized:
    return Unauthorized(f"Incorrect API key provided: {_mask(key)}. You can find your API key at {_KEYS_URL}.",
                        code="invalid_api_key")


def no_such_file(file_id: str) -> NotFound:
    return NotFound(f"No such File object: {file_id}", param="id")


def no_such_object(kind: str, object_id: str, param: str) -> NotFound:
    return NotFound(f"No such {kind} object: {object_id}", param=param)


def bad_purpose(purpose: object, allowed: tuple[str, ...] = FILE_PURPOSES) -> BadRequest:
    listed = ", ".join(f"'{p}'" for p in allowed)
    return BadRequest(f"{purpose!r} is not one of [{listed}] - 'purpose'", param="purpose")


def not_jsonl() -> BadRequest:
    return BadRequest("Invalid file format for Fine-Tuning API. Must be .jsonl", param="file")


def invalid_training_file(file_id: str, param: str = "training_file") -> BadRequest:
    prefix = "training_file" if param == "training_file" else "validation_file"
    return BadRequest(f"invalid {prefix}: {file_id}", param=param)


def model_not_available(model: str) -> BadRequest:
    return BadRequest(f"Model {model} is not available for fine-tuning or does not exist.",
                      param="model", code="model_not_available")


def model_not_found(model: str, *, param: str | None = None) -> NotFound:
    return NotFound(f"The model `{model}` does not exist or you do not have access to it.",
                    param=param, code="model_not_found")


def unknown_parameter(path: str) -> BadRequest:
    return BadRequest(f"Unknown parameter: '{path}'.", param=path, code="unknown_parameter")


def unsupported_parameter(path: str, where: str = "with this model") -> BadRequest:
    """A known parameter the model cannot honour (the real text, e.g. for `reasoning.effort` on gpt-4o)."""
    return BadRequest(f"Unsupported parameter: '{path}' is not supported {where}.", param=path,
                      code="unsupported_parameter")


def unsupported_value(path: str, value: object, supported: tuple[str, ...], where: str = "with this model"
                      ) -> BadRequest:
    """A value of a known parameter the model cannot honour (the real wording of `reasoning_effort`'s)."""
    listed = ", ".join(f"'{s}'" for s in supported[:-1]) + (" and " if len(supported) > 1 else "") + \
        f"'{supported[-1]}'"
    return BadRequest(f"Unsupported value: '{path}' does not support '{value}' {where}. Supported values are: "
                      f"{listed}.", param=path, code="unsupported_value")


def missing_parameter(path: str) -> BadRequest:
    return BadRequest(f"Missing required parameter: '{path}'.", param=path, code="missing_required_parameter")


def invalid_type(path: str, expected: str, got: object) -> BadRequest:
    return BadRequest(f"Invalid type for '{path}': expected {expected}, but got {_type_name(got)} instead.",
                      param=path, code="invalid_type")


def above_max(path: str, limit: float, got: float) -> BadRequest:
    kind = "integer" if isinstance(got, int) and isinstance(limit, int) else "decimal"
    return BadRequest(f"Invalid '{path}': {kind} above maximum value. Expected a value <= {_num(limit)}, "
                      f"but got {_num(got)} instead.", param=path, code=f"{kind}_above_max_value")


def below_min(path: str, limit: float, got: float, *, exclusive: bool = False) -> BadRequest:
    kind = "integer" if isinstance(got, int) and isinstance(limit, int) else "decimal"
    op = ">" if exclusive else ">="
    return BadRequest(f"Invalid '{path}': {kind} below minimum value. Expected a value {op} {_num(limit)}, "
                      f"but got {_num(got)} instead.", param=path, code=f"{kind}_below_min_value")


def string_too_long(path: str, limit: int, got: int) -> BadRequest:
    return BadRequest(f"Invalid '{path}': string too long. Expected a string with maximum length {limit}, "
                      f"but got a string with length {got} instead.", param=path, code="string_above_max_length")


def empty_string(path: str) -> BadRequest:
    return invalid_value(path, f"Invalid '{path}': empty string. Expected a non-empty string.")


def array_too_long(path: str, limit: int, got: int) -> BadRequest:
    return BadRequest(f"Invalid '{path}': array too long. Expected an array with maximum length {limit}, but got "
                      f"an array with length {got} instead.", param=path, code="array_above_max_length")


def invalid_value(path: str, message: str) -> BadRequest:
    return BadRequest(message, param=path, code="invalid_value")


def route_not_found(method: str, path: str) -> NotFound:
    return NotFound(f"Invalid URL ({method} {path})", code="unknown_url")


def method_not_allowed(method: str, path: str) -> MethodNotAllowed:
    return MethodNotAllowed(f"Invalid method for URL ({method} {path})", code="method_not_allowed")


def file_too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"File is too large. The maximum file size is {limit // (1024 * 1024)} MB.",
                           param="file", code="file_too_large")


def invalid_json_body(detail: str) -> BadRequest:
    return BadRequest(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
        "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
        f"JSON. If you have trouble figuring out how to fix this, please contact us.) Detail: {detail}",
        code="invalid_json")


def _num(x: float) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def _type_name(x: object) -> str:
    return {bool: "a boolean", int: "an integer", float: "a decimal", str: "a string", list: "an array",
            dict: "an object", type(None): "null"}.get(type(x), type(x).__name__)

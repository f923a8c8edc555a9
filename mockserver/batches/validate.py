"""The `validating` stage of a batch: one streaming pass over the input file, the real per-line errors.

Each non-blank line must be a JSON object with `custom_id` (unique in the file), `method` `POST`, `url`
equal to the batch's endpoint and a `body` object with a `model` (one model per batch, one the caller can
use) and the endpoint's required input, not streamed. Errors are collected as the real `errors.data`
entries `{code, message, param, line}` (line numbers count every physical line from 1), at most
MAX_ERRORS of them; any error fails the batch. Memory holds the set of custom ids (bounded by the
50,000-request limit), never the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import orjson

from contracts import errors
from contracts.limits import BATCH_MAX_BYTES, BATCH_MAX_REQUESTS

__all__ = ["Report", "validate_input", "MAX_ERRORS", "line_error"]

MAX_ERRORS = 1000
_NAMES = {"/v1/chat/completions": "Chat Completions", "/v1/completions": "Completions", "/v1/responses": "Responses"}
_INPUT = {"/v1/chat/completions": "messages", "/v1/completions": "prompt", "/v1/responses": "input"}


@dataclass(slots=True)
class Report:
    total: int = 0
    model: str | None = None
    errors: list[dict] = field(default_factory=list)


def line_error(code: str, message: str, param: str | None, line: int | None) -> dict:
    return {"code": code, "message": message, "param": param, "line": line}


def _check_line(raw: bytes, n: int, endpoint: str, seen: set[str], report: Report,
                model_ok: Callable[[str], bool]) -> dict | None:
    try:
        req = orjson.loads(raw)
    except orjson.JSONDecodeError:
        req = None
    if not isinstance(req, dict):
        return line_error("invalid_json_line", "This line is not parseable as valid JSON.", None, n)
    for key in ("custom_id", "method", "url", "body"):
        if req.get(key) is None:
            return line_error("missing_required_parameter", f"Missing required parameter: '{key}'.", key, n)
    if not isinstance(req["custom_id"], str):
        return line_error("invalid_type", errors.invalid_type("custom_id", "a string", req["custom_id"]).message,
                          "custom_id", n)
    if req["custom_id"] in seen:
        return line_error("duplicate_custom_id", "The custom_id for this request is a duplicate of another "
                          "request. The custom_id parameter must be unique for each individual request in a "
                          "batch.", "custom_id", n)
    seen.add(req["custom_id"])
    if req["method"] != "POST":
        return line_error("invalid_value", f"Invalid value: '{req['method']}'. Supported values are: 'POST'.",
                          "method", n)
    if req["url"] != endpoint:
        return line_error("invalid_url", "The URL provided for this request does not match the batch endpoint.",
                          "url", n)
    body = req["body"]
    if not isinstance(body, dict):
        return line_error("invalid_type", errors.invalid_type("body", "an object", body).message, "body", n)
    return _check_body(body, n, endpoint, report, model_ok)


def _check_body(body: dict, n: int, endpoint: str, report: Report, model_ok: Callable[[str], bool]) -> dict | None:
    if body.get("stream"):
        return line_error("streaming_unsupported", f"{_NAMES[endpoint]}: Streaming is not supported in the Batch "
                          "API.", "body.stream", n)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return line_error("invalid_request", "Model parameter is required.", "body.model", n)
    key = _INPUT[endpoint]
    if body.get(key) is None and not (key == "input" and body.get("previous_response_id")):
        return line_error("invalid_request", f"{key.capitalize()} parameter is required.", f"body.{key}", n)
    if report.model is None:
        if not model_ok(model):
            return line_error("model_not_found", f"The provided model '{model}' is not supported by the Batch "
                              "API.", "body.model", n)
        report.model = model
    elif model != report.model:
        return line_error("mismatched_model", f"The provided model '{model}' does not match the model "
                          f"'{report.model}' of the other requests in this batch: each batch holds requests to "
                          "one model.", "body.model", n)
    return None


def validate_input(f: BinaryIO, size: int, endpoint: str, model_ok: Callable[[str], bool]) -> Report:
    """Stream the input file (`size` bytes) once; the report says how many requests it holds and what is
    wrong."""
    report = Report()
    if size > BATCH_MAX_BYTES:
        report.errors.append(line_error("invalid_request", f"The input file is larger than the maximum of "
                                        f"{BATCH_MAX_BYTES // (1024 * 1024)} MB.", "input_file_id", None))
        return report
    seen: set[str] = set()
    for n, raw in enumerate(f, start=1):
        if not raw.strip():
            continue
        report.total += 1
        if report.total > BATCH_MAX_REQUESTS:
            report.errors.append(line_error("invalid_request", f"The input file holds more than the maximum "
                                            f"of {BATCH_MAX_REQUESTS:,} requests.", "input_file_id", n))
            break
        problem = _check_line(raw, n, endpoint, seen, report, model_ok)
        if problem is not None and len(report.errors) < MAX_ERRORS:
            report.errors.append(problem)
    if report.total == 0:
        report.errors.append(line_error("invalid_request", "The input file is empty: a batch needs at least one "
                                        "request.", "input_file_id", None))
    return report

"""The response contract on the wire: every object we send, its SDK model and OpenAPI schema.

Responses: each *kind* (the `object` value, or `list.<what>` for list envelopes, `error` for the error
envelope) maps to the `openai.types` model the official SDK parses it into and to the component schema
of the official OpenAPI spec that describes it. `contracts.conformance.check(kind, payload)` checks a
payload against both.

Requests are not modelled here: the request models (contracts/jobs.py, mockserver/*/request.py; see
contracts/requests.py) and the hand-parsed hot path (mockserver/chat/request.py) are the request contract,
pinned by tests/contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pydantic
from openai.types import Batch, Completion, FileDeleted, FileObject, Model, ModelDeleted, Upload
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint
from openai.types.responses import Response, ResponseItem, ResponseStreamEvent
from openai.types.responses.input_token_count_response import InputTokenCountResponse
from openai.types.shared import ErrorObject
from openai.types.uploads import UploadPart
from pydantic import ConfigDict

__all__ = [
    "Shape", "SHAPES", "KINDS", "shape", "kind_of",
    "FileList", "JobList", "EventList", "CheckpointList", "ModelList", "ErrorEnvelope", "InputItemList", "BatchList",
    "ResponseEvent",
]


# --- List envelopes and the error envelope (the SDK has page classes, not plain models, for these) -------

class _Envelope(pydantic.BaseModel):
    model_config = ConfigDict(extra="allow")


class FileList(_Envelope):
    """`GET /files` [S ListFilesResponse]."""

    object: Literal["list"]
    data: list[FileObject]
    first_id: str | None
    last_id: str | None
    has_more: bool


class JobList(_Envelope):
    """`GET /fine_tuning/jobs` [S ListPaginatedFineTuningJobsResponse]."""

    object: Literal["list"]
    data: list[FineTuningJob]
    has_more: bool


class EventList(_Envelope):
    """`GET /fine_tuning/jobs/{id}/events` [S ListFineTuningJobEventsResponse]."""

    object: Literal["list"]
    data: list[FineTuningJobEvent]
    has_more: bool


class CheckpointList(_Envelope):
    """`GET /fine_tuning/jobs/{id}/checkpoints` [S ListFineTuningJobCheckpointsResponse]."""

    object: Literal["list"]
    data: list[FineTuningJobCheckpoint]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool


class ModelList(_Envelope):
    """`GET /models` [S ListModelsResponse]: never paginated."""

    object: Literal["list"]
    data: list[Model]


class InputItemList(_Envelope):
    """`GET /responses/{id}/input_items` [S ResponseItemList]."""

    object: Literal["list"]
    data: list[ResponseItem]
    first_id: str | None
    last_id: str | None
    has_more: bool


class BatchList(_Envelope):
    """`GET /batches` [S ListBatchesResponse]."""

    object: Literal["list"]
    data: list[Batch]
    first_id: str | None
    last_id: str | None
    has_more: bool


class ResponseEvent(pydantic.RootModel[ResponseStreamEvent]):  # type: ignore[type-var]
    """One event of a streamed response [S ResponseStreamEvent] (the SDK's union, as a model)."""


class ErrorEnvelope(_Envelope):
    """`{"error": {message, type, param, code}}` [S ErrorResponse]."""

    error: ErrorObject


# --- The response contract ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Shape:
    """One kind of response body: the SDK model that parses it and the OpenAPI component describing it."""

    kind: str
    sdk: type[pydantic.BaseModel]
    schema: str
    endpoint: str
    item: str | None = None     # list envelopes: the kind of the items in `data`


_S = Shape
SHAPES: dict[str, Shape] = {s.kind: s for s in (
    # files and uploads
    _S("file", FileObject, "OpenAIFile", "POST /files, GET /files/{id}"),
    _S("file.deleted", FileDeleted, "DeleteFileResponse", "DELETE /files/{id}"),
    _S("list.files", FileList, "ListFilesResponse", "GET /files", "file"),
    _S("upload", Upload, "Upload", "POST /uploads[/{id}/complete|cancel]"),
    _S("upload.part", UploadPart, "UploadPart", "POST /uploads/{id}/parts"),
    # fine-tuning jobs
    _S("fine_tuning.job", FineTuningJob, "FineTuningJob", "POST /fine_tuning/jobs, GET …/{id}, cancel/pause/resume"),
    _S("list.jobs", JobList, "ListPaginatedFineTuningJobsResponse", "GET /fine_tuning/jobs", "fine_tuning.job"),
    _S("fine_tuning.job.event", FineTuningJobEvent, "FineTuningJobEvent", "GET /fine_tuning/jobs/{id}/events"),
    _S("list.events", EventList, "ListFineTuningJobEventsResponse", "GET /fine_tuning/jobs/{id}/events",
       "fine_tuning.job.event"),
    _S("fine_tuning.job.checkpoint", FineTuningJobCheckpoint, "FineTuningJobCheckpoint",
       "GET /fine_tuning/jobs/{id}/checkpoints"),
    _S("list.checkpoints", CheckpointList, "ListFineTuningJobCheckpointsResponse",
       "GET /fine_tuning/jobs/{id}/checkpoints", "fine_tuning.job.checkpoint"),
    # models
    _S("model", Model, "Model", "GET /models/{id}"),
    _S("model.deleted", ModelDeleted, "DeleteModelResponse", "DELETE /models/{id}"),
    _S("list.models", ModelList, "ListModelsResponse", "GET /models", "model"),
    # chat and legacy completions
    _S("chat.completion", ChatCompletion, "CreateChatCompletionResponse", "POST /chat/completions"),
    _S("chat.completion.chunk", ChatCompletionChunk, "CreateChatCompletionStreamResponse",
       "POST /chat/completions (stream)"),
    _S("text_completion", Completion, "CreateCompletionResponse", "POST /completions (legacy)"),
    # responses
    _S("response", Response, "Response", "POST /responses, GET /responses/{id}, cancel"),
    _S("response.event", ResponseEvent, "ResponseStreamEvent", "POST /responses (stream)"),
    _S("response.input_tokens", InputTokenCountResponse, "TokenCountsResource", "POST /responses/input_tokens"),
    _S("list.input_items", InputItemList, "ResponseItemList", "GET /responses/{id}/input_items"),
    # batches
    _S("batch", Batch, "Batch", "POST /batches, GET /batches/{id}, cancel"),
    _S("list.batches", BatchList, "ListBatchesResponse", "GET /batches", "batch"),
    # errors
    _S("error", ErrorEnvelope, "ErrorResponse", "every 4xx/5xx"),
)}
KINDS = tuple(SHAPES)


def shape(kind: str) -> Shape:
    """The Shape of `kind`; KeyError names the known kinds."""
    try:
        return SHAPES[kind]
    except KeyError:
        raise KeyError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}") from None


def kind_of(payload: dict[str, Any]) -> str:
    """The kind of a single object from its `object` field (`deleted` objects and the error envelope too).

    List envelopes all say `object: "list"`; name them explicitly (`list.files`, …)."""
    if "error" in payload and "object" not in payload:
        return "error"
    obj = payload.get("object")
    if payload.get("deleted") is not None:
        return {"file": "file.deleted", "model": "model.deleted"}.get(obj, "model.deleted")
    if obj in SHAPES:
        return obj
    raise KeyError(f"cannot tell the kind of an object with object={obj!r}")

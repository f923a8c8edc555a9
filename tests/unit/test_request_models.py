"""Every error path of the cold endpoints' request models (uploads, the files form, the control plane and
its fixtures, batches, list queries) answers what the hand-written checks they replaced answered: param, code and message were recorded
from those checks (the job-request model has its own property test: tests/property/test_job_request_model.py).
Checked on the models directly, without a server."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import errors
from contracts.requests import parse
from mockserver.batches.request import BatchBody
from mockserver.batches.router import BatchesQuery
from mockserver.control.request import AdvanceBody, FailBody, FidelityBody, FixtureBody, PolicyBody, SeedBody
from mockserver.files.request import CompleteBody, FileForm, UploadBody
from mockserver.files.routes import FilesQuery
from mockserver.jobs.routes import CheckpointsQuery, EventsQuery, JobsQuery
from mockserver.responses.router import InputItemsQuery


def form(filename: str | None, fields: dict[str, str]) -> dict[str, Any]:
    return FileForm.of(filename, fields)


# (model, body, param, code, message[, --require-jsonl-extension]); the batch anchor's message lost a stray
# "  and" the hand-written check printed ("Supported values are:  and 'created_at'.")
CASES = [
    (UploadBody, {}, 'filename', 'missing_required_parameter', "Missing required parameter: 'filename'."),
    (UploadBody, {'x': 1}, 'x', 'unknown_parameter', "Unknown parameter: 'x'."),
    (UploadBody, {'filename': 'a.jsonl', 'purpose': 'fine-tune', 'bytes': 10, 'mime_type': 'text/jsonl', 'x': 1}, 'x', 'unknown_parameter', "Unknown parameter: 'x'."),
    (UploadBody, {'filename': 5}, 'purpose', 'missing_required_parameter', "Missing required parameter: 'purpose'."),
    (UploadBody, {'purpose': 'fine-tune'}, 'filename', 'missing_required_parameter', "Missing required parameter: 'filename'."),
    (UploadBody, {'filename': None, 'purpose': 'fine-tune', 'bytes': 10, 'mime_type': 'text/jsonl'}, 'filename', 'invalid_type', "Invalid type for 'filename': expected a string, but got null instead."),
    (UploadBody, {'filename': 'a' * 513, 'purpose': 'fine-tune', 'bytes': 10, 'mime_type': 'text/jsonl'}, 'filename', 'string_above_max_length', "Invalid 'filename': string too long. Expected a string with maximum length 512, but got a string with length 513 instead."),
    (UploadBody, {'filename': 'a.jsonl', 'purpose': 'nope', 'bytes': 10, 'mime_type': 'text/jsonl'}, 'purpose', None, "'nope' is not one of ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] - 'purpose'"),
    (UploadBody, {'filename': 'a.jsonl', 'purpose': 5, 'bytes': 10, 'mime_type': 'text/jsonl'}, 'purpose', 'invalid_type', "Invalid type for 'purpose': expected a string, but got an integer instead."),
    (UploadBody, {'filename': 'a.jsonl', 'purpose': 'fine-tune', 'bytes': '5', 'mime_type': 'text/jsonl'}, 'bytes', 'invalid_type', "Invalid type for 'bytes': expected an integer, but got a string instead."),
    (UploadBody, {'filename': 'a.jsonl', 'purpose': 'fine-tune', 'bytes': True, 'mime_type': 'text/jsonl'}, 'bytes', 'invalid_type', "Invalid type for 'bytes': expected an integer, but got a boolean instead."),
    (UploadBody, {'filename': 'a.jsonl', 'purpose': 'fine-tune', 'bytes': -1, 'mime_type': 'text/jsonl'}, 'bytes', 'integer_below_min_value', "Invalid 'bytes': integer below minimum value. Expected a value >= 0, but got -1 instead."),
    (UploadBody, {'filename': 'a.jsonl', 'purpose': 'fine-tune', 'bytes': 1099511627776, 'mime_type': 'text/jsonl'}, 'bytes', 'integer_above_max_value', "Invalid 'bytes': integer above maximum value. Expected a value <= 8589934592, but got 1099511627776 instead."),
    (UploadBody, {'filename': 'a.jsonl', 'purpose': 'fine-tune', 'bytes': 10, 'mime_type': 'mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm'}, 'mime_type', 'string_above_max_length', "Invalid 'mime_type': string too long. Expected a string with maximum length 255, but got a string with length 256 instead."),
    (UploadBody, {'filename': 'a.jsonl', 'purpose': 'fine-tune', 'bytes': 10, 'mime_type': None}, 'mime_type', 'invalid_type', "Invalid type for 'mime_type': expected a string, but got null instead."),
    (UploadBody, {'filename': 'a.jsonl', 'purpose': 'nope', 'bytes': -1, 'mime_type': 'text/jsonl'}, 'purpose', None, "'nope' is not one of ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] - 'purpose'"),
    (UploadBody, {'filename': 1, 'purpose': 2, 'bytes': 10, 'mime_type': 'text/jsonl'}, 'filename', 'invalid_type', "Invalid type for 'filename': expected a string, but got an integer instead."),
    (UploadBody, {'filename': 'a.jsonl', 'purpose': 'fine-tune', 'bytes': 1.5, 'mime_type': 'text/jsonl'}, 'bytes', 'invalid_type', "Invalid type for 'bytes': expected an integer, but got a decimal instead."),
    (CompleteBody, {}, 'part_ids', 'missing_required_parameter', "Missing required parameter: 'part_ids'."),
    (CompleteBody, {'part_ids': None}, 'part_ids', 'missing_required_parameter', "Missing required parameter: 'part_ids'."),
    (CompleteBody, {'part_ids': 'x'}, 'part_ids', 'invalid_type', "Invalid type for 'part_ids': expected an array of strings, but got a string instead."),
    (CompleteBody, {'part_ids': [1]}, 'part_ids', 'invalid_type', "Invalid type for 'part_ids': expected an array of strings, but got an array instead."),
    (CompleteBody, {'part_ids': ['a', 'a']}, 'part_ids', 'invalid_value', "Each part id may appear only once in 'part_ids'."),
    (CompleteBody, {'part_ids': [], 'x': 1}, 'x', 'unknown_parameter', "Unknown parameter: 'x'."),
    (AdvanceBody, {}, 'seconds', 'invalid_type', "Invalid type for 'seconds': expected a number, but got null instead."),
    (AdvanceBody, {'seconds': None}, 'seconds', 'invalid_type', "Invalid type for 'seconds': expected a number, but got null instead."),
    (AdvanceBody, {'seconds': '5'}, 'seconds', 'invalid_type', "Invalid type for 'seconds': expected a number, but got a string instead."),
    (AdvanceBody, {'seconds': True}, 'seconds', 'invalid_type', "Invalid type for 'seconds': expected a number, but got a boolean instead."),
    (AdvanceBody, {'seconds': -1}, 'seconds', 'integer_below_min_value', "Invalid 'seconds': integer below minimum value. Expected a value >= 0, but got -1 instead."),
    (AdvanceBody, {'seconds': -0.5}, 'seconds', 'decimal_below_min_value', "Invalid 'seconds': decimal below minimum value. Expected a value >= 0, but got -0.5 instead."),
    (PolicyBody, {'transitions': 'nope'}, 'transitions', 'invalid_value', "'transitions' must be one of realtime, immediate, manual."),
    (PolicyBody, {'transitions': 5}, 'transitions', 'invalid_value', "'transitions' must be one of realtime, immediate, manual."),
    (PolicyBody, {'time_scale': 0}, 'time_scale', 'invalid_value', "'time_scale' must be a number from 0.001 to 1e+09."),
    (PolicyBody, {'time_scale': True}, 'time_scale', 'invalid_value', "'time_scale' must be a number from 0.001 to 1e+09."),
    (PolicyBody, {'time_scale': '1'}, 'time_scale', 'invalid_value', "'time_scale' must be a number from 0.001 to 1e+09."),
    (PolicyBody, {'time_scale': 10000000000.0}, 'time_scale', 'invalid_value', "'time_scale' must be a number from 0.001 to 1e+09."),
    (FidelityBody, {}, 'fidelity', 'missing_required_parameter', "Missing required parameter: 'fidelity'."),
    (FidelityBody, {'fidelity': 'nope'}, 'fidelity', 'invalid_value', "'fidelity' must be one of exact, epochs or null."),
    (FidelityBody, {'fidelity': 5}, 'fidelity', 'invalid_value', "'fidelity' must be one of exact, epochs or null."),
    (SeedBody, {'seed': -1}, 'seed', 'invalid_value', "'seed' must be a non-negative integer or null."),
    (SeedBody, {'seed': True}, 'seed', 'invalid_value', "'seed' must be a non-negative integer or null."),
    (SeedBody, {'seed': '1'}, 'seed', 'invalid_value', "'seed' must be a non-negative integer or null."),
    (SeedBody, {'seed': 1.5}, 'seed', 'invalid_value', "'seed' must be a non-negative integer or null."),
    (FailBody, {'stage': 'nope'}, 'stage', 'invalid_value', "'stage' must be one of validating_files, queued, running."),
    (FailBody, {'stage': None}, 'stage', 'invalid_value', "'stage' must be one of validating_files, queued, running."),
    (FailBody, {'stage': 5}, 'stage', 'invalid_value', "'stage' must be one of validating_files, queued, running."),
    (BatchBody, {}, 'input_file_id', 'missing_required_parameter', "Missing required parameter: 'input_file_id'."),
    (BatchBody, {'x': 1}, 'x', 'unknown_parameter', "Unknown parameter: 'x'."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/chat/completions', 'completion_window': '24h', 'x': 1}, 'x', 'unknown_parameter', "Unknown parameter: 'x'."),
    (BatchBody, {'input_file_id': None, 'endpoint': '/v1/chat/completions', 'completion_window': '24h'}, 'input_file_id', 'missing_required_parameter', "Missing required parameter: 'input_file_id'."),
    (BatchBody, {'input_file_id': 5, 'endpoint': '/v1/chat/completions', 'completion_window': '24h'}, 'input_file_id', 'invalid_type', "Invalid type for 'input_file_id': expected a string, but got an integer instead."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': 5, 'completion_window': '24h'}, 'endpoint', 'invalid_type', "Invalid type for 'endpoint': expected a string, but got an integer instead."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/nope', 'completion_window': '24h'}, 'endpoint', 'invalid_value', "Invalid value: '/v1/nope'. Supported values are: '/v1/chat/completions', '/v1/completions', '/v1/embeddings', and '/v1/responses'."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/embeddings', 'completion_window': '24h'}, 'endpoint', 'invalid_value', "The emulator does not serve '/v1/embeddings'; its batches run '/v1/chat/completions', '/v1/completions', and '/v1/responses'."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/chat/completions', 'completion_window': '1h'}, 'completion_window', 'invalid_value', "Invalid value: '1h'. Supported values are: '24h'."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/chat/completions', 'completion_window': None}, 'completion_window', 'missing_required_parameter', "Missing required parameter: 'completion_window'."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/chat/completions', 'completion_window': '24h', 'metadata': {'a': 1}}, 'metadata.a', 'invalid_type', "Invalid type for 'metadata.a': expected a string, but got an integer instead."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/chat/completions', 'completion_window': '24h', 'metadata': 'x'}, 'metadata', 'invalid_type', "Invalid type for 'metadata': expected an object, but got a string instead."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/chat/completions', 'completion_window': '24h', 'metadata': {'k0': 'v', 'k1': 'v', 'k2': 'v', 'k3': 'v', 'k4': 'v', 'k5': 'v', 'k6': 'v', 'k7': 'v', 'k8': 'v', 'k9': 'v', 'k10': 'v', 'k11': 'v', 'k12': 'v', 'k13': 'v', 'k14': 'v', 'k15': 'v', 'k16': 'v'}}, 'metadata', 'object_above_max_properties', "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got 17 instead."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/chat/completions', 'completion_window': '24h', 'output_expires_after': 5}, 'output_expires_after', 'invalid_type', "Invalid type for 'output_expires_after': expected an object, but got an integer instead."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/chat/completions', 'completion_window': '24h', 'output_expires_after': {}}, 'output_expires_after.anchor', 'missing_required_parameter', "Missing required parameter: 'output_expires_after.anchor'."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/chat/completions', 'completion_window': '24h', 'output_expires_after': {'anchor': 'x', 'seconds': 3600}}, 'output_expires_after.anchor', 'invalid_value', "Invalid value: 'x'. Supported values are: 'created_at'."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/chat/completions', 'completion_window': '24h', 'output_expires_after': {'anchor': 5, 'seconds': 3600}}, 'output_expires_after.anchor', 'invalid_type', "Invalid type for 'output_expires_after.anchor': expected a string, but got an integer instead."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/chat/completions', 'completion_window': '24h', 'output_expires_after': {'anchor': 'created_at', 'seconds': 5}}, 'output_expires_after.seconds', 'integer_below_min_value', "Invalid 'output_expires_after.seconds': integer below minimum value. Expected a value >= 3600, but got 5 instead."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/chat/completions', 'completion_window': '24h', 'output_expires_after': {'anchor': 'created_at', 'seconds': '5'}}, 'output_expires_after.seconds', 'invalid_type', "Invalid type for 'output_expires_after.seconds': expected an integer, but got a string instead."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/chat/completions', 'completion_window': '24h', 'output_expires_after': {'anchor': 'created_at', 'seconds': 1000000000}}, 'output_expires_after.seconds', 'integer_above_max_value', "Invalid 'output_expires_after.seconds': integer above maximum value. Expected a value <= 2592000, but got 1000000000 instead."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/chat/completions', 'completion_window': '24h', 'output_expires_after': {'anchor': 'created_at', 'seconds': 3600, 'x': 1}}, 'output_expires_after.x', 'unknown_parameter', "Unknown parameter: 'output_expires_after.x'."),
    (BatchBody, {'input_file_id': 'file-x', 'endpoint': '/v1/chat/completions', 'completion_window': '24h', 'output_expires_after': {'anchor': 'created_at', 'seconds': True}}, 'output_expires_after.seconds', 'invalid_type', "Invalid type for 'output_expires_after.seconds': expected an integer, but got a boolean instead."),
    (BatchBody, {'endpoint': 5, 'input_file_id': 6}, 'input_file_id', 'invalid_type', "Invalid type for 'input_file_id': expected a string, but got an integer instead."),
    (FileForm, form('t.jsonl', {}), 'purpose', 'missing_required_parameter', "Missing required parameter: 'purpose'."),
    (FileForm, form('t.jsonl', {'purpose': ''}), 'purpose', 'missing_required_parameter', "Missing required parameter: 'purpose'."),
    (FileForm, form('t.jsonl', {'purpose': 'nope'}), 'purpose', None, "'nope' is not one of ['fine-tune', 'assistants', 'batch', 'user_data', 'vision', 'evals'] - 'purpose'"),
    (FileForm, form("a" * 513, {'purpose': 'fine-tune'}), 'file', 'string_above_max_length', "Invalid 'file': string too long. Expected a string with maximum length 512, but got a string with length 513 instead."),
    (FileForm, form('t.jsonl', {'purpose': 'fine-tune', 'expires_after[anchor]': 'x'}), 'expires_after.anchor', 'invalid_value', "Invalid 'expires_after.anchor': expected 'created_at'."),
    (FileForm, form('t.jsonl', {'purpose': 'fine-tune', 'expires_after[seconds]': '3600'}), 'expires_after.anchor', 'invalid_value', "Invalid 'expires_after.anchor': expected 'created_at'."),
    (FileForm, form('t.jsonl', {'purpose': 'fine-tune', 'expires_after[anchor]': 'created_at'}), 'expires_after.seconds', 'invalid_type', "Invalid type for 'expires_after.seconds': expected an integer, but got null instead."),
    (FileForm, form('t.jsonl', {'purpose': 'fine-tune', 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': 'x'}), 'expires_after.seconds', 'invalid_type', "Invalid type for 'expires_after.seconds': expected an integer, but got a string instead."),
    (FileForm, form('t.jsonl', {'purpose': 'fine-tune', 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '\u00b2'}), 'expires_after.seconds', 'invalid_type', "Invalid type for 'expires_after.seconds': expected an integer, but got a string instead."),
    (FileForm, form('t.jsonl', {'purpose': 'fine-tune', 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '10'}), 'expires_after.seconds', 'integer_below_min_value', "Invalid 'expires_after.seconds': integer below minimum value. Expected a value >= 3600, but got 10 instead."),
    (FileForm, form('t.jsonl', {'purpose': 'fine-tune', 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '99999999'}), 'expires_after.seconds', 'integer_above_max_value', "Invalid 'expires_after.seconds': integer above maximum value. Expected a value <= 2592000, but got 99999999 instead."),
    (FileForm, form("a" * 513, {'purpose': 'nope', 'expires_after[anchor]': 'x'}), 'file', 'string_above_max_length', "Invalid 'file': string too long. Expected a string with maximum length 512, but got a string with length 513 instead."),
    (FileForm, form('t.txt', {'purpose': 'fine-tune'}), 'file', None, 'Invalid file format for Fine-Tuning API. Must be .jsonl', True),
    (FileForm, form('t.txt', {'purpose': 'fine-tune', 'expires_after[anchor]': 'x'}), 'file', None, 'Invalid file format for Fine-Tuning API. Must be .jsonl', True),
    (UploadBody, {'filename': 'a.txt', 'purpose': 'fine-tune', 'bytes': 10, 'mime_type': 'text/jsonl'}, 'file', None, 'Invalid file format for Fine-Tuning API. Must be .jsonl', True),
    (FixtureBody, {}, 'reply', 'missing_required_parameter', "Missing required parameter: 'reply'."),
    (FixtureBody, {'x': 1}, 'x', 'unknown_parameter', "Unknown parameter: 'x'."),
    (FixtureBody, {'x': 1, 'reply': 5}, 'x', 'unknown_parameter', "Unknown parameter: 'x'."),
    (FixtureBody, {'model': 5, 'reply': {'content': 'hi'}}, 'model', 'invalid_type', "Invalid type for 'model': expected a string, but got an integer instead."),
    (FixtureBody, {'model': 'm', 'pattern': 5, 'reply': {'content': 'hi'}}, 'pattern', 'invalid_type', "Invalid type for 'pattern': expected a string, but got an integer instead."),
    (FixtureBody, {'pattern': 'a(?=b)', 'reply': {'content': 'hi'}}, 'pattern', 'invalid_value', "Invalid 'pattern': not a regular expression RE2 accepts (invalid perl operator: (?=); backreferences and look-around are not supported."),
    (FixtureBody, {'pattern': '(a)\\1', 'reply': {'content': 'hi'}}, 'pattern', 'invalid_value', "Invalid 'pattern': not a regular expression RE2 accepts (invalid escape sequence: \\1); backreferences and look-around are not supported."),
    (FixtureBody, {'reply': None}, 'reply', 'missing_required_parameter', "Missing required parameter: 'reply'."),
    (FixtureBody, {'reply': 5}, 'reply', 'invalid_type', "Invalid type for 'reply': expected an object, but got an integer instead."),
    (FixtureBody, {'reply': []}, 'reply', 'invalid_type', "Invalid type for 'reply': expected an object, but got an array instead."),
    (FixtureBody, {'reply': {}}, 'reply', 'invalid_value', "A fixture reply needs exactly one of 'content', 'tool_call' or 'error'."),
    (FixtureBody, {'reply': {'content': 'a', 'error': {}}}, 'reply', 'invalid_value', "A fixture reply needs exactly one of 'content', 'tool_call' or 'error'."),
    (FixtureBody, {'reply': {'content': 'a', 'bogus': 1}}, 'reply.bogus', 'unknown_parameter', "Unknown parameter: 'reply.bogus'."),
    (FixtureBody, {'reply': {'bogus': 1}}, 'reply', 'invalid_value', "A fixture reply needs exactly one of 'content', 'tool_call' or 'error'."),
    (FixtureBody, {'reply': {'content': None}}, 'reply.content', 'invalid_type', "Invalid type for 'reply.content': expected a string, but got null instead."),
    (FixtureBody, {'reply': {'content': 5}}, 'reply.content', 'invalid_type', "Invalid type for 'reply.content': expected a string, but got an integer instead."),
    (FixtureBody, {'reply': {'tool_call': 5}}, 'reply.tool_call', 'invalid_type', "Invalid type for 'reply.tool_call': expected an object, but got an integer instead."),
    (FixtureBody, {'reply': {'tool_call': {}}}, 'reply.tool_call.name', 'missing_required_parameter', "Missing required parameter: 'reply.tool_call.name'."),
    (FixtureBody, {'reply': {'tool_call': {'name': ''}}}, 'reply.tool_call.name', 'missing_required_parameter', "Missing required parameter: 'reply.tool_call.name'."),
    (FixtureBody, {'reply': {'tool_call': {'name': 5}}}, 'reply.tool_call.name', 'missing_required_parameter', "Missing required parameter: 'reply.tool_call.name'."),
    (FixtureBody, {'reply': {'error': 5}}, 'reply.error', 'invalid_type', "Invalid type for 'reply.error': expected an object, but got an integer instead."),
    (FixtureBody, {'reply': {'error': {}}}, 'reply.error.status', 'invalid_value', "Invalid 'reply.error.status': expected an HTTP error status 400-599, got None."),
    (FixtureBody, {'reply': {'error': {'status': 200, 'message': 'm'}}}, 'reply.error.status', 'invalid_value', "Invalid 'reply.error.status': expected an HTTP error status 400-599, got 200."),
    (FixtureBody, {'reply': {'error': {'status': True, 'message': 'm'}}}, 'reply.error.status', 'invalid_value', "Invalid 'reply.error.status': expected an HTTP error status 400-599, got True."),
    (FixtureBody, {'reply': {'error': {'status': 500}}}, 'reply.error.message', 'missing_required_parameter', "Missing required parameter: 'reply.error.message'."),
    (FixtureBody, {'reply': {'error': {'status': 500, 'message': 5}}}, 'reply.error.message', 'missing_required_parameter', "Missing required parameter: 'reply.error.message'."),
    (FixtureBody, {'model': 5, 'pattern': 6, 'reply': 7, 'z': 1}, 'z', 'unknown_parameter', "Unknown parameter: 'z'."),
    (FixtureBody, {'model': 5, 'pattern': '(?=x)'}, 'model', 'invalid_type', "Invalid type for 'model': expected a string, but got an integer instead."),
    # list endpoints' own query fields (files' `order` is checked before `limit`, input items' after it)
    (FilesQuery, {'order': ''}, 'order', 'invalid_value', "Invalid 'order': expected 'asc' or 'desc', got ''."),
    (FilesQuery, {'order': 'up', 'limit': 'abc'}, 'order', 'invalid_value',
     "Invalid 'order': expected 'asc' or 'desc', got 'up'."),
    (InputItemsQuery, {'order': 'up'}, 'order', 'invalid_value',
     "Invalid value: 'up'. Supported values are: 'asc' and 'desc'."),
    (InputItemsQuery, {'order': 'up', 'limit': 'abc'}, 'limit', 'invalid_type',
     "Invalid type for 'limit': expected an integer, but got a string instead."),
]


# every list's `limit` (the query string is validated by FastAPI, through the same translator)
_BELOW = "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got {got} instead."
_ABOVE = "Invalid 'limit': integer above maximum value. Expected a value <= {max}, but got {got} instead."
_NOT_INT = "Invalid type for 'limit': expected an integer, but got a string instead."
LIMIT_CASES = [(raw, code, message.format(got=raw, max="{max}")) for raw, code, message in [
    ("0", "integer_below_min_value", _BELOW), ("-1", "integer_below_min_value", _BELOW),
    ("10001", "integer_above_max_value", _ABOVE), ("99999999999999999999", "integer_above_max_value", _ABOVE),
    ("abc", "invalid_type", _NOT_INT), ("5.0", "invalid_type", _NOT_INT)]]
LISTS = [(FilesQuery, 10_000), (JobsQuery, 100), (EventsQuery, 100), (CheckpointsQuery, 100), (BatchesQuery, 100),
         (InputItemsQuery, 100)]
CASES += [(model, {"limit": raw, "after": "nope"}, "limit", code, message.format(max=maximum))
          for model, maximum in LISTS for raw, code, message in LIMIT_CASES]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0].__name__}-{c[2]}")
def test_every_error_path_answers_as_before(case):
    model, body, param, code, message, *jsonl = case
    with pytest.raises(errors.APIError) as e:
        parse(model, body, require_jsonl=bool(jsonl))
    assert (e.value.status, e.value.param, e.value.code, e.value.message) == (400, param, code, message)


@pytest.mark.parametrize("model,body", [
    (UploadBody, {"filename": "a.jsonl", "purpose": "fine-tune", "bytes": 10, "mime_type": "text/jsonl"}),
    (CompleteBody, {"part_ids": ["part-a", "part-b"], "md5": "abc"}),
    (FileForm, form("t.txt", {"purpose": "batch", "junk": "1"})),     # other form fields are ignored
    (AdvanceBody, {"seconds": 5, "x": 1}), (PolicyBody, {}), (FidelityBody, {"fidelity": None}), (SeedBody, {}),
    (FilesQuery, {"limit": "", "order": "asc", "purpose": "fine-tune", "zzz": "1"}), (JobsQuery, {"limit": " 7"}),
    (FailBody, {}), (FixtureBody, {"reply": {"error": {"status": 503, "message": "m"}, "during_stream": True}}),
    (BatchBody, {"input_file_id": "f", "endpoint": "/v1/responses", "completion_window": "24h",
                                 "output_expires_after": {"anchor": "created_at", "seconds": 3600}}),
])
def test_valid_bodies_pass(model, body):
    assert isinstance(parse(model, body), model)

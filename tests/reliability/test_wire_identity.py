"""The httptools protocol writes what the h11 one writes: one corpus of raw requests (every route kind of the SDK
lifecycle, and what a client or an attacker may send instead) goes to a server on each protocol (`--http h11`,
`--http httptools`), and the full response bytes must be equal once dates (and a file's Last-Modified and ETag),
ids, request ids and timings are masked."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator

import pytest

from tests.reliability._checks import pig_jsonl
from tests.reliability._server import HOST, Server, multipart
from tests.wire_corpus import CORPUS, JSON, PROTOCOLS, req

pytest.importorskip("httptools")
pytestmark = pytest.mark.xdist_group("wire-identity")   # one worker: the two servers start once

def _mask(data: bytes) -> bytes:
    data = re.sub(rb"(?im)^(date|last-modified|etag|x-request-id|openai-processing-ms): [^\r\n]*", rb"\1: *", data)
    data = re.sub(rb"\b1[0-9]{9}\b", b"<time>", data)                    # unix timestamps in bodies
    data = re.sub(rb"\b([a-z]+)[-_][A-Za-z0-9]{12,}", rb"\1-<id>", data)   # file-…, ftjob-…, chatcmpl-…, req_…
    return data


def _exchange(port: int, data: bytes, timeout: float = 20.0) -> bytes:
    """Send `data` on a new connection (one write), read until the server closes it."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(data)
        out = bytearray()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(1 << 16)
            except ConnectionResetError:
                out += b"<reset>"
                break
            if not chunk:
                break
            out += chunk
        else:
            out += b"<still open>"
    return bytes(out)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    root = tmp_path_factory.mktemp("wire")
    started: dict[str, Server] = {}
    try:
        for name in PROTOCOLS:
            started[name] = Server(root / name, transitions="immediate", seed=7,
                                   extra_args=["--http", name]).start()
        yield started
    finally:
        for server in started.values():
            server.stop(timeout=5)


@pytest.mark.parametrize("name", list(CORPUS))
def test_the_same_bytes_on_both_protocols(servers: dict[str, Server], name: str) -> None:
    raw = CORPUS[name]
    answers = {p: _mask(_exchange(servers[p].port, raw)) for p in PROTOCOLS}
    assert answers["httptools"] == answers["h11"], name
    assert answers["h11"].startswith(b"HTTP/1.1 ") or answers["h11"] in (b"", b"<reset>"), answers["h11"][:300]


def _lifecycle(port: int) -> bytes:
    """The SDK's lifecycle on one keep-alive connection (upload, create, retrieve, events, chat), each request
    built from the previous answers; the transcript of responses."""
    transcript = bytearray()
    with socket.create_connection((HOST, port), timeout=20) as sock:
        reader = sock.makefile("rb")

        def call(raw: bytes, parse: bool = True) -> dict:
            sock.sendall(raw)
            head = bytearray()
            while not head.endswith(b"\r\n\r\n"):
                head += reader.readline()
            length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
            body = reader.read(length)
            transcript.extend(head + body)
            return json.loads(body) if parse else {}

        head, tail, ctype = multipart({"purpose": "fine-tune"}, filename="train.jsonl")
        upload = head + pig_jsonl(10) + tail
        file_id = call(req("POST", "/v1/files", b"Content-Type: " + ctype.encode(), body=upload, close=False))["id"]
        job = call(req("POST", "/v1/fine_tuning/jobs", JSON, close=False, body=json.dumps(
            {"model": "gpt-4o-mini-2024-07-18", "training_file": file_id, "seed": 1}).encode()))
        done = call(req("GET", f"/v1/fine_tuning/jobs/{job['id']}", close=False))
        call(req("GET", f"/v1/fine_tuning/jobs/{job['id']}/events?limit=3", close=False))
        call(req("GET", f"/v1/files/{file_id}/content", close=False), parse=False)
        call(req("POST", "/v1/chat/completions", JSON, close=False, body=json.dumps(
            {"model": done["fine_tuned_model"] or "gpt-4o-mini",
             "messages": [{"role": "user", "content": "hi"}]}).encode()))
        call(req("GET", "/v1/files?limit=1"))
    return bytes(transcript)


def test_the_sdk_lifecycle_is_the_same_on_both_protocols(servers: dict[str, Server]) -> None:
    transcripts = {p: _mask(_lifecycle(servers[p].port)) for p in PROTOCOLS}
    assert transcripts["httptools"] == transcripts["h11"]
    assert transcripts["h11"].count(b"HTTP/1.1 200 OK\r\n") == 7


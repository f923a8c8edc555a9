"""Cassettes: one recorded HTTP exchange per human-readable JSON file, shared by record, replay and drift.

    DIR/000001-POST-v1-files.json           one exchange (request, response, timing, operation name)
    DIR/blobs/sha256-<hex>                  a large or binary body, stored once by its digest

A body is kept in the most readable form that still gives back the exact bytes: `{"json": value,
"layout": …}` when one of a few standard JSON layouts re-encodes it byte for byte, `{"sse": [block, …]}`
for an event stream, `{"text": …}`, else `{"blob": "sha256-…", "size": n}`. A multipart request is kept
as its fields and, per file part, filename, content type and blob. Secrets never reach a cassette:
the headers in REDACT (plus any configured) are replaced by "<redacted>", and their values are removed
from every stored text too. Ids and timestamps are kept as they were.

Used by `mockserver.record` (writes and replays) and `client.drift` (re-runs and compares); it imports
neither.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["FORMAT", "REDACT", "REDACTED", "HOP_BY_HOP", "INLINE_MAX", "Exchange", "Redactor", "encode_body",
           "decode_body", "body_bytes", "operation_of", "template_path", "match_key", "load", "store_blob",
           "blob_path", "write_exchange", "next_seq", "ID_RE", "iter_json_ids"]

FORMAT = "ft-emulator-cassette/1"
REDACTED = "<redacted>"
# request and response headers whose values never reach disk (lower case)
REDACT = ("authorization", "proxy-authorization", "openai-organization", "openai-project", "cookie",
          "set-cookie", "api-key", "x-api-key")
# connection-level headers a proxy neither forwards nor records (RFC 9110 §7.6.1)
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                        "trailer", "transfer-encoding", "upgrade", "proxy-connection"})
INLINE_MAX = 256 * 1024          # bodies above this many bytes go to blobs/ whatever their type

# object ids of the API (see mockserver/ids.py for the emulator's) and fine-tuned model names
ID_RE = re.compile(r"\bft:[A-Za-z0-9._-]+:[A-Za-z0-9._-]*:[A-Za-z0-9._-]*:[A-Za-z0-9._:-]+"
                   r"|\b(?:file|ftjob|ftevent|chatcmpl|cmpl)-[A-Za-z0-9]{6,}"
                   r"|\b(?:ftckpt|upload|part|call|req|fx|resp|msg|fc|rs|batch)_[A-Za-z0-9]{6,}")

_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "/v1/files", "files.create"),
    ("GET", "/v1/files", "files.list"),
    ("GET", "/v1/files/{id}", "files.retrieve"),
    ("DELETE", "/v1/files/{id}", "files.delete"),
    ("GET", "/v1/files/{id}/content", "files.content"),
    ("POST", "/v1/uploads", "uploads.create"),
    ("POST", "/v1/uploads/{id}/parts", "uploads.parts.create"),
    ("POST", "/v1/uploads/{id}/complete", "uploads.complete"),
    ("POST", "/v1/uploads/{id}/cancel", "uploads.cancel"),
    ("POST", "/v1/fine_tuning/jobs", "fine_tuning.jobs.create"),
    ("GET", "/v1/fine_tuning/jobs", "fine_tuning.jobs.list"),
    ("GET", "/v1/fine_tuning/jobs/{id}", "fine_tuning.jobs.retrieve"),
    ("POST", "/v1/fine_tuning/jobs/{id}/cancel", "fine_tuning.jobs.cancel"),
    ("POST", "/v1/fine_tuning/jobs/{id}/pause", "fine_tuning.jobs.pause"),
    ("POST", "/v1/fine_tuning/jobs/{id}/resume", "fine_tuning.jobs.resume"),
    ("GET", "/v1/fine_tuning/jobs/{id}/events", "fine_tuning.jobs.list_events"),
    ("GET", "/v1/fine_tuning/jobs/{id}/checkpoints", "fine_tuning.jobs.checkpoints.list"),
    ("GET", "/v1/models", "models.list"),
    ("GET", "/v1/models/{id}", "models.retrieve"),
    ("DELETE", "/v1/models/{id}", "models.delete"),
    ("POST", "/v1/chat/completions", "chat.completions.create"),
    ("POST", "/v1/completions", "completions.create"),
    ("POST", "/v1/responses", "responses.create"),
    ("POST", "/v1/responses/input_tokens", "responses.input_tokens.count"),
    ("GET", "/v1/responses/{id}", "responses.retrieve"),
    ("DELETE", "/v1/responses/{id}", "responses.delete"),
    ("POST", "/v1/responses/{id}/cancel", "responses.cancel"),
    ("GET", "/v1/responses/{id}/input_items", "responses.input_items.list"),
)
_ROUTE_INDEX = {(m, t): op for m, t, op in _ROUTES}


# --- Paths and operations --------------------------------------------------------------------------------

def template_path(path: str) -> str:
    """`/v1/files/file-abc/content` → `/v1/files/{id}/content`: every path segment after a resource name
    that is not itself a resource word becomes `{id}` (model names contain no `/`)."""
    parts = path.split("/")
    out = []
    for i, seg in enumerate(parts):
        if i >= 3 and seg and (ID_RE.fullmatch(seg) or parts[i - 1] in _COLLECTIONS):
            out.append("{id}")
        else:
            out.append(seg)
    return "/".join(out)


_COLLECTIONS = frozenset({"files", "uploads", "jobs", "models"})


def operation_of(method: str, path: str) -> str:
    """The SDK's name for a request (`fine_tuning.jobs.retrieve`), else `METHOD /templated/path`."""
    tpl = template_path(path.rstrip("/") or "/")
    return _ROUTE_INDEX.get((method.upper(), tpl)) or f"{method.upper()} {tpl}"


def iter_json_ids(value: Any, at: str = "") -> Iterator[tuple[str, str]]:
    """(JSON path, id) for every string that is wholly an API id, depth first in document order."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from iter_json_ids(v, f"{at}.{k}" if at else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from iter_json_ids(v, f"{at}[{i}]")
    elif isinstance(value, str) and ID_RE.fullmatch(value):
        yield at, value


# --- Redaction -------------------------------------------------------------------------------------------

@dataclass
class Redactor:
    """Replaces secret header values, and every occurrence of them in stored text, by "<redacted>"."""

    names: frozenset[str] = frozenset(REDACT)
    secrets: set[str] = field(default_factory=set)

    @classmethod
    def with_extra(cls, extra: Iterable[str] = ()) -> Redactor:
        return cls(names=frozenset(REDACT) | {h.strip().lower() for h in extra if h.strip()})

    def headers(self, pairs: Iterable[tuple[str, str]]) -> list[list[str]]:
        """Header pairs fit to store; learns the secret values so `text` can remove them elsewhere."""
        out = []
        for name, value in pairs:
            name = name.lower()
            if name in self.names:
                self._learn(value)
                out.append([name, REDACTED])
            else:
                out.append([name, value])
        return out

    def _learn(self, value: str) -> None:
        for part in (value, *value.replace(";", " ").replace("=", " ").split()):
            if len(part) >= 8 and part.lower() not in ("bearer", "basic"):   # the token, not the scheme
                self.secrets.add(part)

    def text(self, s: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            if secret in s:
                s = s.replace(secret, REDACTED)
        return s

    def value(self, v: Any) -> Any:
        """A JSON value with secrets removed from every string in it."""
        if not self.secrets:
            return v
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, dict):
            return {self.text(k): self.value(x) for k, x in v.items()}
        return v


# --- Bodies ----------------------------------------------------------------------------------------------

def _json_layouts(value: Any) -> Iterator[tuple[str, bytes]]:
    for ascii_ in (False, True):
        for name, kw in (("compact", {"separators": (",", ":")}), ("spaced", {}), ("indent2", {"indent": 2})):
            text = json.dumps(value, ensure_ascii=ascii_, **kw)
            label = name + ("-ascii" if ascii_ else "")
            yield label, text.encode()
            yield label + "-nl", (text + "\n").encode()


def _layout_bytes(value: Any, layout: str) -> bytes:
    for label, data in _json_layouts(value):
        if label == layout:
            return data
    raise ValueError(f"unknown JSON layout {layout!r}")


def encode_body(raw: bytes, content_type: str = "", *, blobs: Path | None = None,
                redactor: Redactor | None = None) -> dict[str, Any] | None:
    """The stored form of a body (see the module doc); large or binary bodies are written to `blobs`."""
    if not raw:
        return None
    red = redactor or Redactor()
    text: str | None = None
    if len(raw) <= INLINE_MAX:
        with contextlib.suppress(UnicodeDecodeError):
            text = raw.decode()
    if text is not None:
        if "json" in content_type:
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            else:
                for label, data in _json_layouts(value):
                    if data == raw:
                        return {"json": red.value(value), "layout": label}
        if "event-stream" in content_type and text.endswith("\n\n"):
            blocks = text[:-2].split("\n\n")
            return {"sse": [red.text(b) for b in blocks]}
        return {"text": red.text(text)}
    if blobs is None:
        raise ValueError("a large or binary body needs a blobs directory")
    return {"blob": store_blob(blobs, [raw]), "size": len(raw)}


def decode_body(body: dict[str, Any] | None) -> Any:
    """A stored body as a value to compare: JSON value, list of SSE data payloads, text; None for a blob
    (large or binary bodies are compared by nothing but status and headers)."""
    if body is None:
        return None
    if "json" in body:
        return body["json"]
    if "sse" in body:
        out = []
        for block in body["sse"]:
            for line in block.splitlines():
                if line.startswith("data:"):
                    data = line[5:].strip()
                    try:
                        out.append(data if data == "[DONE]" else json.loads(data))
                    except ValueError:
                        out.append(data)
        return out
    if "text" in body:
        return body["text"]
    return None


def body_bytes(body: dict[str, Any] | None, blobs: Path) -> Iterator[bytes]:
    """The exact bytes a stored (non-multipart) body stands for, in chunks."""
    if body is None:
        return
    if "json" in body:
        yield _layout_bytes(body["json"], body["layout"])
    elif "sse" in body:
        yield "".join(b + "\n\n" for b in body["sse"]).encode()
    elif "text" in body:
        yield body["text"].encode()
    elif "blob" in body:
        with open(blob_path(blobs, body["blob"]), "rb") as f:
            while chunk := f.read(1 << 20):
                yield chunk
    else:
        raise ValueError(f"no bytes for a stored {sorted(body)} body")


def blob_path(blobs: Path, digest: str) -> Path:
    if not re.fullmatch(r"sha256-[0-9a-f]{64}", digest):
        raise ValueError(f"not a blob digest: {digest!r}")
    return blobs / digest


def store_blob(blobs: Path, chunks: Iterable[bytes], *, source: Path | None = None) -> str:
    """Store bytes once under their digest (blocking: call it from a thread in a server)."""
    blobs.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    tmp = blobs / f".tmp-{os.getpid()}-{id(h):x}"
    if source is not None:
        with open(source, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        digest = f"sha256-{h.hexdigest()}"
        if not (blobs / digest).exists():
            os.link(source, tmp) if _same_fs(source, blobs) else _copy(source, tmp)
            os.replace(tmp, blobs / digest)
        return digest
    with open(tmp, "wb") as f:
        for chunk in chunks:
            h.update(chunk)
            f.write(chunk)
    digest = f"sha256-{h.hexdigest()}"
    if (blobs / digest).exists():
        tmp.unlink()
    else:
        os.replace(tmp, blobs / digest)
    return digest


def _same_fs(a: Path, b: Path) -> bool:
    return os.stat(a).st_dev == os.stat(b).st_dev


def _copy(src: Path, dst: Path) -> None:
    import shutil

    shutil.copyfile(src, dst)


# --- Exchanges -------------------------------------------------------------------------------------------

@dataclass
class Exchange:
    """One request and its answer, as stored."""

    seq: int
    method: str
    path: str
    query: str
    request_headers: list[list[str]]
    request_body: dict[str, Any] | None
    status: int
    response_headers: list[list[str]]
    response_body: dict[str, Any] | None
    started_at: float = 0.0
    elapsed_ms: float = 0.0
    complete: bool = True
    source: Path | None = None

    @property
    def operation(self) -> str:
        return operation_of(self.method, self.path)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.response_headers if k == name), None)

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "seq": self.seq, "operation": self.operation, "started_at": self.started_at,
                "elapsed_ms": round(self.elapsed_ms, 3), "complete": self.complete,
                "request": {"method": self.method, "path": self.path, "query": self.query,
                            "headers": _header_map(self.request_headers), "body": self.request_body},
                "response": {"status": self.status, "headers": _header_map(self.response_headers),
                             "body": self.response_body}}

    @classmethod
    def from_json(cls, d: dict[str, Any], source: Path | None = None) -> Exchange:
        if d.get("format") != FORMAT:
            raise ValueError(f"{source}: not a cassette of format {FORMAT} (found {d.get('format')!r})")
        req, resp = d["request"], d["response"]
        return cls(seq=d["seq"], method=req["method"], path=req["path"], query=req.get("query", ""),
                   request_headers=_header_pairs(req.get("headers", {})), request_body=req.get("body"),
                   status=resp["status"], response_headers=_header_pairs(resp.get("headers", {})), response_body=resp.get("body"),
                   started_at=d.get("started_at", 0.0), elapsed_ms=d.get("elapsed_ms", 0.0),
                   complete=d.get("complete", True), source=source)


def _header_map(pairs: list[list[str]]) -> dict[str, str | list[str]]:
    """Header pairs as a readable object; a repeated header keeps its values in a list, in order."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            out[name] = [*out[name], value] if isinstance(out[name], list) else [out[name], value]
        else:
            out[name] = value
    return out


def _header_pairs(headers: dict[str, Any]) -> list[list[str]]:
    return [[k, x] for k, v in headers.items() for x in (v if isinstance(v, list) else [v])]


def _slug(method: str, path: str) -> str:
    """`GET /v1/files/{id}/content` → `GET-v1-files-id-content` (for file names only)."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", f"{method} {template_path(path)}".replace("{id}", "id")).strip("-")[:80]


def write_exchange(directory: Path, ex: Exchange) -> Path:
    """Write one cassette file (blocking), taking the next free sequence number; atomic (tmp + rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    while True:
        name = directory / f"{ex.seq:06d}-{_slug(ex.method, ex.path)}.json"
        data = json.dumps(ex.to_json(), ensure_ascii=False, indent=2) + "\n"
        tmp = directory / f".{name.name}.tmp"
        tmp.write_text(data, encoding="utf-8")
        try:
            os.link(tmp, name)            # fails if another writer took this number
        except FileExistsError:
            tmp.unlink()
            ex.seq += 1
            continue
        tmp.unlink()
        return name


def load(directory: Path) -> list[Exchange]:
    """Every cassette in `directory`, in recorded order."""
    out = []
    for p in sorted(Path(directory).glob("[0-9]*.json")):
        out.append(Exchange.from_json(json.loads(p.read_text(encoding="utf-8")), p))
    out.sort(key=lambda e: e.seq)
    return out


def next_seq(directory: Path) -> int:
    nums = [int(p.name.split("-", 1)[0]) for p in Path(directory).glob("[0-9]*.json") if p.name[:6].isdigit()]
    return max(nums, default=0) + 1


# --- Matching (replay) -----------------------------------------------------------------------------------

def _body_fields(body: dict[str, Any] | None) -> Any:
    if body is None:
        return None
    if "multipart" in body:
        mp = body["multipart"]
        return {"fields": mp.get("fields", {}),
                "files": {k: [f.get("filename"), f.get("blob") or f.get("text")] for k, f in mp.get("files", {}).items()}}
    if "json" in body:
        return body["json"]
    return body.get("text") or body.get("blob") or body.get("sse")


def match_key(method: str, path: str, query: str, body: dict[str, Any] | None, *, templated: bool = False) -> str:
    """What a request is matched on: method, path, query (order-free) and the body's fields (multipart:
    the fields and each file's name and digest). `templated` replaces ids by `{id}` everywhere."""
    q = sorted(parse_qsl(query, keep_blank_values=True))
    key = json.dumps([method.upper(), path.rstrip("/"), q, _body_fields(body)], sort_keys=True, ensure_ascii=False)
    if templated:
        key = ID_RE.sub("{id}", key)
    return key

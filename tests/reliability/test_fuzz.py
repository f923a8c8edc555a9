"""Fuzzing a live server: schemathesis over its own /openapi.json, then hypothesis-made garbage as raw HTTP.

The garbage goes to every route the app serves (from its OpenAPI document) and to unknown ones: invalid
UTF-8, huge lines, JSON nested 10,000 deep, NUL bytes, wrong content types, huge headers, path tricks in
file names and ids, 10,000-element arrays, huge, negative, NaN and infinite numbers, duplicate keys,
truncated and malformed multipart bodies, and requests that are not HTTP at all. For every answer:

* no 5xx, and an answer at all (a dropped connection fails);
* every 4xx is exactly {"error": {"message", "type", "param", "code"}};
* the server stays up, and nothing is written outside its data dir (stored files are named by id);
* bodies over the limits are refused before they are read: the server's RSS stays flat while a 1 GB
  body streams at it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability._checks import check_envelope, pig_jsonl
from tests.reliability._server import (
    FIGURES,
    HTTP_PROTOCOLS,
    KEY,
    PG_VAR,
    Server,
    fresh_pg_database,
    multipart,
    raw_http,
    request,
)

COUNTS: Counter = Counter()
SHORT = int(os.environ.get("MOCKSERVER_FUZZ_EXAMPLES", "100"))   # garbage requests (and schemathesis cases) in the fast tier
LONG = 10_000
_STORED_NAME = re.compile(r"^(file-|part_|ftdata-ftjob-)[A-Za-z0-9_-]+$")


# --- the server under fuzz --------------------------------------------------------------------------

class Target:
    """A live server plus the real ids and routes the garbage is aimed at."""

    def __init__(self, root: Path, database_url: str | None = None, http: str = HTTP_PROTOCOLS[0]) -> None:
        self.root = root
        self.backend = ("postgres" if database_url else "sqlite") + ("" if http == HTTP_PROTOCOLS[0] else f" {http}")
        self.database_url = database_url
        self.server = Server(root / "data", transitions="immediate", cwd=root / "cwd",
                             database_url=database_url, extra_args=["--http", http]).start()
        self.routes = self._routes()
        self.ids = self._seed_objects()

    def _routes(self) -> list[tuple[str, str]]:
        spec = self.server.json("GET", "/openapi.json")
        return sorted((m.upper(), path) for path, ops in spec["paths"].items() for m in ops)

    def _seed_objects(self) -> dict[str, str]:
        head, tail, ctype = multipart({"purpose": "fine-tune"}, filename="seed.jsonl")
        r = raw_http(self.server.port, request("POST", "/v1/files", headers={"Content-Type": ctype},
                                               body=head + pig_jsonl(10) + tail))
        file_id = json.loads(r.body)["id"]
        job = self.server.json("POST", "/v1/fine_tuning/jobs", json_body={"model": "gpt-3.5-turbo-0613",
                                                                          "training_file": file_id})
        upload = self.server.json("POST", "/v1/uploads", json_body={"filename": "u.jsonl", "purpose": "fine-tune",
                                                                    "bytes": 100, "mime_type": "text/jsonl"})
        return {"file_id": file_id, "fine_tuning_job_id": job["id"], "job_id": job["id"], "upload_id": upload["id"],
                "model_id": "gpt-3.5-turbo-0613", "fixture_id": "fx_0000000000000000"}

    def stored_names(self) -> list[str]:
        """The names file bytes are stored under: files in the data dir, or blob keys in PostgreSQL."""
        if self.database_url is None:
            return os.listdir(self.server.data_dir / "files")
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                keys = list(conn.execute(text("SELECT key FROM blobs")).scalars())
        finally:
            engine.dispose()
        assert all(k.startswith("files/") for k in keys), keys
        return [k.removeprefix("files/") for k in keys]

    def outside_data_dir(self) -> list[str]:
        """Every file under the test's root that is neither in the data dir nor a server log."""
        found = []
        for dirpath, _, files in os.walk(self.root):
            rel = Path(dirpath).relative_to(self.root)
            if rel.parts[:1] == ("data",):
                continue
            found += [str(rel / f) for f in files if not (f.startswith("server-") and f.endswith(".log"))]
        return found


# each backend's tests on one worker, so its server starts once; the default protocol on both backends, the
# other protocol (h11, when httptools serves by default) on SQLite
_TARGETS = [("sqlite", HTTP_PROTOCOLS[0]), ("postgres", HTTP_PROTOCOLS[0])] + [("sqlite", p) for p in HTTP_PROTOCOLS[1:]]


@pytest.fixture(scope="module", params=[pytest.param(t, marks=pytest.mark.xdist_group(f"fuzz-{t[0]}-{t[1]}"),
                                                     id=f"{t[0]}-{t[1]}") for t in _TARGETS])
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    backend, http = request.param
    with contextlib.ExitStack() as stack:
        url = None
        if backend == "postgres":
            if not os.environ.get(PG_VAR):
                pytest.skip(f"PostgreSQL not configured: set {PG_VAR} (.ci/postgres.sh starts one and sets it)")
            url = stack.enter_context(fresh_pg_database(os.environ[PG_VAR]))
        t = Target(tmp_path_factory.mktemp("fuzz"), url, http)
        stack.callback(t.server.stop, timeout=5)
        yield t


# --- assertions on one exchange ----------------------------------------------------------------------

def check_answer(r: Any, what: str) -> None:
    COUNTS["requests"] += 1
    COUNTS[f"{r.status // 100}xx" if r.status else "no answer"] += 1
    assert r.status != 0, f"{what}: no answer ({r.error})"
    assert r.status < 500, f"{what}: {r.status} {r.body[:500]!r}"
    if 400 <= r.status < 500 and what.startswith("HEAD "):   # no body by definition; the type still says JSON
        assert r.headers.get("content-type", "").startswith("application/json"), f"{what}: {r.headers}"
    elif 400 <= r.status < 500:
        check_envelope(r.status, r.body, what)


class Req:
    """A drawn request; its repr (what hypothesis prints for a failing example) is the short description."""

    def __init__(self, what: str, raw: bytes) -> None:
        self.what, self.raw = what, raw

    def __repr__(self) -> str:
        return f"<{self.what}: {self.raw[:300]!r}…>"


def canary(t: Target, what: str) -> None:
    """Ordinary requests that must still work: a hostile request may not poison the server's state."""
    port = t.server.port
    head, tail, ctype = multipart({"purpose": "fine-tune"}, filename="canary.jsonl")
    r = raw_http(port, request("POST", "/v1/files", headers={"Content-Type": ctype}, body=head + pig_jsonl(10) + tail))
    check_answer(r, f"canary upload {what}")
    assert r.status == 200, f"canary upload {what}: {r.status} {r.body[:300]!r}"
    file_id = json.loads(r.body)["id"]
    for method, path, body in [("POST", "/v1/uploads", {"filename": "c.jsonl", "purpose": "fine-tune", "bytes": 1,
                                                        "mime_type": "text/jsonl"}),
                               ("POST", "/v1/fine_tuning/jobs", {"model": "gpt-3.5-turbo-0613", "training_file": file_id}),
                               ("GET", "/v1/fine_tuning/jobs?limit=3", None)]:
        r = raw_http(port, request(method, path, json_body=body))
        check_answer(r, f"canary {method} {path} {what}")
        assert r.status == 200, f"canary {method} {path} {what}: {r.status} {r.body[:300]!r}"


def check_still_fine(t: Target) -> None:
    assert t.server.running, f"the server died:\n{t.server.log_tail()}"
    assert t.server.http("GET", "/v1/models")[0] == 200
    outside = t.outside_data_dir()
    assert not outside, f"files written outside the data dir: {outside}"
    stored = t.stored_names()
    odd = [n for n in stored if not _STORED_NAME.match(n)]
    assert not odd, f"stored files not named by id (a client name reached the disk?): {odd}"
    assert not (t.root / "etc").exists() and not Path("/etc/passwd.jsonl").exists()


# --- strategies: garbage in every shape ----------------------------------------------------------------

NASTY_TEXT = ["../../etc/passwd", "/etc/passwd", "..\\..\\windows\\win.ini", "a\x00b.jsonl", "%00", "%2e%2e%2f",
              "..%2f..%2fetc%2fpasswd", "\u202etxt.jsonl", "CON", "a" * 10_000, "😀" * 500, "", " ", "\r\nX: y",
              "file-" + "A" * 24, "ftjob-" + "Z" * 24, "ft:gpt-3.5-turbo-0613:org::abc", "NaN", "-1",
              "99999999999999999999999999", "1e400", "null", "[]", "{}", "\xff\xfe", "%ff%fe"]
NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 5000, "-1", "-0", "0.0000001",
           "9223372036854775808", "-9223372036854775809", "1.5", "true", "1e-400"]
CONTENT_TYPES = ["application/json", "text/plain", "multipart/form-data", "multipart/form-data; boundary=",
                 "multipart/form-data; boundary=xyz", "application/x-www-form-urlencoded", "application/jsonl",
                 "application/json; charset=latin-1", "image/png", "*/*", "application/json" + "x" * 3000, ""]
PARAM_NAMES = ["limit", "after", "order", "purpose", "metadata[key]", "metadata", "stream", "model", "x" * 300,
               "limit[]", "after[a]", "%00"]


def nasty_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=80),
                     st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=30))


def path_segment() -> st.SearchStrategy[str]:
    """Values for `{param}` segments: sometimes a real id, often something hostile, percent-encoded."""
    return st.one_of(st.just(None), nasty_text().map(lambda s: quote(s, safe="", errors="surrogatepass")),
                     st.binary(max_size=40).map(lambda b: quote(b, safe="")),
                     st.sampled_from(["..", ".", "%2e%2e", "a/b", "%2f", "%00", ";", "?"]))


@st.composite
def json_garbage(draw: st.DrawFn) -> bytes:
    """Bodies that are JSON-ish at best."""
    kind = draw(st.sampled_from(["deep_array", "deep_object", "wide", "numbers", "dupes", "nul", "invalid_utf8",
                                 "truncated", "scalar", "mutated", "huge_line", "bom", "nested_field"]))
    if kind == "deep_array":
        n = draw(st.sampled_from([100, 1000, 10_000, 100_000]))
        return b"[" * n + b"]" * n
    if kind == "deep_object":
        n = draw(st.sampled_from([1000, 10_000]))
        return b'{"a":' * n + b"1" + b"}" * n
    if kind == "wide":
        item = draw(st.sampled_from([b"1", b'"x"', b"null", b"{}", b'{"role":"user"}']))
        return b'{"model":"gpt-3.5-turbo-0613","messages":[' + b",".join([item] * 10_000) + b"]}"
    if kind == "numbers":
        key = draw(st.sampled_from(["seed", "limit", "seconds", "bytes", "n_epochs", "time_scale", "temperature"]))
        return f'{{"{key}": {draw(st.sampled_from(NUMBERS))}, "hyperparameters": {{"n_epochs": ' \
               f'{draw(st.sampled_from(NUMBERS))}}}}}'.encode()
    if kind == "dupes":
        return b'{"model":"gpt-3.5-turbo-0613","model":"x","training_file":"a","training_file":1}'
    if kind == "nul":
        return b'{"model":"gpt-\x00","training_file":"file-\\u0000abc","suffix":"\\u0000","metadata":{"\\u0000":"x"}}'
    if kind == "invalid_utf8":
        return b'{"model":"\xff\xfe\xc3\x28","filename":"\xed\xa0\x80.jsonl"}'
    if kind == "truncated":
        return b'{"model": "gpt-3.5-turbo-0613", "training_file": "fi'
    if kind == "scalar":
        return draw(st.sampled_from([b"null", b"1", b'"x"', b"[]", b"true", b"\x00", b"  ", b"{}" * 1000]))
    if kind == "huge_line":
        return b'{"suffix":"' + b"a" * draw(st.sampled_from([70_000, 1_000_000])) + b'"}'
    if kind == "bom":
        return b'\xef\xbb\xbf{"model":"gpt-3.5-turbo-0613"}'
    if kind == "nested_field":
        field = draw(st.sampled_from(["metadata", "hyperparameters", "method", "integrations", "messages",
                                      "part_ids", "expires_after", "response_format", "tools"]))
        return json.dumps({field: draw(json_values())}).encode()
    value = draw(json_values())
    base = {"model": "gpt-3.5-turbo-0613", "training_file": "file-x", "purpose": "fine-tune", "filename": "a.jsonl",
            "bytes": 10, "mime_type": "text/jsonl", "messages": [{"role": "user", "content": "hi"}]}
    key = draw(st.sampled_from(sorted(base) + ["seed", "suffix", "method", "metadata", "seconds", "transitions"]))
    return json.dumps(base | {key: value}, allow_nan=True).encode()


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                        st.floats(allow_nan=True, allow_infinity=True), nasty_text())
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                         st.dictionaries(nasty_text(), inner, max_size=5)),
                        max_leaves=20)


@st.composite
def multipart_garbage(draw: st.DrawFn) -> tuple[bytes, str]:
    filename = draw(st.one_of(st.sampled_from(NASTY_TEXT).map(str.encode), st.binary(max_size=60),
                              st.just(b"x" * 100_000)))
    purpose = draw(st.sampled_from(["fine-tune", "assistants", "batch", "", "x" * 70_000, "fine-tune\x00"]))
    field = draw(st.sampled_from(["file", "data", "files", ""]))
    content = draw(st.one_of(st.binary(max_size=500), st.just(pig_jsonl(10)), st.just(b"\xff\xfe\x00" * 1000)))
    head, tail, ctype = multipart({"purpose": purpose}, file_field=field, filename=filename, content=content)
    shape = draw(st.sampled_from(["whole", "no_tail", "no_boundary", "double", "cut"]))
    if shape == "no_tail":
        return head + content, ctype
    if shape == "no_boundary":
        return head + content + tail, "multipart/form-data"
    if shape == "double":
        return head + content + b"\r\n" + head + content + tail, ctype
    if shape == "cut":
        body = head + content + tail
        return body[:draw(st.integers(0, len(body)))], ctype
    return head + content + tail, ctype


HOSTILE: list[Any] = ["a\x00b", "\x00", "x" * 100_000, 1e300, -1e300, 2**63, 2**64, -(2**63) - 1, 1e-300, -1, 0,
                      1.5, True, False, None, [], {}, "😀", "../../etc/passwd", "/etc/passwd", "", " ", "\u202e",
                      [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], list(range(10_000)),
                      {str(i): i for i in range(1000)}, {"\x00": "\x00"}, ["a\x00"], "ft:gpt-3.5-turbo-0613:x\x00::y",
                      "file-" + "A" * 24, 2_147_483_648, 1e18, "1e300", "NaN"]


def _templates(ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, a valid JSON body) for every JSON endpoint: the bodies mutation starts from."""
    f, j, u = ids["file_id"], ids["job_id"], ids["upload_id"]
    return [
        ("POST", "/v1/fine_tuning/jobs", {"model": "gpt-3.5-turbo-0613", "training_file": f, "validation_file": f,
                                          "suffix": "x", "seed": 1, "metadata": {"k": "v"},
                                          "hyperparameters": {"n_epochs": 1, "batch_size": 1},
                                          "method": {"type": "supervised", "supervised": {"hyperparameters": {}}},
                                          "integrations": []}),
        ("POST", "/v1/uploads", {"filename": "u.jsonl", "purpose": "fine-tune", "bytes": 10, "mime_type": "text/jsonl",
                                 "expires_after": {"anchor": "created_at", "seconds": 3600}}),
        ("POST", f"/v1/uploads/{u}/complete", {"part_ids": ["part_x"], "md5": "x"}),
        ("POST", "/v1/chat/completions", {"model": "gpt-3.5-turbo-0613", "messages": [{"role": "user", "content": "hi"}],
                                          "max_tokens": 5, "n": 1, "temperature": 1, "seed": 1, "stream": False,
                                          "logprobs": False, "stop": ["x"], "user": "u", "metadata": {"a": "b"},
                                          "response_format": {"type": "text"}, "tools": []}),
        ("POST", "/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "hi", "max_tokens": 5}),
        ("POST", "/_mock/clock/advance", {"seconds": 1}),
        ("POST", "/_mock/policy", {"transitions": "immediate", "time_scale": 15}),
        ("POST", f"/_mock/jobs/{j}/fail", {"stage": "running", "code": "server_error", "message": "m", "param": None}),
        ("POST", "/_mock/seed", {"seed": 1}),
        ("POST", "/_mock/fixtures", {"model": "gpt-3.5-turbo-0613", "pattern": "x", "reply": {"content": "y"}}),
        ("POST", "/_mock/reset", {"api_key": "sk-someone-else"}),
    ]


@st.composite
def mutated_request(draw: st.DrawFn, routes: list[tuple[str, str]], ids: dict[str, str]) -> Req:
    """A valid request with one hostile part: a body field, a form field, a query value or a path id."""
    kind = draw(st.sampled_from(["json", "json", "json", "form", "query", "path"]))
    if kind == "json":
        method, path, body = draw(st.sampled_from(_templates(ids)))
        body = json.loads(json.dumps(body))
        target = body
        keys = sorted(body)
        key = draw(st.sampled_from(keys + ["extra"]))
        if isinstance(body.get(key), dict) and body[key] and draw(st.booleans()):
            target, key = body[key], draw(st.sampled_from(sorted(body[key])))
        elif isinstance(body.get(key), list) and body[key] and isinstance(body[key][0], dict) and draw(st.booleans()):
            target, key = body[key][0], draw(st.sampled_from(sorted(body[key][0])))
        if draw(st.integers(0, 5)) == 0:
            target.pop(key, None)
        else:
            target[key] = draw(st.sampled_from(HOSTILE))
        raw = json.dumps(body).encode()
        return Req(f"{method} {path} {key}=<hostile>", request(method, path, body=raw,
                                                                headers={"Content-Type": "application/json"}))
    if kind == "form":
        path = draw(st.sampled_from(["/v1/files", f"/v1/uploads/{ids['upload_id']}/parts"]))
        fields = {"purpose": "fine-tune", "expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"}
        key = draw(st.sampled_from(sorted(fields) + ["filename"]))
        value = draw(st.sampled_from([v for v in HOSTILE if isinstance(v, str | int | float)]))
        filename: str | bytes = "a.jsonl"
        if key == "filename":
            filename = str(value).encode("utf-8", "surrogatepass")
        else:
            fields[key] = str(value)
        field = "data" if "parts" in path else "file"
        head, tail, ctype = multipart(fields, file_field=field, filename=filename, content=b"x")
        return Req(f"POST {path} form {key}=<hostile>", request("POST", path, headers={"Content-Type": ctype},
                                                                body=head + pig_jsonl(10) + tail))
    if kind == "query":
        path = draw(st.sampled_from(["/v1/files", "/v1/fine_tuning/jobs", f"/v1/fine_tuning/jobs/{ids['job_id']}/events",
                                     f"/v1/fine_tuning/jobs/{ids['job_id']}/checkpoints", "/_mock/fixtures"]))
        name = draw(st.sampled_from(["limit", "after", "order", "purpose", "metadata[k]", "metadata"]))
        value = str(draw(st.sampled_from(HOSTILE)))
        query = f"{name}={quote(value, safe='', errors='surrogatepass')}"
        return Req(f"GET {path}?{name}=<hostile>", request("GET", f"{path}?{query}"))
    method, template = draw(st.sampled_from([r for r in routes if "{" in r[1]]))
    value = draw(st.sampled_from([v for v in HOSTILE if isinstance(v, str)] + ["%00", "a%00b"]))
    seg = value if value.startswith(("%", "a%")) else quote(value[:5000], safe="", errors="surrogatepass")
    path = re.sub(r"\{[^}]+\}", seg, template)
    return Req(f"{method} {template} id=<hostile>", request(method, path, body=b"{}" if method == "POST" else b"",
                                                            headers={"Content-Type": "application/json"}))


@st.composite
def garbage_request(draw: st.DrawFn, routes: list[tuple[str, str]], ids: dict[str, str]) -> Req:
    """A description and the whole request as bytes."""
    if draw(st.integers(0, 19)) == 0:   # not HTTP/1.1 at all
        raw = draw(st.sampled_from([b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\x00\x01\x02\r\n\r\n",
                                    b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n",
                                    b"GET /v1/files/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
                                    b"POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                                    b"POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                                    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
                                    b"GET " + b"/" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"]))
        return Req("raw protocol garbage", raw)
    method, template = draw(st.sampled_from(routes + [("GET", "/v1/nope"), ("PUT", "/v1/files"),
                                                      ("PATCH", "/v1/fine_tuning/jobs/{fine_tuning_job_id}")]))
    if draw(st.booleans()):
        method = draw(st.sampled_from(["GET", "POST", "DELETE", "PUT", "OPTIONS", "HEAD"]))

    def fill(m: re.Match) -> str:
        value = draw(path_segment())
        return quote(ids.get(m.group(1), "x"), safe="") if value is None else value

    path = re.sub(r"\{([^}:]+)(?::path)?\}", fill, template)
    params = draw(st.lists(st.tuples(st.sampled_from(PARAM_NAMES),
                                     st.one_of(st.sampled_from(NUMBERS), nasty_text())), max_size=4))
    if params:
        path += "?" + "&".join(f"{quote(k, safe='[]')}={quote(v, safe='', errors='surrogatepass')}"
                               for k, v in params)
    headers: list[tuple[str, str]] = []
    auth = draw(st.sampled_from(["good", "good", "good", "none", "bare", "basic", "long", "bad"]))
    if auth != "none":
        headers.append(("Authorization", {"good": f"Bearer {KEY}", "bare": "Bearer", "basic": "Basic eDp5",
                                          "long": "Bearer sk-" + "a" * 60_000, "bad": "Bearer not a key"}[auth]))
    if draw(st.integers(0, 9)) == 0:
        headers.append(("X-Huge", "h" * draw(st.sampled_from([8_000, 60_000, 200_000]))))
    kind = draw(st.sampled_from(["none", "json", "json", "multipart", "multipart", "bytes"]))
    body = b""
    ctype = None
    if kind == "json":
        body, ctype = draw(json_garbage()), "application/json"
    elif kind == "multipart":
        body, ctype = draw(multipart_garbage())
    elif kind == "bytes":
        body = draw(st.binary(max_size=2000))
    if draw(st.integers(0, 4)) == 0:
        ctype = draw(st.sampled_from(CONTENT_TYPES))
    if ctype is not None:
        headers.append(("Content-Type", ctype))
    raw = request(method, path, headers=headers, body=body, key=None)
    return Req(f"{method} {path[:200]} [{kind}, {len(body)} bytes]", raw)


# --- the tests ------------------------------------------------------------------------------------------

def run_garbage(t: Target, n: int) -> None:
    @settings(max_examples=n, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        req = data.draw(st.one_of(garbage_request(t.routes, t.ids), mutated_request(t.routes, t.ids)))
        check_answer(raw_http(t.server.port, req.raw, timeout=60), req.what)
        if "/_mock/" in req.what or data.draw(st.integers(0, 9)) == 0:
            canary(t, f"after {req.what}")

    fuzz()
    check_still_fine(t)


def _garbage(target: Target, n: int, name: str) -> None:
    started, before = time.monotonic(), Counter(COUNTS)
    run_garbage(target, n)
    sent = COUNTS - before
    FIGURES.add(f"{name} {target.backend}", examples=n, requests=sent["requests"], routes=len(target.routes),
                statuses=dict(sorted((k, v) for k, v in sent.items() if k.endswith("xx"))),
                seconds=round(time.monotonic() - started, 1))


def test_garbage_short(target: Target) -> None:
    _garbage(target, SHORT, "fuzz garbage (short)")


@pytest.mark.slow
def test_garbage_long(target: Target) -> None:
    _garbage(target, LONG, "fuzz garbage (long)")


def run_schemathesis(t: Target, n: int) -> int:
    schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install "
                                                              "schemathesis): the OpenAPI-driven fuzz is skipped")
    schema = schemathesis.openapi.from_url(f"{t.server.base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the app's OpenAPI document lists no operations"
    sent = 0

    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=st.one_of([op.as_strategy() for op in operations]))
    def fuzz(case: Any) -> None:
        nonlocal sent
        response = case.call(base_url=t.server.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
        sent += 1
        COUNTS["schemathesis"] += 1
        what = f"schemathesis {case.method} {case.formatted_path}"
        assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:500]}"
        if 400 <= response.status_code < 500:
            check_envelope(response.status_code, response.content, what)

    fuzz()
    check_still_fine(t)
    return sent


def test_schemathesis_short(target: Target) -> None:
    started = time.monotonic()
    sent = run_schemathesis(target, SHORT)
    FIGURES.add(f"fuzz schemathesis (short) {target.backend}", requests=sent,
                seconds=round(time.monotonic() - started, 1))


@pytest.mark.slow
def test_schemathesis_long(target: Target) -> None:
    started = time.monotonic()
    sent = run_schemathesis(target, 5000)
    FIGURES.add(f"fuzz schemathesis (long) {target.backend}", requests=sent,
                seconds=round(time.monotonic() - started, 1))


# --- bodies over the limits: refused before they are read ---------------------------------------------------

GIB = 1 << 30


class RssWatch:
    """Samples a server's RSS every 10 ms in a thread; `peak` is the most it saw."""

    def __init__(self, server: Server) -> None:
        self.server, self.peak, self.stop = server, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.server.rss())
            time.sleep(0.01)

    def __enter__(self) -> RssWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


def _stream(head: bytes, total: int, *, chunked: bool = False, prefix: bytes = b"") -> Iterator[bytes]:
    """`head`, then a body of `prefix` and `total` more bytes in 1 MiB pieces (chunked-framed if asked)."""
    yield head
    if prefix:
        yield (b"%x\r\n" % len(prefix) + prefix + b"\r\n") if chunked else prefix
    piece = b"7" * (1 << 20)
    for _ in range(total // len(piece)):
        yield (b"%x\r\n" % len(piece) + piece + b"\r\n") if chunked else piece
    if chunked:
        yield b"0\r\n\r\n"


def _huge(port: int, method: str, path: str, ctype: str, *, chunked: bool, prefix: bytes = b"") -> Any:
    framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(GIB + len(prefix))}
    head = request(method, path, headers={"Content-Type": ctype, **framing}, close=False)
    return raw_http(port, _stream(head, GIB, chunked=chunked, prefix=prefix), timeout=300)


def test_huge_bodies_refused_before_read(tmp_path: Path) -> None:
    with Server(tmp_path / "data", transitions="immediate") as srv:
        upload = srv.json("POST", "/v1/uploads", json_body={"filename": "u.jsonl", "purpose": "fine-tune",
                                                            "bytes": 100, "mime_type": "text/jsonl"})
        _, _, mp_type = multipart({"purpose": "fine-tune"})
        cases = [("POST", "/v1/files", mp_type), ("POST", f"/v1/uploads/{upload['id']}/parts", mp_type),
                 ("POST", "/v1/fine_tuning/jobs", "application/json"), ("POST", "/v1/uploads", "application/json"),
                 ("POST", "/v1/chat/completions", "application/json")]
        figures = {}
        for method, path, ctype in cases:   # a declared 1 GiB: refused from the headers alone
            srv.http("GET", "/v1/models")
            base = srv.rss()
            with RssWatch(srv) as watch:
                r = _huge(srv.port, method, path, ctype, chunked=False)
            check_answer(r, f"{method} {path} with Content-Length: 1 GiB")
            assert r.status == 413, (path, r.status, r.body[:300])
            growth = (watch.peak - base) / 1e6
            assert growth < 20, f"{path}: RSS grew {growth:.1f} MB on a refused 1 GiB body"
            assert r.sent < 64 << 20, f"{path}: {r.sent} bytes went in before the refusal"
            figures[path] = f"{growth:.1f}MB/{r.sent >> 20}MiB"
        # Chunked JSON (no length up front): read up to the 1 MiB JSON limit, then refused.
        base = srv.rss()
        with RssWatch(srv) as watch:
            r = _huge(srv.port, "POST", "/v1/fine_tuning/jobs", "application/json", chunked=True)
        check_answer(r, "chunked 1 GiB JSON")
        assert r.status == 413, r.body[:300]
        chunked_growth = (watch.peak - base) / 1e6
        after = (srv.rss() - base) / 1e6
        assert chunked_growth < 200, f"chunked JSON: RSS peaked {chunked_growth:.0f} MB above the start"
        assert srv.running and srv.http("GET", "/v1/models")[0] == 200
        assert not os.listdir(srv.data_dir / "tmp"), "a refused body left a tmp file"
    FIGURES.add("huge bodies", declared_1GiB_rss_growth_and_bytes_taken=figures,
                chunked_json_peak_growth_MB=round(chunked_growth, 1), chunked_json_after_MB=round(after, 1))


@pytest.mark.slow
def test_huge_chunked_upload_streams_to_disk(tmp_path: Path) -> None:
    """A chunked 1 GiB file upload (no length up front) goes to disk, not memory, and is refused at 512 MB."""
    with Server(tmp_path / "data", transitions="immediate") as srv:
        head, _, mp_type = multipart({"purpose": "fine-tune"}, filename="huge.jsonl")
        base = srv.rss()
        with RssWatch(srv) as watch:
            r = _huge(srv.port, "POST", "/v1/files", mp_type, chunked=True, prefix=head)
        check_answer(r, "chunked 1 GiB upload")
        assert r.status == 413, (r.status, r.body[:300])
        growth = (watch.peak - base) / 1e6
        assert growth < 40, f"RSS grew {growth:.1f} MB while a file streamed to disk"
        assert not os.listdir(srv.data_dir / "tmp"), "a refused upload left its tmp file"
    FIGURES.add("huge chunked upload", status=r.status, rss_growth_MB=round(growth, 1), sent_MiB=r.sent >> 20)

"""The dashboard over plain HTTP (no browser): page and assets, self-containment, and no data without a key."""

from __future__ import annotations

import re
from importlib import resources

import orjson
import pytest

from tests.conftest import pig_jsonl

ASSETS = {"dashboard.html": "text/html", "dashboard.js": "text/javascript", "dashboard.css": "text/css"}


def _static(name: str) -> str:
    return (resources.files("mockserver.control") / "static" / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("path", ["/", "/dashboard"])
def test_page_is_served_without_a_key(api, path: str) -> None:
    status, headers, body = api.request("GET", path, api_key=None)
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert "charset=utf-8" in headers["content-type"]
    html = body.decode()
    assert "<title>" in html and 'id="chart"' in html
    assert 'src="/dashboard/static/dashboard.js"' in html
    assert 'href="/dashboard/static/dashboard.css"' in html
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "default-src 'none'" in csp


@pytest.mark.parametrize(("name", "media_type"), sorted(ASSETS.items()))
def test_static_assets_have_their_content_types(api, name: str, media_type: str) -> None:
    status, headers, body = api.request("GET", f"/dashboard/static/{name}", api_key=None)
    assert status == 200
    assert headers["content-type"] == f"{media_type}; charset=utf-8"
    assert headers["x-content-type-options"] == "nosniff"
    assert body.decode() == _static(name)


@pytest.mark.parametrize("path", ["/dashboard/static/nope.js", "/dashboard/static/..%2Frouters%2Fdashboard.py",
                                  "/dashboard/static/%2E%2E%2F__init__.py", "/dashboard/static/"])
def test_only_the_three_assets_are_served(api, path: str) -> None:
    status, headers, body = api.request("GET", path, api_key=None)
    assert status == 404
    assert headers["content-type"].startswith("application/json")
    assert orjson.loads(body)["error"]["code"] == "unknown_url"


def test_dashboard_is_not_in_the_openapi_schema(api) -> None:
    status, _, body = api.request("GET", "/openapi.json", api_key=None)
    assert status == 200
    paths = orjson.loads(body)["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/dashboard")]


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_assets_reference_nothing_outside_the_emulator(name: str) -> None:
    text = _static(name)
    for needle in ("http://", "https://", "//cdn", "@import", "url(http", "<iframe"):
        assert needle not in text.lower(), f"{name} contains {needle!r}"
    if name == "dashboard.html":
        srcs = re.findall(r'(?:src|href)="([^"]*)"', text)
        assert sorted(srcs) == ["/dashboard/static/dashboard.css", "/dashboard/static/dashboard.js", "data:,"]
        assert re.search(r"<script(?![^>]*\bsrc=)", text) is None, "no inline script"


def test_script_builds_the_page_from_text_nodes_and_sends_the_key() -> None:
    js = _static("dashboard.js")
    for unsafe in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert unsafe not in js, f"dashboard.js uses {unsafe}"
    assert "Authorization: `Bearer ${state.key}`" in js
    assert "localStorage" in js
    assert re.findall(r"fetch\(([^,)]*)", js) == ["`/v1${path}`"], "every request goes to the public /v1 API"


def test_page_holds_no_data_and_the_api_it_uses_needs_a_key(api) -> None:
    f = api.client.files.create(file=("dash.jsonl", pig_jsonl()), purpose="fine-tune")
    job = api.client.fine_tuning.jobs.create(training_file=f.id, model="gpt-4o-mini-2024-07-18")
    for path in ("/", "/dashboard", "/dashboard/static/dashboard.js"):
        _, _, body = api.request("GET", path, api_key=None)
        assert f.id.encode() not in body and job.id.encode() not in body
    calls = [("GET", "/v1/files?limit=100"), ("GET", "/v1/fine_tuning/jobs?limit=100"), ("GET", "/v1/models"),
             ("GET", f"/v1/fine_tuning/jobs/{job.id}"), ("GET", f"/v1/fine_tuning/jobs/{job.id}/events?limit=100"),
             ("POST", "/v1/chat/completions")]
    for method, path in calls:
        kw = {"json": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}} if method == "POST" else {}
        status, _, body = api.request(method, path, api_key=None, **kw)
        assert status == 401, (method, path, body)
        assert orjson.loads(body)["error"]["type"] == "invalid_request_error"
    # With the key the same calls see this organization's data; another key sees none of it.
    status, _, body = api.request("GET", "/v1/files?limit=100")
    assert status == 200 and f.id in {x["id"] for x in orjson.loads(body)["data"]}
    status, _, body = api.request("GET", "/v1/fine_tuning/jobs?limit=100", api_key="sk-dash-stranger")
    assert status == 200 and job.id not in {x["id"] for x in orjson.loads(body)["data"]}

"""/docs and /redoc over plain HTTP: self-hosted assets, no external URL in the pages, a CSP that allows
only this origin (the browser test renders them with the network blocked)."""

from __future__ import annotations

import re

import pytest

from mockserver.control import docs

EXTERNAL = re.compile(rb"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.I)


@pytest.mark.parametrize("path,asset", [("/docs", b"/docs/static/swagger-ui-bundle.js"),
                                        ("/redoc", b"/docs/static/redoc.standalone.js")])
def test_pages_reference_only_their_own_assets(api, path, asset):
    status, headers, body = api.request("GET", path, api_key=None)
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert asset in body and b"/openapi.json" in body
    assert EXTERNAL.findall(body) == []                     # no CDN, no fonts, no validator badge
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "http" not in csp and "*" not in csp


def test_assets_are_served_from_the_installed_package(api):
    for name, media_type in docs.ASSETS.items():
        status, headers, body = api.request("GET", f"/docs/static/{name}", api_key=None)
        assert status == 200 and headers["content-type"] == media_type
        assert body == (docs.asset_dir() / name).read_bytes() and len(body) > 1000
    status, _, body = api.request("GET", "/docs/static/..%2Fcore.py", api_key=None)
    assert status == 404 and b'"error"' in body

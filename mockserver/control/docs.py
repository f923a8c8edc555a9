"""`/docs` (Swagger UI) and `/redoc` (ReDoc) served offline: the UI bundles come from the PyPI package
`fastapi-offline` (installed with the emulator), never from a CDN, and a Content-Security-Policy keeps the
pages from loading anything from another origin (the one inline script is allowed by its sha256).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.util
import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse, Response

from contracts import errors

router = APIRouter(include_in_schema=False)

STATIC = "/docs/static"
ASSETS = {  # the only files served: name → media type
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


@functools.cache
def asset_dir() -> Path:
    """fastapi-offline's bundled static files (found without importing the package)."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the fastapi-offline package is missing (pip install -e .)")
    return Path(list(spec.submodule_search_locations)[0]) / "static"


def _csp(html: str) -> str:
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                      for s in _INLINE_SCRIPT.findall(html))
    return (f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def _page(page: HTMLResponse) -> HTMLResponse:
    html = page.body.decode()
    return HTMLResponse(html, headers={"Content-Security-Policy": _csp(html), "Cache-Control": "no-cache",
                                       "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    app = request.app
    return _page(get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} - Swagger UI",
                                     swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
                                     swagger_css_url=f"{STATIC}/swagger-ui.css",
                                     swagger_favicon_url=f"{STATIC}/favicon.png", oauth2_redirect_url=None,
                                     # no badge fetched from the public validator
                                     swagger_ui_parameters={**(app.swagger_ui_parameters or {}),
                                                            "validatorUrl": None}))


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    app = request.app
    return _page(get_redoc_html(openapi_url=app.openapi_url, title=f"{app.title} - ReDoc",
                                redoc_js_url=f"{STATIC}/redoc.standalone.js",
                                redoc_favicon_url=f"{STATIC}/favicon.png", with_google_fonts=False))


@router.get(STATIC + "/{name}")
async def docs_asset(name: str) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise errors.route_not_found("GET", f"{STATIC}/{name}")
    return Response((asset_dir() / name).read_bytes(), media_type=media_type, headers={
        "Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})

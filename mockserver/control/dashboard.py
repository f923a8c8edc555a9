"""The dashboard: one static page at `/` and `/dashboard` that reads the public /v1 API with the user's key.

The page itself needs no key and holds no data; every call it makes goes to /v1 with `Authorization:
Bearer <key>` (the key is typed into the page and kept in the browser's localStorage), so it sees exactly
what that key's organization sees. Assets are the three files in `mockserver/control/static/`, served from the
installed package; a strict Content-Security-Policy keeps the page self-contained (no third-party code,
no inline script, no requests to other origins).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import Response

from contracts import errors

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS = {  # the only files served: name → media type
    "dashboard.html": "text/html; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def _asset(name: str, path: str) -> Response:
    media_type = ASSETS.get(name)
    file = STATIC_DIR / name
    if media_type is None or not file.is_file():
        raise errors.route_not_found("GET", path)
    return Response(file.read_bytes(), media_type=media_type, headers={
        "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", "Content-Security-Policy": CSP,
        "Referrer-Policy": "no-referrer"})


@router.get("/")
@router.get("/dashboard")
async def dashboard_page() -> Response:
    return _asset("dashboard.html", "/dashboard")


@router.get("/dashboard/static/{name}")
async def dashboard_static(name: str) -> Response:
    return _asset(name, f"/dashboard/static/{name}")

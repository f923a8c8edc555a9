"""Who may drive the emulator from a browser: Origin, Host and control-plane content-type checks.

A web page on another origin can send requests to the emulator on loopback (CSRF), and a page served
from a domain that rebinds to 127.0.0.1 can read its answers (DNS rebinding). Three checks, before
any route runs, each refused with an OpenAI-shaped 403 (or 400 for the content type):

* `Origin`: when a request carries one, it must be the server's own origin (`http://<Host>`); clients
  that send none (the SDK, curl) are unaffected; the dashboard is same-origin. `Sec-Fetch-Site:
  cross-site` is refused likewise.
* `Host`: a request that arrived on a loopback address (the socket uvicorn accepted it on, ASGI
  `scope["server"]`) must name a loopback host — `localhost`, `127.0.0.1`, `[::1]` — or one of
  `--allowed-hosts` (`*` allows any). In-process transports have no socket and are not checked.
* `/_mock/*` bodies must be `application/json` (an HTML form or a `no-cors` fetch cannot send that
  without a CORS preflight, which the emulator never grants).

The API docs pages (`/docs`, `/redoc`) get a Content-Security-Policy that allows only this origin's
scripts, styles and API (plus the pages' own inline bootstrap script) unless they already set one.
"""

from __future__ import annotations

import functools
import ipaddress

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts import errors
from mockserver.http import JSONResponse

__all__ = ["BrowserGuard", "BrowserGuardMiddleware", "LOOPBACK_HOSTS", "parse_allowed_hosts", "DOCS_CSP"]

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
DOCS_PATHS = ("/docs", "/redoc")
DOCS_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")


def parse_allowed_hosts(text: str | None) -> frozenset[str] | None:
    """The extra Host names of `--allowed-hosts` (comma-separated); None when `*` allows any."""
    names = {h.strip().lower().rstrip(".") for h in (text or "").split(",") if h.strip()}
    return None if "*" in names else frozenset(names)


@functools.lru_cache(maxsize=256)
def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


@functools.lru_cache(maxsize=256)
def _hostname(host: str) -> str:
    """`example.com:8000` → `example.com`; `[::1]:8000` → `[::1]`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0].rstrip(".") if host.count(":") <= 1 else host


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return None


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return _header(scope, b"transfer-encoding") is not None


class BrowserGuard:
    """The three checks (`problem`); BrowserGuardMiddleware applies them before every route, the hot path
    (mockserver.hot) before its endpoints."""

    def __init__(self, *, allowed_hosts: str | None = None) -> None:
        extra = parse_allowed_hosts(allowed_hosts)
        self.hosts = None if extra is None else LOOPBACK_HOSTS | extra

    def problem(self, scope: Scope) -> errors.APIError | None:
        seen = _headers(scope)
        host = seen.get(b"host") or ""
        server = scope.get("server") or ("", 0)
        if self.hosts is not None and _is_loopback(str(server[0])) and _hostname(host) not in self.hosts:
            return errors.PermissionDenied(
                f"Host '{_hostname(host)}' is not allowed: the emulator on a loopback address answers only "
                "localhost, 127.0.0.1 and [::1] (add names with --allowed-hosts or MOCKSERVER_ALLOWED_HOSTS).",
                code="host_not_allowed")
        origin = seen.get(b"origin")
        cross_site = seen.get(b"sec-fetch-site") == "cross-site"
        if origin is not None or cross_site:   # (the SDK and curl send neither)
            own = f"{scope.get('scheme', 'http')}://{host.lower()}"
            if cross_site or origin.lower().rstrip("/") != own:
                return errors.PermissionDenied(
                    f"Cross-origin requests are not allowed: Origin {origin or '(cross-site)'} is not this "
                    f"server's origin ({own}).", code="cross_origin_denied")
        if scope["path"].startswith("/_mock") and _has_body(scope):
            content_type = (_header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
            if content_type != "application/json":
                return errors.BadRequest(
                    f"The control plane accepts only 'Content-Type: application/json' bodies, got "
                    f"{content_type or 'none'!r}.", code="invalid_content_type")
        return None


_CHECKED = (b"host", b"origin", b"sec-fetch-site")


def _headers(scope: Scope) -> dict[bytes, str]:
    """The first value of each header the guard reads, in one pass over the request's headers."""
    out: dict[bytes, str] = {}
    for k, v in scope.get("headers", ()):
        if k in _CHECKED and k not in out:
            out[k] = v.decode("latin-1")
    return out


class BrowserGuardMiddleware(BrowserGuard):
    """Refuses cross-origin requests, foreign Host names on loopback, and non-JSON control-plane bodies."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: str | None = None) -> None:
        super().__init__(allowed_hosts=allowed_hosts)
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = self.problem(scope)
            if problem is not None:
                await JSONResponse(problem.body(), status_code=problem.status)(scope, receive, send)
                return
            if scope["path"].startswith(DOCS_PATHS):
                await self.app(scope, receive, _with_csp(send))
                return
        await self.app(scope, receive, send)


def _with_csp(send: Send) -> Send:
    async def send_with_csp(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(k.lower() == b"content-security-policy" for k, _ in headers):
                headers.append((b"content-security-policy", DOCS_CSP.encode()))
                message = {**message, "headers": headers}
        await send(message)
    return send_with_csp

"""The one exception path: every failure leaves the server as the real API's error envelope."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request

from contracts import errors
from contracts.requests import translate
from mockserver.http import JSONResponse

__all__ = ["install_error_handlers", "render", "unexpected", "http_error"]

log = logging.getLogger("mockserver")


def render(error: errors.APIError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.APIError)
    return render(exc)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own parameter checks, through the one translator of request-model errors."""
    assert isinstance(exc, RequestValidationError)
    return render(translate(list(exc.errors()), skip=("body", "query", "path", "header")))


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        err: errors.APIError = errors.route_not_found(request.method, request.url.path)
    elif exc.status_code == 405:
        err = errors.method_not_allowed(request.method, request.url.path)
    else:
        err = errors.APIError(str(exc.detail), status=exc.status_code)
    return render(err)


async def unexpected(request: Request, exc: Exception) -> JSONResponse:
    """The 500 for an exception no other handler takes (logged with its traceback)."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return render(errors.ServerError("The server had an error while processing your request. Sorry about that!"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.APIError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)

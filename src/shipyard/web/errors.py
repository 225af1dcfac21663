"""Errors at the HTTP edge: Shipyard's error kinds to status codes, in one table.

    app = Starlette(routes=..., exception_handlers=exception_handlers(render))

``render(request, status, code, message, headers)`` makes the body, so that each app keeps its
clients' shape (the tracking server answers MLflow's under ``/api/2.0/``). Unknown paths are
``ENDPOINT_NOT_FOUND`` 404, a known path with another method 405 (with ``Allow``), a body over
the limit 413; a ShipyardError outside the table and any other exception are 500, logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from shipyard import errors
from shipyard.web.responses import error_json

__all__ = ["ERROR_CODES", "Render", "exception_handlers", "shipyard_render"]

logger = logging.getLogger("shipyard.web")

ERROR_CODES: tuple[tuple[type[errors.ShipyardError], int, str], ...] = (
    (errors.NotFoundError, 404, "RESOURCE_DOES_NOT_EXIST"),
    (errors.ConflictError, 400, "RESOURCE_ALREADY_EXISTS"),
    (errors.InvalidNameError, 400, "INVALID_PARAMETER_VALUE"),
    (errors.InvalidInputError, 400, "INVALID_PARAMETER_VALUE"),
    (errors.ConfigError, 400, "INVALID_PARAMETER_VALUE"),
)
_HTTP_CODES = {404: "ENDPOINT_NOT_FOUND", 405: "ENDPOINT_NOT_FOUND", 413: "REQUEST_TOO_LARGE"}

Render = Callable[[Request, int, str, str, "Mapping[str, str] | None"], Response]


def shipyard_render(
    request: Request, status: int, code: str, message: str, headers: Mapping[str, str] | None
) -> Response:
    """Shipyard's own shape, ``{"error": message, "code": code}``."""
    return error_json(status, message, code, dict(headers) if headers else None)


def exception_handlers(render: Render = shipyard_render) -> dict[Any, Callable[..., Any]]:
    """The handlers for ``Starlette(exception_handlers=...)``, rendering with ``render``
    (async: Starlette would run plain functions in a worker thread)."""

    async def http_error(request: Request, exc: HTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "INVALID_PARAMETER_VALUE")
        if exc.status_code in (404, 405):
            message = f"no endpoint {request.method} {request.scope['path']}"
        else:
            message = exc.detail
        return render(request, exc.status_code, code, message, exc.headers)

    async def shipyard_error(request: Request, exc: Exception) -> Response:
        for kind, status, code in ERROR_CODES:
            if isinstance(exc, kind):
                return render(request, status, code, str(exc), None)
        logger.warning("%s %s failed: %s", request.method, request.scope["path"], exc)
        return render(request, 500, "INTERNAL_ERROR", str(exc), None)

    async def server_error(request: Request, exc: Exception) -> Response:
        message = "internal server error (see the server log)"
        return render(request, 500, "INTERNAL_ERROR", message, None)

    return {
        HTTPException: http_error,
        errors.ShipyardError: shipyard_error,
        Exception: server_error,
    }

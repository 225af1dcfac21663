"""The tracking server's ASGI app: declared routes, error mapping at the edge, a lifespan.

    app = create_app(Tracker.from_settings(settings))
    uvicorn.run(app, host="127.0.0.1", port=5000)

Errors under ``/api/2.0/`` use MLflow's body ``{"error_code": ..., "message": ...}`` and codes
(``RESOURCE_DOES_NOT_EXIST`` 404, ``INVALID_PARAMETER_VALUE`` 400, ...); Shipyard's own API
answers ``{"error": ...}``. Every response says how long the server worked on it in a
``Server-Timing: app;dur=<ms>`` header (MLflow endpoints add the CPU time of the store call in
``X-Shipyard-Handler-CPU-Ms``: on a busy machine wall time mostly measures the wait for a core).
While running, the app marks runs whose heartbeat
stopped as KILLED once a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from shipyard.errors import (
    ConfigError,
    ConflictError,
    InvalidInputError,
    InvalidNameError,
    NotFoundError,
    ShipyardError,
)
from shipyard.tracking.server.artifacts_api import ArtifactsApi
from shipyard.tracking.server.http import (
    Endpoint,
    Receive,
    Request,
    Response,
    Route,
    Router,
    Send,
    json_response,
)
from shipyard.tracking.server.mlflow_api import PREFIX, Handler, MlflowApi
from shipyard.tracking.server.shipyard_api import ShipyardApi
from shipyard.tracking.server.threads import in_thread
from shipyard.tracking.tracker import Tracker

__all__ = ["ERROR_CODES", "TrackingApp", "create_app"]

logger = logging.getLogger("shipyard.tracking")

ERROR_CODES: tuple[tuple[type[ShipyardError], int, str], ...] = (
    (NotFoundError, 404, "RESOURCE_DOES_NOT_EXIST"),
    (ConflictError, 400, "RESOURCE_ALREADY_EXISTS"),
    (InvalidNameError, 400, "INVALID_PARAMETER_VALUE"),
    (InvalidInputError, 400, "INVALID_PARAMETER_VALUE"),
    (ConfigError, 400, "INVALID_PARAMETER_VALUE"),
)
REAP_INTERVAL_S = 60.0


def _timed(handler: Handler, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """The handler's result and the CPU time its thread spent on it (ms)."""
    began = time.thread_time()
    result = handler(body)
    return result, (time.thread_time() - began) * 1000


def _json_endpoint(handler: Handler) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        body = await request.json()
        result, cpu_ms = await in_thread(_timed, handler, body)
        response = json_response(result)
        response.headers.append((b"x-shipyard-handler-cpu-ms", f"{cpu_ms:.2f}".encode()))
        return response

    return endpoint


def error_response(path: str, status: int, code: str, message: str) -> Response:
    if path.startswith("/api/2.0/"):
        return json_response({"error_code": code, "message": message}, status)
    return json_response({"error": message, "code": code}, status)


class TrackingApp:
    """A minimal ASGI application over declared routes and one ``Tracker``."""

    def __init__(self, tracker: Tracker, routes: Sequence[Route]) -> None:
        self.tracker = tracker
        self.routes = tuple(routes)
        self._router = Router(self.routes)
        self._reaper: asyncio.Task[None] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        request = Request(scope, receive)
        response = await self._respond(request)
        elapsed = (time.perf_counter() - started) * 1000
        timing = (b"server-timing", f"app;dur={elapsed:.2f}".encode())
        await response.send(send, [timing])

    async def _respond(self, request: Request) -> Response:
        route, other_method = self._router.match(request)
        if route is None:
            status = 405 if other_method else 404
            message = f"no endpoint {request.method} {request.path}"
            return error_response(request.path, status, "ENDPOINT_NOT_FOUND", message)
        try:
            return await route.endpoint(request)
        except ShipyardError as exc:
            for kind, status, code in ERROR_CODES:
                if isinstance(exc, kind):
                    return error_response(request.path, status, code, str(exc))
            logger.warning("%s %s failed: %s", request.method, request.path, exc)
            return error_response(request.path, 500, "INTERNAL_ERROR", str(exc))
        except Exception:
            logger.exception("%s %s raised", request.method, request.path)
            message = "internal server error (see the server log)"
            return error_response(request.path, 500, "INTERNAL_ERROR", message)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._reaper = asyncio.create_task(self._reap_forever())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._reaper is not None:
                    self._reaper.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._reaper
                self.tracker.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _reap_forever(self) -> None:
        while True:
            try:
                reaped = await in_thread(self.tracker.reap_stale_runs)
                if reaped:
                    logger.info("marked %d stale runs KILLED", len(reaped))
            except ShipyardError as exc:
                logger.warning("stale run check failed: %s", exc)
            await asyncio.sleep(REAP_INTERVAL_S)


def create_app(tracker: Tracker) -> TrackingApp:
    """The app serving the MLflow tracking and artifacts APIs and Shipyard's run API."""
    mlflow = MlflowApi(tracker)
    routes = [
        Route(method, PREFIX + path, _json_endpoint(handler))  # type: ignore[arg-type]
        for method, path, handler in mlflow.handlers()
    ]
    routes += ArtifactsApi(tracker, tracker.settings.home / "tmp").routes()
    routes += ShipyardApi(tracker).routes()
    routes.append(Route("GET", "/health", _health))
    return TrackingApp(tracker, routes)


async def _health(request: Request) -> Response:
    return json_response({"status": "ok"})

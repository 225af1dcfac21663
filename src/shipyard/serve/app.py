"""The ASGI app: a declared list of routes, a list of middleware and a lifespan.

    app = create_app(StaticSource(loaded_model, name="iris"))
    uvicorn.run(app, host="127.0.0.1", port=8080)

Domain errors are mapped to HTTP statuses here, at the edge (``ERROR_STATUS``); every error is
``{"error": "..."}`` and the server keeps serving after any of them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from shipyard.errors import (
    InputRejectedError,
    InvalidInputError,
    NotFoundError,
    PredictionError,
    ShipyardError,
)
from shipyard.models.predictor import LoadedModel
from shipyard.serve.auth import ApiKeys, BearerAuth
from shipyard.serve.batching import BatchPolicy
from shipyard.serve.config import ServeConfig
from shipyard.serve.dataplane import DataPlane, NotReadyError
from shipyard.serve.guards import AllowedHosts, JsonBodies
from shipyard.serve.health import HealthEndpoints
from shipyard.serve.http import (
    SMALL_BODY_BYTES,
    BodyTooLargeError,
    Endpoint,
    ReadDeadlines,
    Request,
    Response,
    Route,
    Router,
)
from shipyard.serve.http import json_response as json_response
from shipyard.serve.lifespan import ServerLifespan
from shipyard.serve.metrics import Metrics
from shipyard.serve.middleware import Middleware, ObserveMetrics, RequestId
from shipyard.serve.predlog import LogRotation, PredictionLogger
from shipyard.serve.rest import RestProtocol
from shipyard.serve.runtime import ModelRuntime
from shipyard.serve.sources import ModelSource, StaticSource
from shipyard.serve.v2 import V2Protocol

__all__ = ["ERROR_STATUS", "App", "create_app", "response_headers"]

logger = logging.getLogger("shipyard.serve")

ERROR_STATUS: tuple[tuple[type[ShipyardError], int], ...] = (
    (BodyTooLargeError, 413),
    (InvalidInputError, 400),
    (NotFoundError, 404),
    (NotReadyError, 503),
    (InputRejectedError, 422),
    (PredictionError, 500),
)

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class App:
    """A minimal ASGI application over declared routes, middleware and lifespan."""

    def __init__(
        self,
        routes: Sequence[Route],
        middleware: Sequence[Middleware],
        lifespan: ServerLifespan,
        *,
        max_body_bytes: int,
        deadlines: ReadDeadlines | None = None,
        state: dict[str, Any] | None = None,
    ) -> None:
        self.routes = tuple(routes)
        self.middleware = tuple(middleware)
        self.lifespan = lifespan
        self.state = state or {}
        self._router = Router(self.routes)
        self._max_body = max_body_bytes
        self.deadlines = deadlines or ReadDeadlines()
        self._chain = self._compose()

    def _compose(self) -> Endpoint:
        handler: Endpoint = self._dispatch
        for middleware in reversed(self.middleware):
            # A partial, not a wrapper coroutine: one coroutine frame per middleware, not two.
            handler = partial(middleware, call_next=handler)
        return handler

    @property
    def max_body_bytes(self) -> int:
        """Requests with a larger body are answered 413."""
        return self._max_body

    def route(self, request: Request) -> int:
        """Find ``request``'s route (kept on the request); return the body limit it allows."""
        route, request.params, request.wrong_method = self._router.match(
            request.method, request.path
        )
        request.route = route
        limit = SMALL_BODY_BYTES if route is None else route.body_limit(self._max_body)
        request.max_body = limit
        return limit

    async def handle(self, request: Request) -> Response:
        """Route ``request`` (unless the server did) through the middleware; never raises."""
        if request.route is None:
            self.route(request)
        return await self._chain(request)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            request = Request.from_asgi(scope, receive, self._max_body)
            response = await self.handle(request)
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status,
                    "headers": response_headers(response, request.request_id),
                }
            )
            await send({"type": "http.response.body", "body": response.body})
        elif kind == "lifespan":
            await self._run_lifespan(receive, send)

    async def _dispatch(self, request: Request) -> Response:
        route = request.route
        if request.oversize:  # answered whether or not the endpoint would have read the body
            return json_response({"error": request.too_large(request.oversize)}, 413)
        if route is None:
            if request.wrong_method:
                message = f"{request.method} is not allowed on {request.path}"
                return json_response({"error": message}, 405)
            return json_response(
                {"error": f"no route {request.method} {request.path}: see /docs and /v2"}, 404
            )
        try:
            return await route.endpoint(request)
        except ShipyardError as exc:
            for kind, status in ERROR_STATUS:
                if isinstance(exc, kind):
                    if status == 500:
                        return _server_error(request, exc, "the model raised an error")
                    return json_response({"error": str(exc)}, status)
            return _server_error(request, exc, "internal error")
        except Exception as exc:
            return _server_error(request, exc, "internal error")

    async def _run_lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.lifespan.startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.lifespan.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def response_headers(response: Response, request_id: str) -> list[tuple[bytes, bytes]]:
    """The headers every response carries, then the endpoint's own."""
    return [
        (b"content-type", response.content_type),
        (b"content-length", str(len(response.body)).encode()),
        (b"x-request-id", request_id.encode()),
        *response.headers,
    ]


def _server_error(request: Request, exc: BaseException, what: str) -> Response:
    error_id = os.urandom(6).hex()
    logger.error(
        "error %s on %s %s (request %s): %s",
        error_id,
        request.method,
        request.path,
        request.request_id,
        exc,
        exc_info=exc,
    )
    return json_response({"error": f"{what} (error id {error_id}, see the server log): {exc}"}, 500)


def create_app(
    source: ModelSource | LoadedModel,
    config: ServeConfig | None = None,
    *,
    name: str = "model",
    metrics_dir: Path | None = None,
) -> App:
    """The ASGI app serving ``source`` (a registry/folder source, or a ``LoadedModel``).

    ``metrics_dir`` (one per server, shared by its workers) makes ``/metrics`` report the totals
    of every worker writing there (``workermetrics.py``).
    """
    config = config or ServeConfig()
    if isinstance(source, LoadedModel):
        source = StaticSource(source, name=name)
    metrics = Metrics()
    policy = BatchPolicy(config.max_batch_size, config.max_latency_ms / 1000.0, config.batching)
    runtime = ModelRuntime(policy, on_batch=metrics.observe_batch)
    prediction_log = (
        PredictionLogger(
            config.prediction_log,
            config.prediction_log_queue,
            LogRotation(
                config.prediction_log_max_bytes,
                config.prediction_log_rotate_seconds,
                config.prediction_log_keep,
            ),
        )
        if config.prediction_log
        else None
    )
    dataplane = DataPlane(runtime, prediction_log)
    routes = [
        *HealthEndpoints(dataplane, metrics).routes(),
        *RestProtocol(dataplane).routes(),
        *V2Protocol(dataplane).routes(),
    ]
    middleware: list[Middleware] = [RequestId(), ObserveMetrics(metrics), JsonBodies()]
    if config.api_key_file is not None:
        middleware.append(BearerAuth(ApiKeys.from_file(config.api_key_file)))
    else:  # with no key, a page's requests through a rebound DNS name must not get in
        middleware.append(AllowedHosts.bound_to(config.host, config.allowed_hosts))
    lifespan = ServerLifespan(
        source,
        runtime,
        dataplane,
        metrics,
        prediction_log,
        follow_alias=config.follow_alias,
        poll_seconds=config.poll_seconds,
        metrics_dir=metrics_dir,
    )
    return App(
        routes,
        middleware,
        lifespan,
        max_body_bytes=config.max_body_bytes,
        deadlines=ReadDeadlines(
            config.header_timeout_s, config.min_body_rate, config.body_rate_window_s
        ),
        state={"metrics": metrics, "runtime": runtime, "dataplane": dataplane},
    )

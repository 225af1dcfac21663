"""The tracking server's ASGI app: a Starlette application of declared routes, middleware,
exception handlers and a lifespan.

    app = create_app(Tracker.from_settings(settings), ServerConfig.from_env())
    uvicorn.run(app, host="127.0.0.1", port=5000)

Errors under ``/api/2.0/`` and ``/api/3.0/`` use MLflow's body ``{"error_code": ..., "message":
...}`` and codes (``RESOURCE_DOES_NOT_EXIST`` 404, ``INVALID_PARAMETER_VALUE`` 400, ...);
everything else answers Shipyard's ``{"error": ..., "code": ...}`` (the table is
``shipyard.web.errors.ERROR_CODES``). Every response says how long the app worked on it in
``Server-Timing: app;dur=<ms>``, and each request is one line of the access log. While running,
the app marks runs whose heartbeat stopped as KILLED once a minute.

The model registry endpoints (``registry_api.py``) are a view of Shipyard's registry; MLflow 3's
evaluation datasets (``datasets_api.py``) are served under ``/api/3.0/mlflow/datasets``.

Before a request reaches a route, ``BrowserGuard`` refuses a foreign Host (421), a cross-origin
write (403) and a simple-request body (415), and ``RequireKey`` asks for an access key once the
server has any (401; 403 for a read-only key's write).

The web UI's pages (``shipyard.ui``) come in as ``pages``: this stage does not import the UI.

To extend it, add routes to ``routes()`` and middleware to ``middleware()`` (outermost first).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Lifespan

from shipyard.errors import ShipyardError
from shipyard.registry.registry import Registry
from shipyard.tracking.locations import ArtifactLocationPolicy
from shipyard.tracking.server.artifacts_api import ArtifactsApi
from shipyard.tracking.server.auth import RequireKey
from shipyard.tracking.server.config import ServerConfig
from shipyard.tracking.server.datasets_api import DATASET_READ_POSTS, DatasetsApi
from shipyard.tracking.server.keys import KeyFile, KeyRing
from shipyard.tracking.server.mlflow3_api import server_info
from shipyard.tracking.server.mlflow_api import READ_POSTS, MlflowApi
from shipyard.tracking.server.models_api import ModelsApi
from shipyard.tracking.server.openapi import openapi_document
from shipyard.tracking.server.registry_api import REGISTRY_READ_POSTS, RegistryApi
from shipyard.tracking.server.shipyard_api import ShipyardApi
from shipyard.tracking.tracker import Tracker
from shipyard.web.errors import exception_handlers, shipyard_render
from shipyard.web.guards import BrowserGuard, NulFreeUrls
from shipyard.web.middleware import AccessLog, ServerTiming
from shipyard.web.origins import HostNames, is_loopback
from shipyard.web.responses import JSONBody

__all__ = ["MLFLOW_PREFIXES", "SERVER_INFO_PATH", "create_app", "middleware", "routes"]

logger = logging.getLogger("shipyard.tracking")

MLFLOW_PREFIXES = ("/api/2.0/", "/api/3.0/")
SERVER_INFO_PATH = "/api/3.0/mlflow/server-info"
REAP_INTERVAL_S = 60.0


def mlflow_render(
    request: Request, status: int, code: str, message: str, headers: Mapping[str, str] | None
) -> Response:
    """MLflow's error body under its API prefixes, Shipyard's elsewhere."""
    if request.scope["path"].startswith(MLFLOW_PREFIXES):
        body = {"error_code": code, "message": message}
        return JSONBody(body, status, dict(headers) if headers else None)
    return shipyard_render(request, status, code, message, headers)


def routes(tracker: Tracker, config: ServerConfig, registry: Registry) -> list[BaseRoute]:
    """Every route the server answers: MLflow tracking, registry and artifacts, Shipyard's API."""
    scratch = tracker.settings.home / "tmp"
    locations = ArtifactLocationPolicy(
        config.artifact_schemes,
        tracker.settings.registry.artifact_url,
        local_files=is_loopback(config.host),
    )
    return [
        *MlflowApi(tracker, locations).routes(),
        *DatasetsApi(tracker).routes(),
        *RegistryApi(tracker, registry).routes(),
        *ArtifactsApi(tracker, scratch, config.max_upload_bytes).routes(),
        *ShipyardApi(tracker).routes(),
        *ModelsApi(registry).routes(),
        Route("/health", _health, methods=["GET"]),
        Route(SERVER_INFO_PATH, _server_info, methods=["GET"]),
        Route("/openapi.json", _openapi, methods=["GET"]),
    ]


def middleware(
    config: ServerConfig, keys: KeyRing, pages: Sequence[BaseRoute] = ()
) -> list[Middleware]:
    """The middleware every request passes, outermost first; ``pages`` need no key."""
    open_paths = [route.path for route in pages if isinstance(route, Route)]
    open_prefixes = [route.path + "/" for route in pages if isinstance(route, Mount)]
    return [
        Middleware(AccessLog),
        Middleware(ServerTiming),
        Middleware(NulFreeUrls, render=mlflow_render),
        Middleware(
            BrowserGuard,
            hosts=HostNames.bound_to(config.host, config.allowed_hosts),
            render=mlflow_render,
        ),
        Middleware(
            RequireKey,
            keys=keys,
            render=mlflow_render,
            read_posts=READ_POSTS | REGISTRY_READ_POSTS | DATASET_READ_POSTS,
            open_paths=open_paths,
            open_prefixes=open_prefixes,
        ),
    ]


def create_app(
    tracker: Tracker,
    config: ServerConfig | None = None,
    keys: KeyRing | None = None,
    *,
    pages: Sequence[BaseRoute] = (),
) -> Starlette:
    """The app serving the MLflow tracking and artifacts APIs and Shipyard's run API; ``keys``
    defaults to the config's key file under the tracker's home. ``pages`` (the web UI,
    ``shipyard.ui.pages.ui_routes()``) are served without a key: they hold no data."""
    config = config or ServerConfig()
    if keys is None:
        keys = KeyRing(KeyFile(config.keys_path(tracker.settings.home)))
    registry = Registry.from_settings(tracker.settings)
    app = Starlette(
        routes=[*routes(tracker, config, registry), *pages],
        middleware=middleware(config, keys, pages),
        exception_handlers=exception_handlers(mlflow_render),
        lifespan=_lifespan(tracker, registry),
    )
    app.router.redirect_slashes = False  # "/runs/get/" is an unknown path, not a redirect
    return app


def _lifespan(tracker: Tracker, registry: Registry) -> Lifespan[Starlette]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        reaper = asyncio.create_task(_reap_forever(tracker))
        try:
            yield
        finally:
            reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reaper
            tracker.close()
            registry.close()

    return lifespan


async def _reap_forever(tracker: Tracker) -> None:
    while True:
        try:
            reaped = await run_in_threadpool(tracker.reap_stale_runs)
            if reaped:
                logger.info("marked %d stale runs KILLED", len(reaped))
        except ShipyardError as exc:
            logger.warning("stale run check failed: %s", exc)
        await asyncio.sleep(REAP_INTERVAL_S)


async def _health(request: Request) -> Response:
    return JSONBody({"status": "ok"})


async def _server_info(request: Request) -> Response:
    return JSONBody(server_info())


async def _openapi(request: Request) -> Response:
    return JSONBody(openapi_document())

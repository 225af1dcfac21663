"""Shipyard's own JSON API for registered models (``/api/shipyard/v1/models...``), for the UI.

GET /api/shipyard/v1/models                a summary per model (latest version, aliases)
GET /api/shipyard/v1/models/<name>         its versions (newest first: aliases, tags, signature,
                                           lineage) and the audit trail of alias moves

Aliases move through MLflow's ``POST /api/2.0/mlflow/registered-models/alias``, which records
the access key's name (or the server's user) in the audit trail.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shipyard.registry.entities import ModelVersion
from shipyard.registry.registry import Registry
from shipyard.tracking.server.shipyard_api import SHIPYARD_PREFIX
from shipyard.web.responses import JSONBody

__all__ = ["ModelsApi", "version_view"]


def version_view(version: ModelVersion) -> dict[str, Any]:
    """A version as the UI shows it: no file list, the manifest's signature and lineage."""
    manifest = version.manifest.to_dict()
    return {
        "name": version.name,
        "version": version.version,
        "digest": version.digest,
        "flavor": version.flavor,
        "aliases": list(version.aliases),
        "tags": dict(version.tags),
        "created_at": version.created_at.isoformat(),
        "created_by": version.created_by,
        "size_bytes": version.size_bytes,
        "signature": manifest.get("signature"),
        "lineage": manifest.get("lineage"),
    }


class ModelsApi:
    """Read endpoints over one ``Registry``."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def routes(self) -> list[Route]:
        return [
            Route(f"{SHIPYARD_PREFIX}/models", self.models, methods=["GET"]),
            Route(f"{SHIPYARD_PREFIX}/models/{{name}}", self.model, methods=["GET"]),
        ]

    async def models(self, request: Request) -> Response:
        found = await run_in_threadpool(self.registry.list_models)
        return JSONBody({"models": [summary.to_dict() for summary in found]})

    async def model(self, request: Request) -> Response:
        return JSONBody(await run_in_threadpool(self._model, request.path_params["name"]))

    def _model(self, name: str) -> dict[str, Any]:
        versions = sorted(self.registry.list_versions(name), key=lambda v: -v.version)
        history = self.registry.history(name)
        return {
            "name": name,
            "versions": [version_view(v) for v in versions],
            "history": [event.to_dict() for event in reversed(history)],
        }

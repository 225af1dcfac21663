"""``/healthz`` (the process answers), ``/readyz`` (the model is loaded and verified) and
``/metrics``; the first two never need an API key."""

from __future__ import annotations

from shipyard.contract import HEALTH_PATH, METRICS_PATH, READY_PATH
from shipyard.serve.dataplane import DataPlane
from shipyard.serve.http import Request, Response, Route, json_response
from shipyard.serve.metrics import CONTENT_TYPE, Metrics

__all__ = ["HealthEndpoints"]


class HealthEndpoints:
    """Liveness, readiness and metrics routes."""

    def __init__(self, dataplane: DataPlane, metrics: Metrics) -> None:
        self._dp = dataplane
        self._metrics = metrics

    def routes(self) -> list[Route]:
        return [
            Route("GET", HEALTH_PATH, self.healthz, public=True),
            Route("GET", READY_PATH, self.readyz, public=True),
            Route("GET", METRICS_PATH, self.metrics),
        ]

    async def healthz(self, request: Request) -> Response:
        if self._dp.load_error is not None:
            return json_response({"status": "failed", "error": self._dp.load_error}, 503)
        return json_response({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        live = self._dp.live()
        served = live.served
        return json_response(
            {"status": "ready", "model_name": served.name, "model_version": served.version_label}
        )

    async def metrics(self, request: Request) -> Response:
        return Response(200, self._metrics.render(), content_type=CONTENT_TYPE.encode())

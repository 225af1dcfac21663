"""Shipyard's own JSON API for runs (``/api/shipyard/v1/...``), for the web UI and scripts.

GET /api/shipyard/v1/experiments
GET /api/shipyard/v1/experiments/<id>/keys          param, metric and tag keys of its runs
GET /api/shipyard/v1/runs?experiment=churn&filter=...&order_by=metrics.auc DESC&max_results=50
GET /api/shipyard/v1/runs/<run_id>                 run, environment and linked model versions
GET /api/shipyard/v1/runs/<run_id>/metrics/<key>   a metric's history
GET /api/shipyard/v1/runs/<run_id>/metrics/<key>?max_points=1000   downsampled for a chart
GET /api/shipyard/v1/metrics/<key>?run_id=A&run_id=B&max_points=1000  several runs at once
                                                   (at most 100), for the compare view

``max_points`` (2 to 10,000) bounds the points sent: each of ``max_points // 2`` step buckets
keeps its minimum and maximum (``tracking.downsample``); ``total`` says how many were logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shipyard.errors import InvalidInputError
from shipyard.tracking.downsample import MAX_POINTS, downsample
from shipyard.tracking.server.mlflow_json import int_field
from shipyard.tracking.tracker import Tracker
from shipyard.tracking.views import experiment_view, metric_view, run_view
from shipyard.web.responses import JSONBody

__all__ = ["MAX_COMPARED_RUNS", "MAX_KEYS", "SHIPYARD_PREFIX", "ShipyardApi"]

SHIPYARD_PREFIX = "/api/shipyard/v1"
MAX_COMPARED_RUNS = 100
"""The most runs one ``metrics/<key>`` call charts."""
MAX_KEYS = 2000
"""The most keys of each kind ``experiments/<id>/keys`` returns (``limit``, default 500)."""


class ShipyardApi:
    """Read endpoints over one ``Tracker``."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    def routes(self) -> list[Route]:
        return [
            Route(f"{SHIPYARD_PREFIX}/experiments", self.experiments, methods=["GET"]),
            Route(
                f"{SHIPYARD_PREFIX}/experiments/{{experiment_id}}/keys", self.keys, methods=["GET"]
            ),
            Route(f"{SHIPYARD_PREFIX}/runs", self.runs, methods=["GET"]),
            Route(f"{SHIPYARD_PREFIX}/runs/{{run_id}}", self.run, methods=["GET"]),
            Route(
                f"{SHIPYARD_PREFIX}/runs/{{run_id}}/metrics/{{key:path}}",
                self.metric,
                methods=["GET"],
            ),
            Route(f"{SHIPYARD_PREFIX}/metrics/{{key:path}}", self.metric_of_runs, methods=["GET"]),
        ]

    async def experiments(self, request: Request) -> Response:
        found = await run_in_threadpool(self.tracker.store.list_experiments)
        return JSONBody({"experiments": [experiment_view(e) for e in found]})

    async def keys(self, request: Request) -> Response:
        limit = _bounded(request.query_params, "limit", 500, 1, MAX_KEYS)
        found = await run_in_threadpool(
            self.tracker.store.experiment_keys, request.path_params["experiment_id"], limit
        )
        return JSONBody(found)

    async def runs(self, request: Request) -> Response:
        return JSONBody(await run_in_threadpool(self._runs, request.query_params))

    def _runs(self, query: Mapping[str, str]) -> dict[str, Any]:
        experiment = query.get("experiment")
        if experiment:
            ids = [self.tracker.experiment_id(experiment)]
        else:
            ids = [e.experiment_id for e in self.tracker.store.list_experiments()]
        limit = int_field(dict(query), "max_results", 100) or 100
        order = [term for term in query.get("order_by", "").split(",") if term.strip()]
        runs, token = self.tracker.store.search_runs(
            ids,
            query.get("filter") or None,
            order,
            max_results=limit,
            page_token=query.get("page_token") or None,
        )
        return {"runs": [run_view(run) for run in runs], "next_page_token": token}

    async def run(self, request: Request) -> Response:
        return JSONBody(await run_in_threadpool(self._run, request.path_params["run_id"]))

    def _run(self, run_id: str) -> dict[str, Any]:
        store = self.tracker.store
        run = store.get_run(run_id)
        return run_view(
            run, models=store.linked_models(run_id), environment=store.environment(run_id)
        )

    async def metric(self, request: Request) -> Response:
        run_id, key = request.path_params["run_id"], request.path_params["key"]
        if "max_points" in request.query_params:
            points = _bounded(request.query_params, "max_points", MAX_POINTS, 2, MAX_POINTS)
            body = await run_in_threadpool(self._downsampled, run_id, key, points)
            return JSONBody(body)
        history = await run_in_threadpool(self.tracker.store.metric_history, run_id, key)
        return JSONBody({"key": key, "history": [metric_view(m) for m in history]})

    async def metric_of_runs(self, request: Request) -> Response:
        run_ids = list(dict.fromkeys(request.query_params.getlist("run_id")))
        if not 0 < len(run_ids) <= MAX_COMPARED_RUNS:
            raise InvalidInputError(
                f"name 1 to {MAX_COMPARED_RUNS} runs with run_id=..., got {len(run_ids)}"
            )
        points = _bounded(request.query_params, "max_points", MAX_POINTS, 2, MAX_POINTS)
        key = request.path_params["key"]

        def work() -> dict[str, Any]:
            series = []
            for run_id in run_ids:
                self.tracker.store.get_run(run_id)  # an unknown run is a 404, not an empty line
                series.append({"run_id": run_id, **self._downsampled(run_id, key, points)})
            return {"key": key, "runs": series}

        return JSONBody(await run_in_threadpool(work))

    def _downsampled(self, run_id: str, key: str, max_points: int) -> dict[str, Any]:
        points = self.tracker.store.metric_points(run_id, key)
        kept = downsample(points, max_points)
        return {
            "key": key,
            "total": len(points),
            "downsampled": len(kept) < len(points),
            "steps": [step for step, _ in kept],
            "values": [value for _, value in kept],
        }


def _bounded(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = int_field(dict(query), name, default)
    if value is None or not low <= value <= high:
        raise InvalidInputError(f"{name} must be between {low} and {high}, got {value}")
    return value

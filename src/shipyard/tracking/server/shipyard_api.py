"""Shipyard's own JSON API for runs (``/api/shipyard/v1/...``), for the web UI to come.

GET /api/shipyard/v1/experiments
GET /api/shipyard/v1/runs?experiment=churn&filter=...&order_by=metrics.auc DESC&max_results=50
GET /api/shipyard/v1/runs/<run_id>                 run, environment and linked model versions
GET /api/shipyard/v1/runs/<run_id>/metrics/<key>   a metric's history
"""

from __future__ import annotations

from typing import Any

from shipyard.errors import InvalidInputError
from shipyard.tracking.server.http import Request, Response, Route, json_response
from shipyard.tracking.server.threads import in_thread
from shipyard.tracking.tracker import Tracker
from shipyard.tracking.views import experiment_view, metric_view, run_view

__all__ = ["SHIPYARD_PREFIX", "ShipyardApi"]

SHIPYARD_PREFIX = "/api/shipyard/v1"


class ShipyardApi:
    """Read endpoints over one ``Tracker``."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    def routes(self) -> list[Route]:
        return [
            Route("GET", f"{SHIPYARD_PREFIX}/experiments", self.experiments),
            Route("GET", f"{SHIPYARD_PREFIX}/runs", self.runs),
            Route("GET", f"{SHIPYARD_PREFIX}/runs", self.run, prefix=True),
        ]

    async def experiments(self, request: Request) -> Response:
        found = await in_thread(self.tracker.store.list_experiments)
        return json_response({"experiments": [experiment_view(e) for e in found]})

    async def runs(self, request: Request) -> Response:
        return json_response(await in_thread(self._runs, request.query))

    def _runs(self, query: dict[str, str]) -> dict[str, Any]:
        experiment = query.get("experiment")
        if experiment:
            ids = [self.tracker.experiment_id(experiment)]
        else:
            ids = [e.experiment_id for e in self.tracker.store.list_experiments()]
        limit = query.get("max_results", "100")
        if not limit.isdigit():
            raise InvalidInputError(f"max_results must be a number, got {limit!r}")
        order = [term for term in query.get("order_by", "").split(",") if term.strip()]
        runs, token = self.tracker.store.search_runs(
            ids,
            query.get("filter"),
            order,
            max_results=int(limit),
            page_token=query.get("page_token"),
        )
        return {"runs": [run_view(run) for run in runs], "next_page_token": token}

    async def run(self, request: Request) -> Response:
        return json_response(await in_thread(self._run, request.suffix))

    def _run(self, suffix: str) -> dict[str, Any]:
        run_id, _, rest = suffix.partition("/")
        store = self.tracker.store
        if rest.startswith("metrics/"):
            key = rest.removeprefix("metrics/")
            return {
                "key": key,
                "history": [metric_view(m) for m in store.metric_history(run_id, key)],
            }
        run = store.get_run(run_id)
        return run_view(
            run, models=store.linked_models(run_id), environment=store.environment(run_id)
        )

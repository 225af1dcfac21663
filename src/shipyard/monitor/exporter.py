"""The monitor job's own HTTP server: Prometheus gauges on ``/metrics``, labels on ``/feedback``.

It runs in the monitoring job, never in the serving process: a Starlette app under uvicorn on a
thread of its own (``shipyard.web``). ``POST /feedback`` takes the same CSV or JSON lines as
``shipyard monitor feedback`` and answers ``{"stored": N}`` (400 for lines it cannot read, 413
over 64 MiB).

    shipyard_monitor_drift_score{model,version,feature}       latest window's drift score
    shipyard_monitor_feature_drift{model,version,feature}     1 when the feature drifts
    shipyard_monitor_dataset_drift{model,version}             1 when the dataset drifts
    shipyard_monitor_drift_share{model,version}               share of drifting features
    shipyard_monitor_prediction_drift{model,version}          1 when predictions drift
    shipyard_monitor_metric{model,version,metric}             accuracy, f1, rmse, ... (labelled)
    shipyard_monitor_rows_analysed{model,version}             rows in the latest window
    shipyard_monitor_bad_lines{model,version}                 log lines skipped so far
    shipyard_monitor_last_run_timestamp_seconds{model,version}
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shipyard.monitor.results import DriftReport
from shipyard.web.bodies import read_body
from shipyard.web.errors import exception_handlers
from shipyard.web.responses import JSONBody
from shipyard.web.running import BackgroundServer

__all__ = ["MAX_FEEDBACK_BYTES", "MonitorGauges", "MonitorServer", "create_app"]

MAX_FEEDBACK_BYTES = 64 * 1024 * 1024


class MonitorGauges:
    """The job's gauges, refreshed from each report."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        per_model = ["model", "version"]

        def gauge(name: str, doc: str, labels: list[str] = per_model) -> Gauge:
            return Gauge(name, doc, labels, registry=self.registry)

        self.score = gauge("shipyard_monitor_drift_score", "Drift score", [*per_model, "feature"])
        self.feature = gauge(
            "shipyard_monitor_feature_drift", "Feature drifts", [*per_model, "feature"]
        )
        self.dataset = gauge("shipyard_monitor_dataset_drift", "Dataset drifts")
        self.share = gauge("shipyard_monitor_drift_share", "Share of drifting features")
        self.prediction = gauge("shipyard_monitor_prediction_drift", "Predictions drift")
        self.metric = gauge("shipyard_monitor_metric", "Performance metric", [*per_model, "metric"])
        self.rows = gauge("shipyard_monitor_rows_analysed", "Rows in the latest window")
        self.bad = gauge("shipyard_monitor_bad_lines", "Prediction-log lines skipped")
        self.last = gauge("shipyard_monitor_last_run_timestamp_seconds", "Last analysis")

    def update(self, report: DriftReport) -> None:
        labels = (report.model, str(report.version))
        self.bad.labels(*labels).set(
            report.read.get("bad_lines", 0) + report.read.get("foreign_lines", 0)
        )
        self.last.labels(*labels).set(time.time())
        latest = report.latest
        if latest is None:
            return
        for drift in latest.features:
            self.score.labels(*labels, drift.column).set(drift.score)
            self.feature.labels(*labels, drift.column).set(int(drift.drifted))
        self.dataset.labels(*labels).set(int(latest.dataset_drift))
        self.share.labels(*labels).set(latest.drift_share)
        self.prediction.labels(*labels).set(int(latest.prediction_drift))
        self.rows.labels(*labels).set(latest.rows)
        if latest.performance is not None:
            for name, value in latest.performance.metrics.items():
                self.metric.labels(*labels, name).set(value)

    def exposition(self) -> bytes:
        return bytes(generate_latest(self.registry))


class MonitorServer:
    """``/metrics``, ``/healthz`` and ``POST /feedback``, served on a background thread."""

    def __init__(
        self, gauges: MonitorGauges, on_feedback: Callable[[bytes], int], host: str, port: int
    ) -> None:
        self.app = create_app(gauges, on_feedback)
        self._server = BackgroundServer(self.app, host, port)
        self.port = self._server.port

    def start(self) -> None:
        self._server.start()

    def close(self) -> None:
        self._server.close()


def create_app(gauges: MonitorGauges, on_feedback: Callable[[bytes], int]) -> Starlette:
    """The exporter's app: declared routes, Shipyard's error shape."""

    def metrics(request: Request) -> Response:  # plain: Starlette runs it in a worker thread
        return Response(gauges.exposition(), media_type=CONTENT_TYPE_LATEST)

    async def healthz(request: Request) -> Response:
        return JSONBody({"status": "ok"})

    async def feedback(request: Request) -> Response:
        body = await read_body(request, MAX_FEEDBACK_BYTES)
        return JSONBody({"stored": await run_in_threadpool(on_feedback, body)})

    routes = [
        Route("/metrics", metrics, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/feedback", feedback, methods=["POST"]),
    ]
    return Starlette(routes=routes, exception_handlers=exception_handlers())

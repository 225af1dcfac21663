"""The monitor job's own HTTP server: Prometheus gauges on ``/metrics``, labels on ``/feedback``.

It runs in the monitoring job, never in the serving process. ``POST /feedback`` takes the same
CSV or JSON lines as ``shipyard monitor feedback`` and answers ``{"stored": N}``.

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

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from shipyard.errors import InvalidInputError
from shipyard.monitor.results import DriftReport

__all__ = ["MAX_FEEDBACK_BYTES", "MonitorGauges", "MonitorServer"]

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
    """``/metrics``, ``/healthz`` and ``POST /feedback`` on a background thread."""

    def __init__(
        self, gauges: MonitorGauges, on_feedback: Callable[[bytes], int], host: str, port: int
    ) -> None:
        handler = _handler(gauges, on_feedback)
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(
    gauges: MonitorGauges, on_feedback: Callable[[bytes], int]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, gauges.exposition(), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                self._send(200, b'{"status":"ok"}', "application/json")
            else:
                self._send(
                    404,
                    b'{"error":"not found: use /metrics or POST /feedback"}',
                    "application/json",
                )

        def do_POST(self) -> None:
            if self.path != "/feedback":
                self._send(404, b'{"error":"not found: POST /feedback"}', "application/json")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_FEEDBACK_BYTES:
                self._send(
                    413,
                    b'{"error":"feedback body over 64 MiB: send it in parts"}',
                    "application/json",
                )
                return
            try:
                stored = on_feedback(self.rfile.read(length))
            except InvalidInputError as exc:
                self._send(400, json.dumps({"error": str(exc)}).encode(), "application/json")
                return
            self._send(200, json.dumps({"stored": stored}).encode(), "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler

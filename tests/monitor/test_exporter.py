"""The monitor job's exporter on the web core: /metrics, /healthz, POST /feedback, errors."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CONTENT_TYPE_LATEST

from shipyard.errors import InvalidInputError
from shipyard.monitor.exporter import MAX_FEEDBACK_BYTES, MonitorGauges, MonitorServer


def _count_lines(body: bytes) -> int:
    if not body.startswith(b"request_id"):
        raise InvalidInputError("feedback needs a request_id column")
    return body.count(b"\n") - 1


@pytest.fixture(scope="module")
def exporter() -> Iterator[httpx.Client]:
    server = MonitorServer(MonitorGauges(), _count_lines, "127.0.0.1", 0)
    server.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as client:
            yield client
    finally:
        server.close()


def test_metrics_are_prometheus_text_and_healthz_is_ok(exporter: httpx.Client) -> None:
    metrics = exporter.get("/metrics")
    assert metrics.headers["content-type"] == CONTENT_TYPE_LATEST
    assert "# TYPE shipyard_monitor_drift_score gauge" in metrics.text
    assert exporter.get("/healthz").json() == {"status": "ok"}


def test_feedback_stores_rows_and_refuses_what_it_cannot_read(exporter: httpx.Client) -> None:
    assert exporter.post("/feedback", content=b"request_id,label\na,1\nb,0\n").json() == {
        "stored": 2
    }
    bad = exporter.post("/feedback", content=b"nonsense")
    assert bad.status_code == 400 and "request_id" in bad.json()["error"]


def test_feedback_over_64_mib_is_413(exporter: httpx.Client) -> None:
    response = exporter.post("/feedback", content=b"x" * (MAX_FEEDBACK_BYTES + 1))
    assert response.status_code == 413 and response.json()["code"] == "REQUEST_TOO_LARGE"


def test_unknown_paths_are_404_and_wrong_methods_405(exporter: httpx.Client) -> None:
    assert exporter.get("/nowhere").status_code == 404
    assert exporter.post("/metrics").status_code == 405
    wrong = exporter.get("/feedback")
    assert wrong.status_code == 405 and wrong.json()["code"] == "ENDPOINT_NOT_FOUND"

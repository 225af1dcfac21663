"""The plain JSON API against a real server: /predict, /openapi.json, /docs, health."""

from __future__ import annotations

import httpx
import numpy as np
from sklearn.ensemble import RandomForestClassifier


def test_predict_rows_matches_the_model(
    client: httpx.Client, forest: RandomForestClassifier, cancer: tuple[np.ndarray, np.ndarray]
) -> None:
    rows = cancer[0][:7]
    response = client.post("/predict", json=rows.tolist())
    assert response.status_code == 200
    body = response.json()
    assert body["model_name"] == "bc"
    assert body["model_version"] == "1"
    assert body["predictions"] == forest.predict(rows).tolist()


def test_predict_accepts_the_tensor_by_name(
    client: httpx.Client, cancer: tuple[np.ndarray, np.ndarray]
) -> None:
    response = client.post("/predict", json={"input": cancer[0][:2].tolist()})
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 2


def test_request_id_is_echoed_or_made(client: httpx.Client) -> None:
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    made = client.get("/healthz")
    assert made.headers["x-request-id"]
    assert made.headers["x-request-id"] != client.get("/healthz").headers["x-request-id"]


def test_health_and_readiness_after_load(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["model_version"] == "1"


def test_openapi_schema_comes_from_the_signature(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    schema = document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    rows = schema["schema"]["anyOf"][0]
    assert rows["items"] == {
        "type": "array",
        "items": {
            "type": "number",
            "format": "fp64",
            "minimum": -1.7976931348623157e308,
            "maximum": 1.7976931348623157e308,
        },
        "minItems": 30,
        "maxItems": 30,
    }
    page = client.get("/docs")
    assert page.headers["content-type"].startswith("text/html")
    assert "FP64" in page.text
    assert "[-1, 30]" in page.text


def test_metrics_report_requests_batches_and_model(client: httpx.Client) -> None:
    client.post("/predict", json=[[0.0] * 30])
    client.post("/predict", json=[[0.0] * 29])
    text = client.get("/metrics").text
    assert 'shipyard_requests_total{route="/predict",status="200"}' in text
    assert 'shipyard_request_errors_total{route="/predict",status="400"}' in text
    assert 'shipyard_request_duration_seconds_bucket{le="+Inf",route="/predict"}' in text
    assert "shipyard_batch_rows_count" in text
    assert 'shipyard_model_info{name="bc",version="1"} 1' in text
    assert "shipyard_queue_depth 0" in text
    assert "shipyard_requests_in_flight 1" in text
    assert "shipyard_prediction_log_dropped_total 0" in text

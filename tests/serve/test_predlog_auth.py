"""The prediction log under load (and when its queue is full), and bearer API keys."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import orjson
import pytest

from shipyard.models.predictor import LoadedModel
from shipyard.serve import ServeConfig, create_app
from tests.serve.conftest import tabular_model
from tests.serve.servers import ThreadServer


def _sum_model() -> LoadedModel:
    return tabular_model(lambda frame: np.asarray(frame["a"] + frame["b"], dtype=float))


def _post_many(url: str, count: int, workers: int = 16) -> list[httpx.Response]:
    def one(i: int) -> httpx.Response:
        with httpx.Client(base_url=url, timeout=30) as http:
            return http.post(
                "/predict",
                json=[{"a": float(i), "b": 1.0}],
                headers={"X-Request-ID": f"req-{i}"},
            )

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(count)))


def test_prediction_log_records_every_request_under_load(tmp_path: Path) -> None:
    log = tmp_path / "log" / "predictions.jsonl"
    app = create_app(_sum_model(), ServeConfig(prediction_log=str(log)), name="sum")
    with ThreadServer(app) as running:
        responses = _post_many(running.url, 200)
    assert all(r.status_code == 200 for r in responses)
    assert {r.headers["x-request-id"] for r in responses} == {f"req-{i}" for i in range(200)}
    records = [orjson.loads(line) for line in log.read_bytes().splitlines()]
    assert len(records) == 200
    by_id = {r["request_id"]: r for r in records}
    sample = by_id["req-41"]
    assert sample["inputs"] == {"a": [41.0], "b": [1.0]}
    assert sample["outputs"] == {"predictions": [42.0]}
    assert sample["model_name"] == "sum"
    assert sample["latency_ms"] >= 0


def test_full_prediction_log_queue_drops_and_counts_without_failing_requests(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "blocked.fifo"
    os.mkfifo(fifo)  # the writer blocks opening it until a reader comes: the queue fills up
    config = ServeConfig(prediction_log=str(fifo), prediction_log_queue=5)
    lines: list[bytes] = []

    def read_fifo() -> None:
        with fifo.open("rb") as stream:
            lines.extend(stream.read().splitlines())

    reader = threading.Thread(target=read_fifo)
    with ThreadServer(create_app(_sum_model(), config, name="sum")) as running:
        responses = _post_many(running.url, 40, workers=4)
        with httpx.Client(base_url=running.url) as http:
            metrics = http.get("/metrics").text
        reader.start()
    reader.join(timeout=30)
    assert all(r.status_code == 200 for r in responses)
    assert "shipyard_prediction_log_dropped_total 35" in metrics
    assert len(lines) == 5


@pytest.fixture
def keyed_server(tmp_path: Path) -> ThreadServer:
    keys = tmp_path / "keys"
    keys.write_text("# team keys\nsecret-one\n\nsecret-two\n")
    return ThreadServer(create_app(_sum_model(), ServeConfig(api_key_file=keys), name="sum"))


def test_api_keys_guard_predictions_but_not_health(keyed_server: ThreadServer) -> None:
    body = [{"a": 1.0, "b": 2.0}]
    with keyed_server as running, httpx.Client(base_url=running.url) as http:
        missing = http.post("/predict", json=body)
        wrong = http.post("/predict", json=body, headers={"Authorization": "Bearer nope"})
        right = http.post("/predict", json=body, headers={"Authorization": "Bearer secret-two"})
        assert missing.status_code == wrong.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer" in missing.json()["error"]
        assert right.status_code == 200
        assert http.get("/v2/models/sum").status_code == 401
        assert http.get("/metrics").status_code == 401
        for open_path in ("/healthz", "/readyz", "/v2/health/live", "/v2/health/ready"):
            assert http.get(open_path).status_code == 200, open_path

"""Every error path answers {"error": ...} with its status, and the server keeps serving."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from shipyard.serve import ServeConfig, StaticSource, create_app
from shipyard.serve.runtime import ServedModel
from tests.serve.conftest import tabular_model
from tests.serve.servers import ThreadServer


def test_wrong_shape_is_400_naming_field_and_expected_shape(client: httpx.Client) -> None:
    response = client.post("/predict", json=[[1.0, 2.0]])
    assert response.status_code == 400
    assert response.json() == {
        "error": "input 'input': expected shape [-1, 30] (-1 = any, batch first), got [1, 2]"
    }


def test_text_where_numbers_are_expected_is_400(client: httpx.Client) -> None:
    response = client.post("/predict", json=[["x"] * 30])
    assert response.status_code == 400
    assert response.json()["error"] == (
        "input 'input': expected FP64 values (numbers), got the string 'x': send numbers "
        "without quotes"
    )


def test_malformed_json_is_400(client: httpx.Client) -> None:
    response = client.post("/predict", content=b"[[1.0, 2.0", headers={"content-type": "x"})
    assert response.status_code == 400
    assert response.json()["error"].startswith("malformed JSON body")


def test_body_over_the_limit_is_413(client: httpx.Client) -> None:
    response = client.post("/predict", content=b"[" + b"1.0," * 40_000 + b"1.0]")
    assert response.status_code == 413
    assert "over the limit of 65536 bytes" in response.json()["error"]
    assert client.post("/predict", json=[[0.0] * 30]).status_code == 200


def test_unknown_route_is_404_and_wrong_method_405(client: httpx.Client) -> None:
    assert client.get("/nope").status_code == 404
    assert client.get("/predict").status_code == 405
    assert client.get("/v2/models/bc/infer").status_code == 405
    assert "error" in client.get("/nope").json()


class Flaky:
    """A model that raises on negative input, to exercise the 500 path."""

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        if (frame["a"] < 0).any():
            raise ValueError("negative a")
        return np.asarray(frame["a"] + frame["b"], dtype=float)


@pytest.fixture
def flaky_server() -> Iterator[ThreadServer]:
    app = create_app(tabular_model(Flaky()), ServeConfig(), name="flaky")
    with ThreadServer(app) as running:
        yield running


def test_model_exception_is_500_with_error_id_logged_and_serving_continues(
    flaky_server: ThreadServer, caplog: pytest.LogCaptureFixture
) -> None:
    with httpx.Client(base_url=flaky_server.url) as http, caplog.at_level(logging.ERROR):
        bad = http.post("/predict", json=[{"a": -1.0, "b": 1.0}])
        good = http.post("/predict", json={"a": [1.0, 2.0], "b": [3.0, 4.0]})
    assert bad.status_code == 500
    error = bad.json()["error"]
    assert "the model raised an error (error id " in error
    error_id = error.split("error id ")[1].split(",")[0]
    assert any(error_id in record.getMessage() for record in caplog.records)
    assert good.status_code == 200
    assert good.json()["predictions"] == [4.0, 6.0]


def test_records_with_missing_or_unknown_fields_are_400(flaky_server: ThreadServer) -> None:
    with httpx.Client(base_url=flaky_server.url) as http:
        missing = http.post("/predict", json=[{"a": 1.0}])
        unknown = http.post("/predict", json=[{"a": 1.0, "b": 2.0, "c": 3.0}])
        wrong = http.post("/predict", json={"a": ["x"], "b": [1.0]})
    assert missing.status_code == 400
    assert missing.json()["error"] == "record 0: missing field 'b': expected fields ['a', 'b']"
    assert unknown.json()["error"] == "record 0: unknown field 'c': expected fields ['a', 'b']"
    assert wrong.json()["error"] == (
        "field 'a': expected FP64 values (numbers), got the string 'x': send numbers without quotes"
    )


class GatedSource(StaticSource):
    """A real source whose load waits for a gate: the server is up but not ready."""

    def __init__(self, gate: threading.Event, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate

    def load(self) -> ServedModel:
        self.gate.wait(timeout=30)
        return super().load()


def test_not_ready_is_503_until_the_model_is_loaded() -> None:
    gate = threading.Event()
    source = GatedSource(gate, model=tabular_model(Flaky()), name="slow")
    with ThreadServer(create_app(source)) as running, httpx.Client(base_url=running.url) as http:
        assert http.get("/healthz").status_code == 200
        assert http.get("/readyz").status_code == 503
        assert http.get("/v2/health/ready").json() == {"ready": False}
        early = http.post("/predict", json=[{"a": 1.0, "b": 1.0}])
        assert early.status_code == 503
        assert "not loaded" in early.json()["error"]
        gate.set()
        for _ in range(100):
            if http.get("/readyz").status_code == 200:
                break
            threading.Event().wait(0.02)
        assert http.post("/predict", json=[{"a": 1.0, "b": 1.0}]).status_code == 200

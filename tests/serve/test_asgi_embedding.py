"""``create_app`` is a plain ASGI app: it serves under uvicorn's own HTTP protocols too."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pandas as pd
import pytest

from shipyard.serve import ServeConfig, StaticSource, create_app
from tests.serve.conftest import tabular_model
from tests.serve.servers import ThreadServer, wait_until_ready


def _sum(frame: pd.DataFrame) -> object:
    return (frame["a"] + frame["b"]).to_numpy()


@pytest.fixture(scope="module", params=["httptools", "h11"])
def embedded(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    config = ServeConfig(max_body_bytes=2048, prediction_log=None)
    app = create_app(StaticSource(tabular_model(_sum), name="adder"), config)
    with ThreadServer(app, http=request.param) as running:
        wait_until_ready(running.url)
        with httpx.Client(base_url=running.url, timeout=10.0) as client:
            yield client


def test_predict_and_request_id(embedded: httpx.Client) -> None:
    response = embedded.post("/predict", json={"a": [1.0, 2.0], "b": [3.0, 4.0]}, headers={
        "X-Request-ID": "embed-1"
    })  # fmt: skip
    assert response.status_code == 200
    assert response.json()["predictions"] == [4.0, 6.0]
    assert response.headers["x-request-id"] == "embed-1"


def test_streamed_body_over_the_limit_is_413(embedded: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"[" + b" " * 1500
        yield b" " * 1500 + b"]"

    response = embedded.post("/predict", content=chunks())
    assert response.status_code == 413
    assert "over the limit of 2048 bytes" in response.json()["error"]


def test_unknown_route_is_404(embedded: httpx.Client) -> None:
    response = embedded.get("/nope")
    assert response.status_code == 404
    assert "no route GET /nope" in response.json()["error"]


def test_head_is_answered_like_get_without_a_body(embedded: httpx.Client) -> None:
    response = embedded.head("/healthz")
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 0
    assert response.content == b""

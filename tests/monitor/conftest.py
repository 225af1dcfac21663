"""Fixture chain for monitoring: a saved model -> a real ``shipyard serve`` under load -> its log.

The classifier sees two phases of 1500 rows: stationary inputs, then inputs whose x0, x1 and x2
moved by half a standard deviation. Every request carries an ``X-Request-ID``; the responses are
kept so tests can compute the expected metrics with scikit-learn on exactly the logged rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import shipyard
from shipyard.config import Settings
from shipyard.refs import ModelRef
from shipyard.serve import RegistrySource, ServeConfig, create_app
from tests.serve.servers import CliServer, ThreadServer, wait_until_ready

FEATURES = [f"x{i}" for i in range(6)]
SHIFTED = ["x0", "x1", "x2"]
PHASE_ROWS = 1500
ROWS_PER_REQUEST = 30


@dataclass(frozen=True)
class ServedLog:
    """What a load run left behind: the log, the env, and every row's prediction and label."""

    log: Path
    env: dict[str, str]
    ref: str
    rows: pd.DataFrame  # request_id, row, phase, prediction, label


def make_rows(rng: np.random.Generator, n: int, shift: bool) -> pd.DataFrame:
    frame = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=FEATURES)
    if shift:
        frame[SHIFTED] += 0.5
    return frame


def classify(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    score = frame["x0"] + frame["x3"] - frame["x4"] + rng.normal(scale=0.7, size=len(frame))
    return (score > 0).astype(int).to_numpy()


def regress(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    return (2 * frame["x0"] - frame["x5"] + rng.normal(scale=0.3, size=len(frame))).to_numpy()


def send_phases(url: str, rng: np.random.Generator, label: object, prefix: str) -> pd.DataFrame:
    """POST both phases (4 callers at a time); returns one row per predicted row."""
    out = []
    for phase, shift in (("stationary", False), ("shifted", True)):
        frame = make_rows(rng, PHASE_ROWS, shift)
        labels = label(frame, rng)  # type: ignore[operator]
        chunks = range(0, PHASE_ROWS, ROWS_PER_REQUEST)

        def call(
            start: int, frame: pd.DataFrame = frame, phase: str = phase, labels: np.ndarray = labels
        ) -> list[dict[str, object]]:
            request_id = f"{prefix}-{phase}-{start}"
            part = frame.iloc[start : start + ROWS_PER_REQUEST]
            with httpx.Client(base_url=url, timeout=30) as http:
                response = http.post("/predict", json=part.to_dict(orient="records"),
                                     headers={"X-Request-ID": request_id})  # fmt: skip
            response.raise_for_status()
            assert response.headers["x-request-id"] == request_id
            return [{"request_id": request_id, "row": i, "phase": phase, "prediction": p,
                     "label": labels[start + i]}
                    for i, p in enumerate(response.json()["predictions"])]  # fmt: skip

        with ThreadPoolExecutor(4) as pool:
            for rows in pool.map(call, chunks):  # in order: phase A is all logged before B
                out.extend(rows)
    return pd.DataFrame(out)


@pytest.fixture(scope="package")
def monitor_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("monitor-home")
    return {"SHIPYARD_HOME": str(home), "SHIPYARD_USER": "tester"}


@pytest.fixture(scope="package")
def served_classifier(
    monitor_home: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedLog]:
    rng = np.random.default_rng(7)
    settings = Settings.from_env(monitor_home)
    train = make_rows(rng, 2000, shift=False)
    model = LogisticRegression().fit(train, classify(train, rng))
    shipyard.save_model(model, "clf", sample_input=train[:5], reference_data=train,
                        tags={"metrics.accuracy": "0.85"}, settings=settings)  # fmt: skip
    folder = tmp_path_factory.mktemp("clf-serve")
    log = folder / "predictions.jsonl"
    with CliServer(["clf:1", "--prediction-log", str(log)], monitor_home, folder / "out") as server:
        wait_until_ready(server.url)
        rows = send_phases(server.url, rng, classify, "clf")
        with httpx.Client(base_url=server.url) as http:  # one request the server rejects
            assert http.post("/predict", json=[{"x0": 1.0}]).status_code == 400
        assert server.terminate() == 0, server.log()
    with log.open("ab") as stream:  # a line cut short, as a crash mid-write leaves it
        stream.write(b'{"v":1,"request_id":"cut-short","ts":17')
    yield ServedLog(log, monitor_home, "clf:1", rows)


@contextmanager
def regressor_server(
    settings: Settings, name: str, train: pd.DataFrame, log: Path, rng: np.random.Generator
) -> Iterator[str]:
    """A ``LinearRegression`` fitted on ``train``, saved as ``NAME`` version 1 with ``train`` as
    its reference, served in a thread that logs to ``log``; yields its URL once it is ready."""
    model = LinearRegression().fit(train, regress(train, rng))
    shipyard.save_model(model, name, sample_input=train[:5], reference_data=train,
                        settings=settings)  # fmt: skip
    app = create_app(RegistrySource(settings, ModelRef.parse(f"{name}:1")),
                     ServeConfig(prediction_log=str(log)))  # fmt: skip
    with ThreadServer(app) as server:
        wait_until_ready(server.url)  # the model loads after the socket opens (503 until then)
        yield server.url


@pytest.fixture(scope="package")
def served_regressor(
    monitor_home: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedLog]:
    rng = np.random.default_rng(8)
    settings = Settings.from_env(monitor_home)
    train = make_rows(rng, 2000, shift=False)
    log = tmp_path_factory.mktemp("reg-serve") / "predictions.jsonl"
    with regressor_server(settings, "reg", train, log, rng) as url:
        rows = send_phases(url, rng, regress, "reg")
    yield ServedLog(log, monitor_home, "reg:1", rows)


def feedback_csv(path: Path, rows: pd.DataFrame) -> Path:
    rows[["request_id", "row", "label"]].to_csv(path, index=False)
    return path

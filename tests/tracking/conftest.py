"""Tracking fixtures: settings -> tracker, on real SQLite and real PostgreSQL (skipped visibly
without ``SHIPYARD_TEST_POSTGRES_URL``); a real ``shipyard server`` on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from shipyard.config import Settings
from shipyard.registry.metadata import tables as registry_tables
from shipyard.tracking import Tracker
from shipyard.tracking import tables as tracking_tables
from tests.databases import BACKENDS, fresh_database, postgres_server_url
from tests.serve.servers import free_port


@pytest.fixture(scope="session")
def tracking_postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session's tracking tests, dropped afterwards."""
    yield from fresh_database(postgres_server_url(), "shipyard_track")


def _empty_postgres(db_url: str) -> None:
    """Empty the session database, keeping the schema and the Default experiment."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('tracking_runs')").fetchone()
        if exists and exists[0] is not None:
            names = [t.name for t in reversed(tracking_tables.metadata.sorted_tables)]
            names += [t.name for t in reversed(registry_tables.metadata.sorted_tables)]
            conn.execute(f"TRUNCATE {', '.join(n for n in names if n != 'tracking_experiments')}")
            conn.execute("DELETE FROM tracking_experiments WHERE experiment_id <> 0")


@pytest.fixture
def tracking_env(
    backend: str,
    shipyard_env: dict[str, str],
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """SHIPYARD_* variables for the backend (the artifact store is a local folder on both)."""
    env = dict(shipyard_env)
    if backend == "postgres":
        db_url = request.getfixturevalue("tracking_postgres_url")
        env["SHIPYARD_DB_URL"] = db_url
        _empty_postgres(db_url)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def tracking_settings(tracking_env: dict[str, str]) -> Settings:
    return Settings.from_env(tracking_env)


@pytest.fixture
def tracker(tracking_settings: Settings) -> Iterator[Tracker]:
    with Tracker.from_settings(tracking_settings) as opened:
        yield opened


ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RunningServer:
    """A ``shipyard server`` subprocess on a loopback port; ``log`` holds its stdout and stderr."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="module", params=BACKENDS)
def server_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """SHIPYARD_* variables of one server shared by a test module (per backend); tests in it use
    experiments of their own, so they do not see each other's runs."""
    home = tmp_path_factory.mktemp("server-home")
    env = {"SHIPYARD_HOME": str(home), "SHIPYARD_USER": "tester"}
    if request.param == "postgres":
        db_url = request.getfixturevalue("tracking_postgres_url")
        _empty_postgres(db_url)
        env["SHIPYARD_DB_URL"] = db_url
    return env


@pytest.fixture
def server_settings(server_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key in ("SHIPYARD_DB_URL", "SHIPYARD_ARTIFACT_URL", "SHIPYARD_S3_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    for key, value in server_env.items():
        monkeypatch.setenv(key, value)
    return Settings.from_env(server_env)


@contextlib.contextmanager
def running_server(
    server_env: dict[str, str], log_path: Path, *options: str
) -> Iterator[RunningServer]:
    """``shipyard server [options]`` (the real CLI, a real uvicorn) until the block ends."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env = {**environ, **server_env, "PYTHONPATH": str(ROOT / "src")}
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "server", "--port", str(port), *options],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(f"shipyard server did not start:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield RunningServer(url, process, log_path)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def tracking_server(
    server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """``shipyard server`` on a free loopback port, shared by a test module."""
    log_path = tmp_path_factory.mktemp("server-log") / "server.log"
    with running_server(server_env, log_path) as server:
        yield server


@pytest.fixture
def mlflow_client(
    tracking_server: RunningServer, server_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """The real ``mlflow`` client (pinned mlflow-skinny) pointed at the server."""
    import mlflow
    import mlflow.tracking.fluent

    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_server.url)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.setattr(mlflow.tracking.fluent, "_active_experiment_id", None)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    # the client's telemetry raced in concurrent writer processes (KeyError on its session id)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    mlflow.set_tracking_uri(tracking_server.url)
    yield mlflow.MlflowClient(tracking_server.url)
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)
    os.environ.pop("MLFLOW_EXPERIMENT_ID", None)

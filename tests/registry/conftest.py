"""Registry fixtures: settings -> registry, over real SQLite + a local folder and real PostgreSQL +
S3 (moto's HTTP server on a loopback port). PostgreSQL tests skip visibly without a server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from moto.server import ThreadedMotoServer

from shipyard.config import Settings
from shipyard.models.manifest import ModelManifest
from shipyard.registry import Registry
from shipyard.registry.metadata import tables
from tests import databases
from tests.databases import fresh_database
from tests.serve.servers import free_port

from .handmade import write_model_folder

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "shipyard-test",
    "AWS_SECRET_ACCESS_KEY": "shipyard-test",
    "AWS_DEFAULT_REGION": "us-east-1",
}

MakeFolder = Callable[..., tuple[Path, ModelManifest]]


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    return databases.postgres_server_url()


@pytest.fixture(scope="session")
def postgres_db_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh database on the test server for this session, dropped afterwards."""
    yield from fresh_database(postgres_server_url, "shipyard_test")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3-compatible HTTP server on a free loopback port."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def s3_client(s3_endpoint: str) -> Any:
    """A boto3 client for the moto server (credentials given explicitly: any will do)."""
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=AWS_ENV["AWS_DEFAULT_REGION"],
        aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def s3_bucket(s3_client: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty bucket; AWS credentials for moto are set in the environment."""
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    bucket = f"shipyard-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture
def registry_env(
    backend: str,
    shipyard_env: dict[str, str],
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """SHIPYARD_* variables for the backend: SQLite + local folder, or PostgreSQL + S3."""
    env = dict(shipyard_env)
    if backend == "postgres":
        db_url = request.getfixturevalue("postgres_db_url")
        bucket = request.getfixturevalue("s3_bucket")
        env["SHIPYARD_DB_URL"] = db_url
        env["SHIPYARD_ARTIFACT_URL"] = f"s3://{bucket}/registry"
        env["SHIPYARD_S3_ENDPOINT_URL"] = request.getfixturevalue("s3_endpoint")
        _empty_postgres(db_url)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def registry_settings(registry_env: dict[str, str]) -> Settings:
    return Settings.from_env(registry_env)


@pytest.fixture
def registry(registry_settings: Settings) -> Iterator[Registry]:
    with Registry.from_settings(registry_settings) as opened:
        yield opened


@pytest.fixture
def make_folder(tmp_path: Path) -> MakeFolder:
    """Write a small hand-made model folder: ``make_folder(b"weights")`` -> (folder, manifest)."""
    counter = iter(range(1_000_000))

    def make(
        payload: bytes = b"weights", *, extra: dict[str, bytes] | None = None
    ) -> tuple[Path, ModelManifest]:
        folder = tmp_path / "folders" / str(next(counter))
        return folder, write_model_folder(folder, payload, extra=extra)

    return make


def _empty_postgres(db_url: str) -> None:
    """Make the session database empty again (the schema stays; migrations are idempotent)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('registry_models')").fetchone()
        if exists and exists[0] is not None:
            names = ", ".join(t.name for t in reversed(tables.metadata.sorted_tables))
            conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")

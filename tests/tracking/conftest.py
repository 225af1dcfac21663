"""Tracking fixtures: settings -> tracker, on real SQLite and real PostgreSQL (skipped visibly
without ``SHIPYARD_TEST_POSTGRES_URL``); a real ``shipyard server`` on a free loopback port."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from shipyard.config import Settings
from shipyard.registry.metadata import tables as registry_tables
from shipyard.tracking import Tracker
from shipyard.tracking import tables as tracking_tables

PG_ENV = "SHIPYARD_TEST_POSTGRES_URL"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def tracking_postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session's tracking tests, dropped afterwards."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql://USER:PASSWORD@HOST/DB")
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL at {PG_ENV} is unreachable: {exc}")
    name = f"shipyard_track_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = url.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _empty_postgres(db_url: str) -> None:
    """Empty the session database, keeping the schema and the Default experiment."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('tracking_runs')").fetchone()
        if exists and exists[0] is not None:
            names = [t.name for t in reversed(tracking_tables.metadata.sorted_tables)]
            names += [t.name for t in reversed(registry_tables.metadata.sorted_tables)]
            conn.execute(f"TRUNCATE {', '.join(n for n in names if n != 'tracking_experiments')}")
            conn.execute("DELETE FROM tracking_experiments WHERE experiment_id <> 0")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


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

"""Real PostgreSQL for the tests that run on both backends: the server check and a throwaway
database per session, shared by the registry and tracking fixtures."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

__all__ = ["BACKENDS", "PG_ENV", "fresh_database", "postgres_server_url"]

PG_ENV = "SHIPYARD_TEST_POSTGRES_URL"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def postgres_server_url() -> str:
    """The test server's URL, or a visible skip saying how to provide one."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql://USER:PASSWORD@HOST/DB")
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL at {PG_ENV} is unreachable: {exc}")
    return url


def fresh_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new database ``PREFIX_<random>`` on the server (its URL), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = server_url.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))

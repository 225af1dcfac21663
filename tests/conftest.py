"""Shared fixtures: every test gets its own SHIPYARD_HOME; stages add theirs in sub-conftests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.config import Settings
from tests.databases import BACKENDS


@pytest.fixture
def shipyard_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """An isolated embedded registry (SQLite + local folder) under a temporary SHIPYARD_HOME."""
    env = {"SHIPYARD_HOME": str(tmp_path / "home"), "SHIPYARD_USER": "tester"}
    for key in ("SHIPYARD_DB_URL", "SHIPYARD_ARTIFACT_URL", "SHIPYARD_S3_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    for key in list(os.environ):  # the trust policy and import limits of whoever runs the tests
        if key == "SHIPYARD_TRUSTED_KEYS" or key.startswith("SHIPYARD_IMPORT_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield env


@pytest.fixture
def settings(shipyard_env: dict[str, str]) -> Settings:
    """Settings for the isolated embedded registry."""
    return Settings.from_env(shipyard_env)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgres`` (the latter marked, and skipped visibly without a server)."""
    return str(request.param)

"""CLI fixtures: a Typer test runner over a real embedded registry (SQLite + a local folder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipyard.config import Settings
from shipyard.registry import Registry

from ..registry.handmade import write_model_folder


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def iris(settings: Settings, tmp_path: Path) -> Settings:
    """An embedded registry holding iris:1..3 with production→2."""
    with Registry.from_settings(settings) as registry:
        for i in range(3):
            folder = tmp_path / f"iris-{i}"
            registry.publish("iris", folder, write_model_folder(folder, f"w{i}".encode()))
        registry.set_alias("iris", "production", 2)
    return settings

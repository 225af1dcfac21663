"""Settings built from SHIPYARD_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import Settings
from shipyard.errors import ConfigError


def test_defaults_are_sqlite_and_a_local_folder_under_home(tmp_path: Path) -> None:
    settings = Settings.from_env({"SHIPYARD_HOME": str(tmp_path), "SHIPYARD_USER": "ada"})
    assert settings.registry.db_url == f"sqlite:///{tmp_path}/registry.db"
    assert settings.registry.artifact_url == str(tmp_path / "artifacts")
    assert settings.registry.is_embedded
    assert settings.user == "ada"


def test_postgres_and_s3_are_selected_by_configuration_only(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "SHIPYARD_HOME": str(tmp_path),
            "SHIPYARD_DB_URL": "postgresql://u:p@127.0.0.1/db",
            "SHIPYARD_ARTIFACT_URL": "s3://models/prod",
            "SHIPYARD_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        }
    )
    assert not settings.registry.is_embedded
    assert settings.registry.artifact_url == "s3://models/prod"
    assert settings.registry.s3_endpoint_url == "http://127.0.0.1:9000"


def test_unsupported_database_url_is_refused_with_the_supported_forms() -> None:
    with pytest.raises(ConfigError, match="postgresql://"):
        Settings.from_env({"SHIPYARD_DB_URL": "mysql://x/y"})


def test_refused_database_url_is_shown_without_its_password() -> None:
    with pytest.raises(ConfigError, match=r"mysql://bob:\*\*\*@db/x") as refused:
        Settings.from_env({"SHIPYARD_DB_URL": "mysql://bob:s3cret@db/x"})
    assert "s3cret" not in str(refused.value)


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = Settings.from_env({"SHIPYARD_HOME": str(tmp_path)})
    with pytest.raises(AttributeError):
        settings.user = "mallory"  # type: ignore[misc]


def test_wheel_cache_defaults_under_home_and_follows_its_variable(tmp_path: Path) -> None:
    home = {"SHIPYARD_HOME": str(tmp_path)}
    assert Settings.from_env(home).wheel_cache == tmp_path / "cache" / "build"
    chosen = Settings.from_env({**home, "SHIPYARD_BUILD_CACHE": str(tmp_path / "wheels")})
    assert chosen.wheel_cache == tmp_path / "wheels"

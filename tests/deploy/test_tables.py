"""Migration 0002 creates exactly the deploy stage's tables (SQLite and PostgreSQL), and the
records round-trip a spec through them."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shipyard.config import Settings
from shipyard.database.migrate import VERSION_TABLE
from shipyard.deploy.history import DeploymentRecords
from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.tables import metadata
from shipyard.errors import ConflictError, NotFoundError
from tests.registry.conftest import postgres_db_url, postgres_server_url

__all__ = ["postgres_db_url", "postgres_server_url"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    env = {"SHIPYARD_HOME": str(tmp_path), "SHIPYARD_USER": "ana"}
    if request.param == "postgres":
        env["SHIPYARD_DB_URL"] = request.getfixturevalue("postgres_db_url")
    return Settings.from_env(env)


def _deploy_tables(name: str | None, type_: str, _parents: object) -> bool:
    return type_ != "table" or bool(name and name.startswith("deploy_"))


def test_migrated_schema_matches_the_deploy_tables(settings: Settings) -> None:
    with DeploymentRecords.open(settings) as records, records._engine.connect() as conn:
        opts = {"version_table": VERSION_TABLE, "include_name": _deploy_tables}
        differences = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
    assert differences == []


def test_revisions_record_who_what_and_the_outcome(settings: Settings) -> None:
    spec = DeploymentSpec(
        name="cancer", image="shipyard/cancer:1", replicas=3, model_name="cancer", model_version=1
    )
    with DeploymentRecords.open(settings) as records:
        first = records.begin(spec, action="deploy", user="ana", new=True)
        records.finish("cancer", first, "applied")
        with pytest.raises(ConflictError, match="exists already"):
            records.begin(spec, action="deploy", user="ana", new=True)
        second = records.begin(
            spec.with_changes(image="shipyard/cancer:2", model_version=2),
            action="update",
            user="bo",
        )
        records.finish("cancer", second, "rolled-back", "not ready")
        history = records.history("cancer")
        assert [(r.revision, r.outcome, r.created_by) for r in history] == [
            (1, "applied", "ana"),
            (2, "rolled-back", "bo"),
        ]
        assert records.live("cancer").spec == spec
        records.mark_removed("cancer")
        with pytest.raises(NotFoundError, match="create it with"):
            records.get("cancer")

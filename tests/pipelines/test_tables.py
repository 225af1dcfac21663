"""Migration 0005 creates exactly the pipelines tables of ``pipelines/tables.py``."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from shipyard.config import Settings
from shipyard.database.migrate import VERSION_TABLE
from shipyard.pipelines.tables import metadata
from shipyard.registry.registry import Registry


def pipeline_tables_only(name: str | None, type_: str, parent: object) -> bool:
    return type_ != "table" or (name or "").startswith("pipeline_")


def test_migration_0005_matches_the_pipelines_tables(tmp_path: Path) -> None:
    settings = Settings.from_env({"SHIPYARD_HOME": str(tmp_path)})
    with Registry.from_settings(settings) as registry, registry.metadata.engine.connect() as conn:
        options = {"version_table": VERSION_TABLE, "include_name": pipeline_tables_only}
        differences = compare_metadata(MigrationContext.configure(conn, opts=options), metadata)
    assert differences == []

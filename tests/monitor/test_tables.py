"""Migration 0004 creates exactly monitoring's tables."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shipyard.config import Settings
from shipyard.database.migrate import VERSION_TABLE
from shipyard.monitor.tables import metadata
from shipyard.registry import Registry


def test_migrated_schema_matches_the_monitor_tables(settings: Settings) -> None:
    only_monitor = {
        "include_name": lambda name, kind, _: kind != "table" or name.startswith("monitor_")
    }
    with Registry.from_settings(settings) as registry, registry.metadata.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE, **only_monitor}
        )
        assert compare_metadata(context, metadata) == []

"""Migration 0003 creates exactly the tracking tables the code uses, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from shipyard.database.migrate import VERSION_TABLE
from shipyard.tracking import Tracker
from shipyard.tracking.tables import metadata

from ..registry.test_metadata_migrations import own_tables


def test_migrated_schema_matches_the_tracking_tables(tracker: Tracker) -> None:
    with tracker.store.engine.connect() as conn:
        opts = {"version_table": VERSION_TABLE, "include_name": own_tables(metadata)}
        differences = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
    assert differences == []


def test_the_default_experiment_exists(tracker: Tracker) -> None:
    default = tracker.store.get_experiment("0")
    assert (default.name, default.artifact_location) == ("Default", "mlflow-artifacts:/0")

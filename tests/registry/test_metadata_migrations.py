"""The shipped Alembic migrations create exactly the tables the code uses, idempotently."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from shipyard.config import Settings
from shipyard.database.engine import create_engine
from shipyard.database.migrate import (
    HEAD_REVISION,
    VERSION_TABLE,
    current_revision,
    head_revision,
)
from shipyard.errors import StoreError
from shipyard.registry import Registry
from shipyard.registry.metadata.tables import metadata


def own_tables(tables: sa.MetaData) -> object:
    """An Alembic ``include_name`` keeping only ``tables``' tables (other stages share the db)."""

    def include(name: str | None, kind: str, parents: dict[str, str | None]) -> bool:
        if kind == "schema":
            return True
        table = name if kind == "table" else parents.get("table_name")
        return table in tables.tables

    return include


def test_migrated_schema_matches_the_tables(registry: Registry) -> None:
    with registry.metadata.engine.connect() as conn:
        opts = {"version_table": VERSION_TABLE, "include_name": own_tables(metadata)}
        context = MigrationContext.configure(conn, opts=opts)
        differences = compare_metadata(context, metadata)

    assert differences == []


def test_reopening_is_idempotent_and_stays_at_head(registry_settings: Settings) -> None:
    for _ in range(2):
        with Registry.from_settings(registry_settings) as registry:
            engine = registry.metadata.engine
            with engine.connect() as conn:
                assert current_revision(conn) == head_revision()
                tables = set(sa.inspect(conn).get_table_names())
    assert {t.name for t in metadata.sorted_tables} | {VERSION_TABLE} <= tables


def test_embedded_sqlite_runs_in_wal_mode_with_busy_timeout(settings: Settings) -> None:
    with Registry.from_settings(settings) as registry, registry.metadata.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 10_000


def test_head_revision_constant_matches_the_shipped_scripts() -> None:
    assert head_revision() == HEAD_REVISION


def test_database_migrated_by_a_newer_shipyard_is_refused_with_a_fix(
    registry_settings: Settings,
) -> None:
    Registry.from_settings(registry_settings).close()
    engine = create_engine(registry_settings.registry.db_url)
    set_revision = f"UPDATE {VERSION_TABLE} SET version_num = :revision"  # noqa: S608
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(set_revision), {"revision": "9999"})

        with pytest.raises(StoreError, match=r"revision '9999'.*upgrade Shipyard"):
            Registry.from_settings(registry_settings)
    finally:  # the PostgreSQL database is shared by the session: put the revision back
        with engine.begin() as conn:
            conn.execute(sa.text(set_revision), {"revision": HEAD_REVISION})
        engine.dispose()

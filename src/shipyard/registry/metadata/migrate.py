"""Bring a metadata database to the newest schema with the Alembic migrations shipped in
``migrations/``. Runs at every open; cheap and idempotent when the schema is current.

Concurrent openers of a new database take turns: the upgrade runs inside a write transaction
(``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on PostgreSQL), and each
re-reads the current revision once it holds the lock.

    >>> upgrade_to_head(engine)
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from shipyard.registry.metadata.engine import run_read, run_write

__all__ = [
    "MIGRATIONS_DIR",
    "VERSION_TABLE",
    "alembic_config",
    "current_revision",
    "upgrade_to_head",
]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "registry_alembic_version"
_PG_LOCK_KEY = 0x5348_4950_5944  # "SHIPYD": one advisory lock for registry migrations


def alembic_config() -> Config:
    """An Alembic configuration pointing at the shipped migrations (no ini file)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest revision shipped with this Shipyard."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None for an empty database)."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    """Apply every migration the database has not seen yet."""
    head = head_revision()
    if run_read(engine, current_revision) == head:
        return

    def upgrade_locked(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        if current_revision(connection) == head:
            return
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    run_write(engine, upgrade_locked)

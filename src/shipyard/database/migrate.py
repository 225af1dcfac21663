"""Bring a metadata database to the newest schema with the Alembic migrations shipped in
``migrations/``. Runs at every open; cheap and idempotent when the schema is current.

The fast path reads the recorded revision with one query and compares it with ``HEAD_REVISION``;
Alembic itself is imported only when there is something to upgrade. Concurrent openers of a new
database take turns: the upgrade runs inside a write transaction (``BEGIN IMMEDIATE`` on SQLite, a
transaction-scoped advisory lock on PostgreSQL) and re-reads the revision once it holds the lock.

    >>> upgrade_to_head(engine)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shipyard.database.engine import run_read, run_write
from shipyard.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HEAD_REVISION",
    "MIGRATIONS_DIR",
    "VERSION_TABLE",
    "alembic_config",
    "current_revision",
    "head_revision",
    "upgrade_to_head",
]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "registry_alembic_version"
HEAD_REVISION = "0008"
"""The newest revision in ``migrations/versions`` (a test keeps the two in step)."""
_PG_LOCK_KEY = 0x5348_4950_5944  # "SHIPYD": one advisory lock for registry migrations


def alembic_config() -> Config:
    """An Alembic configuration pointing at the shipped migrations (no ini file)."""
    from alembic.config import Config  # only needed to upgrade: keeps every open fast

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest revision among the shipped migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None for an empty database)."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    query = sa.text(f"SELECT version_num FROM {VERSION_TABLE}")  # noqa: S608 - a constant
    return connection.execute(query).scalar()


def upgrade_to_head(engine: Engine) -> None:
    """Apply every migration the database has not seen yet."""
    if run_read(engine, current_revision) == HEAD_REVISION:
        return

    def upgrade_locked(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        current = current_revision(connection)
        if current == HEAD_REVISION:
            return
        from alembic import command
        from alembic.script import ScriptDirectory

        config = alembic_config()
        known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
        if current is not None and current not in known:
            where = connection.engine.url.render_as_string(hide_password=True)
            raise StoreError(
                f"the registry database {where} is at schema revision {current!r}, which this "
                f"Shipyard does not know (it knows up to {HEAD_REVISION!r}): a newer Shipyard "
                "migrated it; upgrade Shipyard to use this registry"
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    run_write(engine, upgrade_locked)

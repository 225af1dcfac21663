"""Alembic environment for the registry schema; run by ``shipyard.registry.metadata.migrate``.

The caller passes an open connection (already inside a transaction that holds the migration lock)
in ``config.attributes["connection"]``; there is no ``alembic.ini`` and no logging setup.
"""

from __future__ import annotations

from alembic import context

from shipyard.registry.metadata.migrate import VERSION_TABLE
from shipyard.registry.metadata.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

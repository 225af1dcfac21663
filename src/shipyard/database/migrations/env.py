"""Alembic environment for the shared schema; run by ``shipyard.database.migrate``.

The caller passes an open connection (already inside a transaction that holds the migration lock)
in ``config.attributes["connection"]``; there is no ``alembic.ini`` and no logging setup.
"""

from __future__ import annotations

from alembic import context

from shipyard.database.migrate import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=None,  # the migrations are written by hand, one per stage's tables
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

"""The one database layer every stage shares: engines, transactions and the schema's migrations.

The registry, tracking, deployments, monitoring and pipelines keep their rows in one database
(SQLite in WAL mode by default, PostgreSQL for a team); each stage declares its own tables in its
``tables.py``, and ``migrations/`` holds the one Alembic chain that creates them all.

    >>> engine = open_database(settings.registry.db_url)   # connected, schema at head
    >>> run_read(engine, lambda conn: conn.execute(query).all())
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["open_database"]


def open_database(url: str, *, fast_commits: bool = False) -> Engine:
    """Connect to ``url`` and bring its schema to the newest revision.

    ``fast_commits`` sets SQLite's ``synchronous = NORMAL`` on this engine's connections: in WAL
    mode a commit then waits for no fsync; the database stays consistent through any crash, and a
    power cut can lose only the last commits. No effect on PostgreSQL.
    """
    from shipyard.database.engine import create_engine
    from shipyard.database.migrate import upgrade_to_head

    engine = create_engine(url, fast_commits=fast_commits)
    try:
        upgrade_to_head(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine

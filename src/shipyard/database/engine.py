"""Database engines, and read and write transactions that serialize correctly.

SQLite (the embedded default) runs in WAL mode with a busy timeout; a write transaction starts with
``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing half way. On PostgreSQL a write
transaction locks the rows it changes (``SELECT ... FOR UPDATE``). Both retry on lock timeouts,
deadlocks and serialization failures.

    >>> engine = create_engine("sqlite:////tmp/sy/registry.db")
    >>> version = run_write(engine, lambda conn: insert_version(conn, ...))
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DataError, DBAPIError, OperationalError, SQLAlchemyError

from shipyard.errors import ConfigError, InvalidInputError, StoreError

__all__ = [
    "WRITE_OPTION",
    "as_utc",
    "create_engine",
    "describe_url",
    "dialect_insert",
    "run_read",
    "run_write",
]

T = TypeVar("T")

WRITE_OPTION = "shipyard_write"
SQLITE_BUSY_TIMEOUT_S = 60.0
MAX_ATTEMPTS = 20
_RETRY_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
_UNIQUE_VIOLATION = "23505"
"""Retried once: under READ COMMITTED two writers can both find a name free and insert it; run
again, the loser's own check sees the winner's row and says so (``ConflictError``)."""


def dialect_insert(conn: Connection, table: sa.Table) -> Any:
    """An ``INSERT`` with ``on_conflict_do_...`` for ``conn``'s dialect (SQLite or PostgreSQL).

    The dialect module is imported here: PostgreSQL's costs ~25 ms, and a SQLite user never
    needs it."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (SQLite hands back naive ones, stored in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def describe_url(url: str) -> str:
    """``url`` with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ValueError, SQLAlchemyError):
        return "<unparsable database URL>"


def create_engine(url: str, *, fast_commits: bool = False) -> Engine:
    """An engine for ``sqlite:///PATH`` or ``postgresql://...`` (driven by psycopg 3).

    Most callers want ``shipyard.database.open_database``, which also migrates the schema.
    """
    try:
        parsed = make_url(url)
    except (ValueError, SQLAlchemyError) as exc:
        raise ConfigError(f"SHIPYARD_DB_URL is not a database URL: {exc}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed.database, fast_commits=fast_commits)
    try:
        return sa.create_engine(parsed, pool_pre_ping=True)
    except (ImportError, SQLAlchemyError) as exc:
        raise ConfigError(
            f"cannot use database {describe_url(url)}: {exc} (pip install 'shipyard[postgres]')"
        ) from exc


def _sqlite_engine(database: str | None, *, fast_commits: bool) -> Engine:
    if not database or database == ":memory:":
        raise ConfigError("SHIPYARD_DB_URL must name a SQLite file: sqlite:////path/registry.db")
    folder = Path(database).expanduser().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create {folder} for the registry database: {exc}; set SHIPYARD_HOME (or "
            "SHIPYARD_DB_URL) to a writable folder"
        ) from exc
    engine = sa.create_engine(
        f"sqlite:///{Path(database).expanduser()}",
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun explicitly below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        if fast_commits:
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        is_write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if is_write else "BEGIN")

    return engine


def run_write(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run ``work`` in one write transaction, retrying it on lock and serialization errors."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with engine.connect() as connection:
                connection.execution_options(**{WRITE_OPTION: True})
                with connection.begin():
                    return work(connection)
        except DBAPIError as exc:
            unique = getattr(exc.orig, "sqlstate", None) == _UNIQUE_VIOLATION and attempt == 1
            if attempt == MAX_ATTEMPTS or not (unique or _is_retryable(exc)):
                raise _store_error(engine, exc) from exc
        time.sleep(min(0.02 * 2**attempt, 1.0) * random.uniform(0.5, 1.0))  # noqa: S311
    raise AssertionError("unreachable")  # pragma: no cover


def run_read(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run ``work`` in one read transaction (a consistent snapshot on both backends)."""
    try:
        with engine.connect() as connection, connection.begin():
            return work(connection)
    except DBAPIError as exc:
        raise _store_error(engine, exc) from exc


def _is_retryable(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _RETRY_SQLSTATES:
        return True
    message = str(exc.orig).lower()
    return isinstance(exc, OperationalError) and (
        "database is locked" in message or "database is busy" in message
    )


def _store_error(engine: Engine, exc: DBAPIError) -> StoreError | InvalidInputError:
    if isinstance(exc, DataError):  # SQLSTATE class 22: the value's fault (too long, NUL, ...)
        return InvalidInputError(f"the database refused a value: {exc.orig}")
    where = engine.url.render_as_string(hide_password=True)
    return StoreError(f"metadata database {where} failed: {exc.orig} (check SHIPYARD_DB_URL)")

"""The SQL of a log-batch: params (refused when changed), tags, metric history, latest values.

Each function runs inside the caller's write transaction; an error rolls the whole batch back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shipyard.database.engine import dialect_insert
from shipyard.errors import InvalidInputError
from shipyard.tracking import tables as t

__all__ = [
    "METRIC_COLUMNS",
    "dialect_insert",
    "history_insert",
    "insert_params",
    "upsert_latest",
    "upsert_tags",
]


def insert_params(conn: Connection, run_id: str, params: dict[str, str]) -> None:
    rows = [{"run_id": run_id, "key": k, "value": v} for k, v in params.items()]
    conn.execute(dialect_insert(conn, t.run_params).on_conflict_do_nothing(), rows)
    stored = conn.execute(
        sa.select(t.run_params.c.key, t.run_params.c.value).where(
            t.run_params.c.run_id == run_id, t.run_params.c.key.in_(list(params))
        )
    )
    for key, value in stored:
        if value != params[key]:
            raise InvalidInputError(
                f"param {key!r} of run {run_id!r} was already logged with value {value!r}; "
                f"{params[key]!r} is refused: params are immutable (log a new run, or use a "
                "tag or a metric for values that change)"
            )


def upsert_tags(conn: Connection, run_id: str, tags: Mapping[str, str]) -> None:
    insert = dialect_insert(conn, t.run_tags)
    statement = insert.on_conflict_do_update(
        index_elements=["run_id", "key"], set_={"value": insert.excluded.value}
    )
    conn.execute(statement, [{"run_id": run_id, "key": k, "value": v} for k, v in tags.items()])


def upsert_latest(conn: Connection, rows: list[dict[str, Any]]) -> None:
    insert = dialect_insert(conn, t.latest_metrics)
    current = t.latest_metrics.c
    newer = sa.tuple_(insert.excluded.step, insert.excluded.timestamp, insert.excluded.value)
    statement = insert.on_conflict_do_update(
        index_elements=["run_id", "key"],
        set_={name: insert.excluded[name] for name in ("value", "is_nan", "timestamp", "step")},
        where=newer >= sa.tuple_(current.step, current.timestamp, current.value),
    )
    conn.execute(statement, rows)


METRIC_COLUMNS = ("run_id", "key", "value", "is_nan", "timestamp", "step")


def history_insert(conn: Connection) -> str:
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    columns = ", ".join(f'"{c}"' for c in METRIC_COLUMNS)
    marks = ", ".join([mark] * len(METRIC_COLUMNS))
    return f"INSERT INTO {t.metric_history.name} ({columns}) VALUES ({marks})"  # noqa: S608

"""Monitoring results and ground truth in the registry's database (SQLite or PostgreSQL).

A window's row is replaced when it is analysed again (more rows or labels arrived), so the table
always holds the latest result per window; feedback for a request row is likewise replaced.

    >>> store = ResultStore(registry.metadata.engine)
    >>> store.save_windows(report)
    >>> store.add_feedback("iris", [Feedback("req-1", 0, 2)])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shipyard.database.engine import run_read, run_write
from shipyard.monitor import tables as t
from shipyard.monitor.results import DriftReport

__all__ = ["Feedback", "ResultStore"]

_BATCH = 5000


@dataclass(frozen=True, slots=True)
class Feedback:
    """A ground-truth label for one predicted row (``row`` 0 for a one-row request)."""

    request_id: str
    row: int
    label: Any


class ResultStore:
    """Reads and writes ``monitor_windows`` and ``monitor_feedback``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save_windows(self, report: DriftReport) -> int:
        """Store (or replace) every window of ``report``; returns how many."""
        now = datetime.now(UTC)
        rows = [
            {
                "model_name": report.model,
                "version": report.version,
                "window": report.window,
                "method": report.method,
                "window_key": w.key,
                "start_ts": w.start,
                "end_ts": w.end,
                "rows": w.rows,
                "rejected": w.rejected,
                "dataset_drift": w.dataset_drift,
                "drift_share": w.drift_share,
                "prediction_drift": w.prediction_drift,
                "labelled": 0 if w.performance is None else w.performance.labelled,
                "result": w.to_dict(),
                "computed_at": now,
            }
            for w in report.windows
        ]

        def work(conn: Connection) -> int:
            for row in rows:
                conn.execute(t.windows.delete().where(*_same_window(row)))
            if rows:
                conn.execute(t.windows.insert(), rows)
            return len(rows)

        return run_write(self.engine, work)

    def windows(self, model: str, version: int | None = None) -> list[dict[str, Any]]:
        """Stored window results of ``model`` (one version or all), oldest first."""
        query = sa.select(t.windows).where(t.windows.c.model_name == model)
        if version is not None:
            query = query.where(t.windows.c.version == version)
        query = query.order_by(t.windows.c.start_ts)
        return run_read(self.engine, lambda c: [dict(r._mapping) for r in c.execute(query)])

    def add_feedback(self, model: str, items: Sequence[Feedback]) -> int:
        """Store labels (replacing earlier ones for the same rows); returns how many."""
        now = datetime.now(UTC)

        def work(conn: Connection) -> int:
            for i in range(0, len(items), _BATCH):
                chunk = items[i : i + _BATCH]
                keys = [(f.request_id, f.row) for f in chunk]
                conn.execute(
                    t.feedback.delete().where(
                        t.feedback.c.model_name == model,
                        sa.tuple_(t.feedback.c.request_id, t.feedback.c.row).in_(keys),
                    )
                )
                conn.execute(t.feedback.insert(), [
                    {"model_name": model, "request_id": f.request_id, "row": f.row,
                     "label": f.label, "received_at": now}
                    for f in chunk
                ])  # fmt: skip
            return len(items)

        return run_write(self.engine, work)

    def feedback_table(self, model: str) -> pa.Table:
        """Every label of ``model`` as Arrow (request_id, row, label): numbers when all are."""
        query = sa.select(t.feedback.c.request_id, t.feedback.c.row, t.feedback.c.label).where(
            t.feedback.c.model_name == model
        )
        rows = run_read(self.engine, lambda c: c.execute(query).all())
        labels = [r[2] for r in rows]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in labels)
        return pa.table(
            {
                "request_id": pa.array([r[0] for r in rows], pa.string()),
                "row": pa.array([r[1] for r in rows], pa.int32()),
                "label": pa.array([float(v) for v in labels], pa.float64())
                if numeric
                else pa.array([str(v) for v in labels], pa.string()),
            }
        )


def _same_window(row: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
    c = t.windows.c
    return [
        c.model_name == row["model_name"],
        c.version == row["version"],
        c.window == row["window"],
        c.method == row["method"],
        c.window_key == row["window_key"],
    ]

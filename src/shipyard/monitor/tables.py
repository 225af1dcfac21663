"""Monitoring's tables (SQLAlchemy Core); migration ``0004_monitoring`` creates them.

monitor_windows    one row per analysed window of a model version: the headline numbers in
                   columns (for history and the UI without recomputing), everything in ``result``
monitor_feedback   ground-truth labels by request id and row, as they arrive
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["feedback", "metadata", "windows"]

metadata = sa.MetaData()

windows = sa.Table(
    "monitor_windows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_name", sa.String(128), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("window", sa.String(32), nullable=False),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("window_key", sa.BigInteger, nullable=False),
    sa.Column("start_ts", sa.Float, nullable=False),
    sa.Column("end_ts", sa.Float, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("rejected", sa.Integer, nullable=False),
    sa.Column("dataset_drift", sa.Boolean, nullable=False),
    sa.Column("drift_share", sa.Float, nullable=False),
    sa.Column("prediction_drift", sa.Boolean, nullable=False),
    sa.Column("labelled", sa.Integer, nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint(
        "model_name", "version", "window", "method", "window_key", name="uq_monitor_windows_key"
    ),
)

feedback = sa.Table(
    "monitor_feedback",
    metadata,
    sa.Column("model_name", sa.String(128), primary_key=True),
    sa.Column("request_id", sa.String(256), primary_key=True),
    sa.Column("row", sa.Integer, primary_key=True),
    sa.Column("label", sa.JSON, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

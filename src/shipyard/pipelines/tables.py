"""The pipelines stage's tables (SQLAlchemy Core), in the registry's database; migration 0005
creates them.

pipeline_runs        one row per run: pipeline, file, executor, status, parameters
                     (``tracking_run_id`` is the seam where a run links to a tracked run)
pipeline_step_runs   one row per step of a run: status, cache key, attempts, outputs, log
pipeline_cache       the content-addressed cache index: cache key -> the outputs it produced
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["cache_entries", "metadata", "runs", "step_runs"]

metadata = sa.MetaData()

runs = sa.Table(
    "pipeline_runs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("pipeline", sa.String(128), nullable=False, index=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("executor", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_by", sa.String(256), nullable=False),
    sa.Column("tracking_run_id", sa.String(64), nullable=True),
)

step_runs = sa.Table(
    "pipeline_step_runs",
    metadata,
    sa.Column(
        "run_id",
        sa.String(32),
        sa.ForeignKey("pipeline_runs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("node", sa.String(64), primary_key=True),
    sa.Column("step", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("cache_key", sa.String(64), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("duration_s", sa.Float, nullable=True),
    sa.Column("outputs", sa.JSON, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("log_path", sa.Text, nullable=True),
)

cache_entries = sa.Table(
    "pipeline_cache",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("step", sa.String(64), nullable=False),
    sa.Column("outputs", sa.JSON, nullable=False),
    sa.Column("run_id", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

"""Tracking: experiments, runs, params, tags, metric history and latest values, artifacts.

Revision ID: 0003
Revises: 0002

Metric history and latest values are separate tables, so listing and ordering runs by a metric
reads one row per (run, key), however long the histories are. Experiment 0 is MLflow's "Default".
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_TABLES = (
    "tracking_artifact_files",
    "tracking_run_models",
    "tracking_run_environment",
    "tracking_latest_metrics",
    "tracking_metric_history",
    "tracking_run_tags",
    "tracking_run_params",
    "tracking_runs",
    "tracking_experiment_tags",
    "tracking_experiments",
)


def _run_fk() -> sa.ForeignKey:
    return sa.ForeignKey("tracking_runs.run_id", ondelete="CASCADE")


def upgrade() -> None:
    experiments = op.create_table(
        "tracking_experiments",
        sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.String(1024), nullable=False),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("name", name="uq_tracking_experiments_name"),
    )
    op.create_table(
        "tracking_experiment_tags",
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("tracking_experiments.experiment_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "tracking_runs",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("tracking_experiments.experiment_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger, nullable=True),
        sa.Column("heartbeat_time", sa.BigInteger, nullable=True),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False),
        sa.Column("artifact_uri", sa.String(1024), nullable=False),
    )
    op.create_index(
        "ix_tracking_runs_experiment_start", "tracking_runs", ["experiment_id", "start_time"]
    )
    op.create_index(
        "ix_tracking_runs_status_heartbeat", "tracking_runs", ["status", "heartbeat_time"]
    )
    for name in ("tracking_run_params", "tracking_run_tags"):
        op.create_table(
            name,
            sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
            sa.Column("key", sa.String(250), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
        )
    op.create_table(
        "tracking_metric_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("run_id", sa.String(32), _run_fk(), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_tracking_metric_history_run_key_step",
        "tracking_metric_history",
        ["run_id", "key", "step"],
    )
    op.create_table(
        "tracking_latest_metrics",
        sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_tracking_latest_metrics_key_value", "tracking_latest_metrics", ["key", "value"]
    )
    op.create_table(
        "tracking_run_environment",
        sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
        sa.Column("environment", sa.JSON, nullable=False),
    )
    op.create_table(
        "tracking_run_models",
        sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
        sa.Column("model_name", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("dataset_digest", sa.String(128), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "tracking_artifact_files",
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("run_id", sa.String(32), _run_fk(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_tracking_artifact_files_run_id", "tracking_artifact_files", ["run_id"])
    op.create_index("ix_tracking_artifact_files_sha256", "tracking_artifact_files", ["sha256"])
    now = int(time.time() * 1000)
    op.bulk_insert(
        experiments,
        [
            {
                "experiment_id": 0,
                "name": "Default",
                "artifact_location": "mlflow-artifacts:/0",
                "lifecycle_stage": "active",
                "creation_time": now,
                "last_update_time": now,
            }
        ],
    )


def downgrade() -> None:
    for name in _TABLES:
        op.drop_table(name)

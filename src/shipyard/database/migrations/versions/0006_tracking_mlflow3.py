"""Tracking for MLflow 3: logged models (params, tags, metrics), datasets, run inputs and outputs.

Revision ID: 0006
Revises: 0005

The tables are described in ``shipyard/tracking/tables.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

_TABLES = (
    "tracking_run_model_links",
    "tracking_run_datasets",
    "tracking_datasets",
    "tracking_logged_model_metrics",
    "tracking_logged_model_tags",
    "tracking_logged_model_params",
    "tracking_logged_models",
)


def _experiment_fk() -> sa.ForeignKey:
    return sa.ForeignKey("tracking_experiments.experiment_id", ondelete="CASCADE")


def _model_fk() -> sa.ForeignKey:
    return sa.ForeignKey("tracking_logged_models.model_id", ondelete="CASCADE")


def _run_fk() -> sa.ForeignKey:
    return sa.ForeignKey("tracking_runs.run_id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "tracking_logged_models",
        sa.Column("model_id", sa.String(36), primary_key=True),
        sa.Column("experiment_id", sa.Integer, _experiment_fk(), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.String(1024), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_message", sa.String(1000), nullable=True),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False),
        sa.Column("model_type", sa.String(500), nullable=True),
        sa.Column("source_run_id", sa.String(32), nullable=True),
    )
    op.create_index(
        "ix_tracking_logged_models_experiment_created",
        "tracking_logged_models",
        ["experiment_id", "creation_time"],
    )
    for name in ("tracking_logged_model_params", "tracking_logged_model_tags"):
        op.create_table(
            name,
            sa.Column("model_id", sa.String(36), _model_fk(), primary_key=True),
            sa.Column("key", sa.String(250), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
        )
    op.create_table(
        "tracking_logged_model_metrics",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("model_id", sa.String(36), _model_fk(), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("dataset_name", sa.String(500), nullable=True),
        sa.Column("dataset_digest", sa.String(36), nullable=True),
    )
    op.create_index(
        "ix_tracking_logged_model_metrics_model_key",
        "tracking_logged_model_metrics",
        ["model_id", "key"],
    )
    op.create_table(
        "tracking_datasets",
        sa.Column("dataset_id", sa.String(32), primary_key=True),
        sa.Column("experiment_id", sa.Integer, _experiment_fk(), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(36), nullable=False),
        sa.Column("source_type", sa.String(36), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("schema", sa.Text, nullable=True),
        sa.Column("profile", sa.Text, nullable=True),
        sa.UniqueConstraint(
            "experiment_id", "name", "digest", name="uq_tracking_datasets_experiment_name_digest"
        ),
    )
    op.create_table(
        "tracking_run_datasets",
        sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
        sa.Column(
            "dataset_id",
            sa.String(32),
            sa.ForeignKey("tracking_datasets.dataset_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "tracking_run_model_links",
        sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
        sa.Column("direction", sa.String(8), primary_key=True),
        sa.Column("model_id", sa.String(36), primary_key=True),
        sa.Column("step", sa.BigInteger, primary_key=True),
    )


def downgrade() -> None:
    for name in _TABLES:
        op.drop_table(name)

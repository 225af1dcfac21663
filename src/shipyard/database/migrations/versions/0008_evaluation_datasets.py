"""MLflow's GenAI evaluation datasets: datasets, their tags, experiments and records.

Revision ID: 0008
Revises: 0007

The tables are described in ``shipyard/tracking/tables.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

_TABLES = (
    "tracking_evaluation_dataset_records",
    "tracking_evaluation_dataset_experiments",
    "tracking_evaluation_dataset_tags",
    "tracking_evaluation_datasets",
)


def _dataset_fk() -> sa.ForeignKey:
    return sa.ForeignKey("tracking_evaluation_datasets.dataset_id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "tracking_evaluation_datasets",
        sa.Column("dataset_id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("schema", sa.Text, nullable=True),
        sa.Column("profile", sa.Text, nullable=True),
        sa.Column("created_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.Column("last_updated_by", sa.String(255), nullable=True),
    )
    op.create_table(
        "tracking_evaluation_dataset_tags",
        sa.Column("dataset_id", sa.String(36), _dataset_fk(), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "tracking_evaluation_dataset_experiments",
        sa.Column("dataset_id", sa.String(36), _dataset_fk(), primary_key=True),
        sa.Column("experiment_id", sa.String(32), primary_key=True),
        sa.Column("created_time", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "tracking_evaluation_dataset_records",
        sa.Column("record_id", sa.String(36), primary_key=True),
        sa.Column("dataset_id", sa.String(36), _dataset_fk(), nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("outputs", sa.JSON, nullable=True),
        sa.Column("expectations", sa.JSON, nullable=True),
        sa.Column("tags", sa.JSON, nullable=True),
        sa.Column("source", sa.JSON, nullable=True),
        sa.Column("source_id", sa.String(36), nullable=True),
        sa.Column("source_type", sa.String(255), nullable=True),
        sa.Column("created_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.Column("last_updated_by", sa.String(255), nullable=True),
        sa.UniqueConstraint(
            "dataset_id", "input_hash", name="uq_tracking_evaluation_dataset_records_inputs"
        ),
    )
    op.create_index(
        "ix_tracking_evaluation_dataset_records_order",
        "tracking_evaluation_dataset_records",
        ["dataset_id", "created_time", "record_id"],
    )


def downgrade() -> None:
    for name in _TABLES:
        op.drop_table(name)

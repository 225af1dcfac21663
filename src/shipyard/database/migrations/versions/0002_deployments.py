"""Deployments and their revisions (the deploy stage, ``shipyard/deploy/tables.py``).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "deploy_deployments",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("live_revision", sa.Integer, nullable=True),
        sa.Column("last_revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("follow_alias", sa.String(256), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "deploy_revisions",
        sa.Column("deployment", sa.String(64), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("model_name", sa.String(128), nullable=True),
        sa.Column("model_version", sa.Integer, nullable=True),
        sa.Column("image", sa.String(512), nullable=False),
        sa.Column("image_digest", sa.String(128), nullable=True),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("replicas", sa.Integer, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.ForeignKeyConstraint(["deployment"], ["deploy_deployments.name"], ondelete="CASCADE"),
    )
    op.create_index("ix_deploy_revisions_model", "deploy_revisions", ["model_name"])


def downgrade() -> None:
    op.drop_index("ix_deploy_revisions_model", table_name="deploy_revisions")
    op.drop_table("deploy_revisions")
    op.drop_table("deploy_deployments")

"""The deploy stage's tables in the registry database (created by migration 0002).

``deploy_deployments``: one row per deployment name, its target and the revision now live.
``deploy_revisions``: every revision ever applied: model version, image (and digest), target,
replicas, the whole spec, who and when, and the outcome (``applied``, ``rolled-back``,
``failed``, ``removed``).
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["deployments", "metadata", "revisions"]

metadata = sa.MetaData()

deployments = sa.Table(
    "deploy_deployments",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("target", sa.String(32), nullable=False),
    sa.Column("live_revision", sa.Integer, nullable=True),
    sa.Column("last_revision", sa.Integer, nullable=False, server_default="0"),
    sa.Column("follow_alias", sa.String(256), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(256), nullable=False),
    sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
)

revisions = sa.Table(
    "deploy_revisions",
    metadata,
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

sa.Index("ix_deploy_revisions_model", revisions.c.model_name)

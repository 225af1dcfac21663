"""The registry as MLflow's model registry sees it: descriptions, model tags, deleted names.

Revision ID: 0007
Revises: 0006

``registry_models`` and ``registry_versions`` get a free-text ``description`` (mutable, like
tags: a version's files and digest never change); a model gets ``deleted_at`` when MLflow's
``delete_registered_model`` removed it (its audit history stays), and a version ``updated_at``
when its description changed, and the ``run_id`` and MLflow ``source`` it was registered from
(copied out of its manifest, so that searching by them is a query). ``registry_model_tags``
holds a model's own tags.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("registry_models") as batch:
        batch.add_column(sa.Column("description", sa.Text, nullable=True))
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("registry_versions") as batch:
        batch.add_column(sa.Column("description", sa.Text, nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("run_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("source", sa.Text, nullable=True))
    op.create_index("ix_registry_versions_run_id", "registry_versions", ["run_id"])
    _copy_run_ids()
    op.create_table(
        "registry_model_tags",
        sa.Column(
            "model_id",
            sa.Integer,
            sa.ForeignKey("registry_models.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(256), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def _copy_run_ids() -> None:
    """Fill ``run_id`` of the versions published before this revision from their manifests."""
    conn = op.get_bind()
    versions = sa.table(
        "registry_versions", sa.column("id"), sa.column("manifest", sa.JSON), sa.column("run_id")
    )
    for row in conn.execute(sa.select(versions.c.id, versions.c.manifest)).all():
        lineage = (row.manifest or {}).get("lineage") or {}
        if lineage.get("run_id"):
            conn.execute(
                sa.update(versions).where(versions.c.id == row.id).values(run_id=lineage["run_id"])
            )


def downgrade() -> None:
    op.drop_table("registry_model_tags")
    op.drop_index("ix_registry_versions_run_id", "registry_versions")
    with op.batch_alter_table("registry_versions") as batch:
        batch.drop_column("source")
        batch.drop_column("run_id")
        batch.drop_column("updated_at")
        batch.drop_column("description")
    with op.batch_alter_table("registry_models") as batch:
        batch.drop_column("deleted_at")
        batch.drop_column("description")

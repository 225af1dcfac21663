"""Pipelines: pipeline runs, step runs and the content-addressed step cache.

Revision ID: 0005
Revises: 0004

Reserved for the pipelines stage (issue 13); until that stage lands it changes nothing, so the
revision chain stays linear while the stages are built side by side.
"""

from __future__ import annotations

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

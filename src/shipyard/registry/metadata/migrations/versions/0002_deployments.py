"""Deployments and their revisions.

Revision ID: 0002
Revises: 0001

Reserved for the deployments stage (issue 10); until that stage lands it changes nothing, so the
revision chain stays linear while the stages are built side by side.
"""

from __future__ import annotations

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""Monitoring: stored per-window drift, quality and accuracy results.

Revision ID: 0004
Revises: 0003

Reserved for the monitoring stage (issue 12); until that stage lands it changes nothing, so the
revision chain stays linear while the stages are built side by side.
"""

from __future__ import annotations

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""Tracking: experiments, runs, params, metrics and artifacts.

Revision ID: 0003
Revises: 0002

Reserved for the tracking stage (issue 11); until that stage lands it changes nothing, so the
revision chain stays linear while the stages are built side by side.
"""

from __future__ import annotations

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

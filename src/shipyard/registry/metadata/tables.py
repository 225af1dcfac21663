"""The registry's tables (SQLAlchemy Core). The Alembic migrations in ``migrations/`` create them.

registry_models         one row per model name; ``last_version`` hands out version numbers
registry_model_tags     free-form key/value tags of a model (MLflow's registered-model tags)
registry_versions       one row per published version (immutable)
registry_version_files  the artifact files of a version: path, sha256, size
registry_version_tags   free-form key/value tags of a version
registry_aliases        current alias -> version pointers
registry_alias_events   every alias move, forever (the audit history)
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "alias_events",
    "aliases",
    "metadata",
    "model_tags",
    "models",
    "version_files",
    "version_tags",
    "versions",
]

metadata = sa.MetaData()

models = sa.Table(
    "registry_models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("last_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
)

model_tags = sa.Table(
    "registry_model_tags",
    metadata,
    sa.Column(
        "model_id",
        sa.Integer,
        sa.ForeignKey("registry_models.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

versions = sa.Table(
    "registry_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "model_id",
        sa.Integer,
        sa.ForeignKey("registry_models.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("manifest", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(256), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("run_id", sa.String(64), nullable=True, index=True),
    sa.Column("source", sa.Text, nullable=True),
    sa.UniqueConstraint("model_id", "version", name="uq_registry_versions_model_version"),
)

version_files = sa.Table(
    "registry_version_files",
    metadata,
    sa.Column(
        "version_id",
        sa.Integer,
        sa.ForeignKey("registry_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("path", sa.String(1024), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("size", sa.BigInteger, nullable=False),
)

version_tags = sa.Table(
    "registry_version_tags",
    metadata,
    sa.Column(
        "version_id",
        sa.Integer,
        sa.ForeignKey("registry_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

aliases = sa.Table(
    "registry_aliases",
    metadata,
    sa.Column(
        "model_id",
        sa.Integer,
        sa.ForeignKey("registry_models.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("alias", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

alias_events = sa.Table(
    "registry_alias_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "model_id",
        sa.Integer,
        sa.ForeignKey("registry_models.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("alias", sa.String(64), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("from_version", sa.Integer, nullable=True),
    sa.Column("to_version", sa.Integer, nullable=True),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

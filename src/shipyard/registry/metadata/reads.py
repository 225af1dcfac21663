"""Queries that read registry metadata into frozen entities (used inside a transaction).

>>> state = load_state(connection, "iris")
>>> load_versions(connection, "iris", [state.latest])
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shipyard.database.engine import as_utc
from shipyard.models.manifest import ModelManifest
from shipyard.registry.entities import (
    AliasAction,
    AliasEvent,
    ArtifactFile,
    ModelSummary,
    ModelVersion,
)
from shipyard.registry.metadata import tables as t
from shipyard.registry.resolve import ModelState

__all__ = ["load_events", "load_state", "load_summaries", "load_versions", "model_names"]


def model_names(conn: Connection) -> list[str]:
    """Names of the models that have at least one version, sorted."""
    query = (
        sa.select(t.models.c.name)
        .where(sa.exists().where(t.versions.c.model_id == t.models.c.id))
        .order_by(t.models.c.name)
    )
    return list(conn.execute(query).scalars())


def load_state(conn: Connection, name: str) -> ModelState | None:
    """A model's version numbers and aliases; None when the name was never registered."""
    model_id = conn.execute(sa.select(t.models.c.id).where(t.models.c.name == name)).scalar()
    if model_id is None:
        return None
    numbers = conn.execute(
        sa.select(t.versions.c.version)
        .where(t.versions.c.model_id == model_id)
        .order_by(t.versions.c.version)
    ).scalars()
    aliases = conn.execute(
        sa.select(t.aliases.c.alias, t.aliases.c.version).where(t.aliases.c.model_id == model_id)
    )
    return ModelState(name, tuple(numbers), {a: int(v) for a, v in aliases})


def load_summaries(conn: Connection) -> list[ModelSummary]:
    """Every model with at least one version, sorted by name."""
    counts = (
        sa.select(
            t.versions.c.model_id,
            sa.func.max(t.versions.c.version).label("latest"),
            sa.func.count().label("n_versions"),
        )
        .group_by(t.versions.c.model_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(
            t.models.c.id,
            t.models.c.name,
            t.models.c.updated_at,
            counts.c.latest,
            counts.c.n_versions,
        )
        .join(counts, counts.c.model_id == t.models.c.id)
        .order_by(t.models.c.name)
    ).all()
    aliases: dict[int, dict[str, int]] = defaultdict(dict)
    for model_id, alias, version in conn.execute(
        sa.select(t.aliases.c.model_id, t.aliases.c.alias, t.aliases.c.version)
    ):
        aliases[model_id][alias] = int(version)
    return [
        ModelSummary(
            name=row.name,
            latest_version=int(row.latest),
            version_count=int(row.n_versions),
            aliases=dict(sorted(aliases[row.id].items())),
            updated_at=as_utc(row.updated_at),
        )
        for row in rows
    ]


def load_versions(
    conn: Connection, name: str, numbers: Sequence[int] | None = None
) -> list[ModelVersion]:
    """Versions of ``name`` (all, or those in ``numbers``), ascending, with files, tags, aliases."""
    query = (
        sa.select(t.versions, t.models.c.id.label("mid"))
        .join(t.models, t.models.c.id == t.versions.c.model_id)
        .where(t.models.c.name == name)
        .order_by(t.versions.c.version)
    )
    if numbers is not None:
        query = query.where(t.versions.c.version.in_(list(numbers)))
    rows = conn.execute(query).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    files: dict[int, list[ArtifactFile]] = defaultdict(list)
    for row in conn.execute(
        sa.select(t.version_files)
        .where(t.version_files.c.version_id.in_(ids))
        .order_by(t.version_files.c.path)
    ):
        files[row.version_id].append(ArtifactFile(row.path, row.sha256, int(row.size)))
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    for row in conn.execute(sa.select(t.version_tags).where(t.version_tags.c.version_id.in_(ids))):
        tags[row.version_id][row.key] = row.value
    pointing: dict[int, list[str]] = defaultdict(list)
    for alias, version in conn.execute(
        sa.select(t.aliases.c.alias, t.aliases.c.version)
        .where(t.aliases.c.model_id == rows[0].mid)
        .order_by(t.aliases.c.alias)
    ):
        pointing[int(version)].append(alias)
    return [
        ModelVersion(
            name=name,
            version=int(row.version),
            digest=row.digest,
            manifest=ModelManifest.from_dict(row.manifest),
            files=tuple(files[row.id]),
            created_at=as_utc(row.created_at),
            created_by=row.created_by,
            aliases=tuple(pointing[int(row.version)]),
            tags=dict(sorted(tags[row.id].items())),
        )
        for row in rows
    ]


def load_events(conn: Connection, name: str) -> list[AliasEvent]:
    """The alias audit history of ``name``, oldest first."""
    rows = conn.execute(
        sa.select(t.alias_events)
        .join(t.models, t.models.c.id == t.alias_events.c.model_id)
        .where(t.models.c.name == name)
        .order_by(t.alias_events.c.id)
    )
    return [
        AliasEvent(
            name=name,
            alias=row.alias,
            action=cast(AliasAction, row.action),
            from_version=row.from_version,
            to_version=row.to_version,
            actor=row.actor,
            at=as_utc(row.at),
        )
        for row in rows
    ]

"""The registry's model-level metadata, as MLflow's model registry shows it: descriptions, model
tags, renames and deletes, and a light listing of versions for search.

A model's name, numbering and audit history are Shipyard's (``store.py``); this adds what
MLflow's ``RegisteredModel`` and ``ModelVersion`` messages carry besides. MLflow's
``delete_registered_model`` deletes every version and marks the name deleted (``deleted_at``);
its alias history stays, and a new version or ``create_registered_model`` brings the name back,
numbering on from where it was.

    >>> catalog = Catalog(engine)
    >>> catalog.create_model("churn", "weekly churn model", {"team": "growth"})
    >>> catalog.rename_model("churn", "churn-v2")
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shipyard.database.engine import as_utc, dialect_insert, run_read, run_write
from shipyard.errors import ConflictError, NotFoundError
from shipyard.refs import validate_name
from shipyard.registry.metadata import tables as t

__all__ = ["Catalog", "ModelInfo", "VersionInfo"]

_RUN_MODELS = sa.table("tracking_run_models", sa.column("model_name"))
"""The tracking stage's run -> version links (``tracking/tables.py``), which follow a rename;
named here as a bare table so that the registry does not import the tracking stage."""


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """What MLflow's ``ModelVersion`` shows of one version (no manifest, no files)."""

    name: str
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    description: str
    run_id: str | None
    source: str | None
    aliases: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What MLflow's ``RegisteredModel`` shows of one model."""

    name: str
    created_at: datetime
    updated_at: datetime
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]
    latest_version: int | None


class Catalog:
    """Reads and writes of model-level metadata over the registry's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- models --------------------------------------------------------------------------------

    def create_model(self, name: str, description: str, tags: Mapping[str, str]) -> ModelInfo:
        """A new model with no versions; ``ConflictError`` when the name is in use."""
        validate_name(name)

        def work(conn: Connection) -> None:
            row = conn.execute(
                sa.select(t.models.c.id, t.models.c.deleted_at)
                .where(t.models.c.name == name)
                .with_for_update()
            ).first()
            now = _now()
            if row is not None and row.deleted_at is None:
                raise ConflictError(f"registered model {name!r} already exists")
            if row is None:
                conn.execute(
                    sa.insert(t.models).values(
                        name=name,
                        last_version=0,
                        created_at=now,
                        updated_at=now,
                        description=description or None,
                    )
                )
            else:
                conn.execute(
                    sa.update(t.models)
                    .where(t.models.c.id == row.id)
                    .values(deleted_at=None, description=description or None, updated_at=now)
                )
            model_id = _model_id(conn, name)
            _put_tags(conn, model_id, tags)

        run_write(self.engine, work)
        return self.model(name)

    def model(self, name: str) -> ModelInfo:
        """The model ``name``; ``NotFoundError`` when it does not exist or was deleted."""
        found = run_read(self.engine, lambda conn: _load_models(conn, [name]))
        if not found:
            raise NotFoundError(f"registered model {name!r} not found")
        return found[0]

    def models(self) -> list[ModelInfo]:
        """Every model that is not deleted, sorted by name."""
        return run_read(self.engine, lambda conn: _load_models(conn, None))

    def describe_model(self, name: str, description: str) -> ModelInfo:
        self._update_model(name, description=description or None)
        return self.model(name)

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        def work(conn: Connection) -> None:
            _put_tags(conn, _model_id(conn, name), {key: value})
            _touch(conn, name)

        run_write(self.engine, work)

    def delete_model_tag(self, name: str, key: str) -> None:
        """Remove a model's tag; a key it does not have is no error (MLflow's semantics)."""

        def work(conn: Connection) -> None:
            model_id = _model_id(conn, name)
            deleted = conn.execute(
                sa.delete(t.model_tags).where(
                    t.model_tags.c.model_id == model_id, t.model_tags.c.key == key
                )
            )
            if deleted.rowcount:
                _touch(conn, name)

        run_write(self.engine, work)

    def rename_model(self, name: str, new_name: str) -> ModelInfo:
        """Give ``name`` (versions, aliases, history, run links) the name ``new_name``."""
        validate_name(new_name)

        def work(conn: Connection) -> None:
            model_id = _model_id(conn, name)
            taken = conn.execute(
                sa.select(t.models.c.deleted_at).where(t.models.c.name == new_name)
            ).first()
            if taken is not None:
                raise ConflictError(
                    f"cannot rename {name!r} to {new_name!r}: a model of that name exists"
                    + (" (deleted; its history stays)" if taken.deleted_at else "")
                )
            conn.execute(
                sa.update(t.models)
                .where(t.models.c.id == model_id)
                .values(name=new_name, updated_at=_now())
            )
            conn.execute(
                sa.update(_RUN_MODELS)
                .where(_RUN_MODELS.c.model_name == name)
                .values(model_name=new_name)
            )

        run_write(self.engine, work)
        return self.model(new_name)

    def mark_deleted(self, name: str) -> None:
        """Mark ``name`` deleted (its versions must be deleted first) and drop its tags and
        description; its numbering and alias history stay."""

        def work(conn: Connection) -> None:
            model_id = _model_id(conn, name)
            conn.execute(sa.delete(t.model_tags).where(t.model_tags.c.model_id == model_id))
            conn.execute(
                sa.update(t.models)
                .where(t.models.c.id == model_id)
                .values(deleted_at=_now(), description=None, updated_at=_now())
            )

        run_write(self.engine, work)

    def _update_model(self, name: str, **values: object) -> None:
        def work(conn: Connection) -> None:
            model_id = _model_id(conn, name)
            conn.execute(
                sa.update(t.models)
                .where(t.models.c.id == model_id)
                .values(updated_at=_now(), **values)
            )

        run_write(self.engine, work)

    # -- versions ------------------------------------------------------------------------------

    def describe_version(self, name: str, version: int, description: str) -> None:
        def work(conn: Connection) -> None:
            updated = conn.execute(
                sa.update(t.versions)
                .where(
                    t.versions.c.model_id == _model_id(conn, name),
                    t.versions.c.version == version,
                )
                .values(description=description or None, updated_at=_now())
            )
            if updated.rowcount == 0:
                raise NotFoundError(f"model version {name}:{version} not found")

        run_write(self.engine, work)

    def version_by_alias(self, name: str, alias: str) -> VersionInfo | None:
        """The version ``alias`` of ``name`` points at; None when it points nowhere."""

        def work(conn: Connection) -> VersionInfo | None:
            query = _version_select().join(
                t.aliases,
                (t.aliases.c.model_id == t.versions.c.model_id)
                & (t.aliases.c.version == t.versions.c.version),
            )
            rows = conn.execute(
                query.where(t.models.c.name == name, t.aliases.c.alias == alias)
            ).all()
            found = _version_infos(conn, rows)
            return found[0] if found else None

        return run_read(self.engine, work)

    def versions(
        self,
        names: Sequence[str] | None = None,
        *,
        run_ids: Sequence[str] | None = None,
        pairs: Sequence[tuple[str, int]] | None = None,
        tags: Mapping[str, str] | None = None,
        order: Sequence[tuple[str, bool]] = (),
        offset: int = 0,
        limit: int | None = None,
    ) -> list[VersionInfo]:
        """Versions of models that are not deleted (of ``names``, made by ``run_ids``, among
        the ``(name, number)`` ``pairs``, with every tag in ``tags``: each None for any), in
        ``order`` (``(key, ascending)``: ``name``, ``version_number``, ``creation_timestamp``,
        ``last_updated_timestamp``; then by name and number), ``limit`` of them from ``offset``.
        """

        def work(conn: Connection) -> list[VersionInfo]:
            query = (
                _version_select()
                .order_by(*_ordering(order), t.models.c.name, t.versions.c.version)
                .offset(offset)
                .limit(limit)
            )
            for tag_key, value in (tags or {}).items():
                tag = t.version_tags
                query = query.where(
                    sa.exists().where(
                        tag.c.version_id == t.versions.c.id,
                        tag.c.key == tag_key,
                        tag.c.value == value,
                    )
                )
            if names is not None:
                query = query.where(t.models.c.name.in_(list(names)))
            if run_ids is not None:
                query = query.where(t.versions.c.run_id.in_(list(run_ids)))
            if pairs is not None:
                key = sa.tuple_(t.models.c.name, t.versions.c.version)
                query = query.where(key.in_([tuple(pair) for pair in pairs]))
            rows = conn.execute(query).all()
            return _version_infos(conn, rows)

        return run_read(self.engine, work)


def _version_select() -> sa.Select[Any]:
    """The columns of ``VersionInfo``, for versions of models that are not deleted."""
    return (
        sa.select(
            t.versions.c.id,
            t.versions.c.model_id,
            t.models.c.name,
            t.versions.c.version,
            t.versions.c.created_at,
            t.versions.c.updated_at,
            t.versions.c.created_by,
            t.versions.c.description,
            t.versions.c.run_id,
            t.versions.c.source,
        )
        .join(t.models, t.models.c.id == t.versions.c.model_id)
        .where(t.models.c.deleted_at.is_(None))
    )


def _ordering(order: Sequence[tuple[str, bool]]) -> list[Any]:
    columns = {
        "name": t.models.c.name,
        "version_number": t.versions.c.version,
        "creation_timestamp": t.versions.c.created_at,
        "last_updated_timestamp": sa.func.coalesce(
            t.versions.c.updated_at, t.versions.c.created_at
        ),
    }
    return [columns[key].asc() if ascending else columns[key].desc() for key, ascending in order]


def _version_infos(conn: Connection, rows: Sequence[Any]) -> list[VersionInfo]:
    ids = [row.id for row in rows]
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    pointing: dict[tuple[int, int], list[str]] = defaultdict(list)
    if ids:
        for chunk in _chunks(ids):
            for tag in conn.execute(
                sa.select(t.version_tags).where(t.version_tags.c.version_id.in_(chunk))
            ):
                tags[tag.version_id][tag.key] = tag.value
        model_ids = sorted({row.model_id for row in rows})
        for alias in conn.execute(
            sa.select(t.aliases)
            .where(t.aliases.c.model_id.in_(model_ids))
            .order_by(t.aliases.c.alias)
        ):
            pointing[(alias.model_id, int(alias.version))].append(alias.alias)
    return [
        VersionInfo(
            name=row.name,
            version=int(row.version),
            created_at=as_utc(row.created_at),
            updated_at=as_utc(row.updated_at or row.created_at),
            created_by=row.created_by,
            description=row.description or "",
            run_id=row.run_id,
            source=row.source,
            aliases=tuple(pointing[(row.model_id, int(row.version))]),
            tags=dict(sorted(tags[row.id].items())),
        )
        for row in rows
    ]


def _chunks(ids: list[int], size: int = 900) -> list[list[int]]:
    """``ids`` in lists short enough for SQLite's bound-parameter limit."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _load_models(conn: Connection, names: Sequence[str] | None) -> list[ModelInfo]:
    query = sa.select(t.models).where(t.models.c.deleted_at.is_(None)).order_by(t.models.c.name)
    if names is not None:
        query = query.where(t.models.c.name.in_(list(names)))
    rows = conn.execute(query).all()
    ids = [row.id for row in rows]
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    aliases: dict[int, dict[str, int]] = defaultdict(dict)
    latest: dict[int, int] = {}
    if ids:
        for tag in conn.execute(sa.select(t.model_tags).where(t.model_tags.c.model_id.in_(ids))):
            tags[tag.model_id][tag.key] = tag.value
        for alias in conn.execute(sa.select(t.aliases).where(t.aliases.c.model_id.in_(ids))):
            aliases[alias.model_id][alias.alias] = int(alias.version)
        for model_id, number in conn.execute(
            sa.select(t.versions.c.model_id, sa.func.max(t.versions.c.version))
            .where(t.versions.c.model_id.in_(ids))
            .group_by(t.versions.c.model_id)
        ):
            latest[model_id] = int(number)
    return [
        ModelInfo(
            name=row.name,
            created_at=as_utc(row.created_at),
            updated_at=as_utc(row.updated_at),
            description=row.description or "",
            tags=dict(sorted(tags[row.id].items())),
            aliases=dict(sorted(aliases[row.id].items())),
            latest_version=latest.get(row.id),
        )
        for row in rows
    ]


def _model_id(conn: Connection, name: str) -> int:
    """The id of the model ``name`` (row locked); ``NotFoundError`` when absent or deleted."""
    row = conn.execute(
        sa.select(t.models.c.id)
        .where(t.models.c.name == name, t.models.c.deleted_at.is_(None))
        .with_for_update()
    ).first()
    if row is None:
        raise NotFoundError(f"registered model {name!r} not found")
    return int(row.id)


def _put_tags(conn: Connection, model_id: int, tags: Mapping[str, str]) -> None:
    for key, value in tags.items():
        insert = dialect_insert(conn, t.model_tags).values(model_id=model_id, key=key, value=value)
        conn.execute(
            insert.on_conflict_do_update(index_elements=["model_id", "key"], set_={"value": value})
        )


def _touch(conn: Connection, name: str) -> None:
    conn.execute(sa.update(t.models).where(t.models.c.name == name).values(updated_at=_now()))


def _now() -> datetime:
    return datetime.now(UTC)

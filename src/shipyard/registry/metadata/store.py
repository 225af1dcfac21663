"""The metadata store: versions, files, tags, aliases and their audit history in one database.

Every write is one transaction (see ``engine.run_write``). Version numbers come from a counter on
the model's row, read and bumped under a row lock, so concurrent publishers get consecutive,
unique numbers and a number is never reused after a delete.

    >>> store = MetadataStore.open("sqlite:////tmp/sy/registry.db")
    >>> store.add_version(NewVersion("iris", digest, manifest, files, {}, now, "ana"))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shipyard.database import open_database
from shipyard.database.engine import (
    dialect_insert,
    run_read,
    run_write,
)
from shipyard.errors import ConflictError, NotFoundError
from shipyard.models.manifest import MLFLOW_SOURCE_KEY, ModelManifest
from shipyard.registry.entities import (
    AliasAction,
    AliasEvent,
    ArtifactFile,
    ModelSummary,
    ModelVersion,
)
from shipyard.registry.metadata import tables as t
from shipyard.registry.metadata.reads import (
    load_events,
    load_state,
    load_summaries,
    load_versions,
    model_names,
)
from shipyard.registry.resolve import ModelState, rollback_target, unknown_model

__all__ = ["MetadataStore", "NewVersion"]


@dataclass(frozen=True, slots=True)
class NewVersion:
    """A version to insert; ``number`` None means "the next one", a number (import) is kept when
    it was never used for the model."""

    name: str
    digest: str
    manifest: ModelManifest
    files: tuple[ArtifactFile, ...]
    tags: dict[str, str]
    created_at: datetime
    created_by: str
    number: int | None = None


class MetadataStore:
    """Reads and writes registry metadata; open it with ``MetadataStore.open(url)``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> MetadataStore:
        """Connect to ``url`` and bring its schema up to date."""
        return cls(open_database(url))

    def close(self) -> None:
        self.engine.dispose()

    # -- reads ---------------------------------------------------------------------------------

    def model_names(self) -> list[str]:
        return run_read(self.engine, model_names)

    def summaries(self) -> list[ModelSummary]:
        return run_read(self.engine, load_summaries)

    def state(self, name: str) -> ModelState | None:
        return run_read(self.engine, lambda conn: load_state(conn, name))

    def versions(self, name: str, numbers: Sequence[int] | None = None) -> list[ModelVersion]:
        return run_read(self.engine, lambda conn: load_versions(conn, name, numbers))

    def alias_events(self, name: str) -> list[AliasEvent]:
        return run_read(self.engine, lambda conn: load_events(conn, name))

    def is_blob_referenced(self, sha256: str) -> bool:
        query = sa.select(sa.literal(1)).where(t.version_files.c.sha256 == sha256).limit(1)
        return run_read(self.engine, lambda conn: conn.execute(query).first() is not None)

    # -- writes --------------------------------------------------------------------------------

    def add_version(self, new: NewVersion) -> int:
        """Insert a complete version in one transaction and return its number.

        An imported version (``number`` set) whose digest the model already has is not inserted
        again: the number of the version holding that digest is returned.
        """

        def work(conn: Connection) -> int:
            model_id, last = _lock_model(conn, new.name, create=True, revive=True)
            if new.number is not None:
                same = conn.execute(
                    sa.select(sa.func.min(t.versions.c.version)).where(
                        t.versions.c.model_id == model_id, t.versions.c.digest == new.digest
                    )
                ).scalar()
                if same is not None:
                    return int(same)
            number = new.number if new.number is not None and new.number > last else last + 1
            conn.execute(
                sa.update(t.models)
                .where(t.models.c.id == model_id)
                .values(last_version=max(last, number), updated_at=_now())
            )
            inserted = conn.execute(
                sa.insert(t.versions)
                .values(
                    model_id=model_id,
                    version=number,
                    digest=new.digest,
                    manifest=new.manifest.to_dict(),
                    created_at=new.created_at,
                    created_by=new.created_by,
                    run_id=new.manifest.lineage.run_id,
                    source=_mlflow_source(new.manifest),
                )
                .returning(t.versions.c.id)
            )
            version_id = inserted.scalar_one()
            conn.execute(
                sa.insert(t.version_files),
                [{"version_id": version_id, **f.to_dict()} for f in new.files],
            )
            if new.tags:
                tags = [
                    {"version_id": version_id, "key": k, "value": v} for k, v in new.tags.items()
                ]
                conn.execute(sa.insert(t.version_tags), tags)
            return number

        return run_write(self.engine, work)

    def set_alias(self, name: str, alias: str, version: int, actor: str) -> AliasEvent | None:
        """Point ``alias`` at ``version``; None when it already pointed there."""

        def work(conn: Connection) -> AliasEvent | None:
            model_id, state = _locked_state(conn, name)
            if version not in state.versions:
                raise NotFoundError(f"no version {version}: {state.describe()}")
            current = state.aliases.get(alias)
            if current == version:
                return None
            return _move_alias(conn, model_id, state, alias, version, "set", actor)

        return run_write(self.engine, work)

    def remove_alias(self, name: str, alias: str, actor: str) -> AliasEvent:
        def work(conn: Connection) -> AliasEvent:
            model_id, state = _locked_state(conn, name)
            if alias not in state.aliases:
                raise NotFoundError(f"no alias {alias!r}: {state.describe()}")
            return _move_alias(conn, model_id, state, alias, None, "remove", actor)

        return run_write(self.engine, work)

    def rollback_alias(self, name: str, alias: str, actor: str) -> AliasEvent:
        def work(conn: Connection) -> AliasEvent:
            model_id, state = _locked_state(conn, name)
            target = rollback_target(load_events(conn, name), state, alias)
            return _move_alias(conn, model_id, state, alias, target, "rollback", actor)

        return run_write(self.engine, work)

    def set_tags(self, name: str, version: int, tags: dict[str, str]) -> None:
        """Add or overwrite tags of a version (tags are mutable; the version is not)."""

        def work(conn: Connection) -> None:
            version_id = _locked_version_id(conn, name, version)
            table = t.version_tags
            conn.execute(
                sa.delete(table).where(
                    table.c.version_id == version_id, table.c.key.in_(list(tags))
                )
            )
            rows = [{"version_id": version_id, "key": k, "value": v} for k, v in tags.items()]
            if rows:
                conn.execute(sa.insert(table), rows)

        run_write(self.engine, work)

    def remove_tags(self, name: str, version: int, keys: Sequence[str]) -> None:
        """Remove tags of a version; ``NotFoundError`` names a key it does not have."""

        def work(conn: Connection) -> None:
            version_id = _locked_version_id(conn, name, version)
            table = t.version_tags
            present = set(
                conn.execute(
                    sa.select(table.c.key).where(table.c.version_id == version_id)
                ).scalars()
            )
            missing = sorted(set(keys) - present)
            if missing:
                have = ", ".join(sorted(present)) or "none"
                raise NotFoundError(
                    f"{name}:{version} has no tag {missing[0]!r} (its tags: {have})"
                )
            conn.execute(
                sa.delete(table).where(table.c.version_id == version_id, table.c.key.in_(keys))
            )

        run_write(self.engine, work)

    def delete_version(self, name: str, version: int, actor: str, *, force: bool) -> list[str]:
        """Delete a version; return the sha256 of blobs no version references any more."""

        def work(conn: Connection) -> list[str]:
            model_id, state = _locked_state(conn, name)
            if version not in state.versions:
                raise NotFoundError(f"no version {version}: {state.describe()}")
            return _delete_versions(conn, model_id, state, (version,), actor, force=force)

        return run_write(self.engine, work)

    def delete_all_versions(
        self, name: str, actor: str, *, force: bool
    ) -> tuple[tuple[int, ...], list[str]]:
        """Delete every version of ``name`` in one transaction (the name and its history stay).

        Returns the deleted numbers and the sha256 of blobs no version references any more.
        """

        def work(conn: Connection) -> tuple[tuple[int, ...], list[str]]:
            model_id, state = _locked_state(conn, name)
            if not state.versions:
                raise NotFoundError(f"nothing to delete: {state.describe()}")
            unreferenced = _delete_versions(
                conn, model_id, state, state.versions, actor, force=force
            )
            return state.versions, unreferenced

        return run_write(self.engine, work)


def _delete_versions(
    conn: Connection,
    model_id: int,
    state: ModelState,
    versions: tuple[int, ...],
    actor: str,
    *,
    force: bool,
) -> list[str]:
    """Delete ``versions`` (all or nothing); return the blobs no version references any more."""
    pointing = sorted(a for a, v in state.aliases.items() if v in versions)
    if pointing and not force:
        if len(versions) == 1:
            what, targets = f"{state.name}:{versions[0]}", ", ".join(pointing)
        else:
            what = f"every version of {state.name}"
            targets = ", ".join(f"{a}→{state.aliases[a]}" for a in pointing)
        raise ConflictError(
            f"cannot delete {what}: alias(es) {targets} point at it; "
            "move them first or delete with --force (which removes them)"
        )
    for alias in pointing:
        _move_alias(conn, model_id, state, alias, None, "remove", actor)
    version_ids = list(
        conn.execute(
            sa.select(t.versions.c.id).where(
                t.versions.c.model_id == model_id, t.versions.c.version.in_(versions)
            )
        ).scalars()
    )
    shas = set(
        conn.execute(
            sa.select(t.version_files.c.sha256).where(t.version_files.c.version_id.in_(version_ids))
        ).scalars()
    )
    for table in (t.version_files, t.version_tags):
        conn.execute(sa.delete(table).where(table.c.version_id.in_(version_ids)))
    conn.execute(sa.delete(t.versions).where(t.versions.c.id.in_(version_ids)))
    still_used = set(
        conn.execute(
            sa.select(t.version_files.c.sha256).where(t.version_files.c.sha256.in_(shas))
        ).scalars()
    )
    return sorted(shas - still_used)


def _now() -> datetime:
    return datetime.now(UTC)


def _mlflow_source(manifest: ModelManifest) -> str | None:
    """The MLflow ``source`` URI a version was registered from (kept in its metadata)."""
    source = manifest.metadata.get(MLFLOW_SOURCE_KEY)
    return source if isinstance(source, str) else None


def _lock_model(
    conn: Connection, name: str, *, create: bool, revive: bool = False
) -> tuple[int, int]:
    """Lock the model's row (creating it when asked; ``revive`` also undoes an MLflow delete);
    return its id and last version number."""
    if create:
        now = _now()
        values = {"name": name, "last_version": 0, "created_at": now, "updated_at": now}
        insert = dialect_insert(conn, t.models)
        conn.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["name"]))
    if revive:
        conn.execute(
            sa.update(t.models)
            .where(t.models.c.name == name, t.models.c.deleted_at.is_not(None))
            .values(deleted_at=None)
        )
    row = conn.execute(
        sa.select(t.models.c.id, t.models.c.last_version)
        .where(t.models.c.name == name)
        .with_for_update()
    ).first()
    if row is None:
        raise unknown_model(name, model_names(conn))
    return int(row.id), int(row.last_version)


def _locked_state(conn: Connection, name: str) -> tuple[int, ModelState]:
    model_id, _ = _lock_model(conn, name, create=False)
    state = load_state(conn, name)
    if state is None:  # pragma: no cover - the row is locked, so it exists
        raise unknown_model(name, model_names(conn))
    return model_id, state


def _locked_version_id(conn: Connection, name: str, version: int) -> int:
    """Lock the model's row and return the id of one of its versions (``NotFoundError``)."""
    model_id, state = _locked_state(conn, name)
    if version not in state.versions:
        raise NotFoundError(f"no version {version}: {state.describe()}")
    return int(
        conn.execute(
            sa.select(t.versions.c.id).where(
                t.versions.c.model_id == model_id, t.versions.c.version == version
            )
        ).scalar_one()
    )


def _move_alias(
    conn: Connection,
    model_id: int,
    state: ModelState,
    alias: str,
    to_version: int | None,
    action: AliasAction,
    actor: str,
) -> AliasEvent:
    now = _now()
    from_version = state.aliases.get(alias)
    key = (t.aliases.c.model_id == model_id) & (t.aliases.c.alias == alias)
    conn.execute(sa.delete(t.aliases).where(key))
    if to_version is not None:
        conn.execute(
            sa.insert(t.aliases).values(
                model_id=model_id, alias=alias, version=to_version, updated_at=now
            )
        )
    event = AliasEvent(state.name, alias, action, from_version, to_version, actor, now)
    conn.execute(
        sa.insert(t.alias_events).values(
            model_id=model_id,
            alias=alias,
            action=action,
            from_version=from_version,
            to_version=to_version,
            actor=actor,
            at=now,
        )
    )
    return event

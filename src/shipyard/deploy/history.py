"""Every deployment and every revision, in the registry database (``deploy/tables.py``).

>>> records = DeploymentRecords.open(settings)
>>> revision = records.begin(spec, action="deploy", user="ana")
>>> records.finish(spec.name, revision, "applied")
>>> [r.revision for r in records.history("cancer")]
[1]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shipyard.config import Settings
from shipyard.database.engine import as_utc, run_read, run_write
from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.tables import deployments, revisions
from shipyard.errors import ConflictError, NotFoundError
from shipyard.registry.metadata import MetadataStore

__all__ = ["DeploymentRecord", "DeploymentRecords", "Outcome", "RevisionRecord"]

Outcome = Literal[
    "pending", "applied", "rolled-back", "failed", "removed", "canary", "promoted", "aborted"
]


@dataclass(frozen=True, slots=True)
class RevisionRecord:
    """One applied (or attempted) revision of a deployment."""

    deployment: str
    revision: int
    action: str
    spec: DeploymentSpec
    created_at: datetime
    created_by: str
    outcome: str
    detail: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "revision": self.revision,
            "action": self.action,
            "model": None
            if self.spec.model_name is None
            else f"{self.spec.model_name}:{self.spec.model_version}",
            "image": self.spec.image,
            "image_digest": self.spec.image_digest,
            "target": self.spec.target,
            "replicas": self.spec.replicas,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "outcome": self.outcome,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class DeploymentRecord:
    """A deployment and the revision that is live."""

    name: str
    target: str
    live_revision: int | None
    last_revision: int
    follow_alias: str | None
    created_at: datetime
    created_by: str


class DeploymentRecords:
    """Reads and writes the deploy tables; one write transaction per call."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store
        self._engine = store.engine

    @classmethod
    def open(cls, settings: Settings) -> DeploymentRecords:
        return cls(MetadataStore.open(settings.registry.db_url))

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> DeploymentRecords:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def begin(
        self,
        spec: DeploymentSpec,
        *,
        action: str,
        user: str,
        new: bool = False,
        follow_alias: str | None = None,
    ) -> int:
        """Record a pending revision and return its number; ``new`` refuses a taken name."""

        def work(conn: Connection) -> int:
            now = datetime.now(UTC)
            row = conn.execute(
                sa.select(deployments).where(deployments.c.name == spec.name).with_for_update()
            ).first()
            if row is not None and new and row.removed_at is None:
                raise ConflictError(
                    f"deployment {spec.name!r} exists already ({row.target}): change it with "
                    f"`shipyard deployments update {spec.name} REF`, or pick another --name"
                )
            if row is None:
                conn.execute(
                    deployments.insert().values(
                        name=spec.name,
                        target=spec.target,
                        last_revision=0,
                        follow_alias=follow_alias,
                        created_at=now,
                        created_by=user,
                    )
                )
                last = 0
            else:
                last = int(row.last_revision)
            revision = last + 1
            values: dict[str, Any] = {"last_revision": revision, "removed_at": None}
            if new:
                values.update(target=spec.target, follow_alias=follow_alias, live_revision=None)
            conn.execute(
                deployments.update().where(deployments.c.name == spec.name).values(**values)
            )
            conn.execute(
                revisions.insert().values(
                    deployment=spec.name,
                    revision=revision,
                    action=action,
                    model_name=spec.model_name,
                    model_version=spec.model_version,
                    image=spec.image,
                    image_digest=spec.image_digest,
                    target=spec.target,
                    replicas=spec.replicas,
                    spec=spec.to_dict(),
                    created_at=now,
                    created_by=user,
                    outcome="pending",
                )
            )
            return revision

        return run_write(self._engine, work)

    def finish(self, name: str, revision: int, outcome: Outcome, detail: str | None = None) -> None:
        """Record how a revision ended; an applied one becomes the live revision."""

        def work(conn: Connection) -> None:
            conn.execute(
                revisions.update()
                .where(revisions.c.deployment == name, revisions.c.revision == revision)
                .values(outcome=outcome, detail=detail)
            )
            if outcome == "applied":
                conn.execute(
                    deployments.update()
                    .where(deployments.c.name == name)
                    .values(live_revision=revision)
                )

        run_write(self._engine, work)

    def set_follow(self, name: str, ref: str | None) -> DeploymentRecord:
        """Follow ``ref`` (``NAME@ALIAS``) from now on, or stop following (``None``)."""
        self.get(name)
        run_write(
            self._engine,
            lambda conn: conn.execute(
                deployments.update().where(deployments.c.name == name).values(follow_alias=ref)
            ),
        )
        return self.get(name)

    def mark_removed(self, name: str) -> None:
        def work(conn: Connection) -> None:
            conn.execute(
                deployments.update()
                .where(deployments.c.name == name)
                .values(removed_at=datetime.now(UTC), live_revision=None)
            )

        run_write(self._engine, work)

    def get(self, name: str) -> DeploymentRecord:
        """The deployment ``name``; ``NotFoundError`` lists those that exist."""
        row = run_read(
            self._engine,
            lambda conn: conn.execute(
                sa.select(deployments).where(
                    deployments.c.name == name, deployments.c.removed_at.is_(None)
                )
            ).first(),
        )
        if row is None:
            known = ", ".join(d.name for d in self.all()) or "none"
            raise NotFoundError(
                f"no deployment {name!r} (deployments: {known}); create it with `shipyard deploy`"
            )
        return _deployment(row)

    def all(self) -> list[DeploymentRecord]:
        rows = run_read(
            self._engine,
            lambda conn: conn.execute(
                sa.select(deployments)
                .where(deployments.c.removed_at.is_(None))
                .order_by(deployments.c.name)
            ).all(),
        )
        return [_deployment(row) for row in rows]

    def history(self, name: str) -> list[RevisionRecord]:
        self.get(name)
        rows = run_read(
            self._engine,
            lambda conn: conn.execute(
                sa.select(revisions)
                .where(revisions.c.deployment == name)
                .order_by(revisions.c.revision)
            ).all(),
        )
        return [_revision(row) for row in rows]

    def revision(self, name: str, number: int) -> RevisionRecord:
        for record in self.history(name):
            if record.revision == number:
                return record
        raise NotFoundError(f"deployment {name!r} has no revision {number}: see `history {name}`")

    def canary(self, name: str) -> RevisionRecord:
        """The revision running as a canary now; ``NotFoundError`` when there is none."""
        for record in reversed(self.history(name)):
            if record.outcome == "canary":
                return record
        raise NotFoundError(f"deployment {name!r} has no canary: start one with `canary`")

    def live(self, name: str) -> RevisionRecord:
        """The live revision of ``name``."""
        record = self.get(name)
        if record.live_revision is None:
            raise NotFoundError(f"deployment {name!r} has no live revision")
        return self.revision(name, record.live_revision)


def _deployment(row: Any) -> DeploymentRecord:
    return DeploymentRecord(
        name=row.name,
        target=row.target,
        live_revision=row.live_revision,
        last_revision=int(row.last_revision),
        follow_alias=row.follow_alias,
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
    )


def _revision(row: Any) -> RevisionRecord:
    return RevisionRecord(
        deployment=row.deployment,
        revision=int(row.revision),
        action=row.action,
        spec=DeploymentSpec.from_dict(dict(row.spec)),
        created_at=as_utc(row.created_at),  # SQLite hands back naive datetimes (stored in UTC)
        created_by=row.created_by,
        outcome=row.outcome,
        detail=row.detail,
    )

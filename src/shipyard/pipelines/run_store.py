"""Pipeline runs, step runs and the cache index, in the registry's database.

>>> records = PipelineRecords(registry.metadata.engine)
>>> records.create_run(run_id, "cancer", "pipe.py", "local", {"n": 10}, "ana", nodes)
>>> records.cache_get(key)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from shipyard.database.engine import run_read, run_write
from shipyard.errors import NotFoundError
from shipyard.pipelines import tables as t

__all__ = ["PipelineRecords", "RunRecord", "StepRecord"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class StepRecord:
    node: str
    step: str
    status: str
    cache_key: str | None
    attempts: int
    started_at: datetime | None
    duration_s: float | None
    outputs: dict[str, Any] | None
    error: str | None
    log_path: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "step": self.step,
            "status": self.status,
            "cache_key": self.cache_key,
            "attempts": self.attempts,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "duration_s": self.duration_s,
            "outputs": {k: v["digest"] for k, v in (self.outputs or {}).items()},
            "error": self.error,
            "log_path": self.log_path,
        }


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: str
    pipeline: str
    source: str
    executor: str
    status: str
    params: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None
    created_by: str
    tracking_run_id: str | None
    steps: tuple[StepRecord, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pipeline": self.pipeline,
            "source": self.source,
            "executor": self.executor,
            "status": self.status,
            "params": self.params,
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "created_by": self.created_by,
            "tracking_run_id": self.tracking_run_id,
            "steps": [s.to_dict() for s in self.steps],
        }


def _run(row: sa.Row[Any], steps: tuple[StepRecord, ...] = ()) -> RunRecord:
    return RunRecord(
        id=row.id,
        pipeline=row.pipeline,
        source=row.source,
        executor=row.executor,
        status=row.status,
        params=dict(row.params or {}),
        created_at=row.created_at,
        finished_at=row.finished_at,
        created_by=row.created_by,
        tracking_run_id=row.tracking_run_id,
        steps=steps,
    )


def _step(row: sa.Row[Any]) -> StepRecord:
    return StepRecord(
        node=row.node,
        step=row.step,
        status=row.status,
        cache_key=row.cache_key,
        attempts=row.attempts,
        started_at=row.started_at,
        duration_s=row.duration_s,
        outputs=row.outputs,
        error=row.error,
        log_path=row.log_path,
    )


class PipelineRecords:
    """Reads and writes the pipelines tables (one transaction per call)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_run(
        self,
        run_id: str,
        pipeline: str,
        source: str,
        executor: str,
        params: dict[str, Any],
        user: str,
        nodes: Sequence[tuple[str, str]],
        *,
        tracking_run_id: str | None = None,
    ) -> None:
        def work(conn: Connection) -> None:
            conn.execute(
                t.runs.insert().values(
                    tracking_run_id=tracking_run_id,
                    id=run_id,
                    pipeline=pipeline,
                    source=source,
                    executor=executor,
                    status="running",
                    params=params,
                    created_at=_now(),
                    created_by=user,
                )
            )
            for node, step in nodes:
                conn.execute(
                    t.step_runs.insert().values(
                        run_id=run_id, node=node, step=step, status="pending", attempts=0
                    )
                )

        run_write(self.engine, work)

    def update_step(self, run_id: str, node: str, **values: Any) -> None:
        query = (
            t.step_runs.update()
            .where(t.step_runs.c.run_id == run_id, t.step_runs.c.node == node)
            .values(**values)
        )
        run_write(self.engine, lambda conn: conn.execute(query))

    def link_tracking_run(self, run_id: str, tracking_run_id: str) -> None:
        """Record that run ``run_id`` is tracked as ``tracking_run_id`` (the tracking stage)."""
        query = t.runs.update().where(t.runs.c.id == run_id).values(tracking_run_id=tracking_run_id)
        run_write(self.engine, lambda conn: conn.execute(query))

    def set_run_status(self, run_id: str, status: str, *, finished: bool) -> None:
        query = (
            t.runs.update()
            .where(t.runs.c.id == run_id)
            .values(status=status, finished_at=_now() if finished else None)
        )
        run_write(self.engine, lambda conn: conn.execute(query))

    def get_run(self, run_id: str) -> RunRecord:
        def work(conn: Connection) -> RunRecord | None:
            row = conn.execute(sa.select(t.runs).where(t.runs.c.id == run_id)).first()
            if row is None:
                return None
            rows = conn.execute(sa.select(t.step_runs).where(t.step_runs.c.run_id == run_id)).all()
            return _run(row, tuple(_step(r) for r in rows))

        found = run_read(self.engine, work)
        if found is None:
            raise NotFoundError(
                f"no pipeline run {run_id!r}: `shipyard pipeline runs list` shows the runs"
            )
        return found

    def list_runs(self, pipeline: str | None = None, limit: int = 50) -> list[RunRecord]:
        query = sa.select(t.runs).order_by(t.runs.c.created_at.desc()).limit(limit)
        if pipeline is not None:
            query = query.where(t.runs.c.pipeline == pipeline)
        return run_read(self.engine, lambda conn: [_run(r) for r in conn.execute(query).all()])

    def cache_get(self, key: str) -> dict[str, Any] | None:
        query = sa.select(t.cache_entries.c.outputs).where(t.cache_entries.c.key == key)
        value = run_read(self.engine, lambda conn: conn.execute(query).scalar())
        return None if value is None else dict(value)

    def cache_put(self, key: str, step: str, outputs: dict[str, Any], run_id: str) -> None:
        def work(conn: Connection) -> None:
            conn.execute(t.cache_entries.delete().where(t.cache_entries.c.key == key))
            conn.execute(
                t.cache_entries.insert().values(
                    key=key, step=step, outputs=outputs, run_id=run_id, created_at=_now()
                )
            )

        try:
            run_write(self.engine, work)
        except SAIntegrityError:  # a concurrent run stored the same key: same content
            return

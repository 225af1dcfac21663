"""Turn database rows into tracking entities, and load whole runs in a few queries.

A page of runs costs six queries however many runs it holds: the run rows, then their params,
tags, latest metrics, dataset inputs and model links by ``run_id IN (...)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shipyard.errors import NotFoundError
from shipyard.tracking import tables as t
from shipyard.tracking.entities import (
    Experiment,
    LifecycleStage,
    Metric,
    Run,
    RunInfo,
    RunStatus,
)
from shipyard.tracking.inputs import RunLineage, load_lineage

__all__ = ["load_experiment", "load_runs", "metric_from_row", "require_run_row"]

_CHUNK = 500


def metric_from_row(row: Any) -> Metric:
    value = float("nan") if row.is_nan else float(row.value)
    return Metric(row.key, value, int(row.timestamp), int(row.step))


def _info(row: Any) -> RunInfo:
    return RunInfo(
        run_id=row.run_id,
        experiment_id=str(row.experiment_id),
        run_name=row.name,
        user_id=row.user_id,
        status=RunStatus(row.status),
        start_time=int(row.start_time),
        end_time=None if row.end_time is None else int(row.end_time),
        artifact_uri=row.artifact_uri,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
    )


def load_runs(conn: Connection, run_ids: Sequence[str]) -> list[Run]:
    """The runs ``run_ids`` in that order (ids that do not exist are left out)."""
    infos: dict[str, RunInfo] = {}
    params: dict[str, dict[str, str]] = {}
    tags: dict[str, dict[str, str]] = {}
    metrics: dict[str, dict[str, Metric]] = {}
    lineage: dict[str, RunLineage] = {}
    for start in range(0, len(run_ids), _CHUNK):
        chunk = list(run_ids[start : start + _CHUNK])
        for row in conn.execute(sa.select(t.runs).where(t.runs.c.run_id.in_(chunk))):
            infos[row.run_id] = _info(row)
        for table, into in ((t.run_params, params), (t.run_tags, tags)):
            query = sa.select(table.c.run_id, table.c.key, table.c.value).where(
                table.c.run_id.in_(chunk)
            )
            for row in conn.execute(query):
                into.setdefault(row.run_id, {})[row.key] = row.value
        query_metrics = sa.select(t.latest_metrics).where(t.latest_metrics.c.run_id.in_(chunk))
        for row in conn.execute(query_metrics):
            metrics.setdefault(row.run_id, {})[row.key] = metric_from_row(row)
        lineage.update(load_lineage(conn, chunk))
    return [
        Run(
            info=infos[run_id],
            params=dict(sorted(params.get(run_id, {}).items())),
            tags=dict(sorted(tags.get(run_id, {}).items())),
            metrics=dict(sorted(metrics.get(run_id, {}).items())),
            dataset_inputs=lineage[run_id][0],
            model_inputs=lineage[run_id][1],
            model_outputs=lineage[run_id][2],
        )
        for run_id in run_ids
        if run_id in infos
    ]


def require_run_row(conn: Connection, run_id: str) -> Any:
    """The run's row; ``NotFoundError`` when there is none."""
    row = conn.execute(
        sa.select(t.runs.c.run_id, t.runs.c.experiment_id, t.runs.c.lifecycle_stage).where(
            t.runs.c.run_id == run_id
        )
    ).first()
    if row is None:
        raise NotFoundError(f"run {run_id!r} does not exist: list runs with `shipyard runs list`")
    return row


def load_experiment(conn: Connection, where: sa.ColumnElement[bool], what: str) -> Experiment:
    row = conn.execute(sa.select(t.experiments).where(where)).first()
    if row is None:
        raise NotFoundError(
            f"experiment {what} does not exist: list them with `shipyard experiments list`"
        )
    return experiment_from_row(conn, row)


def experiment_from_row(conn: Connection, row: Any) -> Experiment:
    tags = conn.execute(
        sa.select(t.experiment_tags.c.key, t.experiment_tags.c.value).where(
            t.experiment_tags.c.experiment_id == row.experiment_id
        )
    )
    return Experiment(
        experiment_id=str(row.experiment_id),
        name=row.name,
        artifact_location=row.artifact_location,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
        creation_time=int(row.creation_time),
        last_update_time=int(row.last_update_time),
        tags={tag.key: tag.value for tag in tags},
    )

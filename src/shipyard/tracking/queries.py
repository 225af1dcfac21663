"""The reads of the tracking store: experiments, run searches, metric histories, lineage, files.

>>> runs, token = store.search_runs(["1"], "metrics.auc > 0.9", ["metrics.auc DESC"])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shipyard.database.engine import run_read
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.tracking import tables as t
from shipyard.tracking.entities import Experiment, Metric, Run, ViewType
from shipyard.tracking.filters import EXPERIMENT_FILTERS, Clause, parse_filter, parse_order_by
from shipyard.tracking.rows import (
    experiment_from_row,
    load_experiment,
    load_runs,
    metric_from_row,
    require_run_row,
)
from shipyard.tracking.search import (
    MetricOrderQueries,
    attribute_value,
    compare,
    decode_page_token,
    encode_page_token,
    metric_order_queries,
    run_id_query,
)
from shipyard.tracking.validation import experiment_number

__all__ = ["ArtifactFile", "LinkedModel", "TrackingQueries"]

MAX_SEARCH_RESULTS = 50_000


@dataclass(frozen=True, slots=True)
class LinkedModel:
    """A model version registered from a run."""

    name: str
    version: int
    dataset_digest: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class ArtifactFile:
    """One stored run artifact: its path, blob and size."""

    path: str
    sha256: str
    size: int


class TrackingQueries:
    """Read-only queries; ``TrackingStore`` adds the writes."""

    engine: Engine

    def get_experiment(self, experiment_id: str) -> Experiment:
        where = t.experiments.c.experiment_id == experiment_number(experiment_id)
        return run_read(
            self.engine, lambda conn: load_experiment(conn, where, f"id {experiment_id!r}")
        )

    def get_experiment_by_name(self, name: str) -> Experiment:
        where = t.experiments.c.name == name
        return run_read(self.engine, lambda conn: load_experiment(conn, where, repr(name)))

    def list_experiments(self, view_type: ViewType = ViewType.ACTIVE_ONLY) -> list[Experiment]:
        stages = [stage.value for stage in view_type.stages]

        def work(conn: Connection) -> list[Experiment]:
            rows = conn.execute(
                sa.select(t.experiments)
                .where(t.experiments.c.lifecycle_stage.in_(stages))
                .order_by(t.experiments.c.experiment_id)
            )
            return [experiment_from_row(conn, row) for row in rows.all()]

        return run_read(self.engine, work)

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        filter_string: str | None = None,
        order_by: Sequence[str] = (),
        *,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> tuple[list[Experiment], str | None]:
        """One page of experiments matching MLflow's experiment filter (``name LIKE 'a%' AND
        tags.team = 'ml'``), newest first unless ``order_by`` says otherwise, and the next token."""
        if not 0 < max_results <= MAX_SEARCH_RESULTS:
            raise InvalidInputError(
                f"max_results must be between 1 and {MAX_SEARCH_RESULTS}, got {max_results}"
            )
        clauses = parse_filter(filter_string, EXPERIMENT_FILTERS)
        terms = [parse_order_by(term, EXPERIMENT_FILTERS) for term in order_by]
        if any(term.kind != "attribute" for term in terms):
            raise InvalidInputError("experiments are ordered by attributes only (name, ...)")
        if not terms:
            terms = [parse_order_by(t, EXPERIMENT_FILTERS) for t in _EXPERIMENT_ORDER]
        offset = decode_page_token(page_token)
        experiments = t.experiments
        ordering = [
            experiments.c[term.key].asc() if term.ascending else experiments.c[term.key].desc()
            for term in terms
        ]
        if not any(term.key == "experiment_id" for term in terms):
            ordering.append(experiments.c.experiment_id.desc())
        stages = [stage.value for stage in view_type.stages]

        def work(conn: Connection) -> tuple[list[Experiment], str | None]:
            where: list[sa.ColumnElement[bool]] = [experiments.c.lifecycle_stage.in_(stages)]
            where += [_experiment_condition(c, conn.dialect.name) for c in clauses]
            query = sa.select(experiments).where(*where).order_by(*ordering)
            rows = conn.execute(query.limit(max_results + 1).offset(offset)).all()
            token = None
            if len(rows) > max_results:
                rows = rows[:max_results]
                token = encode_page_token(offset + max_results)
            return [experiment_from_row(conn, row) for row in rows], token

        return run_read(self.engine, work)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        order_by: Sequence[str] = (),
        *,
        max_results: int = 1000,
        page_token: str | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
    ) -> tuple[list[Run], str | None]:
        """One page of runs matching ``filter_string`` in ``order_by`` order, and the next token."""
        if not 0 < max_results <= MAX_SEARCH_RESULTS:
            raise InvalidInputError(
                f"max_results must be between 1 and {MAX_SEARCH_RESULTS}, got {max_results}"
            )
        ids = [experiment_number(experiment_id) for experiment_id in experiment_ids]
        clauses = parse_filter(filter_string)
        ordering = [parse_order_by(term) for term in order_by]
        offset = decode_page_token(page_token)

        def work(conn: Connection) -> tuple[list[Run], str | None]:
            dialect = conn.dialect.name
            if len(ordering) == 1 and ordering[0].kind == "metric":
                plan = metric_order_queries(ids, clauses, ordering[0], view_type.stages, dialect)
                run_ids = _metric_ordered_ids(conn, plan, max_results + 1, offset)
            else:
                query = run_id_query(
                    ids,
                    clauses,
                    ordering,
                    view_type.stages,
                    limit=max_results + 1,
                    offset=offset,
                    dialect=dialect,
                )
                run_ids = list(conn.execute(query).scalars())
            token = None
            if len(run_ids) > max_results:
                run_ids = run_ids[:max_results]
                token = encode_page_token(offset + max_results)
            return load_runs(conn, run_ids), token

        return run_read(self.engine, work)

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every value logged for ``key`` in ``run_id``, by step then time."""
        history = t.metric_history

        def work(conn: Connection) -> list[Metric]:
            require_run_row(conn, run_id)
            rows = conn.execute(
                sa.select(history)
                .where(history.c.run_id == run_id, history.c.key == key)
                .order_by(history.c.step, history.c.timestamp, history.c.id)
            )
            return [metric_from_row(row) for row in rows]

        return run_read(self.engine, work)

    def metric_points(self, run_id: str, key: str) -> list[tuple[int, float]]:
        """``(step, value)`` of every value logged for ``key``, by step then time (NaN kept);
        the columns a chart needs, without building a ``Metric`` each."""
        history = t.metric_history

        def work(conn: Connection) -> list[tuple[int, float]]:
            require_run_row(conn, run_id)
            rows = conn.execute(
                sa.select(history.c.step, history.c.value, history.c.is_nan)
                .where(history.c.run_id == run_id, history.c.key == key)
                .order_by(history.c.step, history.c.timestamp, history.c.id)
            )
            nan = float("nan")
            return [(int(step), nan if is_nan else float(value)) for step, value, is_nan in rows]

        return run_read(self.engine, work)

    def experiment_keys(self, experiment_id: str, limit: int) -> dict[str, list[str]]:
        """The distinct param, metric and tag keys of an experiment's runs, sorted, at most
        ``limit`` of each (the columns a runs table may show and sort by)."""
        number = experiment_number(experiment_id)
        in_experiment = sa.select(t.runs.c.run_id).where(t.runs.c.experiment_id == number)

        def keys(conn: Connection, table: sa.Table) -> list[str]:
            query = (
                sa.select(table.c.key)
                .where(table.c.run_id.in_(in_experiment))
                .distinct()
                .order_by(table.c.key)
                .limit(limit)
            )
            return list(conn.execute(query).scalars())

        def work(conn: Connection) -> dict[str, list[str]]:
            load_experiment(conn, t.experiments.c.experiment_id == number, experiment_id)
            return {
                "params": keys(conn, t.run_params),
                "metrics": keys(conn, t.latest_metrics),
                "tags": keys(conn, t.run_tags),
            }

        return run_read(self.engine, work)

    def linked_models(self, run_id: str) -> list[LinkedModel]:
        def work(conn: Connection) -> list[LinkedModel]:
            rows = conn.execute(
                sa.select(t.run_models)
                .where(t.run_models.c.run_id == run_id)
                .order_by(t.run_models.c.created_at)
            )
            return [
                LinkedModel(row.model_name, row.version, row.dataset_digest, row.created_at)
                for row in rows
            ]

        return run_read(self.engine, work)

    def environment(self, run_id: str) -> dict[str, Any] | None:
        def work(conn: Connection) -> dict[str, Any] | None:
            query = sa.select(t.run_environment.c.environment).where(
                t.run_environment.c.run_id == run_id
            )
            value = conn.execute(query).scalar()
            return dict(value) if value is not None else None

        return run_read(self.engine, work)

    def artifact_files(self, prefix: str) -> list[ArtifactFile]:
        """Every stored artifact whose path starts with ``prefix`` (a folder, no trailing /)."""
        files = t.artifact_files
        pattern = prefix.rstrip("/") + "/" if prefix else ""

        def work(conn: Connection) -> list[ArtifactFile]:
            query = sa.select(files.c.path, files.c.sha256, files.c.size).order_by(files.c.path)
            if pattern:
                query = query.where(sa.func.substr(files.c.path, 1, len(pattern)) == pattern)
            return [ArtifactFile(row.path, row.sha256, row.size) for row in conn.execute(query)]

        return run_read(self.engine, work)

    def artifact_file(self, path: str) -> ArtifactFile:
        files = t.artifact_files

        def work(conn: Connection) -> ArtifactFile:
            row = conn.execute(
                sa.select(files.c.path, files.c.sha256, files.c.size).where(files.c.path == path)
            ).first()
            if row is None:
                raise NotFoundError(f"artifact {path!r} does not exist")
            return ArtifactFile(row.path, row.sha256, row.size)

        return run_read(self.engine, work)


_EXPERIMENT_ORDER = ("creation_time DESC", "experiment_id ASC")
"""MLflow's default order of ``search_experiments``."""


def _experiment_condition(clause: Clause, dialect: str) -> sa.ColumnElement[bool]:
    experiments = t.experiments
    if clause.kind == "attribute":
        value = attribute_value(clause)
        return compare(experiments.c[clause.key], clause.op, value, dialect)
    tags = t.experiment_tags.alias("tag_filter")
    has_key = [tags.c.experiment_id == experiments.c.experiment_id, tags.c.key == clause.key]
    if clause.op == "IS NULL":
        return ~sa.exists().where(*has_key)
    if clause.op == "IS NOT NULL":
        return sa.exists().where(*has_key)
    return sa.exists().where(*has_key, compare(tags.c.value, clause.op, clause.value, dialect))


def _metric_ordered_ids(
    conn: Connection, plan: MetricOrderQueries, limit: int, offset: int
) -> list[str]:
    """One page in metric order: runs with a value first, then NaN, then none."""
    ids = list(conn.execute(plan.valued.limit(limit).offset(offset)).scalars())
    if len(ids) == limit:
        return ids
    valued = offset + len(ids) if ids or offset == 0 else conn.execute(plan.valued_count).scalar()
    rest_offset = max(0, offset - int(valued or 0))
    ids += conn.execute(plan.rest.limit(limit - len(ids)).offset(rest_offset)).scalars()
    return ids

"""MLflow 3's logged models in the tracking store: create, finalize, tag, delete, search.

A logged model (``m-<32 hex>``) keeps its files under
``<experiment location>/models/<model_id>/artifacts`` (uploaded through the artifacts API), its
params and tags, and every metric value a run logged with its ``model_id`` (with the dataset it
was measured on). Deleting one is soft, as in MLflow: it is hidden from ``get`` and searches.

    >>> model = store.create_logged_model("1", name="model", source_run_id=run.run_id)
    >>> store.finalize_logged_model(model.model_id, LoggedModelStatus.READY).status
    <LoggedModelStatus.READY: 'READY'>
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shipyard.database.engine import run_read, run_write
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.tracking import tables as t
from shipyard.tracking.entities import (
    LifecycleStage,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    ModelMetric,
    now_ms,
)
from shipyard.tracking.filters import LOGGED_MODEL_FILTERS, Clause, parse_filter
from shipyard.tracking.names import random_run_name
from shipyard.tracking.rows import load_experiment
from shipyard.tracking.search import (
    attribute_value,
    compare,
    decode_page_token,
    encode_page_token,
)
from shipyard.tracking.validation import (
    experiment_number,
    stored_value,
    validate_key,
    validate_param_value,
    validate_run_id,
    validate_tag_value,
)
from shipyard.tracking.writes import dialect_insert

__all__ = [
    "MAX_LOGGED_MODEL_RESULTS",
    "DatasetFilter",
    "LoggedModelOrder",
    "LoggedModels",
    "MetricForModel",
    "insert_model_metrics",
]

MAX_LOGGED_MODEL_RESULTS = 1000
_NAME_FORBIDDEN = ("/", ":", ".", "%", '"', "'")
_MAX_NAME = 500
_CHUNK = 500
_COLUMNS = {
    "name": t.logged_models.c.name,
    "model_id": t.logged_models.c.model_id,
    "model_type": t.logged_models.c.model_type,
    "status": t.logged_models.c.status,
    "source_run_id": t.logged_models.c.source_run_id,
    "experiment_id": t.logged_models.c.experiment_id,
    "creation_timestamp": t.logged_models.c.creation_time,
    "last_updated_timestamp": t.logged_models.c.last_update_time,
}


@dataclass(frozen=True, slots=True)
class DatasetFilter:
    """Only metrics measured on this dataset (any digest when ``digest`` is None)."""

    name: str
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedModelOrder:
    """One ordering term: an attribute (``creation_timestamp``) or ``metrics.<key>``, the
    latest value of which (on ``dataset``, when given) orders the models."""

    field: str
    ascending: bool = True
    dataset: DatasetFilter | None = None


@dataclass(frozen=True, slots=True)
class MetricForModel:
    """A metric a run logged with a ``model_id`` (and the dataset it was measured on)."""

    metric: Metric
    model_id: str
    dataset_name: str | None = None
    dataset_digest: str | None = None


def _validate_name(name: str) -> str:
    if not name or len(name) > _MAX_NAME or any(c in name for c in _NAME_FORBIDDEN):
        forbidden = " ".join(_NAME_FORBIDDEN)
        raise InvalidInputError(
            f"invalid logged model name {name[:80]!r}: give 1 to {_MAX_NAME} characters "
            f"without any of {forbidden}"
        )
    return name


def _not_found(model_id: str) -> NotFoundError:
    return NotFoundError(
        f"logged model {model_id[:80]!r} does not exist: search an experiment's models "
        "(mlflow.search_logged_models)"
    )


def _require_model(conn: Connection, model_id: str) -> Any:
    row = conn.execute(
        sa.select(t.logged_models.c.model_id, t.logged_models.c.experiment_id).where(
            t.logged_models.c.model_id == model_id
        )
    ).first()
    if row is None:
        raise _not_found(model_id)
    return row


def _checked_pairs(
    items: Mapping[str, str] | Sequence[tuple[str, str]], kind: str
) -> dict[str, str]:
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    if kind == "param":
        return {validate_key(k, kind): validate_param_value(k, v) for k, v in pairs}
    return {validate_key(k, kind): validate_tag_value(k, v) for k, v in pairs}


def _insert_params(conn: Connection, model_id: str, params: dict[str, str]) -> None:
    """Add params; one logged before with another value is refused (params are immutable)."""
    if not params:
        return
    table = t.logged_model_params
    rows = [{"model_id": model_id, "key": k, "value": v} for k, v in params.items()]
    conn.execute(dialect_insert(conn, table).on_conflict_do_nothing(), rows)
    stored = conn.execute(
        sa.select(table.c.key, table.c.value).where(
            table.c.model_id == model_id, table.c.key.in_(list(params))
        )
    )
    for key, value in stored:
        if value != params[key]:
            raise InvalidInputError(
                f"param {key!r} of logged model {model_id!r} is already {value!r}; "
                f"{params[key]!r} is refused: params are immutable"
            )


def _upsert_tags(conn: Connection, model_id: str, tags: dict[str, str]) -> None:
    if not tags:
        return
    insert = dialect_insert(conn, t.logged_model_tags)
    statement = insert.on_conflict_do_update(
        index_elements=["model_id", "key"], set_={"value": insert.excluded.value}
    )
    conn.execute(statement, [{"model_id": model_id, "key": k, "value": v} for k, v in tags.items()])


def insert_model_metrics(conn: Connection, run_id: str, items: Sequence[MetricForModel]) -> None:
    """Record metrics logged with a ``model_id`` on their models (inside the caller's batch);
    ``NotFoundError`` for a model that does not exist."""
    if not items:
        return
    wanted = sorted({item.model_id for item in items})
    found = set(
        conn.execute(
            sa.select(t.logged_models.c.model_id).where(t.logged_models.c.model_id.in_(wanted))
        ).scalars()
    )
    missing = [model_id for model_id in wanted if model_id not in found]
    if missing:
        raise _not_found(missing[0])
    rows = []
    for item in items:
        value, is_nan = stored_value(item.metric.value)
        rows.append(
            {
                "model_id": item.model_id,
                "key": item.metric.key,
                "value": value,
                "is_nan": is_nan,
                "timestamp": item.metric.timestamp,
                "step": item.metric.step,
                "run_id": run_id,
                "dataset_name": item.dataset_name,
                "dataset_digest": item.dataset_digest,
            }
        )
    conn.execute(sa.insert(t.logged_model_metrics), rows)


def _model_from_rows(row: Any, params: Any, tags: Any, metrics: Any) -> LoggedModel:
    return LoggedModel(
        model_id=row.model_id,
        experiment_id=str(row.experiment_id),
        name=row.name,
        artifact_location=row.artifact_location,
        creation_time=int(row.creation_time),
        last_update_time=int(row.last_update_time),
        status=LoggedModelStatus(row.status),
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
        status_message=row.status_message,
        model_type=row.model_type,
        source_run_id=row.source_run_id,
        tags=dict(sorted(tags.items())),
        params=dict(sorted(params.items())),
        metrics=tuple(metrics),
    )


def load_logged_models(conn: Connection, model_ids: Sequence[str]) -> list[LoggedModel]:
    """The models ``model_ids`` in that order, in four queries per 500 (missing ones left out)."""
    rows: dict[str, Any] = {}
    params: dict[str, dict[str, str]] = {}
    tags: dict[str, dict[str, str]] = {}
    metrics: dict[str, list[ModelMetric]] = {}
    for start in range(0, len(model_ids), _CHUNK):
        chunk = list(model_ids[start : start + _CHUNK])
        models = t.logged_models
        for row in conn.execute(sa.select(models).where(models.c.model_id.in_(chunk))):
            rows[row.model_id] = row
        for table, into in ((t.logged_model_params, params), (t.logged_model_tags, tags)):
            query = sa.select(table.c.model_id, table.c.key, table.c.value)
            for row in conn.execute(query.where(table.c.model_id.in_(chunk))):
                into.setdefault(row.model_id, {})[row.key] = row.value
        values = t.logged_model_metrics
        query_metrics = sa.select(values).where(values.c.model_id.in_(chunk)).order_by(values.c.id)
        for row in conn.execute(query_metrics):
            value = float("nan") if row.is_nan else float(row.value)
            metrics.setdefault(row.model_id, []).append(
                ModelMetric(
                    row.key,
                    value,
                    int(row.timestamp),
                    int(row.step),
                    row.run_id,
                    row.dataset_name,
                    row.dataset_digest,
                )
            )
    return [
        _model_from_rows(rows[m], params.get(m, {}), tags.get(m, {}), metrics.get(m, []))
        for m in model_ids
        if m in rows
    ]


def _dataset_condition(
    metrics: Any, datasets: Sequence[DatasetFilter]
) -> sa.ColumnElement[bool] | None:
    conditions = []
    for dataset in datasets:
        condition = metrics.c.dataset_name == dataset.name
        if dataset.digest is not None:
            condition = sa.and_(condition, metrics.c.dataset_digest == dataset.digest)
        conditions.append(condition)
    return sa.or_(*conditions) if conditions else None


def _clause_condition(
    number: int, clause: Clause, datasets: Sequence[DatasetFilter], dialect: str
) -> sa.ColumnElement[bool]:
    models = t.logged_models
    if clause.kind == "attribute":
        value = attribute_value(clause)
        return compare(_COLUMNS[clause.key], clause.op, value, dialect)
    if clause.kind == "metric":
        metrics = t.logged_model_metrics.alias(f"f{number}")
        conditions = [
            metrics.c.model_id == models.c.model_id,
            metrics.c.key == clause.key,
            metrics.c.is_nan.is_(False),
            compare(metrics.c.value, clause.op, clause.value, dialect),
        ]
        on_dataset = _dataset_condition(metrics, datasets)
        if on_dataset is not None:
            conditions.append(on_dataset)
        return sa.exists().where(*conditions)
    table = t.logged_model_params if clause.kind == "param" else t.logged_model_tags
    alias = table.alias(f"f{number}")
    return sa.exists().where(
        alias.c.model_id == models.c.model_id,
        alias.c.key == clause.key,
        compare(alias.c.value, clause.op, clause.value, dialect),
    )


def _ordering(order_by: Sequence[LoggedModelOrder]) -> list[Any]:
    models = t.logged_models
    ordering: list[Any] = []
    keys = set()
    for number, term in enumerate(order_by):
        if term.field.startswith("metrics."):
            key = term.field.removeprefix("metrics.").strip("`")
            metrics = t.logged_model_metrics.alias(f"o{number}")
            latest = sa.select(metrics.c.value).where(
                metrics.c.model_id == models.c.model_id, metrics.c.key == key
            )
            if term.dataset is not None:
                on_dataset = _dataset_condition(metrics, [term.dataset])
                if on_dataset is not None:
                    latest = latest.where(on_dataset)
            column: Any = (
                latest.order_by(
                    metrics.c.timestamp.desc(), metrics.c.step.desc(), metrics.c.run_id.asc()
                )
                .limit(1)
                .scalar_subquery()
            )
        elif "." in term.field:
            raise InvalidInputError(
                f"cannot order logged models by {term.field!r}: use an attribute "
                "(creation_timestamp, name, ...) or metrics.<key>"
            )
        else:
            name = LOGGED_MODEL_FILTERS.aliases.get(term.field, term.field)
            if name not in _COLUMNS:
                known = ", ".join(sorted(_COLUMNS))
                raise InvalidInputError(
                    f"cannot order logged models by {term.field!r}: use one of {known} "
                    "or metrics.<key>"
                )
            keys.add(name)
            column = _COLUMNS[name]
        ordering.append(sa.case((column.is_(None), 1), else_=0))
        ordering.append(column.asc() if term.ascending else column.desc())
    if "creation_timestamp" not in keys:
        ordering.append(models.c.creation_time.desc())
    if "model_id" not in keys:
        ordering.append(models.c.model_id.asc())
    return ordering


class LoggedModels:
    """The logged-model half of ``TrackingStore`` (writes and reads)."""

    engine: Engine

    def create_logged_model(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        source_run_id: str | None = None,
        model_type: str | None = None,
        params: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        tags: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    ) -> LoggedModel:
        """A new PENDING model in an active experiment; its files go to ``artifact_location``."""
        number = experiment_number(experiment_id)
        model_name = _validate_name(name) if name is not None else random_run_name()
        if source_run_id is not None:
            validate_run_id(source_run_id)
        if model_type is not None and len(model_type) > _MAX_NAME:
            raise InvalidInputError(f"model_type is over {_MAX_NAME} characters long")
        checked_params = _checked_pairs(params, "param")
        checked_tags = _checked_pairs(tags, "tag")
        model_id = f"m-{uuid.uuid4().hex}"

        def work(conn: Connection) -> None:
            experiment = load_experiment(
                conn, t.experiments.c.experiment_id == number, f"id {experiment_id!r}"
            )
            if experiment.lifecycle_stage is LifecycleStage.DELETED:
                raise InvalidInputError(
                    f"experiment {experiment.name!r} is deleted: restore it or log to another"
                )
            now = now_ms()
            location = experiment.artifact_location.rstrip("/")
            conn.execute(
                sa.insert(t.logged_models).values(
                    model_id=model_id,
                    experiment_id=number,
                    name=model_name,
                    artifact_location=f"{location}/models/{model_id}/artifacts",
                    creation_time=now,
                    last_update_time=now,
                    status=LoggedModelStatus.PENDING.value,
                    status_message=None,
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                    model_type=model_type,
                    source_run_id=source_run_id,
                )
            )
            _insert_params(conn, model_id, checked_params)
            _upsert_tags(conn, model_id, checked_tags)

        run_write(self.engine, work)
        return self.get_logged_model(model_id)

    def get_logged_model(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        """The logged model ``model_id`` with its tags, params and metrics; ``NotFoundError``
        when there is none (or it is deleted, unless ``allow_deleted``)."""
        found = run_read(self.engine, lambda conn: load_logged_models(conn, [model_id]))
        if not found or (found[0].lifecycle_stage is LifecycleStage.DELETED and not allow_deleted):
            raise _not_found(model_id)
        return found[0]

    def log_logged_model_params(
        self, model_id: str, params: Mapping[str, str] | Sequence[tuple[str, str]]
    ) -> None:
        checked = _checked_pairs(params, "param")

        def work(conn: Connection) -> None:
            _require_model(conn, model_id)
            _insert_params(conn, model_id, checked)

        run_write(self.engine, work)

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        """Set the model's status (READY once its files are uploaded, FAILED if they were not)."""

        def work(conn: Connection) -> None:
            _require_model(conn, model_id)
            conn.execute(
                sa.update(t.logged_models)
                .where(t.logged_models.c.model_id == model_id)
                .values(status=status.value, last_update_time=now_ms())
            )

        run_write(self.engine, work)
        return self.get_logged_model(model_id, allow_deleted=True)

    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete: hidden from ``get_logged_model`` and searches, files kept."""

        def work(conn: Connection) -> None:
            _require_model(conn, model_id)
            conn.execute(
                sa.update(t.logged_models)
                .where(t.logged_models.c.model_id == model_id)
                .values(lifecycle_stage=LifecycleStage.DELETED.value, last_update_time=now_ms())
            )

        run_write(self.engine, work)

    def set_logged_model_tags(
        self, model_id: str, tags: Mapping[str, str] | Sequence[tuple[str, str]]
    ) -> None:
        checked = _checked_pairs(tags, "tag")

        def work(conn: Connection) -> None:
            _require_model(conn, model_id)
            _upsert_tags(conn, model_id, checked)

        run_write(self.engine, work)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag; ``NotFoundError`` when the model or the tag does not exist."""

        def work(conn: Connection) -> None:
            _require_model(conn, model_id)
            table = t.logged_model_tags
            removed = conn.execute(
                sa.delete(table).where(table.c.model_id == model_id, table.c.key == key)
            )
            if not removed.rowcount:
                raise NotFoundError(f"logged model {model_id!r} has no tag {key[:250]!r}")

        run_write(self.engine, work)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        *,
        datasets: Sequence[DatasetFilter] = (),
        order_by: Sequence[LoggedModelOrder] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> tuple[list[LoggedModel], str | None]:
        """One page of the active models of ``experiment_ids`` matching the filter (newest
        first unless ``order_by`` says otherwise), and the next page's token."""
        if not 0 < max_results <= MAX_LOGGED_MODEL_RESULTS:
            raise InvalidInputError(
                f"max_results must be between 1 and {MAX_LOGGED_MODEL_RESULTS}, got {max_results}"
            )
        ids = [experiment_number(experiment_id) for experiment_id in experiment_ids]
        clauses = parse_filter(filter_string, LOGGED_MODEL_FILTERS)
        ordering = _ordering(order_by)
        offset = decode_page_token(page_token)
        models = t.logged_models

        def work(conn: Connection) -> tuple[list[LoggedModel], str | None]:
            dialect = conn.dialect.name
            where: list[sa.ColumnElement[bool]] = [
                models.c.experiment_id.in_(ids),
                models.c.lifecycle_stage == LifecycleStage.ACTIVE.value,
            ]
            where += [
                _clause_condition(n, clause, datasets, dialect) for n, clause in enumerate(clauses)
            ]
            if datasets and not any(clause.kind == "metric" for clause in clauses):
                metrics = t.logged_model_metrics.alias("d")
                on_dataset = _dataset_condition(metrics, datasets)
                if on_dataset is not None:
                    where.append(
                        sa.exists().where(metrics.c.model_id == models.c.model_id, on_dataset)
                    )
            query = (
                sa.select(models.c.model_id)
                .where(*where)
                .order_by(*ordering)
                .limit(max_results + 1)
                .offset(offset)
            )
            found = list(conn.execute(query).scalars())
            token = None
            if len(found) > max_results:
                found = found[:max_results]
                token = encode_page_token(offset + max_results)
            return load_logged_models(conn, found), token

        return run_read(self.engine, work)

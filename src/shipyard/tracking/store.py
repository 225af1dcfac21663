"""The tracking store: experiments, runs, params, tags, metrics and artifact files in one database.

The same database as the registry (SQLite in WAL mode by default, PostgreSQL for a team), written
through ``run_write`` so that concurrent writers from many processes queue and retry instead of
losing anything. A batch is one transaction: a param logged again with another value, or any bad
entry, rolls the whole batch back.

    >>> store = TrackingStore.open(settings.registry.db_url)
    >>> run = store.create_run("0", user_id="ana", run_name=None, tags={})
    >>> store.log_batch(run.run_id, metrics=[Metric("auc", 0.91, now_ms(), 0)])
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shipyard.database import open_database
from shipyard.database.engine import run_read, run_write
from shipyard.errors import ConflictError, InvalidInputError, NotFoundError
from shipyard.tracking import tables as t
from shipyard.tracking.entities import (
    Experiment,
    LifecycleStage,
    Metric,
    Run,
    RunStatus,
    now_ms,
)
from shipyard.tracking.evaluation_datasets import EvaluationDatasets
from shipyard.tracking.inputs import RunInputs
from shipyard.tracking.logged_models import LoggedModels, MetricForModel, insert_model_metrics
from shipyard.tracking.names import random_run_name
from shipyard.tracking.queries import TrackingQueries
from shipyard.tracking.rows import load_experiment, load_runs, require_run_row
from shipyard.tracking.validation import (
    experiment_number,
    stored_value,
    validate_batch_sizes,
    validate_experiment_name,
    validate_key,
    validate_param_value,
    validate_run_name,
    validate_tag_value,
    validate_user_id,
)
from shipyard.tracking.writes import (
    METRIC_COLUMNS,
    dialect_insert,
    history_insert,
    insert_params,
    upsert_latest,
    upsert_tags,
)

__all__ = ["TrackingStore"]


class TrackingStore(LoggedModels, RunInputs, EvaluationDatasets, TrackingQueries):
    """Writes (here) and reads (``TrackingQueries``) of tracking data; MLflow 3's logged models
    (``LoggedModels``), run inputs and outputs (``RunInputs``) and GenAI evaluation datasets
    (``EvaluationDatasets``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, fast_commits: bool = False) -> TrackingStore:
        """Connect to ``url`` and bring its schema up to date.

        ``fast_commits`` (what ``Tracker`` uses) sets SQLite's ``synchronous = NORMAL`` on this
        store's own connections: in WAL mode a commit then waits for no fsync; the database stays
        consistent through any crash, and a power cut can lose only the last commits. The
        registry's connections keep full sync. No effect on PostgreSQL.
        """
        return cls(open_database(url, fast_commits=fast_commits))

    def close(self) -> None:
        self.engine.dispose()

    # -- experiments ---------------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Create experiment ``name``; ``ConflictError`` when the name is taken."""
        validate_experiment_name(name)
        checked = {
            validate_key(k, "tag"): validate_tag_value(k, v) for k, v in (tags or {}).items()
        }

        def work(conn: Connection) -> str:
            found = conn.execute(
                sa.select(t.experiments.c.lifecycle_stage).where(t.experiments.c.name == name)
            ).first()
            if found is not None:
                hint = "restore or rename it" if found[0] == "deleted" else "use it or pick another"
                raise ConflictError(f"experiment {name!r} already exists ({found[0]}): {hint}")
            now = now_ms()
            new_id = conn.execute(
                sa.insert(t.experiments)
                .values(
                    name=name,
                    artifact_location=artifact_location or "",
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                    creation_time=now,
                    last_update_time=now,
                )
                .returning(t.experiments.c.experiment_id)
            ).scalar_one()
            if not artifact_location:
                conn.execute(
                    sa.update(t.experiments)
                    .where(t.experiments.c.experiment_id == new_id)
                    .values(artifact_location=f"mlflow-artifacts:/{new_id}")
                )
            if checked:
                rows = [{"experiment_id": new_id, "key": k, "value": v} for k, v in checked.items()]
                conn.execute(sa.insert(t.experiment_tags), rows)
            return str(new_id)

        return run_write(self.engine, work)

    def delete_experiment(self, experiment_id: str) -> Experiment:
        """Soft-delete an experiment and its runs (hidden, kept)."""
        number = experiment_number(experiment_id)
        if number == 0:
            raise InvalidInputError("the Default experiment (id 0) cannot be deleted")

        def work(conn: Connection) -> Experiment:
            where = t.experiments.c.experiment_id == number
            experiment = load_experiment(conn, where, f"id {experiment_id!r}")
            deleted = LifecycleStage.DELETED.value
            conn.execute(
                sa.update(t.experiments)
                .where(where)
                .values(lifecycle_stage=deleted, last_update_time=now_ms())
            )
            conn.execute(
                sa.update(t.runs)
                .where(t.runs.c.experiment_id == number)
                .values(lifecycle_stage=deleted)
            )
            return experiment

        return run_write(self.engine, work)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an active experiment; ``ConflictError`` when the name is taken."""
        number = experiment_number(experiment_id)
        validate_experiment_name(new_name)

        def work(conn: Connection) -> None:
            where = t.experiments.c.experiment_id == number
            experiment = load_experiment(conn, where, f"id {experiment_id!r}")
            if experiment.lifecycle_stage is not LifecycleStage.ACTIVE:
                raise InvalidInputError(
                    f"experiment {experiment.name!r} is deleted: restore it before renaming it"
                )
            taken = conn.execute(
                sa.select(t.experiments.c.experiment_id).where(
                    t.experiments.c.name == new_name, t.experiments.c.experiment_id != number
                )
            ).first()
            if taken is not None:
                raise ConflictError(f"experiment {new_name!r} already exists: pick another name")
            conn.execute(
                sa.update(t.experiments)
                .where(where)
                .values(name=new_name, last_update_time=now_ms())
            )

        run_write(self.engine, work)

    def restore_experiment(self, experiment_id: str) -> None:
        """Bring a deleted experiment and its runs back (MLflow: ``NotFoundError`` unless it is
        deleted)."""
        number = experiment_number(experiment_id)

        def work(conn: Connection) -> None:
            where = t.experiments.c.experiment_id == number
            experiment = load_experiment(conn, where, f"id {experiment_id!r}")
            if experiment.lifecycle_stage is not LifecycleStage.DELETED:
                raise NotFoundError(
                    f"no deleted experiment has id {experiment_id!r}: {experiment.name!r} is active"
                )
            active = LifecycleStage.ACTIVE.value
            conn.execute(
                sa.update(t.experiments)
                .where(where)
                .values(lifecycle_stage=active, last_update_time=now_ms())
            )
            conn.execute(
                sa.update(t.runs)
                .where(t.runs.c.experiment_id == number)
                .values(lifecycle_stage=active)
            )

        run_write(self.engine, work)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag of an active experiment; ``NotFoundError`` when it has no such tag."""
        number = experiment_number(experiment_id)

        def work(conn: Connection) -> None:
            experiment = load_experiment(
                conn, t.experiments.c.experiment_id == number, f"id {experiment_id!r}"
            )
            if experiment.lifecycle_stage is not LifecycleStage.ACTIVE:
                raise InvalidInputError(f"experiment {experiment.name!r} is deleted: restore it")
            tags = t.experiment_tags
            removed = conn.execute(
                sa.delete(tags).where(tags.c.experiment_id == number, tags.c.key == key)
            )
            if not removed.rowcount:
                raise NotFoundError(f"experiment {experiment.name!r} has no tag {key[:250]!r}")

        run_write(self.engine, work)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        number = experiment_number(experiment_id)
        value = validate_tag_value(validate_key(key, "tag"), value)

        def work(conn: Connection) -> None:
            load_experiment(conn, t.experiments.c.experiment_id == number, repr(experiment_id))
            insert = dialect_insert(conn, t.experiment_tags).values(
                experiment_id=number, key=key, value=value
            )
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["experiment_id", "key"], set_={"value": value}
                )
            )

        run_write(self.engine, work)

    # -- runs ----------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str,
        run_name: str | None = None,
        start_time: int | None = None,
        tags: Mapping[str, str] | None = None,
        heartbeat: bool = False,
        environment: Mapping[str, Any] | None = None,
    ) -> Run:
        """Start a run in ``experiment_id``; ``heartbeat`` runs are reaped when they go quiet."""
        number = experiment_number(experiment_id)
        tags = dict(tags or {})
        name = validate_run_name(run_name or tags.get("mlflow.runName") or random_run_name())
        tags["mlflow.runName"] = name
        checked = {validate_key(k, "tag"): validate_tag_value(k, v) for k, v in tags.items()}
        run_id = uuid.uuid4().hex
        started = start_time or now_ms()

        def work(conn: Connection) -> None:
            experiment = load_experiment(
                conn, t.experiments.c.experiment_id == number, f"id {experiment_id!r}"
            )
            if experiment.lifecycle_stage is LifecycleStage.DELETED:
                raise InvalidInputError(
                    f"experiment {experiment.name!r} is deleted: restore it or log to another"
                )
            location = experiment.artifact_location.rstrip("/")
            conn.execute(
                sa.insert(t.runs).values(
                    run_id=run_id,
                    experiment_id=number,
                    name=name,
                    user_id=validate_user_id(user_id),
                    status=RunStatus.RUNNING.value,
                    start_time=started,
                    end_time=None,
                    heartbeat_time=now_ms() if heartbeat else None,
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                    artifact_uri=f"{location}/{run_id}/artifacts",
                )
            )
            rows = [{"run_id": run_id, "key": k, "value": v} for k, v in checked.items()]
            conn.execute(sa.insert(t.run_tags), rows)
            if environment is not None:
                conn.execute(
                    sa.insert(t.run_environment).values(run_id=run_id, environment=environment)
                )

        run_write(self.engine, work)
        return self.get_run(run_id)

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Change a run's status, end time or name (ending a run stops its heartbeat)."""
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = status.value
            if status.is_terminal:
                values["end_time"] = end_time or now_ms()
                values["heartbeat_time"] = None
        if end_time is not None:
            values["end_time"] = end_time
        if run_name:
            values["name"] = validate_run_name(run_name)

        def work(conn: Connection) -> None:
            require_run_row(conn, run_id)
            if values:
                conn.execute(sa.update(t.runs).where(t.runs.c.run_id == run_id).values(**values))
            if run_name:
                upsert_tags(conn, run_id, {"mlflow.runName": run_name})

        run_write(self.engine, work)
        return self.get_run(run_id)

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run: hidden from searches, kept with everything it logged."""
        self._set_stage(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_stage(run_id, LifecycleStage.ACTIVE)

    def _set_stage(self, run_id: str, stage: LifecycleStage) -> None:
        def work(conn: Connection) -> None:
            require_run_row(conn, run_id)
            update = sa.update(t.runs).where(t.runs.c.run_id == run_id)
            conn.execute(update.values(lifecycle_stage=stage.value))

        run_write(self.engine, work)

    def delete_run_tag(self, run_id: str, key: str) -> None:
        """Remove a tag of an active run; ``NotFoundError`` when it has no such tag."""

        def work(conn: Connection) -> None:
            found = require_run_row(conn, run_id)
            if found.lifecycle_stage != LifecycleStage.ACTIVE.value:
                raise InvalidInputError(f"run {run_id!r} is deleted: restore it to change it")
            tags = t.run_tags
            removed = conn.execute(
                sa.delete(tags).where(tags.c.run_id == run_id, tags.c.key == key)
            )
            if not removed.rowcount:
                raise NotFoundError(f"run {run_id!r} has no tag {key[:250]!r}")

        run_write(self.engine, work)

    def heartbeat(self, run_id: str) -> None:
        """Record that the run's process is alive (stale detection reads this)."""

        def work(conn: Connection) -> None:
            conn.execute(
                sa.update(t.runs)
                .where(t.runs.c.run_id == run_id, t.runs.c.status == RunStatus.RUNNING.value)
                .values(heartbeat_time=now_ms())
            )

        run_write(self.engine, work)

    def reap_stale_runs(self, timeout_ms: int, now: int | None = None) -> list[str]:
        """Mark KILLED every running run whose heartbeat is older than ``timeout_ms``."""
        cutoff = (now or now_ms()) - timeout_ms
        stale = (
            t.runs.c.status == RunStatus.RUNNING.value,
            t.runs.c.heartbeat_time.is_not(None),
            t.runs.c.heartbeat_time < cutoff,
        )
        if not run_read(
            self.engine, lambda conn: conn.execute(sa.select(t.runs.c.run_id).where(*stale)).first()
        ):
            return []

        def work(conn: Connection) -> list[str]:
            rows = conn.execute(sa.select(t.runs.c.run_id, t.runs.c.heartbeat_time).where(*stale))
            reaped = []
            for row in rows.all():
                conn.execute(
                    sa.update(t.runs)
                    .where(t.runs.c.run_id == row.run_id)
                    .values(
                        status=RunStatus.KILLED.value,
                        end_time=row.heartbeat_time,
                        heartbeat_time=None,
                    )
                )
                reason = f"stale: no heartbeat for over {timeout_ms // 1000} s"
                upsert_tags(conn, row.run_id, {"shipyard.end_reason": reason})
                reaped.append(row.run_id)
            return reaped

        return run_write(self.engine, work)

    # -- logging -------------------------------------------------------------------------------

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        tags: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        model_metrics: Sequence[MetricForModel] = (),
    ) -> None:
        """Log metrics, params and tags in one transaction: all of them or, on error, none.
        ``model_metrics`` are metrics of ``metrics`` logged with a ``model_id``: they are kept on
        their logged models too."""
        param_items = list(params.items()) if isinstance(params, Mapping) else list(params)
        tag_items = list(tags.items()) if isinstance(tags, Mapping) else list(tags)
        validate_batch_sizes(metrics, param_items, tag_items)
        checked_params: dict[str, str] = {}
        for key, value in param_items:
            text = validate_param_value(validate_key(key, "param"), value)
            if checked_params.setdefault(key, text) != text:
                raise InvalidInputError(
                    f"param {key!r} appears twice in the batch with different values "
                    f"({checked_params[key]!r} and {text!r}): params are immutable"
                )
        checked_tags = {validate_key(k, "tag"): validate_tag_value(k, v) for k, v in tag_items}
        history: list[tuple[str, str, float, bool, int, int]] = []
        latest: dict[str, tuple[str, str, float, bool, int, int]] = {}
        for metric in metrics:
            number, is_nan = stored_value(metric.value)
            row = (run_id, metric.key, number, is_nan, metric.timestamp, metric.step)
            history.append(row)
            best = latest.get(metric.key)
            if best is None or (row[5], row[4], row[2]) >= (best[5], best[4], best[2]):
                latest[metric.key] = row

        def work(conn: Connection) -> None:
            found = require_run_row(conn, run_id)
            if found.lifecycle_stage != LifecycleStage.ACTIVE.value:
                raise InvalidInputError(
                    f"run {run_id!r} is deleted: restore it (`shipyard runs restore`) to log to it"
                )
            if checked_params:
                insert_params(conn, run_id, checked_params)
            if checked_tags:
                upsert_tags(conn, run_id, checked_tags)
            insert_model_metrics(conn, run_id, model_metrics)
            if history:
                # Driver-level executemany: SQLAlchemy's per-row parameter processing cost
                # more than the insert itself for a 1000-value batch.
                conn.exec_driver_sql(history_insert(conn), history)
                upsert_latest(
                    conn, [dict(zip(METRIC_COLUMNS, r, strict=True)) for r in latest.values()]
                )

        run_write(self.engine, work)

    # -- lineage and artifacts -----------------------------------------------------------------

    def link_model(
        self, run_id: str, model_name: str, version: int, dataset_digest: str | None
    ) -> None:
        """Record that ``model_name`` version ``version`` was registered from ``run_id``."""

        def work(conn: Connection) -> None:
            require_run_row(conn, run_id)
            insert = dialect_insert(conn, t.run_models).values(
                run_id=run_id,
                model_name=model_name,
                version=version,
                dataset_digest=dataset_digest,
                created_at=now_ms(),
            )
            conn.execute(insert.on_conflict_do_nothing())

        run_write(self.engine, work)

    def add_artifact_file(self, path: str, run_id: str | None, sha256: str, size: int) -> None:
        """Point artifact ``path`` at blob ``sha256`` (an upload to the same path replaces it)."""
        self.add_artifact_files(run_id, [(path, sha256, size)])

    def add_artifact_files(self, run_id: str | None, files: Sequence[tuple[str, str, int]]) -> None:
        """Point each ``(path, sha256, size)`` at its blob, in one transaction."""

        def work(conn: Connection) -> None:
            if run_id is not None:
                require_run_row(conn, run_id)
            for path, sha256, size in files:
                insert = dialect_insert(conn, t.artifact_files)
                values = {"run_id": run_id, "sha256": sha256, "size": size, "created_at": now_ms()}
                conn.execute(
                    insert.values(path=path, **values).on_conflict_do_update(
                        index_elements=["path"], set_=values
                    )
                )

        if files:
            run_write(self.engine, work)

    def delete_artifact_files(self, path: str) -> int:
        """Forget artifact ``path`` (a file, or every file under a folder); returns how many."""
        files = t.artifact_files

        def work(conn: Connection) -> int:
            below = sa.func.substr(files.c.path, 1, len(path) + 1) == path + "/"
            result = conn.execute(sa.delete(files).where(sa.or_(files.c.path == path, below)))
            return int(result.rowcount)

        return run_write(self.engine, work)

    def get_run(self, run_id: str) -> Run:
        """The run ``run_id`` with its params, tags and latest metrics."""
        found = run_read(self.engine, lambda conn: load_runs(conn, [run_id]))
        if not found:
            raise NotFoundError(
                f"run {run_id!r} does not exist: list runs with `shipyard runs list`"
            )
        return found[0]

"""A run's inputs and outputs: the datasets it used (autolog logs its training and evaluation
sets) and the logged models it took or produced.

A dataset is stored once per experiment and ``(name, digest)``; each run that used it gets an
input row with the input's tags (``mlflow.data.context``: ``train``, ``eval``). The same dataset
logged again to the same run is kept once, as MLflow does.

    >>> store.log_inputs(run_id, [DatasetInput(Dataset("iris", "1a2b", "code", "{}"))])
    >>> store.log_outputs(run_id, [ModelOutput(model.model_id, step=0)])
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shipyard.database.engine import run_write
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.tracking import tables as t
from shipyard.tracking.entities import (
    Dataset,
    DatasetInput,
    LifecycleStage,
    ModelOutput,
    now_ms,
)
from shipyard.tracking.writes import dialect_insert

__all__ = ["MAX_DATASETS_PER_BATCH", "RunInputs", "RunLineage", "load_lineage"]

MAX_DATASETS_PER_BATCH = 1000
_LIMITS = {  # MLflow's: a name of 500, a digest of 36, a source of 64 KiB, a schema of 1 MiB
    "name": 500,
    "digest": 36,
    "source_type": 36,
    "source": 65535,
    "schema": 1048575,
    "profile": 16777215,
}
_MAX_INPUT_TAG_KEY, _MAX_INPUT_TAG_VALUE = 255, 500
INPUT, OUTPUT = "input", "output"

RunLineage = tuple[tuple[DatasetInput, ...], tuple[str, ...], tuple[ModelOutput, ...]]
"""A run's dataset inputs, model inputs (ids) and model outputs."""


def _validate_dataset_input(item: DatasetInput) -> DatasetInput:
    dataset = item.dataset
    for name, limit in _LIMITS.items():
        value = getattr(dataset, name)
        if value is None and name in ("schema", "profile"):
            continue
        if not isinstance(value, str) or (not value and name in ("name", "digest")):
            raise InvalidInputError(f"a dataset needs a string {name}, got {value!r}")
        if len(value) > limit:
            raise InvalidInputError(
                f"dataset {dataset.name[:80]!r} has a {name} of {len(value)} characters: "
                f"at most {limit} are allowed"
            )
    for key, value in item.tags.items():
        if not key or len(key) > _MAX_INPUT_TAG_KEY or len(value) > _MAX_INPUT_TAG_VALUE:
            raise InvalidInputError(
                f"input tag {key[:80]!r} of dataset {dataset.name[:80]!r}: keys hold 1 to "
                f"{_MAX_INPUT_TAG_KEY} characters, values at most {_MAX_INPUT_TAG_VALUE}"
            )
    return item


def _require_active_run(conn: Connection, run_id: str) -> Any:
    """The run's row (``rows.require_run_row``'s query: ``rows`` imports this module)."""
    row = conn.execute(
        sa.select(t.runs.c.experiment_id, t.runs.c.lifecycle_stage).where(t.runs.c.run_id == run_id)
    ).first()
    if row is None:
        raise NotFoundError(f"run {run_id!r} does not exist: list runs with `shipyard runs list`")
    if row.lifecycle_stage != LifecycleStage.ACTIVE.value:
        raise InvalidInputError(f"run {run_id!r} is deleted: restore it to log to it")
    return row


def _dataset_ids(conn: Connection, experiment_id: int, datasets: Sequence[Dataset]) -> list[str]:
    """The id of each dataset in the experiment, stored first when new."""
    table = t.datasets
    ids = []
    for dataset in datasets:
        values = {
            "dataset_id": uuid.uuid4().hex,
            "experiment_id": experiment_id,
            "name": dataset.name,
            "digest": dataset.digest,
            "source_type": dataset.source_type,
            "source": dataset.source,
            "schema": dataset.schema,
            "profile": dataset.profile,
        }
        conn.execute(dialect_insert(conn, table).values(**values).on_conflict_do_nothing())
        ids.append(
            conn.execute(
                sa.select(table.c.dataset_id).where(
                    table.c.experiment_id == experiment_id,
                    table.c.name == dataset.name,
                    table.c.digest == dataset.digest,
                )
            ).scalar_one()
        )
    return ids


class RunInputs:
    """The inputs-and-outputs half of ``TrackingStore``."""

    engine: Engine

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        model_ids: Sequence[str] = (),
    ) -> None:
        """Record datasets (and logged models) the run used, in one transaction."""
        if len(datasets) > MAX_DATASETS_PER_BATCH:
            raise InvalidInputError(
                f"{len(datasets)} datasets in one call: at most {MAX_DATASETS_PER_BATCH}"
            )
        unique: dict[tuple[str, str], DatasetInput] = {}
        for item in datasets:
            _validate_dataset_input(item)
            unique.setdefault((item.dataset.name, item.dataset.digest), item)

        def work(conn: Connection) -> None:
            row = _require_active_run(conn, run_id)
            items = list(unique.values())
            ids = _dataset_ids(conn, row.experiment_id, [item.dataset for item in items])
            now = now_ms()
            for dataset_id, item in zip(ids, items, strict=True):
                conn.execute(
                    dialect_insert(conn, t.run_datasets)
                    .values(run_id=run_id, dataset_id=dataset_id, tags=item.tags, created_at=now)
                    .on_conflict_do_nothing()
                )
            _link(conn, run_id, INPUT, [(model_id, 0) for model_id in model_ids])

        run_write(self.engine, work)

    def log_outputs(self, run_id: str, outputs: Sequence[ModelOutput]) -> None:
        """Record logged models the run produced (each at a step)."""

        def work(conn: Connection) -> None:
            _require_active_run(conn, run_id)
            _link(conn, run_id, OUTPUT, [(output.model_id, output.step) for output in outputs])

        run_write(self.engine, work)


def _link(conn: Connection, run_id: str, direction: str, models: list[tuple[str, int]]) -> None:
    if not models:
        return
    rows = [
        {"run_id": run_id, "direction": direction, "model_id": model_id, "step": step}
        for model_id, step in dict.fromkeys(models)
    ]
    conn.execute(dialect_insert(conn, t.run_model_links).on_conflict_do_nothing(), rows)


def load_lineage(conn: Connection, run_ids: Sequence[str]) -> dict[str, RunLineage]:
    """The inputs and outputs of each run in ``run_ids`` (a chunk of a page), in two queries."""
    datasets: dict[str, list[DatasetInput]] = {}
    inputs: dict[str, list[str]] = {}
    outputs: dict[str, list[ModelOutput]] = {}
    query = (
        sa.select(t.run_datasets.c.run_id, t.run_datasets.c.tags, t.datasets)
        .join(t.datasets, t.datasets.c.dataset_id == t.run_datasets.c.dataset_id)
        .where(t.run_datasets.c.run_id.in_(list(run_ids)))
        .order_by(t.run_datasets.c.created_at, t.datasets.c.name)
    )
    for row in conn.execute(query):
        dataset = Dataset(
            row.name, row.digest, row.source_type, row.source, row.schema, row.profile
        )
        datasets.setdefault(row.run_id, []).append(DatasetInput(dataset, dict(row.tags or {})))
    links = t.run_model_links
    query_links = (
        sa.select(links)
        .where(links.c.run_id.in_(list(run_ids)))
        .order_by(links.c.step, links.c.model_id)
    )
    for row in conn.execute(query_links):
        if row.direction == INPUT:
            inputs.setdefault(row.run_id, []).append(row.model_id)
        else:
            outputs.setdefault(row.run_id, []).append(ModelOutput(row.model_id, int(row.step)))
    return {
        run_id: (
            tuple(datasets.get(run_id, ())),
            tuple(inputs.get(run_id, ())),
            tuple(outputs.get(run_id, ())),
        )
        for run_id in run_ids
    }

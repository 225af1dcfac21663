"""MLflow's GenAI evaluation datasets in the tracking store: datasets of records to evaluate on.

A dataset (``d-<32 hex>``) has a name, tags, the experiments it belongs to and records. A record
(``dr-<32 hex>``) holds ``inputs``, ``outputs``, ``expectations``, ``tags`` and a ``source``;
records are kept once per distinct ``inputs`` (sha256 of their sorted JSON), so upserting inputs
already there merges: outputs are replaced, expectations and tags updated key by key. The
dataset's ``schema`` (the type of each field seen) and ``profile`` (``num_records``) follow its
records, and its ``digest`` changes with every update. Semantics are those of MLflow's SQL store:
deleting an unknown dataset or tag does nothing, tags name who did it (``mlflow.user``).

    >>> dataset = store.create_evaluation_dataset("qa", {"team": "search"}, ["0"])
    >>> store.upsert_evaluation_records(dataset.dataset_id, [{"inputs": {"q": "2+2?"}}])
    (1, 0)
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shipyard.database.engine import run_read, run_write
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.tracking import tables as t
from shipyard.tracking.entities import now_ms
from shipyard.tracking.validation import experiment_number

__all__ = [
    "MAX_EVALUATION_RESULTS",
    "EvaluationDataset",
    "EvaluationDatasets",
    "EvaluationRecord",
]

MAX_EVALUATION_RESULTS = 1000
MAX_RECORDS_PER_UPSERT = 1000
USER_TAG = "mlflow.user"
_MAX_NAME, _MAX_TAG_KEY = 255, 255
_KNOWN_RECORD_FIELDS = frozenset(
    {"inputs", "outputs", "expectations", "tags", "source", "source_id", "source_type"}
    | {"dataset_record_id", "dataset_id", "created_time", "last_update_time"}
    | {"created_by", "last_updated_by"}
)
"""What a record may hold: its fields, and those of a record read back (set by the store)."""


@dataclass(frozen=True, slots=True)
class EvaluationDataset:
    """A dataset's metadata; ``experiment_ids`` only where the call already knows them."""

    dataset_id: str
    name: str
    digest: str
    created_time: int
    last_update_time: int
    tags: Mapping[str, str]
    schema: str | None = None
    profile: str | None = None
    created_by: str | None = None
    last_updated_by: str | None = None
    experiment_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """One record of a dataset (its JSON fields as stored)."""

    record_id: str
    dataset_id: str
    inputs: Mapping[str, Any]
    outputs: Any
    expectations: Mapping[str, Any] | None
    tags: Mapping[str, str] | None
    source: Mapping[str, Any] | None
    source_id: str | None
    source_type: str | None
    created_time: int
    last_update_time: int
    created_by: str | None
    last_updated_by: str | None


def _digest(name: str, updated: int) -> str:
    return hashlib.sha256(f"{name}:{updated}".encode()).hexdigest()[:8]


def _input_hash(inputs: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _field_type(value: Any) -> str:
    kinds = ((bool, "boolean"), (int, "integer"), (float, "float"), (str, "string"))
    if value is None:
        return "null"
    for kind, name in (*kinds, (list, "array"), (dict, "object")):
        if isinstance(value, kind):
            return name
    return "unknown"  # pragma: no cover - JSON holds no other types


def _schema(existing: str | None, records: Sequence[Mapping[str, Any]]) -> str:
    """The dataset's schema with the fields of ``records`` added (types of the first seen)."""
    schema = json.loads(existing) if existing else {}
    schema = {"inputs": {}, "outputs": {}, "expectations": {}, "version": "1.0", **schema}
    for record in records:
        for field in ("inputs", "expectations"):
            for key, value in (record.get(field) or {}).items():
                schema[field].setdefault(key, _field_type(value))
        outputs = record.get("outputs")
        if isinstance(outputs, dict) and isinstance(schema["outputs"], dict):
            for key, value in outputs.items():
                schema["outputs"].setdefault(key, _field_type(value))
        elif outputs is not None and not schema["outputs"]:
            schema["outputs"] = _field_type(outputs)
    return json.dumps(schema)


def _checked_record(record: object) -> dict[str, Any]:
    if not isinstance(record, dict) or not isinstance(record.get("inputs", {}), dict):
        raise InvalidInputError("each record must be an object with an 'inputs' object")
    for field in ("expectations", "tags", "source"):
        if record.get(field) is not None and not isinstance(record[field], dict):
            raise InvalidInputError(f"a record's {field!r} must be an object")
    unknown = set(record) - _KNOWN_RECORD_FIELDS
    if unknown:
        raise InvalidInputError(f"unknown record fields {sorted(unknown)}")
    return record


def _checked_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    checked = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not key or len(key) > _MAX_TAG_KEY:
            raise InvalidInputError(f"a dataset tag key is 1 to {_MAX_TAG_KEY} characters")
        if value is not None:
            checked[key] = str(value)
    return checked


def _dataset(row: Any, tags: Mapping[str, str]) -> EvaluationDataset:
    return EvaluationDataset(
        dataset_id=row.dataset_id,
        name=row.name,
        digest=row.digest,
        created_time=row.created_time,
        last_update_time=row.last_update_time,
        tags=dict(tags),
        schema=row.schema,
        profile=row.profile,
        created_by=row.created_by,
        last_updated_by=row.last_updated_by,
    )


def _record(row: Any) -> EvaluationRecord:
    return EvaluationRecord(
        record_id=row.record_id,
        dataset_id=row.dataset_id,
        inputs=row.inputs,
        outputs=row.outputs,
        expectations=row.expectations,
        tags=row.tags,
        source=row.source,
        source_id=row.source_id,
        source_type=row.source_type,
        created_time=row.created_time,
        last_update_time=row.last_update_time,
        created_by=row.created_by,
        last_updated_by=row.last_updated_by,
    )


def _load(conn: Connection, dataset_ids: Sequence[str]) -> list[EvaluationDataset]:
    d, tags = t.evaluation_datasets, t.evaluation_dataset_tags
    rows = conn.execute(sa.select(d).where(d.c.dataset_id.in_(dataset_ids))).all()
    found: dict[str, dict[str, str]] = {row.dataset_id: {} for row in rows}
    for tag in conn.execute(sa.select(tags).where(tags.c.dataset_id.in_(list(found)))):
        found[tag.dataset_id][tag.key] = tag.value
    return [_dataset(row, found[row.dataset_id]) for row in rows]


def _require(conn: Connection, dataset_id: str) -> EvaluationDataset:
    found = _load(conn, [dataset_id])
    if not found:
        raise NotFoundError(f"Evaluation dataset with id '{dataset_id}' not found")
    return found[0]


def _profile(conn: Connection, dataset_id: str) -> str | None:
    """MLflow's profile of a dataset: ``{"num_records": N}``, none while it has no records."""
    r = t.evaluation_dataset_records
    count = conn.execute(
        sa.select(sa.func.count()).select_from(r).where(r.c.dataset_id == dataset_id)
    ).scalar_one()
    return json.dumps({"num_records": count}) if count else None


def _touch(conn: Connection, dataset: EvaluationDataset, **values: Any) -> None:
    updated = now_ms()
    d = t.evaluation_datasets
    conn.execute(
        sa.update(d)
        .where(d.c.dataset_id == dataset.dataset_id)
        .values(last_update_time=updated, digest=_digest(dataset.name, updated), **values)
    )


class EvaluationDatasets:
    """The evaluation-dataset half of ``TrackingStore``."""

    engine: Engine

    def create_evaluation_dataset(
        self, name: str, tags: Mapping[str, Any], experiment_ids: Sequence[str]
    ) -> EvaluationDataset:
        if not name or len(name) > _MAX_NAME:
            raise InvalidInputError(f"a dataset name is 1 to {_MAX_NAME} characters")
        checked = _checked_tags(tags)
        created = now_ms()
        user = checked.get(USER_TAG)
        dataset = EvaluationDataset(
            dataset_id=f"d-{uuid.uuid4().hex}",
            name=name,
            digest=_digest(name, created),
            created_time=created,
            last_update_time=created,
            tags=checked,
            created_by=user,
            last_updated_by=user,
            experiment_ids=tuple(dict.fromkeys(str(e) for e in experiment_ids)),
        )

        def work(conn: Connection) -> None:
            table = t.evaluation_datasets
            columns = {c.name: getattr(dataset, c.name) for c in table.c}
            conn.execute(sa.insert(table).values(columns))
            if checked:
                rows = [
                    {"dataset_id": dataset.dataset_id, "key": key, "value": value}
                    for key, value in checked.items()
                ]
                conn.execute(sa.insert(t.evaluation_dataset_tags), rows)
            self._associate(conn, dataset.dataset_id, dataset.experiment_ids or ())

        run_write(self.engine, work)
        return dataset

    def get_evaluation_dataset(self, dataset_id: str) -> EvaluationDataset:
        return run_read(self.engine, lambda conn: _require(conn, dataset_id))

    def delete_evaluation_dataset(self, dataset_id: str) -> None:
        """Delete a dataset and its records; an unknown id is not an error (as in MLflow)."""
        d = t.evaluation_datasets

        def work(conn: Connection) -> None:
            for table in (
                t.evaluation_dataset_records,
                t.evaluation_dataset_tags,
                t.evaluation_dataset_experiments,
            ):
                conn.execute(sa.delete(table).where(table.c.dataset_id == dataset_id))
            conn.execute(sa.delete(d).where(d.c.dataset_id == dataset_id))

        run_write(self.engine, work)

    def evaluation_datasets(self, experiment_ids: Sequence[str]) -> list[EvaluationDataset]:
        """Every dataset (of any of ``experiment_ids`` when given), in no particular order."""
        d, e = t.evaluation_datasets, t.evaluation_dataset_experiments

        def work(conn: Connection) -> list[EvaluationDataset]:
            query = sa.select(d.c.dataset_id)
            if experiment_ids:
                query = query.where(
                    d.c.dataset_id.in_(
                        sa.select(e.c.dataset_id).where(
                            e.c.experiment_id.in_([str(i) for i in experiment_ids])
                        )
                    )
                )
            return _load(conn, [row.dataset_id for row in conn.execute(query)])

        return run_read(self.engine, work)

    def set_evaluation_dataset_tags(self, dataset_id: str, tags: Mapping[str, Any]) -> None:
        """Merge ``tags`` into the dataset's (a ``None`` value is skipped, as in MLflow)."""
        checked = _checked_tags(tags)
        tags_table = t.evaluation_dataset_tags

        def work(conn: Connection) -> None:
            dataset = _require(conn, dataset_id)
            for key, value in checked.items():
                where = (tags_table.c.dataset_id == dataset_id) & (tags_table.c.key == key)
                if key in dataset.tags:
                    conn.execute(sa.update(tags_table).where(where).values(value=value))
                else:
                    conn.execute(
                        sa.insert(tags_table).values(dataset_id=dataset_id, key=key, value=value)
                    )

        run_write(self.engine, work)

    def delete_evaluation_dataset_tag(self, dataset_id: str, key: str) -> None:
        """Remove a tag; an unknown dataset or key is not an error (as in MLflow)."""
        tags_table = t.evaluation_dataset_tags
        where = (tags_table.c.dataset_id == dataset_id) & (tags_table.c.key == key)
        run_write(self.engine, lambda conn: conn.execute(sa.delete(tags_table).where(where)))

    def upsert_evaluation_records(
        self, dataset_id: str, records: Sequence[object]
    ) -> tuple[int, int]:
        """Insert records with new inputs and merge the others; ``(inserted, updated)``."""
        if len(records) > MAX_RECORDS_PER_UPSERT:
            raise InvalidInputError(f"upsert at most {MAX_RECORDS_PER_UPSERT} records at a time")
        checked = [_checked_record(record) for record in records]
        r = t.evaluation_dataset_records

        def work(conn: Connection) -> tuple[int, int]:
            dataset = _require(conn, dataset_id)
            now = now_ms()
            inserted = updated = 0
            updated_by = dataset.last_updated_by
            for record in checked:
                inputs = record.get("inputs") or {}
                digest = _input_hash(inputs)
                user = (record.get("tags") or {}).get(USER_TAG)
                updated_by = user or updated_by
                where = (r.c.dataset_id == dataset_id) & (r.c.input_hash == digest)
                existing = conn.execute(sa.select(r).where(where)).first()
                if existing is None:
                    new = _new_record(dataset_id, record, digest, now)
                    conn.execute(sa.insert(r).values(**new))
                    inserted += 1
                else:
                    conn.execute(sa.update(r).where(where).values(**_merged(existing, record, now)))
                    updated += 1
            _touch(
                conn,
                dataset,
                last_updated_by=updated_by,
                schema=_schema(dataset.schema, checked),
                profile=_profile(conn, dataset_id),
            )
            return inserted, updated

        return run_write(self.engine, work)

    def delete_evaluation_records(self, dataset_id: str, record_ids: Sequence[str]) -> int:
        """Delete records by id; how many were deleted."""
        r = t.evaluation_dataset_records

        def work(conn: Connection) -> int:
            dataset = _require(conn, dataset_id)
            deleted = conn.execute(
                sa.delete(r).where((r.c.dataset_id == dataset_id) & r.c.record_id.in_(record_ids))
            ).rowcount
            if deleted:
                d = t.evaluation_datasets
                conn.execute(
                    sa.update(d)
                    .where(d.c.dataset_id == dataset.dataset_id)
                    .values(profile=_profile(conn, dataset_id))
                )
            return int(deleted)

        return run_write(self.engine, work)

    def evaluation_records(
        self, dataset_id: str, max_results: int, after: tuple[int, str] | None
    ) -> tuple[list[EvaluationRecord], tuple[int, str] | None]:
        """A page of records in ``(created_time, record_id)`` order, from just ``after`` that
        key; and the last key of the page when more follow."""
        r = t.evaluation_dataset_records

        def work(conn: Connection) -> tuple[list[EvaluationRecord], tuple[int, str] | None]:
            _require(conn, dataset_id)
            query = sa.select(r).where(r.c.dataset_id == dataset_id)
            if after is not None:
                created, record_id = after
                query = query.where(
                    (r.c.created_time > created)
                    | ((r.c.created_time == created) & (r.c.record_id > record_id))
                )
            query = query.order_by(r.c.created_time, r.c.record_id).limit(max_results + 1)
            rows = [_record(row) for row in conn.execute(query)]
            if len(rows) <= max_results:
                return rows, None
            last = rows[max_results - 1]
            return rows[:max_results], (last.created_time, last.record_id)

        return run_read(self.engine, work)

    def evaluation_dataset_experiments(self, dataset_id: str) -> list[str]:
        e = t.evaluation_dataset_experiments
        query = sa.select(e.c.experiment_id).where(e.c.dataset_id == dataset_id)
        query = query.order_by(e.c.created_time, e.c.experiment_id)
        return run_read(self.engine, lambda conn: list(conn.execute(query).scalars()))

    def add_evaluation_dataset_experiments(
        self, dataset_id: str, experiment_ids: Sequence[str]
    ) -> EvaluationDataset:
        """Add the dataset to existing experiments (an unknown one is refused, none added)."""
        wanted = list(dict.fromkeys(str(e) for e in experiment_ids))

        def work(conn: Connection) -> EvaluationDataset:
            dataset = _require(conn, dataset_id)
            for experiment in wanted:
                _require_experiment(conn, experiment)
            self._associate(conn, dataset_id, wanted)
            _touch(conn, dataset)
            return _require(conn, dataset_id)

        return run_write(self.engine, work)

    def remove_evaluation_dataset_experiments(
        self, dataset_id: str, experiment_ids: Sequence[str]
    ) -> EvaluationDataset:
        """Take the dataset out of experiments (one it is not in is skipped)."""
        e = t.evaluation_dataset_experiments
        wanted = [str(experiment) for experiment in experiment_ids]

        def work(conn: Connection) -> EvaluationDataset:
            dataset = _require(conn, dataset_id)
            removed = conn.execute(
                sa.delete(e).where((e.c.dataset_id == dataset_id) & e.c.experiment_id.in_(wanted))
            ).rowcount
            if removed:
                _touch(conn, dataset)
            return _require(conn, dataset_id)

        return run_write(self.engine, work)

    def _associate(self, conn: Connection, dataset_id: str, experiment_ids: Sequence[str]) -> None:
        e = t.evaluation_dataset_experiments
        present = set(
            conn.execute(sa.select(e.c.experiment_id).where(e.c.dataset_id == dataset_id)).scalars()
        )
        rows = [
            {"dataset_id": dataset_id, "experiment_id": experiment, "created_time": now_ms()}
            for experiment in experiment_ids
            if experiment not in present
        ]
        if rows:
            conn.execute(sa.insert(e), rows)


def _require_experiment(conn: Connection, experiment_id: str) -> None:
    try:
        number = experiment_number(experiment_id)
    except InvalidInputError:
        number = -1
    experiments = t.experiments
    found = conn.execute(
        sa.select(experiments.c.experiment_id).where(experiments.c.experiment_id == number)
    ).first()
    if found is None:
        raise NotFoundError(f"No Experiment with id={experiment_id}")


def _source_id(source: Mapping[str, Any] | None) -> str | None:
    """The trace id of a ``TRACE`` source, else its ``source_id`` (as MLflow's record)."""
    data = (source or {}).get("source_data")
    if not isinstance(data, dict):
        return None
    key = "trace_id" if (source or {}).get("source_type") == "TRACE" else "source_id"
    value = data.get(key)
    return None if value is None else str(value)


def _new_record(
    dataset_id: str, record: Mapping[str, Any], input_hash: str, now: int
) -> dict[str, Any]:
    user = (record.get("tags") or {}).get(USER_TAG)
    source = record.get("source")
    return {
        "record_id": f"dr-{uuid.uuid4().hex}",
        "dataset_id": dataset_id,
        "input_hash": input_hash,
        "inputs": record.get("inputs") or {},
        "outputs": record.get("outputs"),
        "expectations": record.get("expectations"),
        "tags": record.get("tags"),
        "source": source,
        "source_id": record.get("source_id") or _source_id(source),
        "source_type": record.get("source_type") or (source or {}).get("source_type"),
        "created_time": now,
        "last_update_time": now,
        "created_by": user,
        "last_updated_by": user,
    }


def _merged(existing: Any, record: Mapping[str, Any], now: int) -> dict[str, Any]:
    """MLflow's merge: outputs replaced, expectations and tags updated key by key."""
    values: dict[str, Any] = {"last_update_time": now}
    if "outputs" in record:
        values["outputs"] = record["outputs"]
    if record.get("expectations"):
        values["expectations"] = {**(existing.expectations or {}), **record["expectations"]}
    if record.get("tags"):
        values["tags"] = {**(existing.tags or {}), **record["tags"]}
        if USER_TAG in record["tags"]:
            values["last_updated_by"] = record["tags"][USER_TAG]
    return values

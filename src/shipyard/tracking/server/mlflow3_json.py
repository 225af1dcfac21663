"""MLflow 3's JSON shapes: logged models, datasets, run inputs and outputs, metrics of a model.

A logged model's status crosses as its proto enum name (``LOGGED_MODEL_READY``) and is read as
that name or its number (``2``), as protobuf's JSON mapping allows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from shipyard.errors import InvalidInputError
from shipyard.tracking.entities import (
    Dataset,
    DatasetInput,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    ModelMetric,
    ModelOutput,
    Run,
)
from shipyard.tracking.logged_models import DatasetFilter, LoggedModelOrder, MetricForModel

__all__ = [
    "dataset_filters_field",
    "dataset_inputs_field",
    "logged_model_json",
    "model_metrics_field",
    "model_order_field",
    "model_outputs_field",
    "run_io_json",
    "status_field",
]

_STATUS_NAMES = {
    LoggedModelStatus.UNSPECIFIED: "LOGGED_MODEL_STATUS_UNSPECIFIED",
    LoggedModelStatus.PENDING: "LOGGED_MODEL_PENDING",
    LoggedModelStatus.READY: "LOGGED_MODEL_READY",
    LoggedModelStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
_MAX_MODEL_ID, _MAX_DATASET_NAME, _MAX_DATASET_DIGEST = 36, 500, 36
_STATUSES = {
    **{name: status for status, name in _STATUS_NAMES.items()},
    **{str(number): status for number, status in enumerate(_STATUS_NAMES)},
}


def _text(
    item: dict[str, Any], name: str, *, required: bool = False, limit: int | None = None
) -> str | None:
    value = item.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInputError(f"missing value for required field {name!r}")
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"field {name!r} must be a string, got {value!r}")
    if limit is not None and len(value) > limit:
        raise InvalidInputError(f"field {name!r} is over {limit} characters long")
    return value


def _objects(items: Any, what: str) -> list[dict[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InvalidInputError(f"{what} must be a list of objects")
    return items


def status_field(value: Any) -> LoggedModelStatus:
    """A status given as its enum name or number; ``InvalidInputError`` otherwise."""
    status = _STATUSES.get(str(value)) if isinstance(value, str | int) else None
    if status is None or isinstance(value, bool):
        names = ", ".join(_STATUS_NAMES.values())
        raise InvalidInputError(f"invalid logged model status {value!r}: use one of {names}")
    return status


def _model_metric_json(metric: ModelMetric, model_id: str) -> dict[str, Any]:
    value: float | str = "NaN" if math.isnan(metric.value) else metric.value
    data: dict[str, Any] = {
        "key": metric.key,
        "value": value,
        "timestamp": metric.timestamp,
        "step": metric.step,
        "model_id": model_id,
    }
    for name in ("run_id", "dataset_name", "dataset_digest"):
        if getattr(metric, name) is not None:
            data[name] = getattr(metric, name)
    return data


def logged_model_json(model: LoggedModel) -> dict[str, Any]:
    info: dict[str, Any] = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "artifact_uri": model.artifact_location,
        "creation_timestamp_ms": model.creation_time,
        "last_updated_timestamp_ms": model.last_update_time,
        "status": _STATUS_NAMES[model.status],
        "tags": [{"key": k, "value": v} for k, v in model.tags.items()],
    }
    for name in ("model_type", "source_run_id", "status_message"):
        if getattr(model, name) is not None:
            info[name] = getattr(model, name)
    return {
        "info": info,
        "data": {
            "params": [{"key": k, "value": v} for k, v in model.params.items()],
            "metrics": [_model_metric_json(m, model.model_id) for m in model.metrics],
        },
    }


def _dataset_json(item: DatasetInput) -> dict[str, Any]:
    dataset = item.dataset
    data: dict[str, Any] = {
        "name": dataset.name,
        "digest": dataset.digest,
        "source_type": dataset.source_type,
        "source": dataset.source,
    }
    if dataset.schema is not None:
        data["schema"] = dataset.schema
    if dataset.profile is not None:
        data["profile"] = dataset.profile
    return {"tags": [{"key": k, "value": v} for k, v in item.tags.items()], "dataset": data}


def run_io_json(run: Run) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run's ``inputs`` and ``outputs`` objects."""
    inputs = {
        "dataset_inputs": [_dataset_json(item) for item in run.dataset_inputs],
        "model_inputs": [{"model_id": model_id} for model_id in run.model_inputs],
    }
    outputs = {
        "model_outputs": [{"model_id": o.model_id, "step": o.step} for o in run.model_outputs]
    }
    return inputs, outputs


def _tags(items: Any, what: str) -> dict[str, str]:
    tags = {}
    for tag in _objects(items, what):
        key = _text(tag, "key", required=True)
        value = tag.get("value", "")
        tags[str(key)] = value if isinstance(value, str) else str(value)
    return tags


def dataset_inputs_field(items: Any) -> list[DatasetInput]:
    """``datasets`` of a ``runs/log-inputs`` body."""
    found = []
    for item in _objects(items, "datasets"):
        raw = item.get("dataset")
        if not isinstance(raw, dict):
            raise InvalidInputError("each dataset input needs a dataset object")
        dataset = Dataset(
            name=str(_text(raw, "name", required=True)),
            digest=str(_text(raw, "digest", required=True)),
            source_type=_text(raw, "source_type") or "",
            source=_text(raw, "source") or "",
            schema=_text(raw, "schema"),
            profile=_text(raw, "profile"),
        )
        found.append(DatasetInput(dataset, _tags(item.get("tags"), "input tags")))
    return found


def model_outputs_field(items: Any, what: str) -> list[ModelOutput]:
    """``models`` of ``runs/outputs`` (``{model_id, step}``) or ``runs/log-inputs``."""
    found = []
    for item in _objects(items, what):
        step = item.get("step", 0)
        if isinstance(step, str) and step.lstrip("-").isascii() and step.lstrip("-").isdigit():
            step = int(step)
        if isinstance(step, bool) or not isinstance(step, int) or abs(step) >= 2**63:
            raise InvalidInputError(f"the step of a model in {what} must be a 64-bit integer")
        model_id = _text(item, "model_id", required=True, limit=_MAX_MODEL_ID)
        found.append(ModelOutput(str(model_id), step))
    return found


def model_metrics_field(items: Sequence[Any], metrics: Sequence[Metric]) -> list[MetricForModel]:
    """The metrics of a batch that name a ``model_id`` (``metrics[i]`` parsed from
    ``items[i]``), with their dataset."""
    found = []
    for item, metric in zip(items, metrics, strict=True):
        if isinstance(item, dict) and item.get("model_id"):
            found.append(
                MetricForModel(
                    metric,
                    str(_text(item, "model_id", limit=_MAX_MODEL_ID)),
                    _text(item, "dataset_name", limit=_MAX_DATASET_NAME),
                    _text(item, "dataset_digest", limit=_MAX_DATASET_DIGEST),
                )
            )
    return found


def dataset_filters_field(items: Any) -> list[DatasetFilter]:
    """``datasets`` of ``logged-models/search``: ``{dataset_name, dataset_digest?}``."""
    return [
        DatasetFilter(
            str(_text(item, "dataset_name", required=True)), _text(item, "dataset_digest")
        )
        for item in _objects(items, "datasets")
    ]


def model_order_field(items: Any) -> list[LoggedModelOrder]:
    """``order_by`` of ``logged-models/search``: ``{field_name, ascending, dataset_name, ...}``."""
    found = []
    for item in _objects(items, "order_by"):
        ascending = item.get("ascending", True)
        if not isinstance(ascending, bool):
            raise InvalidInputError(
                f"order_by's ascending must be true or false, got {ascending!r}"
            )
        name = _text(item, "dataset_name")
        dataset = DatasetFilter(name, _text(item, "dataset_digest")) if name else None
        found.append(
            LoggedModelOrder(str(_text(item, "field_name", required=True)), ascending, dataset)
        )
    return found

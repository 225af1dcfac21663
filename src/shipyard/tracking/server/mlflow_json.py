"""MLflow's JSON shapes: tracking entities to the REST API's messages, and request fields back.

Numbers follow protobuf's JSON mapping: a double may arrive as ``"NaN"``, ``"Infinity"`` or
``"-Infinity"``, an int64 as a number or a string of digits. A NaN metric is sent back as
``"NaN"``, as MLflow's server does.
"""

from __future__ import annotations

import math
import re
from typing import Any

from shipyard.errors import InvalidInputError
from shipyard.tracking.entities import Experiment, Metric, Run, RunInfo
from shipyard.tracking.server.mlflow3_json import run_io_json
from shipyard.tracking.validation import (
    experiment_number,
    is_plain_metric,
    validate_int64,
    validate_key,
    validate_metric,
)

__all__ = [
    "experiment_id_field",
    "experiment_ids_field",
    "experiment_json",
    "int_field",
    "metric_from_json",
    "metric_json",
    "pairs",
    "run_info_json",
    "run_json",
    "string_field",
]

_INTEGER = re.compile(r"-?[0-9]{1,20}")  # ASCII: isdigit() takes "²"
_DOUBLE_NAMES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def experiment_json(experiment: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage.value,
        "last_update_time": experiment.last_update_time,
        "creation_time": experiment.creation_time,
        "tags": [{"key": k, "value": v} for k, v in experiment.tags.items()],
    }


def run_info_json(info: RunInfo) -> dict[str, Any]:
    data: dict[str, Any] = {
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status.value,
        "start_time": info.start_time,
        "artifact_uri": info.artifact_uri,
        "lifecycle_stage": info.lifecycle_stage.value,
    }
    if info.end_time is not None:
        data["end_time"] = info.end_time
    return data


def metric_json(metric: Metric) -> dict[str, Any]:
    value: float | str = "NaN" if math.isnan(metric.value) else metric.value
    return {"key": metric.key, "value": value, "timestamp": metric.timestamp, "step": metric.step}


def run_json(run: Run) -> dict[str, Any]:
    inputs, outputs = run_io_json(run)
    return {
        "info": run_info_json(run.info),
        "data": {
            "metrics": [metric_json(m) for m in run.metrics.values()],
            "params": [{"key": k, "value": v} for k, v in run.params.items()],
            "tags": [{"key": k, "value": v} for k, v in run.tags.items()],
        },
        "inputs": inputs,
        "outputs": outputs,
    }


def string_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInputError(f"missing value for required parameter {name!r}")
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"parameter {name!r} must be a string, got {value!r}")
    return value


def int_field(body: dict[str, Any], name: str, default: int | None = None) -> int | None:
    value = body.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise InvalidInputError(f"parameter {name!r} must be an integer, got {value!r}")
    if isinstance(value, int):
        return validate_int64(value, f"parameter {name!r}")
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return validate_int64(int(value), f"parameter {name!r}")
    raise InvalidInputError(f"parameter {name!r} must be an integer, got {value!r}")


def strings_field(body: dict[str, Any], name: str) -> list[str]:
    """A list of strings (numbers read as text; a GET's one value is a list of one)."""
    values = body.get(name) or []
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in values
    ):
        raise InvalidInputError(f"{name} must be a list of strings")
    return [str(v) for v in values]


def experiment_id_field(body: dict[str, Any], name: str, default: str | None = None) -> str:
    """An experiment id (ASCII digits, 64-bit), as a string; ``default`` when absent."""
    value = body.get(name)
    if (value is None or value == "") and default is not None:
        return default
    if value is None or value == "":
        raise InvalidInputError(f"missing value for required parameter {name!r}")
    return str(experiment_number(value))


def experiment_ids_field(body: dict[str, Any], name: str) -> list[str]:
    """A list of experiment ids; ``InvalidInputError`` naming the first bad one."""
    values = body.get(name) or []
    if not isinstance(values, list):
        raise InvalidInputError(f"{name} must be a list of experiment ids")
    return [str(experiment_number(value)) for value in values]


def _double(value: Any, key: Any) -> Any:
    if isinstance(value, str):
        if not value.isascii():  # float() reads Arabic-Indic "1" (U+0661) as 1.0
            raise InvalidInputError(
                f"metric {key!r} has value {value!r}: metric values must be numbers"
            )
        if value in _DOUBLE_NAMES:
            return _DOUBLE_NAMES[value]
        try:
            return float(value)
        except ValueError:
            raise InvalidInputError(
                f"metric {key!r} has value {value!r}: metric values must be numbers"
            ) from None
    return value


def metric_from_json(item: Any) -> Metric:
    if type(item) is dict:  # the common case first: a float value, int timestamp and step
        value, timestamp, step = item.get("value"), item.get("timestamp"), item.get("step", 0)
        if is_plain_metric(value, timestamp, step):
            key = validate_key(item.get("key"), "metric")
            return Metric(key, value, timestamp, step)  # type: ignore[arg-type]
    if not isinstance(item, dict):
        raise InvalidInputError(f"a metric must be an object with key and value, got {item!r}")
    return validate_metric(
        item.get("key"),
        _double(item.get("value"), item.get("key")),
        int_field(item, "timestamp", 0),
        int_field(item, "step", 0),
    )


def pairs(items: Any, kind: str) -> list[tuple[str, str]]:
    """``[{"key": k, "value": v}, ...]`` as ``[(k, v), ...]``."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise InvalidInputError(f"{kind}s must be a list of {{key, value}} objects")
    found = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise InvalidInputError(f"each {kind} needs a string key, got {item!r}")
        value = item.get("value", "")
        found.append((item["key"], value if isinstance(value, str) else str(value)))
    return found

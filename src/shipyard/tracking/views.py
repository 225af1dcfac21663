"""Plain JSON views of tracking entities, for Shipyard's own API and ``--json`` output.

>>> run_view(run)["metrics"]["auc"]
{'value': 0.91, 'step': 3, 'timestamp': 1700000000000}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from shipyard.tracking.entities import Experiment, Metric, Run

if TYPE_CHECKING:
    from shipyard.tracking.queries import LinkedModel

__all__ = ["experiment_view", "metric_view", "run_view"]


def metric_view(metric: Metric) -> dict[str, Any]:
    value: float | None = None if math.isnan(metric.value) else metric.value
    return {"value": value, "step": metric.step, "timestamp": metric.timestamp}


def run_view(
    run: Run,
    *,
    models: list[LinkedModel] | None = None,
    environment: dict[str, Any] | None = None,
) -> dict[str, Any]:
    info = run.info
    view: dict[str, Any] = {
        "run_id": info.run_id,
        "experiment_id": info.experiment_id,
        "name": info.run_name,
        "user": info.user_id,
        "status": info.status.value,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "artifact_uri": info.artifact_uri,
        "lifecycle_stage": info.lifecycle_stage.value,
        "params": run.params,
        "tags": run.tags,
        "metrics": {key: metric_view(m) for key, m in run.metrics.items()},
    }
    if models is not None:
        view["models"] = [
            {"name": m.name, "version": m.version, "dataset_digest": m.dataset_digest}
            for m in models
        ]
    if environment is not None:
        view["environment"] = environment
    return view


def experiment_view(experiment: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage.value,
        "creation_time": experiment.creation_time,
        "tags": experiment.tags,
    }

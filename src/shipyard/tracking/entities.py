"""The values the tracking stage hands around: experiments, runs and their metrics.

Times are milliseconds since the epoch (MLflow's unit), so they cross the MLflow REST API as is.

    >>> run.info.status
    <RunStatus.FINISHED: 'FINISHED'>
    >>> run.metrics["auc"].value
    0.91
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "Dataset",
    "DatasetInput",
    "Experiment",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelStatus",
    "Metric",
    "ModelMetric",
    "ModelOutput",
    "Run",
    "RunInfo",
    "RunStatus",
    "ViewType",
    "now_ms",
]


def now_ms() -> int:
    """The current time in milliseconds since the epoch."""
    return int(time.time() * 1000)


class RunStatus(StrEnum):
    """Where a run is in its life (MLflow's names)."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)


class LifecycleStage(StrEnum):
    """Soft deletion: a deleted run or experiment is hidden but kept."""

    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(StrEnum):
    """Which lifecycle stages a search returns."""

    ACTIVE_ONLY = "ACTIVE_ONLY"
    DELETED_ONLY = "DELETED_ONLY"
    ALL = "ALL"

    @property
    def stages(self) -> tuple[LifecycleStage, ...]:
        if self is ViewType.ACTIVE_ONLY:
            return (LifecycleStage.ACTIVE,)
        if self is ViewType.DELETED_ONLY:
            return (LifecycleStage.DELETED,)
        return (LifecycleStage.ACTIVE, LifecycleStage.DELETED)


@dataclass(frozen=True, slots=True)
class Experiment:
    """A named group of runs."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage
    creation_time: int
    last_update_time: int
    tags: dict[str, str] = field(default_factory=dict)


class Metric(NamedTuple):
    """One logged value of a metric; NaN is kept as NaN, infinities as +-DBL_MAX (as MLflow).

    A named tuple rather than a frozen dataclass: a 1000-value batch builds 1000 of them, and a
    tuple is built about five times faster."""

    key: str
    value: float
    timestamp: int
    step: int


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A run's own attributes."""

    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: RunStatus
    start_time: int
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: LifecycleStage


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset a run used, as MLflow describes it (``source`` and ``schema`` are JSON text)."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetInput:
    """A dataset as one run's input, with the input's tags (``mlflow.data.context``: train...)."""

    dataset: Dataset
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModelOutput:
    """A logged model a run produced, at a step."""

    model_id: str
    step: int = 0


@dataclass(frozen=True, slots=True)
class Run:
    """A run with its parameters, tags, the latest value of each metric, and its inputs and
    outputs (datasets, logged models)."""

    info: RunInfo
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    dataset_inputs: tuple[DatasetInput, ...] = ()
    model_inputs: tuple[str, ...] = ()
    model_outputs: tuple[ModelOutput, ...] = ()

    @property
    def run_id(self) -> str:
        return self.info.run_id


class LoggedModelStatus(StrEnum):
    """Where a logged model's upload is (MLflow 3's names, without their prefix)."""

    UNSPECIFIED = "UNSPECIFIED"
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class ModelMetric:
    """A metric value logged with a ``model_id``: by which run, on which dataset."""

    key: str
    value: float
    timestamp: int
    step: int
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedModel:
    """An MLflow 3 logged model (``m-<32 hex>``): files under ``artifact_location``, the run
    that made it, its params, tags and metrics."""

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    creation_time: int
    last_update_time: int
    status: LoggedModelStatus
    lifecycle_stage: LifecycleStage
    status_message: str | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: tuple[ModelMetric, ...] = ()

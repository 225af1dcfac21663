"""Experiment tracking: runs, params, metrics and artifacts, linked to model versions.

    >>> with shipyard.start_run(experiment="churn") as run:
    ...     run.log_metric("auc", 0.91)

Storage is the registry's database and artifact store; ``server/`` speaks the MLflow tracking
REST API over it.
"""

from shipyard.tracking.entities import Experiment, Metric, Run, RunInfo, RunStatus
from shipyard.tracking.run import ActiveRun, active_run, start_run
from shipyard.tracking.tracker import Tracker

__all__ = [
    "ActiveRun",
    "Experiment",
    "Metric",
    "Run",
    "RunInfo",
    "RunStatus",
    "Tracker",
    "active_run",
    "start_run",
]

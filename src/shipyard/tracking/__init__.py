"""Experiment tracking: runs, params, metrics and artifacts, linked to model versions.

    >>> with shipyard.start_run(experiment="churn") as run:
    ...     run.log_metric("auc", 0.91)

Storage is the registry's database and artifact store; ``server/`` speaks the MLflow tracking
REST API over it. Names are imported on first use (PEP 562), so the CLI starts without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.lazy import lazy_exports

if TYPE_CHECKING:
    from shipyard.tracking.entities import Experiment, Metric, Run, RunInfo, RunStatus
    from shipyard.tracking.run import ActiveRun, active_run, start_run
    from shipyard.tracking.tracker import Tracker

_LAZY: dict[str, str] = {
    "ActiveRun": "shipyard.tracking.run",
    "Experiment": "shipyard.tracking.entities",
    "Metric": "shipyard.tracking.entities",
    "Run": "shipyard.tracking.entities",
    "RunInfo": "shipyard.tracking.entities",
    "RunStatus": "shipyard.tracking.entities",
    "Tracker": "shipyard.tracking.tracker",
    "active_run": "shipyard.tracking.run",
    "start_run": "shipyard.tracking.run",
}

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

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

"""How a run ended, as values: each step's ``StepOutcome`` and the run's ``RunSummary``.

>>> summary.executed, summary.cached, summary.tracking_run_id
(0, 5, '3f0c...')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shipyard.pipelines.artifacts import StoredArtifact
from shipyard.pipelines.events import StepStatus

__all__ = ["RunSummary", "StepOutcome"]


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """How one step of the run ended."""

    node: str
    status: StepStatus
    attempts: int = 0
    duration_s: float | None = None
    cache_key: str | None = None
    outputs: Mapping[str, StoredArtifact] = field(default_factory=dict)
    error: str | None = None
    log_path: str | None = None
    resumed: bool = False
    """Finished by the run being resumed: kept, not run again."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "status": self.status,
            "resumed": self.resumed,
            "attempts": self.attempts,
            "duration_s": self.duration_s,
            "cache_key": self.cache_key,
            "outputs": {k: v.digest for k, v in self.outputs.items()},
            "error": self.error,
            "log_path": self.log_path,
        }


@dataclass(frozen=True, slots=True)
class RunSummary:
    """The run: its id, status, tracked run and every step's outcome in graph order."""

    run_id: str
    pipeline: str
    executor: str
    status: str
    steps: tuple[StepOutcome, ...]
    tracking_run_id: str | None = None
    """The tracked run (``shipyard runs show ID``); None on Kubernetes."""

    @property
    def executed(self) -> int:
        return sum(1 for s in self.steps if s.status == "succeeded" and not s.resumed)

    @property
    def cached(self) -> int:
        return sum(1 for s in self.steps if s.status == "cached")

    def step(self, node: str) -> StepOutcome:
        return next(s for s in self.steps if s.node == node)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "executor": self.executor,
            "status": self.status,
            "tracking_run_id": self.tracking_run_id,
            "executed": self.executed,
            "cached": self.cached,
            "steps": [s.to_dict() for s in self.steps],
        }

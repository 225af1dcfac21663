"""What monitoring hands on: per-window drift, quality and performance, frozen and JSON-ready.

``DriftReport`` holds every window of one analysis; each ``WindowResult`` is stored as one row
(``tables.py``) and drawn in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shipyard.monitor.drift import ColumnDrift

__all__ = ["ColumnQuality", "DriftReport", "Performance", "WindowResult"]


@dataclass(frozen=True, slots=True)
class ColumnQuality:
    """Data quality of one feature in one window."""

    column: str
    missing: int
    out_of_range: int
    unseen: int

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "missing": self.missing,
                "out_of_range": self.out_of_range, "unseen": self.unseen}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Performance:
    """Metrics over the window's rows that have ground truth, and those recorded at save time."""

    task: str
    labelled: int
    metrics: dict[str, float]
    expected: dict[str, float] = field(default_factory=dict)
    estimated: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "labelled": self.labelled, "metrics": self.metrics,
                "expected": self.expected, "estimated": self.estimated}  # fmt: skip


@dataclass(frozen=True, slots=True)
class WindowResult:
    """One window's findings."""

    key: int
    start: float
    end: float
    rows: int
    rejected: int
    features: tuple[ColumnDrift, ...]
    predictions: tuple[ColumnDrift, ...]
    quality: tuple[ColumnQuality, ...]
    dataset_drift: bool
    drift_share: float
    performance: Performance | None = None

    @property
    def drifting(self) -> list[str]:
        return [c.column for c in self.features if c.drifted]

    @property
    def prediction_drift(self) -> bool:
        return any(c.drifted for c in self.predictions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "start": self.start,
            "end": self.end,
            "rows": self.rows,
            "rejected": self.rejected,
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "prediction_drift": self.prediction_drift,
            "drifting": self.drifting,
            "features": [c.to_dict() for c in self.features],
            "predictions": [c.to_dict() for c in self.predictions],
            "quality": [q.to_dict() for q in self.quality],
            "performance": None if self.performance is None else self.performance.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Every window of one analysis of one model version's log."""

    model: str
    version: int
    window: str
    method: str
    windows: tuple[WindowResult, ...]
    notes: tuple[str, ...]
    read: dict[str, int]

    @property
    def latest(self) -> WindowResult | None:
        """The newest window that holds predictions (rejections alone do not make one)."""
        served = [w for w in self.windows if w.rows]
        return max(served, key=lambda w: w.key) if served else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "window": self.window,
            "method": self.method,
            "notes": list(self.notes),
            "read": self.read,
            "windows": [w.to_dict() for w in self.windows],
        }

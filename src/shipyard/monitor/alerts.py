"""Alerts on the newest window: raised when a condition starts, cleared when it stops.

Conditions: dataset drift, prediction drift, and a performance metric below its floor (the value
recorded at save time minus ``tolerance``, or an explicit minimum). Each change is posted to a
webhook as Slack-compatible JSON (``{"text": ...}`` plus a ``shipyard`` object for machines),
through the job's outbox (``outbox.py``, ``dispatch.py``, ``webhook.py``).

    >>> alerts = AlertState()
    >>> for event in alerts.evaluate(report, AlertPolicy()):
    ...     outbox.put(event.payload())
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from shipyard.monitor.results import DriftReport, WindowResult

__all__ = ["AlertEvent", "AlertPolicy", "AlertState"]


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """What counts as a problem."""

    tolerance: float = 0.05
    minimums: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An alert starting (``firing``) or ending (``resolved``)."""

    name: str
    status: Literal["firing", "resolved"]
    model: str
    version: int
    detail: str

    def payload(self) -> dict[str, object]:
        mark = ":rotating_light:" if self.status == "firing" else ":white_check_mark:"
        verb = "ALERT" if self.status == "firing" else "RESOLVED"
        text = f"{mark} {verb} {self.name} on {self.model}:{self.version}: {self.detail}"
        return {"text": text, "shipyard": {"alert": self.name, "status": self.status,
                "model": self.model, "version": self.version, "detail": self.detail}}  # fmt: skip


class AlertState:
    """Which alerts are active, so each start and end is announced once."""

    def __init__(self) -> None:
        self.active: dict[str, str] = {}

    def evaluate(self, report: DriftReport, policy: AlertPolicy) -> list[AlertEvent]:
        latest = report.latest
        if latest is None:
            return []
        now = _conditions(latest, policy)
        events = [
            AlertEvent(name, "firing", report.model, report.version, detail)
            for name, detail in now.items()
            if name not in self.active
        ]
        events += [
            AlertEvent(name, "resolved", report.model, report.version, f"cleared ({detail})")
            for name, detail in self.active.items()
            if name not in now
        ]
        self.active = now
        return events


def _conditions(window: WindowResult, policy: AlertPolicy) -> dict[str, str]:
    found: dict[str, str] = {}
    if window.dataset_drift:
        found["dataset_drift"] = (
            f"{len(window.drifting)} of {len(window.features)} features drift "
            f"({', '.join(window.drifting[:8])})"
        )
    if window.prediction_drift:
        found["prediction_drift"] = "the distribution of predictions moved"
    performance = window.performance
    if performance is not None and performance.labelled:
        lower_is_better = {"mae", "rmse"}
        for name, value in performance.metrics.items():
            floor = policy.minimums.get(name)
            expected = performance.expected.get(name)
            if name in lower_is_better:
                if expected is not None and value > expected * (1 + policy.tolerance):
                    found[f"{name}_degraded"] = f"{name} {value:.4g} > {expected:.4g} at save time"
                continue
            if floor is None and expected is not None:
                floor = expected - policy.tolerance
            if floor is not None and value < floor:
                found[f"{name}_low"] = f"{name} {value:.4g} < {floor:.4g}"
    return found

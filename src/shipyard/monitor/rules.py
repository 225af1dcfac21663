"""Prometheus alerting rules for the monitor job's gauges (``shipyard monitor rules``)."""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["alerting_rules", "render_rules"]


def alerting_rules(for_duration: str = "10m", min_accuracy: float | None = None) -> dict[str, Any]:
    """A rule group: drift, prediction drift, skipped log lines, a stale job, low accuracy."""

    def rule(name: str, expr: str, summary: str, severity: str = "warning") -> dict[str, Any]:
        return {
            "alert": name,
            "expr": expr,
            "for": for_duration,
            "labels": {"severity": severity},
            "annotations": {"summary": summary},
        }

    rules = [
        rule("ShipyardDatasetDrift", "shipyard_monitor_dataset_drift == 1",
             "{{ $labels.model }}:{{ $labels.version }} inputs drift from the reference"),
        rule("ShipyardPredictionDrift", "shipyard_monitor_prediction_drift == 1",
             "{{ $labels.model }}:{{ $labels.version }} predictions drift from the reference"),
        rule("ShipyardFeatureDrift", "shipyard_monitor_feature_drift == 1",
             "feature {{ $labels.feature }} of {{ $labels.model }} drifts", "info"),
        rule("ShipyardBadLogLines", "delta(shipyard_monitor_bad_lines[15m]) > 0",
             "the prediction log of {{ $labels.model }} has unreadable lines", "info"),
        rule("ShipyardMonitorStale", "time() - shipyard_monitor_last_run_timestamp_seconds > 1800",
             "the monitor job for {{ $labels.model }} has not run for 30 minutes"),
    ]  # fmt: skip
    if min_accuracy is not None:
        rules.append(
            rule(
                "ShipyardAccuracyLow",
                f'shipyard_monitor_metric{{metric="accuracy"}} < {min_accuracy}',
                "{{ $labels.model }} accuracy is {{ $value }}",
                "critical",
            )
        )
    return {"groups": [{"name": "shipyard-monitor", "rules": rules}]}


def render_rules(for_duration: str = "10m", min_accuracy: float | None = None) -> str:
    return yaml.safe_dump(alerting_rules(for_duration, min_accuracy), sort_keys=False, width=100)

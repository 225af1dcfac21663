"""``shipyard monitor report``: one self-contained HTML file (Jinja2, inline SVG charts).

Drift share and per-feature scores over time, accuracy over time, and reference-against-current
distributions of the predictions and of the most drifting features in the latest window.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import jinja2
import pyarrow.compute as pc
import pyarrow.dataset as ds

from shipyard.monitor.charts import distribution_chart, line_chart
from shipyard.monitor.detect import current_values
from shipyard.monitor.reference import Reference, ReferenceColumn
from shipyard.monitor.results import DriftReport, WindowResult

__all__ = ["render_report", "write_report"]

_FEATURES_SHOWN = 12


def write_report(path: Path, html: str) -> Path:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(html, encoding="utf-8")
    partial.replace(path)
    return path


def render_report(report: DriftReport, reference: Reference, dataset: ds.Dataset | None) -> str:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("shipyard.monitor", "templates"), autoescape=True
    )
    windows = sorted(report.windows, key=lambda w: w.key)
    latest = report.latest
    starts = [w.start for w in windows]
    scores: dict[str, list[float | None]] = {}
    for w in windows:
        for drift in w.features:
            scores.setdefault(drift.column, [None] * len(windows))
    for i, w in enumerate(windows):
        for drift in w.features:
            scores[drift.column][i] = round(drift.score, 4)
    shown = _most_drifting(latest, _FEATURES_SHOWN)
    metrics: dict[str, list[float | None]] = {}
    for i, w in enumerate(windows):
        for name, value in (w.performance.metrics if w.performance else {}).items():
            metrics.setdefault(name, [None] * len(windows))[i] = round(value, 4)
    return env.get_template("report.html.j2").render(
        report=report.to_dict(),
        latest=None if latest is None else latest.to_dict(),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        when=lambda ts: datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S"),
        drift_chart=line_chart("Share of drifting features", starts,
                               {"drift share": [round(w.drift_share, 3) for w in windows]}),
        score_chart=line_chart("Drift score per feature", starts,
                               {k: v for k, v in scores.items() if k in shown}),
        metric_chart=line_chart("Performance", starts, metrics) if metrics else "",
        prediction_charts=_distributions(reference.predictions, dataset, latest),
        feature_charts=_distributions(
            [f for f in reference.features if f.name in shown], dataset, latest
        ),
    )  # fmt: skip


def _most_drifting(latest: WindowResult | None, count: int) -> set[str]:
    if latest is None:
        return set()
    ranked = sorted(latest.features, key=lambda d: (not d.drifted, d.column))
    return {d.column for d in ranked[:count]}


def _distributions(
    refs: tuple[ReferenceColumn, ...] | list[ReferenceColumn],
    dataset: ds.Dataset | None,
    latest: WindowResult | None,
) -> list[str]:
    if dataset is None or latest is None:
        return []
    names = set(dataset.schema.names)
    refs = [r for r in refs if r.log_column in names]
    if not refs:
        return []
    where = (pc.field("ts") >= latest.start) & (pc.field("ts") <= latest.end)
    where = where & (pc.field("status") == "ok")
    table = dataset.to_table(columns=[r.log_column for r in refs], filter=where)
    charts = [distribution_chart(r, current_values(r, table[r.log_column])) for r in refs]
    return [c for c in charts if c]

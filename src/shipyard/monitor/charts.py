"""The report's charts as inline SVG (pygal, no JavaScript): nothing is fetched when it opens."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from shipyard.monitor.reference import ReferenceColumn

__all__ = ["distribution_chart", "line_chart"]


def _pygal() -> Any:
    """pygal, without the legacy finder (for its map plug-ins, unused here) that it appends to
    ``sys.meta_path`` on import: with it, every later import in the process warns."""
    import pygal
    import pygal.style

    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]
    return pygal


_SIZE = {"width": 760, "height": 320}


def _options() -> dict[str, object]:
    return {
        "js": [],
        "disable_xml_declaration": True,
        "style": _pygal().style.CleanStyle,
        "legend_at_bottom": True,
        "explicit_size": True,
        "truncate_legend": 24,
        **_SIZE,
    }


def line_chart(
    title: str, starts: Sequence[float], series: Mapping[str, Sequence[float | None]]
) -> str:
    """One line per series over the windows (x: window start, UTC)."""
    chart = _pygal().Line(title=title, x_label_rotation=30, show_minor_x_labels=False, **_options())
    labels = [datetime.fromtimestamp(s, UTC).strftime("%m-%d %H:%M") for s in starts]
    chart.x_labels = labels
    chart.x_labels_major = labels[:: max(1, len(labels) // 8)]
    for name, values in series.items():
        chart.add(name, list(values))
    return str(chart.render(is_unicode=True))


def distribution_chart(ref: ReferenceColumn, current: np.ndarray) -> str:
    """Reference against current shares: numbers over the reference's deciles; categories (and
    numbers with at most 10 values, such as class numbers) by value, the 12 most common."""
    chart = _pygal().Bar(
        title=f"{ref.name}: reference vs current", x_label_rotation=30, **_options()
    )
    reference = ref.present()
    few = ref.kind == "numeric" and len(np.unique(reference)) <= 10  # e.g. class numbers
    if few:
        reference = np.array([f"{v:g}" for v in reference], dtype=str)
        current = np.array(
            [None if not np.isfinite(v) else f"{v:g}" for v in current], dtype=object
        )
    if ref.kind == "numeric" and not few:
        now = current[np.isfinite(current)]
        if not len(reference):
            return ""
        edges = np.unique(np.quantile(reference, np.linspace(0, 1, 11)))
        if len(edges) < 2:
            return ""
        inner = np.concatenate([[-np.inf], edges[1:-1], [np.inf]])
        ref_share = np.histogram(reference, inner)[0] / max(len(reference), 1)
        cur_share = np.histogram(now, inner)[0] / max(len(now), 1)
        chart.x_labels = [f"≤{e:.3g}" for e in edges[1:-1]] + [f">{edges[-2]:.3g}"]
    else:
        now = np.asarray([v for v in current if v is not None], dtype=str)
        keys, counts = np.unique(reference, return_counts=True)
        top = list(keys[np.argsort(-counts)][:12])
        ref_share = np.array([np.mean(reference == k) if len(reference) else 0.0 for k in top])
        cur_share = np.array([np.mean(now == k) if len(now) else 0.0 for k in top])
        chart.x_labels = [str(k) for k in top]
    chart.add("reference", [round(float(v), 4) for v in ref_share])
    chart.add("current", [round(float(v), 4) for v in cur_share])
    return str(chart.render(is_unicode=True))

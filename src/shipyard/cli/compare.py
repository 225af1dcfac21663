"""``runs compare``: what differs between runs, with metric histories drawn as sparklines.

>>> sparkline([0.1, 0.5, 0.9])
'▁▅█'
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from shipyard.tracking.entities import Metric, Run

__all__ = ["compare_table", "sparkline"]

_BARS = "▁▂▃▄▅▆▇█"
_WIDTH = 24


def sparkline(values: Sequence[float], width: int = _WIDTH) -> str:
    """The values as bars (down-sampled to ``width``); NaN shows as a space."""
    if not values:
        return ""
    if len(values) > width:
        values = [values[int(i * len(values) / width)] for i in range(width)]
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return " " * len(values)
    low, high = min(finite), max(finite)
    span = high - low
    bars = []
    for value in values:
        if not math.isfinite(value):
            bars.append(" ")
        elif span == 0:
            bars.append(_BARS[len(_BARS) // 2])
        else:
            bars.append(_BARS[round((value - low) / span * (len(_BARS) - 1))])
    return "".join(bars)


def _number(metric: Metric | None) -> str:
    if metric is None:
        return "-"
    return "NaN" if math.isnan(metric.value) else f"{metric.value:.6g}"


def compare_table(runs: Sequence[Run], histories: dict[tuple[str, str], list[Metric]]) -> Table:
    """Params and tags that differ, then every metric with its latest value and history."""
    table = Table(title="Run comparison", title_justify="left", header_style="bold")
    table.add_column("", style="bold")
    for run in runs:
        table.add_column(f"{run.info.run_name}\n{run.run_id[:8]}", overflow="fold")
    table.add_row("status", *(Text(run.info.status.value) for run in runs))
    for label, attribute in (("param", "params"), ("tag", "tags")):
        keys = sorted({key for run in runs for key in getattr(run, attribute)})
        for key in keys:
            if label == "tag" and key.startswith("mlflow."):
                continue
            values = [getattr(run, attribute).get(key) for run in runs]
            if len(set(values)) > 1:
                table.add_row(
                    f"{label} {key}", *(Text(v if v is not None else "-") for v in values)
                )
    for key in sorted({key for run in runs for key in run.metrics}):
        cells = []
        for run in runs:
            history = [m.value for m in histories.get((run.run_id, key), [])]
            cells.append(Text(f"{_number(run.metrics.get(key))}  {sparkline(history)}"))
        table.add_row(f"metric {key}", *cells)
    return table

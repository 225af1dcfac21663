"""Analyse a compacted log window by window: drift, prediction drift, quality, performance.

Only the columns a step needs are read, one window at a time and a few columns at a time
(``_VALUES_PER_READ`` values at most), so memory follows the window, not the log. Columns of a
group are tested on two threads (numpy and scipy release the GIL while sorting).

    >>> windows = Analyzer(reference, AnalysisOptions(WindowSpec.parse("1h"))).run(dataset)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from shipyard.monitor.calibrate import Calibration, calibrate
from shipyard.monitor.detect import column_drift, column_quality, current_values
from shipyard.monitor.drift import ColumnDrift, DriftMethod
from shipyard.monitor.performance import (
    Task,
    classification_metrics,
    estimate_accuracy,
    infer_task,
    regression_metrics,
)
from shipyard.monitor.reference import Reference, ReferenceColumn
from shipyard.monitor.results import ColumnQuality, Performance, WindowResult
from shipyard.monitor.windows import WindowSpec

__all__ = ["AnalysisOptions", "Analyzer"]

_VALUES_PER_READ = 4_000_000  # 4 columns of a 1M-row window: 775 MiB peak at 10M rows, no slower
_KEYS = ["request_id", "row"]


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    """How to cut and test: the window, the drift method, the calibrated false-alarm level."""

    window: WindowSpec
    method: DriftMethod = "auto"
    alpha: float = 0.05
    since: float | None = None
    task: Task | None = None
    expected: dict[str, float] = field(default_factory=dict)
    version: int | None = None  # only rows this version served (and rows with no version)


class Analyzer:
    """Runs the per-window analysis; keeps calibrations between runs (``monitor run``)."""

    def __init__(self, reference: Reference, options: AnalysisOptions) -> None:
        self.reference = reference
        self.options = options
        self._calibrations: dict[int, Calibration] = {}

    def run(
        self, dataset: ds.Dataset | None, feedback: pa.Table | None = None
    ) -> list[WindowResult]:
        if dataset is None:
            return []
        return [self._window(dataset, key, f, feedback) for key, f in self._windows(dataset)]

    def _windows(self, dataset: ds.Dataset) -> Iterator[tuple[int, pc.Expression]]:
        base = self._since()
        spec = self.options.window
        column = "seq" if spec.kind == "count" else "ts"
        index = dataset.to_table(columns=[column], filter=base)[column].to_numpy()
        if not len(index):
            return
        found = np.unique(spec.keys(index, index))
        del index  # only the window numbers are kept while the windows are analysed
        for key in found:
            lo, hi = key * spec.size, (key + 1) * spec.size
            expression = (pc.field(column) >= lo) & (pc.field(column) < hi)
            yield int(key), expression if base is None else expression & base

    def _since(self) -> pc.Expression | None:
        since, version = self.options.since, self.options.version
        where = None if since is None else pc.field("ts") >= since
        if version is not None:
            mine = (pc.field("model_version") == version) | pc.field("model_version").is_null()
            where = mine if where is None else where & mine
        return where

    def _window(
        self, dataset: ds.Dataset, key: int, where: pc.Expression, feedback: pa.Table | None
    ) -> WindowResult:
        meta = dataset.to_table(columns=["ts", "status"], filter=where)
        ok = pc.equal(meta["status"], "ok")
        rows = int(pc.sum(ok).as_py() or 0)
        rejected = len(meta) - rows
        ts = meta["ts"]
        start, end = float(pc.min(ts).as_py()), float(pc.max(ts).as_py())
        where_ok = where & (pc.field("status") == "ok")
        names = set(dataset.schema.names)
        features, quality = self._columns(dataset, where_ok, self.reference.features, rows, names)
        predictions, _ = self._columns(dataset, where_ok, self.reference.predictions, rows, names)
        tested = [d for d in features if d is not None]
        share = sum(d.drifted for d in tested) / len(tested) if tested else 0.0
        dataset_drift = bool(tested) and (
            any(d.drifted for d in tested) if self.options.method == "calibrated" else share >= 0.5
        )  # calibrated: any drifting feature, at a false-alarm level of alpha per window
        return WindowResult(
            key=key,
            start=start,
            end=end,
            rows=rows,
            rejected=rejected,
            features=tuple(tested),
            predictions=tuple(d for d in predictions if d is not None),
            quality=tuple(quality),
            dataset_drift=dataset_drift,
            drift_share=share,
            performance=self._performance(dataset, where_ok, names, feedback),
        )

    def _columns(
        self,
        dataset: ds.Dataset,
        where: pc.Expression,
        refs: Sequence[ReferenceColumn],
        rows: int,
        names: set[str],
    ) -> tuple[list[ColumnDrift | None], list[ColumnQuality]]:
        refs = [r for r in refs if r.log_column in names]
        if not refs or not rows:
            return [], []
        calibration = self._calibration(rows) if self.options.method == "calibrated" else None
        per_read = max(1, _VALUES_PER_READ // rows)
        drifts: list[ColumnDrift | None] = []
        quality: list[ColumnQuality] = []
        with ThreadPoolExecutor(2) as pool:
            for i in range(0, len(refs), per_read):
                group = refs[i : i + per_read]
                table = dataset.to_table(columns=[r.log_column for r in group], filter=where)

                def one(
                    ref: ReferenceColumn, table: pa.Table = table
                ) -> tuple[ColumnDrift | None, ColumnQuality]:
                    values = current_values(ref, table[ref.log_column])
                    drift = column_drift(ref, values, self.options.method, calibration)
                    return drift, column_quality(ref, values)

                for drift, q in pool.map(one, group):
                    drifts.append(drift)
                    quality.append(q)
                del table
        return drifts, quality

    def _calibration(self, rows: int) -> Calibration:
        """One family for features and predictions (a window alarms at most ``alpha`` of the
        time), calibrated at the window size rounded down to a half octave."""
        bucket = int(2 ** (math.floor(2 * math.log2(max(rows, 2))) / 2))
        cached = self._calibrations.get(bucket)
        if cached is None:
            refs = [*self.reference.features, *self.reference.predictions]
            samples = {r.log_column: r.sample for r in refs}
            cached = calibrate(samples, self.options.alpha, window_rows=bucket)
            self._calibrations[bucket] = cached
        return cached

    def _performance(
        self, dataset: ds.Dataset, where: pc.Expression, names: set[str], feedback: pa.Table | None
    ) -> Performance | None:
        outputs = sorted(n for n in names if n.startswith("out."))
        target = next((n for n in outputs if n == "out.predictions"), None) or next(
            (n for n in outputs if ".probabilities" not in n), None
        )
        probabilities = [n for n in outputs if n.startswith("out.probabilities.")]
        estimated: dict[str, float] = {}
        if probabilities:
            table = dataset.to_table(columns=probabilities, filter=where)
            matrix = np.column_stack([table[p].to_numpy() for p in probabilities])
            if len(matrix):
                estimated["accuracy"] = estimate_accuracy(matrix)
        if target is None or feedback is None or not len(feedback):
            return Performance("classification", 0, {}, {}, estimated) if estimated else None
        columns = [*_KEYS, target, *probabilities[-1:]]
        joined = dataset.to_table(columns=columns, filter=where).join(
            feedback, keys=_KEYS, join_type="inner"
        )
        if not len(joined):
            return Performance("classification", 0, {}, {}, estimated) if estimated else None
        labels, predicted = _aligned(joined["label"], joined[target])
        task = self.options.task or infer_task(labels, predicted)
        if task == "regression":
            metrics = regression_metrics(labels, predicted)
        else:
            scores = joined[probabilities[-1]].to_numpy() if len(probabilities) == 2 else None
            metrics = classification_metrics(labels, predicted, scores)
        expected = {k: v for k, v in self.options.expected.items() if k in metrics}
        return Performance(task, len(joined), metrics, expected, estimated)


def _aligned(labels: pa.ChunkedArray, predicted: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Labels and predictions as arrays of one kind (numbers, or text when either is text)."""
    numeric = pa.types.is_floating(labels.type) and (
        pa.types.is_floating(predicted.type) or pa.types.is_integer(predicted.type)
    )
    if numeric:
        return labels.to_numpy(), predicted.cast(pa.float64()).to_numpy()
    return (
        np.asarray(labels.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=str),
        np.asarray(predicted.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=str),
    )

"""Calibrated drift thresholds: the reference compared with itself, so false alarms stay rare.

A fixed threshold (p < 0.05, distance >= 0.1) alarms more and more often on stationary data as
windows grow, or never on small ones. Here each column's threshold comes from the reference's own
sample: ``splits`` times, a window-sized part of it is set aside and compared with the rest using
one statistic (Wasserstein / std for numbers, Jensen-Shannon for categories). A log-normal fitted
to those null scores gives each column's threshold at the Sidak level ``1 - (1 - alpha)^(1/k)``
for k columns (divided by a safety margin, ``_MARGIN``), so the chance that *any* column of a
stationary window alarms stays at most ``alpha``.

Two independent samples of sizes m and n from one distribution are ``sqrt(1/m + 1/n)`` apart in
these statistics (the two-sample empirical-process limit), so a threshold found for the halves is
rescaled to the sizes of each real comparison: reference sample against a window of n rows.

    >>> calibration = calibrate({"age": ages, "city": cities}, alpha=0.05)
    >>> calibration.threshold("age", window_rows=2000)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.spatial import distance

from shipyard.monitor.drift import filled, run_test, wasserstein_normed

__all__ = ["Calibration", "calibrate", "calibrated_score"]

SPLITS = 200
# The level is divided by 4: the reference is itself only a sample (each column's fixed sample
# error makes some columns alarm more often than the average over samples), and the fitted tail
# is approximate. Measured on 100 stationary served windows: see docs/architecture/08-monitor.md.
_MARGIN = 4.0


@dataclass(frozen=True, slots=True)
class Calibration:
    """Per-column thresholds for the split halves, and how to rescale them."""

    alpha: float
    cutoff: float
    thresholds: Mapping[str, float]
    halves: Mapping[str, tuple[int, int]]
    reference_rows: Mapping[str, int]

    def threshold(self, column: str, window_rows: int) -> float:
        a, b = self.halves[column]
        m = self.reference_rows[column]
        scale = math.sqrt((1 / m + 1 / max(window_rows, 1)) / (1 / a + 1 / b))
        return self.thresholds[column] * scale

    def to_dict(self) -> dict[str, object]:
        return {
            "alpha": self.alpha,
            "cutoff": self.cutoff,
            "thresholds": dict(self.thresholds),
            "halves": {k: list(v) for k, v in self.halves.items()},
            "reference_rows": dict(self.reference_rows),
        }


def calibrated_score(reference: np.ndarray, current: np.ndarray) -> float:
    """The statistic calibrated mode uses: normed Wasserstein for numbers, else Jensen-Shannon."""
    if reference.dtype.kind == "f":
        return wasserstein_normed(reference, current)
    return run_test("jensenshannon", reference, current)


def calibrate(
    samples: Mapping[str, np.ndarray],
    alpha: float = 0.05,
    *,
    window_rows: int | None = None,
    splits: int = SPLITS,
    seed: int = 0,
) -> Calibration:
    """Thresholds for every column of a row-aligned reference ``samples`` (missing: NaN/None).

    Each split sets ``window_rows`` rows aside as a pseudo-window (half the sample when None or
    larger) and compares them with the rest, so small windows are calibrated at their own size.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha} must be between 0 and 1")
    rng = np.random.default_rng(seed)
    names = list(samples)
    rows = len(next(iter(samples.values()))) if samples else 0
    member = np.zeros((splits, rows), dtype=bool)  # True: the row is in half A of that split
    held = rows // 2 if window_rows is None else max(2, min(window_rows, rows // 2))
    for b in range(splits):
        member[b, rng.permutation(rows)[:held]] = True
    null = np.zeros((len(names), splits))
    halves: dict[str, tuple[int, int]] = {}
    counts: dict[str, int] = {}
    for i, name in enumerate(names):
        values, mask = _present(samples[name])
        in_a = member[:, mask]
        size_a = in_a.sum(axis=1)
        if len(values) < 4 or size_a.min() < 2 or (len(values) - size_a).min() < 2:
            continue
        null[i] = _split_scores(values, in_a)
        halves[name] = (int(np.median(size_a)), int(len(values) - np.median(size_a)))
        counts[name] = len(values)
    # Each column's null is close to log-normal (a scaled sum of |bridge| increments): its
    # quantile at the Sidak level keeps the chance that any column alarms at alpha.
    cutoff = 1 - (1 - alpha) ** (1 / max(len(halves), 1))
    z = float(stats.norm.isf(cutoff / _MARGIN))
    thresholds = {}
    for i, name in enumerate(names):
        if name in halves:
            logs = np.log(np.maximum(null[i], 1e-12))
            thresholds[name] = float(np.exp(logs.mean() + z * logs.std(ddof=1)))
    return Calibration(alpha, cutoff, thresholds, halves, counts)


def _split_scores(values: np.ndarray, in_a: np.ndarray) -> np.ndarray:
    """The statistic between the halves of every split at once (one row of ``in_a`` a split)."""
    size_a = in_a.sum(axis=1, keepdims=True).astype(np.float64)
    size_b = in_a.shape[1] - size_a
    if values.dtype.kind == "f":
        # W1 of two empirical CDFs = sum over the sorted sample of |F_A - F_B| * gap
        order = np.argsort(values, kind="stable")
        gaps = np.diff(values[order])
        steps = np.where(in_a[:, order], (1 / size_a).astype(np.float32),
                         (-1 / size_b).astype(np.float32))  # fmt: skip
        w1 = np.abs(np.cumsum(steps, axis=1)[:, :-1]) @ gaps.astype(np.float32)
        return np.asarray(w1 / max(float(np.std(values)), 0.001))
    keys, codes = np.unique(values.astype(str), return_inverse=True)
    onehot = np.zeros((len(values), len(keys)))
    onehot[np.arange(len(values)), codes] = 1.0
    count_a = in_a.astype(np.float64) @ onehot
    count_b = onehot.sum(axis=0) - count_a
    p = np.array([filled(row / row.sum()) for row in count_a])
    q = np.array([filled(row / row.sum()) for row in count_b])
    return np.asarray(distance.jensenshannon(p, q, axis=1))


def _present(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if values.dtype.kind == "f":
        mask = np.isfinite(values)
    else:
        mask = np.array([v is not None for v in values], dtype=bool)
    return values[mask], mask

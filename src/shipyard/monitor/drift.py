"""Drift tests: pure functions of a reference and a current sample (scipy does the statistics).

The default choice is Evidently 0.7's, so decisions agree with it:

    reference rows <= 1000   numeric (> 5 values): K-S p < 0.05
                             numeric (<= 5 values) and categorical: chi-square p < 0.05
                             categorical with 2 values: Z-test for proportions p < 0.05
    reference rows  > 1000   numeric (> 5 values): Wasserstein / std(reference) >= 0.1
                             otherwise: Jensen-Shannon distance >= 0.1

``psi`` (>= 0.1 over the reference's quantile bins) and each test by name are options; the
calibrated mode (``calibrate.py``) replaces fixed thresholds with bootstrapped ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats
from scipy.spatial import distance

__all__ = [
    "ColumnDrift",
    "DriftMethod",
    "TestName",
    "choose_test",
    "filled",
    "is_drift",
    "run_test",
    "wasserstein_normed",
]

DriftMethod = Literal["auto", "ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi",
                      "calibrated"]  # fmt: skip
TestName = Literal["ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi"]
P_VALUE_TESTS: frozenset[TestName] = frozenset({"ks", "chisquare", "z"})
DEFAULT_THRESHOLD: dict[TestName, float] = {
    "ks": 0.05,
    "chisquare": 0.05,
    "z": 0.05,
    "wasserstein": 0.1,
    "jensenshannon": 0.1,
    "psi": 0.1,
}
_SKETCH = 8192


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    """One column's test in one window: the score, the threshold and the decision."""

    column: str
    test: str
    score: float
    threshold: float
    drifted: bool

    def to_dict(self) -> dict[str, object]:
        return {"column": self.column, "test": self.test, "score": self.score,
                "threshold": self.threshold, "drifted": self.drifted}  # fmt: skip


def choose_test(
    reference_rows: int, kind: Literal["numeric", "categorical"], distinct: int
) -> TestName:
    """Evidently 0.7's default test for a column (``distinct``: values in reference + current)."""
    small = reference_rows <= 1000
    if kind == "numeric" and distinct > 5:
        return "ks" if small else "wasserstein"
    if small:
        return "chisquare" if kind == "numeric" or distinct > 2 else "z"
    return "jensenshannon"


def run_test(test: TestName, reference: np.ndarray, current: np.ndarray) -> float:
    """The test's score: a p-value (ks, chisquare, z) or a distance (the others)."""
    if test == "ks":
        return float(stats.ks_2samp(reference, current).pvalue)
    if test == "wasserstein":
        return wasserstein_normed(reference, current)
    if test == "psi":
        return psi(reference, current)
    _, ref_counts, cur_counts = _category_counts(reference, current)
    if test == "chisquare":
        expected = ref_counts * (cur_counts.sum() / ref_counts.sum())
        return float(stats.chisquare(cur_counts, expected).pvalue)
    if test == "z":
        return _z_test(ref_counts, cur_counts)
    ref_p, cur_p = filled(ref_counts / ref_counts.sum()), filled(cur_counts / cur_counts.sum())
    return float(distance.jensenshannon(ref_p, cur_p))


def is_drift(test: TestName, score: float, threshold: float) -> bool:
    return score < threshold if test in P_VALUE_TESTS else score >= threshold


def wasserstein_normed(reference: np.ndarray, current: np.ndarray) -> float:
    """Wasserstein-1 distance in units of the reference's standard deviation (at least 0.001).

    A current sample larger than 8192 values is summarized by 8192 evenly spaced order
    statistics first (one sort instead of scipy's three; the distance moves by < 1e-3 std).
    """
    norm = max(float(np.std(reference)), 0.001)
    return float(stats.wasserstein_distance(reference, sketch(current))) / norm


def sketch(values: np.ndarray) -> np.ndarray:
    """``values`` itself when small, else ``_SKETCH`` evenly spaced order statistics of it."""
    if len(values) <= _SKETCH:
        return values
    ordered = np.sort(values)
    positions = (np.arange(_SKETCH) + 0.5) * (len(ordered) / _SKETCH)
    return ordered[positions.astype(np.int64)]


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """Population stability index over the reference's quantile bins (empty bins filled)."""
    if reference.dtype.kind not in "fiu":
        _, ref_counts, cur_counts = _category_counts(reference, current)
    else:
        edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
        edges[0], edges[-1] = -np.inf, np.inf
        ref_counts = np.histogram(reference, edges)[0].astype(np.float64)
        cur_counts = np.histogram(current, edges)[0].astype(np.float64)
    ref_p, cur_p = filled(ref_counts / ref_counts.sum()), filled(cur_counts / cur_counts.sum())
    return float(np.sum((ref_p - cur_p) * np.log(ref_p / cur_p)))


def _category_counts(
    reference: np.ndarray, current: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ref_keys, ref_n = np.unique(reference, return_counts=True)
    cur_keys, cur_n = np.unique(current, return_counts=True)
    keys = np.union1d(ref_keys, cur_keys)
    ref_counts = np.zeros(len(keys))
    cur_counts = np.zeros(len(keys))
    ref_counts[np.searchsorted(keys, ref_keys)] = ref_n
    cur_counts[np.searchsorted(keys, cur_keys)] = cur_n
    return keys, ref_counts, cur_counts


def filled(percents: np.ndarray) -> np.ndarray:
    """Empty bins get a tiny share (as Evidently does) so logs and ratios stay finite."""
    nonzero = percents[percents != 0]
    fill = 0.0001 if not len(nonzero) or nonzero.min() > 0.0001 else nonzero.min() / 10**6
    return np.where(percents == 0, fill, percents)


def _z_test(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    if len(ref_counts) == 1:
        return 1.0
    n1, n2 = ref_counts.sum(), cur_counts.sum()
    p1, p2 = ref_counts[0] / n1, cur_counts[0] / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    denominator = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if denominator == 0:
        return 1.0
    return float(2 * stats.norm.sf(abs((p1 - p2) / denominator)))

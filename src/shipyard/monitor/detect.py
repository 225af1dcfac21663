"""One column of one window against its reference: the drift test and the quality counts."""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.monitor.calibrate import Calibration, calibrated_score
from shipyard.monitor.drift import (
    DEFAULT_THRESHOLD,
    ColumnDrift,
    DriftMethod,
    TestName,
    choose_test,
    is_drift,
    run_test,
)
from shipyard.monitor.reference import ReferenceColumn
from shipyard.monitor.results import ColumnQuality

__all__ = ["column_drift", "column_quality", "current_values"]


def current_values(ref: ReferenceColumn, column: pa.ChunkedArray | None) -> np.ndarray:
    """The window's values of a column (NaN / None for missing), typed like the reference."""
    if column is None:
        return np.zeros(0) if ref.kind == "numeric" else np.zeros(0, dtype=object)
    if ref.kind == "numeric":
        if not pa.types.is_floating(column.type) and not pa.types.is_integer(column.type):
            column = pc.cast(column, pa.float64(), safe=False)
        return np.asarray(column.to_numpy(), dtype=np.float64)
    return np.asarray(pc.cast(column, pa.string()).to_numpy(zero_copy_only=False), dtype=object)


def column_quality(ref: ReferenceColumn, values: np.ndarray) -> ColumnQuality:
    """Missing values, values outside the reference's range and categories it never had."""
    if ref.kind == "numeric":
        finite = values[np.isfinite(values)]
        out = 0
        if ref.minimum is not None and ref.maximum is not None:
            out = int(np.count_nonzero((finite < ref.minimum) | (finite > ref.maximum)))
        return ColumnQuality(ref.name, len(values) - len(finite), out, 0)
    present = values[values != None]  # noqa: E711 (elementwise on an object array)
    unseen = 0
    if ref.categories is not None and len(present):
        known = np.isin(present.astype(str), np.array(sorted(ref.categories), dtype=str))
        unseen = int(np.count_nonzero(~known))
    return ColumnQuality(ref.name, len(values) - len(present), 0, unseen)


def column_drift(
    ref: ReferenceColumn,
    values: np.ndarray,
    method: DriftMethod,
    calibration: Calibration | None,
) -> ColumnDrift | None:
    """The column's drift test in this window, or None when either side has no values."""
    reference = ref.present()
    current = _present(ref, values)
    if not len(reference) or not len(current):
        return None
    if method == "calibrated":
        if calibration is None or ref.log_column not in calibration.thresholds:
            return None
        ref_values = reference if ref.kind == "numeric" else reference.astype(str)
        score = calibrated_score(ref_values, current)
        threshold = calibration.threshold(ref.log_column, len(current))
        return ColumnDrift(ref.name, "calibrated", score, threshold, score >= threshold)
    test = _test_for(ref, reference, current, method)
    if ref.kind == "categorical":
        reference = ref.categorical_reference()
    elif test in ("chisquare", "z", "jensenshannon"):
        reference, current = reference.astype(str), current.astype(str)
    score = run_test(test, reference, current)
    if math.isnan(score):
        return None
    threshold = DEFAULT_THRESHOLD[test]
    return ColumnDrift(ref.name, test, score, threshold, is_drift(test, score, threshold))


def _present(ref: ReferenceColumn, values: np.ndarray) -> np.ndarray:
    if ref.kind == "numeric":
        return np.asarray(values[np.isfinite(values)])
    return np.asarray(values[values != None].astype(str))  # noqa: E711


def _test_for(
    ref: ReferenceColumn, reference: np.ndarray, current: np.ndarray, method: DriftMethod
) -> TestName:
    if method not in ("auto", "calibrated"):
        return cast(TestName, method)
    reference_distinct = len(np.unique(reference))
    if ref.kind == "numeric" and reference_distinct > 5:
        distinct = reference_distinct
    else:
        distinct = len(np.union1d(np.unique(reference), np.unique(current)))
    return choose_test(ref.row_count, ref.kind, distinct)

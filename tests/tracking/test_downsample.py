"""``downsample``: at most ``max_points`` points that keep each bucket's extremes."""

from __future__ import annotations

import math

import pytest

from shipyard.tracking.downsample import downsample


def test_a_history_that_fits_is_returned_whole_with_nan_as_none() -> None:
    points = [(0, 1.0), (1, math.nan), (2, 3.0)]
    assert downsample(points, 10) == [(0, 1.0), (1, None), (2, 3.0)]


@pytest.mark.parametrize("max_points", [2, 3, 100, 999, 1000])
def test_a_long_history_is_bounded_and_keeps_its_extremes(max_points: int) -> None:
    points = [(step, math.sin(step / 50)) for step in range(100_000)]
    points[77_777] = (77_777, 50.0)  # a spike
    points[12_345] = (12_345, -50.0)
    kept = downsample(points, max_points)
    assert 2 <= len(kept) <= max_points
    values = [v for _, v in kept]
    assert max(values) == 50.0 and min(values) == -50.0
    steps = [s for s, _ in kept]
    assert steps == sorted(steps) and steps[0] >= 0 and steps[-1] <= 99_999


def test_sparse_steps_and_an_all_nan_bucket() -> None:
    points = [(0, 1.0), *[(s, math.nan) for s in range(5000, 5100)], (10_000, 2.0)]
    kept = downsample(points, 6)  # buckets [0, 3333), [3333, 6667), [6667, 10000]
    assert kept == [(0, 1.0), (5000, None), (10_000, 2.0)]  # the NaN bucket is a gap


def test_max_points_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        downsample([(0, 1.0)], 1)

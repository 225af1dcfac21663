"""Downsample a metric's history for a chart: the smallest and largest value of each step bucket.

    >>> downsample([(s, float(s % 7)) for s in range(10_000)], 200)   # at most 200 points

The steps are cut into ``max_points // 2`` equal ranges; each range keeps its minimum and its
maximum (in step order), so spikes survive and the chart's envelope is the full history's.
A history that already fits is returned whole. NaN values are kept as ``None`` only when the
whole bucket is NaN (a gap in the chart).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["MAX_POINTS", "Point", "downsample"]

MAX_POINTS = 10_000
"""The most points one downsampled history may ask for."""

Point = tuple[int, float | None]


def downsample(points: Sequence[tuple[int, float]], max_points: int) -> list[Point]:
    """At most ``max_points`` (>= 2) of ``points`` (``(step, value)`` in step order)."""
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    if len(points) <= max_points:
        return [(step, None if math.isnan(value) else value) for step, value in points]
    buckets = max_points // 2
    first, last = points[0][0], points[-1][0]
    span = last - first + 1
    kept: list[Point] = []
    start = 0
    for bucket in range(buckets):
        upper = first + (span * (bucket + 1)) // buckets  # steps below this are in the bucket
        end = start
        while end < len(points) and (points[end][0] < upper or bucket == buckets - 1):
            end += 1
        if end > start:
            kept.extend(_extremes(points[start:end]))
        start = end
    return kept


def _extremes(bucket: Sequence[tuple[int, float]]) -> list[Point]:
    """The bucket's minimum and maximum in step order (one point if they coincide)."""
    real = [(step, value) for step, value in bucket if not math.isnan(value)]
    if not real:
        return [(bucket[0][0], None)]
    low = min(real, key=lambda point: point[1])
    high = max(real, key=lambda point: point[1])
    if low is high:
        return [low]
    return sorted((low, high))

"""The reference a window is compared with, built from the version's saved profile alone.

Each profiled feature (and prediction) becomes a ``ReferenceColumn`` naming the log column it
is compared with: the profile's name when the log has it, else by position (a tensor model whose
profile came from a DataFrame logs ``in.0``, ``in.1``, ...). A version-1 profile has no sample,
so one is rebuilt from its histogram (bin midpoints) and a note says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from shipyard.models.profile import (
    SAMPLE_ROWS,
    CategoricalProfile,
    NumericProfile,
    ReferenceProfile,
)
from shipyard.monitor.flat_rows import INPUT_PREFIX, OUTPUT_PREFIX

__all__ = ["Reference", "ReferenceColumn", "build_reference"]


@dataclass(frozen=True, slots=True)
class ReferenceColumn:
    """One reference column: its sample, its range or categories, and the log column to test."""

    name: str
    log_column: str
    kind: Literal["numeric", "categorical"]
    sample: np.ndarray  # float64 with NaN for numbers, object (str / None) for categories
    row_count: int
    minimum: float | None = None
    maximum: float | None = None
    sketch: np.ndarray | None = None  # the whole reference's quantile function (numbers)
    std: float | None = None  # the whole reference's population standard deviation
    categories: frozenset[str] | None = None  # None: too many to know them all
    frequencies: dict[str, int] | None = None

    def present(self) -> np.ndarray:
        """The sample without missing values (strings for categories)."""
        if self.kind == "numeric":
            return np.asarray(self.sample[np.isfinite(self.sample)])
        return np.array([v for v in self.sample if v is not None], dtype=str)

    def categorical_reference(self) -> np.ndarray:
        """The whole reference as values when its category counts are complete, else the sample."""
        if self.frequencies is None:
            return self.present()
        return np.repeat(
            np.array(list(self.frequencies), dtype=str), list(self.frequencies.values())
        )


@dataclass(frozen=True, slots=True)
class Reference:
    """Features and predictions to compare, and what the profile could not provide."""

    row_count: int
    features: tuple[ReferenceColumn, ...]
    predictions: tuple[ReferenceColumn, ...]
    notes: tuple[str, ...]


def build_reference(profile: ReferenceProfile, log_columns: Sequence[str]) -> Reference:
    """Map ``profile`` onto the columns a log holds (``in.*`` and ``out.*``)."""
    notes: list[str] = []
    if profile.version < 2:
        notes.append(
            "this version's profile predates samples (profile v1): drift is tested against a "
            "sample rebuilt from its histogram; save a new version with reference_data=... for "
            "exact tests and prediction drift"
        )
    inputs = [c for c in log_columns if c.startswith(INPUT_PREFIX)]
    outputs = [c for c in log_columns if c.startswith(OUTPUT_PREFIX)]
    features = _mapped(profile.features, inputs, INPUT_PREFIX, profile.row_count, notes)
    predictions: tuple[ReferenceColumn, ...] = ()
    if profile.predictions is None:
        if profile.version >= 2:
            notes.append("the profile holds no predictions: prediction drift is not tested")
    else:
        predictions = _mapped(profile.predictions, outputs, OUTPUT_PREFIX, profile.row_count, notes)
    return Reference(profile.row_count, features, predictions, tuple(notes))


def _mapped(
    profiles: Sequence[NumericProfile | CategoricalProfile],
    columns: Sequence[str],
    prefix: str,
    row_count: int,
    notes: list[str],
) -> tuple[ReferenceColumn, ...]:
    by_name = all(prefix + p.name in columns for p in profiles)
    if not by_name and len(columns) == len(profiles):
        names = list(columns)
    elif by_name:
        names = [prefix + p.name for p in profiles]
    else:
        if columns:
            wanted = [p.name for p in profiles][:5]
            notes.append(
                f"the log's {prefix}* columns {list(columns)[:5]} do not match the profile's "
                f"{wanted}: not compared"
            )
        return ()
    return tuple(_column(p, name, row_count) for p, name in zip(profiles, names, strict=True))


def _column(
    profile: NumericProfile | CategoricalProfile, log_column: str, row_count: int
) -> ReferenceColumn:
    if isinstance(profile, NumericProfile):
        sample = np.array([np.nan if v is None else v for v in profile.sample], dtype=np.float64)
        if not len(sample) and profile.histogram is not None:
            sample = _from_histogram(profile)
        sketch = np.asarray(profile.quantile_sketch) if profile.quantile_sketch else None
        std = None
        if profile.std is not None and profile.count > 1:
            std = profile.std * float(np.sqrt((profile.count - 1) / profile.count))
        return ReferenceColumn(profile.name, log_column, "numeric", sample,
                               row_count, profile.min, profile.max, sketch, std)  # fmt: skip
    complete = profile.other == 0
    sample = np.array(list(profile.sample), dtype=object)
    if not len(sample):
        sample = np.repeat(np.array(list(profile.frequencies), dtype=object),
                           list(profile.frequencies.values()))  # fmt: skip
    return ReferenceColumn(
        profile.name,
        log_column,
        "categorical",
        sample,
        row_count,
        categories=frozenset(profile.frequencies) if complete else None,
        frequencies=dict(profile.frequencies) if complete else None,
    )


def _from_histogram(profile: NumericProfile) -> np.ndarray:
    if profile.histogram is None:
        return np.zeros(0)
    edges = np.asarray(profile.histogram.edges)
    counts = np.asarray(profile.histogram.counts, dtype=np.float64)
    share = np.round(counts / max(counts.sum(), 1) * min(SAMPLE_ROWS, int(counts.sum()))).astype(
        int
    )
    return np.repeat((edges[:-1] + edges[1:]) / 2, share)

"""A reference profile of the training data: per-feature summary statistics for drift monitoring.

Numeric features get count, missing, mean, std, min, max, quantiles and a histogram with fixed bin
edges (so later data can be binned the same way); other features get their category frequencies
(the top 50, the rest summed as ``other``). Booleans are categories. NaN, None and infinities count
as missing. Array features are named by column index (``"0"``, ``"1"``, ...).

    >>> profile = profile_reference_data(df)
    >>> profile.feature("age").quantiles["p50"]
    41.0
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

from shipyard.errors import PackagingError
from shipyard.types import JSON

__all__ = [
    "PROFILE_FILE",
    "CategoricalProfile",
    "FeatureProfile",
    "Histogram",
    "NumericProfile",
    "ReferenceProfile",
    "profile_reference_data",
]

PROFILE_FILE = "profile.json"
QUANTILES = (1, 5, 25, 50, 75, 95, 99)
HISTOGRAM_BINS = 20
TOP_CATEGORIES = 50


@dataclass(frozen=True, slots=True)
class Histogram:
    """Counts per bin; ``edges`` has one more value than ``counts``."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]

    def to_dict(self) -> JSON:
        return {"edges": list(self.edges), "counts": list(self.counts)}

    @classmethod
    def from_dict(cls, data: JSON) -> Histogram:
        return cls(tuple(float(e) for e in data["edges"]), tuple(int(c) for c in data["counts"]))


@dataclass(frozen=True, slots=True)
class NumericProfile:
    """Summary of a numeric feature; statistics are None when every value is missing."""

    name: str
    count: int
    missing: int
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    quantiles: Mapping[str, float]
    histogram: Histogram | None
    kind: Literal["numeric"] = "numeric"

    def to_dict(self) -> JSON:
        return {
            "kind": self.kind,
            "name": self.name,
            "count": self.count,
            "missing": self.missing,
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "quantiles": dict(self.quantiles),
            "histogram": None if self.histogram is None else self.histogram.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: JSON) -> NumericProfile:
        histogram = data.get("histogram")
        return cls(
            name=str(data["name"]),
            count=int(data["count"]),
            missing=int(data["missing"]),
            mean=data.get("mean"),
            std=data.get("std"),
            min=data.get("min"),
            max=data.get("max"),
            quantiles={str(k): float(v) for k, v in (data.get("quantiles") or {}).items()},
            histogram=None if histogram is None else Histogram.from_dict(histogram),
        )


@dataclass(frozen=True, slots=True)
class CategoricalProfile:
    """Frequencies of a categorical feature's most common values (as strings)."""

    name: str
    count: int
    missing: int
    distinct: int
    frequencies: Mapping[str, int]
    other: int
    kind: Literal["categorical"] = "categorical"

    def to_dict(self) -> JSON:
        return {
            "kind": self.kind,
            "name": self.name,
            "count": self.count,
            "missing": self.missing,
            "distinct": self.distinct,
            "frequencies": dict(self.frequencies),
            "other": self.other,
        }

    @classmethod
    def from_dict(cls, data: JSON) -> CategoricalProfile:
        return cls(
            name=str(data["name"]),
            count=int(data["count"]),
            missing=int(data["missing"]),
            distinct=int(data["distinct"]),
            frequencies={str(k): int(v) for k, v in data["frequencies"].items()},
            other=int(data["other"]),
        )


FeatureProfile: TypeAlias = NumericProfile | CategoricalProfile


@dataclass(frozen=True, slots=True)
class ReferenceProfile:
    """The profile of a whole reference data set, one entry per feature in column order."""

    row_count: int
    features: tuple[FeatureProfile, ...]

    def feature(self, name: str) -> FeatureProfile:
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(f"no feature {name!r}; have {[f.name for f in self.features]}")

    def to_dict(self) -> JSON:
        return {"row_count": self.row_count, "features": [f.to_dict() for f in self.features]}

    @classmethod
    def from_dict(cls, data: JSON) -> ReferenceProfile:
        features: list[FeatureProfile] = []
        for item in data["features"]:
            profile_cls = NumericProfile if item.get("kind") == "numeric" else CategoricalProfile
            features.append(profile_cls.from_dict(item))
        return cls(row_count=int(data["row_count"]), features=tuple(features))

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def read(cls, path: Path) -> ReferenceProfile:
        return cls.from_dict(json.loads(path.read_text()))


def profile_reference_data(data: object) -> ReferenceProfile:
    """Profile a DataFrame, a numpy array (rows first) or a list of dicts."""
    frame = _as_frame(data)
    features = tuple(_profile_column(str(name), frame[name]) for name in frame.columns)
    return ReferenceProfile(row_count=len(frame), features=features)


def _as_frame(data: object) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, np.ndarray) and data.ndim >= 1:
        rows = data.reshape(len(data), -1) if data.ndim > 1 else data.reshape(-1, 1)
        frame = pd.DataFrame(rows, columns=[str(i) for i in range(rows.shape[1])])
    elif isinstance(data, list) and data and all(isinstance(r, Mapping) for r in data):
        frame = pd.DataFrame.from_records(data)
    else:
        raise PackagingError(
            "reference_data must be a pandas DataFrame, a numpy array or a non-empty list of "
            "dicts; "
            f"got {type(data).__name__}"
        )
    if frame.empty:
        raise PackagingError("reference_data is empty: give the training data (or a sample of it)")
    return frame


def _profile_column(name: str, column: pd.Series[Any]) -> FeatureProfile:
    is_numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if is_numeric:
        return _numeric(name, column)
    return _categorical(name, column)


def _numeric(name: str, column: pd.Series[Any]) -> NumericProfile:
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = values[np.isfinite(values)]
    missing = len(values) - len(finite)
    if not len(finite):
        return NumericProfile(name, 0, missing, None, None, None, None, {}, None)
    counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS)
    quantiles = np.percentile(finite, QUANTILES)
    return NumericProfile(
        name=name,
        count=len(finite),
        missing=missing,
        mean=float(finite.mean()),
        std=float(finite.std(ddof=1)) if len(finite) > 1 else 0.0,
        min=float(finite.min()),
        max=float(finite.max()),
        quantiles={f"p{q}": float(v) for q, v in zip(QUANTILES, quantiles, strict=True)},
        histogram=Histogram(tuple(float(e) for e in edges), tuple(int(c) for c in counts)),
    )


def _categorical(name: str, column: pd.Series[Any]) -> CategoricalProfile:
    present = column.dropna()
    counts = present.astype(str).value_counts()
    top = counts.iloc[:TOP_CATEGORIES]
    return CategoricalProfile(
        name=name,
        count=len(present),
        missing=len(column) - len(present),
        distinct=len(counts),
        frequencies={str(k): int(v) for k, v in top.items()},
        other=int(counts.iloc[TOP_CATEGORIES:].sum()),
    )

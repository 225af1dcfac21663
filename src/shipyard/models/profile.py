"""A reference profile of the training data: per-feature summary statistics for drift monitoring.

Numeric features get count, missing, mean, std, min, max, quantiles, a histogram with fixed bin
edges and one with quantile bin edges (so later data can be binned the same way); other features
get their category frequencies (the top 50, the rest summed as ``other``). Booleans are
categories. NaN, None and infinities count as missing. Array features are named by column index
(``"0"``, ``"1"``, ...). Profile version 2 adds a bounded sample of rows (the same rows for every
feature, at most ``SAMPLE_ROWS``) and the same profile of the model's predictions on those rows,
so monitoring never needs the training data again; version 1 profiles read back without them.

    >>> profile = profile_reference_data(df)
    >>> profile.feature("age").quantiles["p50"]
    41.0
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
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
    "flatten_columns",
    "profile_reference_data",
]

PROFILE_FILE = "profile.json"
PROFILE_VERSION = 2
SAMPLE_ROWS = 5000
QUANTILE_BINS = 20
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
    quantile_bins: Histogram | None = None
    sample: tuple[float | None, ...] = ()
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
            "quantile_bins": None if self.quantile_bins is None else self.quantile_bins.to_dict(),
            "sample": list(self.sample),
        }

    @classmethod
    def from_dict(cls, data: JSON) -> NumericProfile:
        histogram = data.get("histogram")
        bins = data.get("quantile_bins")
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
            quantile_bins=None if bins is None else Histogram.from_dict(bins),
            sample=tuple(None if v is None else float(v) for v in data.get("sample") or ()),
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
    sample: tuple[str | None, ...] = ()
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
            "sample": list(self.sample),
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
            sample=tuple(None if v is None else str(v) for v in data.get("sample") or ()),
        )


FeatureProfile: TypeAlias = NumericProfile | CategoricalProfile


@dataclass(frozen=True, slots=True)
class ReferenceProfile:
    """The profile of a whole reference data set, one entry per feature in column order.

    ``predictions`` profiles the model's outputs on the sampled rows (None when unknown);
    ``version`` 1 profiles (saved before samples existed) have neither samples nor predictions.
    """

    row_count: int
    features: tuple[FeatureProfile, ...]
    predictions: tuple[FeatureProfile, ...] | None = None
    version: int = PROFILE_VERSION

    def feature(self, name: str) -> FeatureProfile:
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(f"no feature {name!r}; have {[f.name for f in self.features]}")

    def with_predictions(self, outputs: Mapping[str, np.ndarray]) -> ReferenceProfile:
        """This profile plus the profile of the model's ``outputs`` on the sampled rows."""
        frame = pd.DataFrame(flatten_columns(outputs))
        columns = tuple(_profile_column(str(c), frame[c], np.arange(len(frame))) for c in frame)
        return replace(self, predictions=columns)

    def to_dict(self) -> JSON:
        data: JSON = {
            "version": self.version,
            "row_count": self.row_count,
            "features": [f.to_dict() for f in self.features],
        }
        if self.predictions is not None:
            data["predictions"] = [p.to_dict() for p in self.predictions]
        return data

    @classmethod
    def from_dict(cls, data: JSON) -> ReferenceProfile:
        predictions = data.get("predictions")
        return cls(
            row_count=int(data["row_count"]),
            features=tuple(_feature_from_dict(item) for item in data["features"]),
            predictions=None
            if predictions is None
            else tuple(_feature_from_dict(p) for p in predictions),
            version=int(data.get("version", 1)),
        )

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_dict(), separators=(",", ":")) + "\n")
        return path

    @classmethod
    def read(cls, path: Path) -> ReferenceProfile:
        return cls.from_dict(json.loads(path.read_text()))


def _feature_from_dict(item: JSON) -> FeatureProfile:
    if item.get("kind") == "numeric":
        return NumericProfile.from_dict(item)
    return CategoricalProfile.from_dict(item)


def flatten_columns(arrays: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Named 1-D columns from named arrays: ``k`` for a vector, ``k.0``, ``k.1``, ... for a
    matrix; a lone matrix input becomes ``"0"``, ``"1"``, ... as in the reference profile."""
    out: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        array = np.asarray(value)
        if array.ndim <= 1:
            out[name] = array.reshape(-1)
            continue
        matrix = array.reshape(len(array), -1)
        prefix = "" if len(arrays) == 1 and name in ("input", "inputs") else f"{name}."
        for j in range(matrix.shape[1]):
            out[f"{prefix}{j}"] = matrix[:, j]
    return out


def sample_rows(row_count: int, seed: int = 0) -> np.ndarray:
    """The (sorted) row indices of the bounded sample kept in the profile."""
    if row_count <= SAMPLE_ROWS:
        return np.arange(row_count)
    return np.sort(np.random.default_rng(seed).choice(row_count, SAMPLE_ROWS, replace=False))


def profile_reference_data(data: object) -> ReferenceProfile:
    """Profile a DataFrame, a numpy array (rows first) or a list of dicts."""
    frame = _as_frame(data)
    rows = sample_rows(len(frame))
    features = tuple(_profile_column(str(name), frame[name], rows) for name in frame.columns)
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


def _profile_column(name: str, column: pd.Series[Any], rows: np.ndarray) -> FeatureProfile:
    is_numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if is_numeric:
        return _numeric(name, column, rows)
    return _categorical(name, column, rows)


def _numeric(name: str, column: pd.Series[Any], rows: np.ndarray) -> NumericProfile:
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = values[np.isfinite(values)]
    missing = len(values) - len(finite)
    sample = tuple(float(v) if np.isfinite(v) else None for v in values[rows])
    if not len(finite):
        return NumericProfile(name, 0, missing, None, None, None, None, {}, None, None, sample)
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
        quantile_bins=_quantile_bins(finite),
        sample=sample,
    )


def _quantile_bins(finite: np.ndarray) -> Histogram:
    """Counts between the reference's quantiles (equal-mass bins; tied edges merged)."""
    edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, QUANTILE_BINS + 1)))
    if len(edges) < 2:
        edges = np.array([edges[0], edges[0]])
    counts, _ = np.histogram(finite, bins=edges)
    return Histogram(tuple(float(e) for e in edges), tuple(int(c) for c in counts))


def _categorical(name: str, column: pd.Series[Any], rows: np.ndarray) -> CategoricalProfile:
    present = column.dropna()
    picked = column.iloc[rows]
    sample = tuple(None if pd.isna(v) else str(v) for v in picked)
    counts = present.astype(str).value_counts()
    top = counts.iloc[:TOP_CATEGORIES]
    return CategoricalProfile(
        name=name,
        count=len(present),
        missing=len(column) - len(present),
        distinct=len(counts),
        frequencies={str(k): int(v) for k, v in top.items()},
        other=int(counts.iloc[TOP_CATEGORIES:].sum()),
        sample=sample,
    )

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import PackagingError
from shipyard.models.profile import (
    HISTOGRAM_BINS,
    TOP_CATEGORIES,
    CategoricalProfile,
    NumericProfile,
    ReferenceProfile,
    profile_reference_data,
)
from tests.models.conftest import Package


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    age = rng.normal(40, 10, 200)
    age[:5] = np.nan
    return pd.DataFrame(
        {
            "age": age,
            "city": [f"c{i % 60}" for i in range(199)] + [None],
            "active": [True, False] * 100,
        }
    )


def test_numeric_feature_gets_moments_quantiles_and_histogram(frame: pd.DataFrame) -> None:
    age = profile_reference_data(frame).feature("age")
    present = frame["age"].dropna().to_numpy()
    assert isinstance(age, NumericProfile)
    assert (age.count, age.missing) == (195, 5)
    assert age.mean == pytest.approx(present.mean())
    assert age.std == pytest.approx(present.std(ddof=1))
    assert (age.min, age.max) == (present.min(), present.max())
    assert list(age.quantiles) == ["p1", "p5", "p25", "p50", "p75", "p95", "p99"]
    assert age.quantiles["p50"] == pytest.approx(np.median(present))
    assert age.histogram is not None
    assert len(age.histogram.edges) == HISTOGRAM_BINS + 1
    assert sum(age.histogram.counts) == 195
    assert age.histogram.edges[0] == age.min
    assert age.histogram.edges[-1] == age.max


def test_categorical_feature_keeps_top_categories_and_sums_the_rest(frame: pd.DataFrame) -> None:
    city = profile_reference_data(frame).feature("city")
    assert isinstance(city, CategoricalProfile)
    assert (city.count, city.missing, city.distinct) == (199, 1, 60)
    assert len(city.frequencies) == TOP_CATEGORIES
    assert sum(city.frequencies.values()) + city.other == 199
    assert city.frequencies["c0"] == 4


def test_booleans_are_categories(frame: pd.DataFrame) -> None:
    active = profile_reference_data(frame).feature("active")
    assert isinstance(active, CategoricalProfile)
    assert dict(active.frequencies) == {"True": 100, "False": 100}


def test_array_features_are_named_by_column_index() -> None:
    profile = profile_reference_data(np.arange(12, dtype=np.float64).reshape(4, 3))
    assert [f.name for f in profile.features] == ["0", "1", "2"]
    assert profile.row_count == 4
    assert profile.feature("1").min == 1.0  # type: ignore[union-attr]


def test_all_missing_numeric_feature_has_no_statistics() -> None:
    profile = profile_reference_data([{"x": None, "y": 1.0}, {"x": None, "y": 2.0}])
    x = profile.feature("x")
    assert isinstance(x, CategoricalProfile | NumericProfile)
    assert (x.count, x.missing) == (0, 2)


def test_profile_round_trips_through_json(frame: pd.DataFrame) -> None:
    profile = profile_reference_data(frame)
    assert ReferenceProfile.from_dict(json.loads(json.dumps(profile.to_dict()))) == profile


def test_non_tabular_reference_data_is_refused() -> None:
    with pytest.raises(PackagingError, match="reference_data must be"):
        profile_reference_data("not data")


def test_package_model_writes_profile_json(
    package: Package, sklearn_pipeline: object, iris: tuple[pd.DataFrame, np.ndarray]
) -> None:
    manifest, folder = package(sklearn_pipeline, reference_data=iris[0])
    assert manifest.profile_path == "profile.json"
    profile = ReferenceProfile.read(folder / "profile.json")
    assert profile.row_count == 150
    assert [f.name for f in profile.features] == list(iris[0].columns)


def test_profile_keeps_a_bounded_row_aligned_sample_and_quantile_bins() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=12_000), "c": rng.choice(["a", "b"], 12_000)})
    profile = profile_reference_data(frame)
    x, c = profile.feature("x"), profile.feature("c")
    assert isinstance(x, NumericProfile) and isinstance(c, CategoricalProfile)
    assert profile.version == 2
    assert len(x.sample) == len(c.sample) == 5000
    assert x.quantile_bins is not None and sum(x.quantile_bins.counts) == 12_000
    assert max(x.quantile_bins.counts) - min(x.quantile_bins.counts) <= 2  # equal-mass bins


def test_version_1_profile_reads_back_without_sample_or_predictions() -> None:
    old = {"row_count": 3, "features": [{"kind": "numeric", "name": "x", "count": 3,
           "missing": 0, "mean": 1.0, "std": 1.0, "min": 0.0, "max": 2.0, "quantiles": {},
           "histogram": None}]}  # fmt: skip
    profile = ReferenceProfile.from_dict(old)
    assert profile.version == 1 and profile.predictions is None
    assert profile.features[0].sample == ()


def test_saved_profile_holds_the_models_predictions_on_the_sample(
    package: Package, sklearn_pipeline: object, iris: tuple[pd.DataFrame, np.ndarray]
) -> None:
    _, folder = package(sklearn_pipeline, sample_input=iris[0][:3], reference_data=iris[0])
    profile = ReferenceProfile.read(folder / "profile.json")
    assert profile.predictions is not None
    (prediction,) = profile.predictions
    assert prediction.count == 150
    assert len(prediction.sample) == 150

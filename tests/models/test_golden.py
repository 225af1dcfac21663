"""The golden sample: stored at save time, read back exactly, compared output by output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import PackagingError
from shipyard.models.golden import FLOAT_RTOL, GoldenSample, compare_outputs
from shipyard.models.loading import load_folder
from tests.models.conftest import Package


def test_save_stores_sample_and_predictions_that_reload_exactly(
    package: Package, sklearn_pipeline: object, iris: tuple[pd.DataFrame, np.ndarray]
) -> None:
    sample = iris[0].head(7)
    manifest, folder = package(sklearn_pipeline, sample_input=sample)
    assert manifest.golden_path == "golden"
    golden = GoldenSample.read(folder)
    assert list(golden.inputs) == list(sample.columns)
    np.testing.assert_array_equal(golden.inputs["sepal_length"], sample["sepal_length"])
    model = load_folder(folder)
    assert compare_outputs(golden.outputs, model.predict_named(golden.inputs)).exact
    np.testing.assert_array_equal(
        golden.outputs["predictions"],
        sklearn_pipeline.predict(sample),  # type: ignore[attr-defined]
    )


def test_no_sample_means_no_golden_sample(package: Package, sklearn_pipeline: object) -> None:
    manifest, folder = package(sklearn_pipeline)
    assert manifest.golden_path is None
    assert not (folder / "golden").exists()


def test_string_arrays_round_trip_as_objects(tmp_path: Path) -> None:
    words = np.array(["a", "bé", "c"], dtype=object)
    GoldenSample(inputs={"word": words}, outputs={"label": words}).write(tmp_path)
    read = GoldenSample.read(tmp_path)
    assert read.inputs["word"].dtype == object
    assert read.outputs["label"].tolist() == ["a", "bé", "c"]


def test_python_objects_other_than_strings_are_refused(tmp_path: Path) -> None:
    mixed = np.array(["a", None], dtype=object)
    with pytest.raises(PackagingError, match="other than strings"):
        GoldenSample(inputs={"x": mixed}, outputs={}).write(tmp_path)


def test_compare_is_exact_for_identical_outputs() -> None:
    result = compare_outputs({"p": np.array([1, 2])}, {"p": np.array([1, 2])})
    assert result.matches and result.exact


def test_compare_reports_a_changed_label() -> None:
    result = compare_outputs({"p": np.array([1, 2, 3])}, {"p": np.array([1, 0, 3])})
    assert not result.matches
    assert result.problems == ("output 'p' differs in 1 of 3 values",)


def test_compare_tolerates_float_noise_but_says_it_was_not_exact() -> None:
    want = np.array([0.5, 0.25])
    result = compare_outputs({"p": want}, {"p": want * (1 + FLOAT_RTOL / 10)})
    assert result.matches and not result.exact
    assert result.max_abs_diff["p"] > 0


def test_compare_refuses_float_drift_beyond_tolerance() -> None:
    result = compare_outputs({"p": np.array([0.5])}, {"p": np.array([0.51])})
    assert not result.matches
    assert "differs by up to" in result.problems[0]


def test_compare_reports_missing_and_reshaped_outputs() -> None:
    result = compare_outputs(
        {"a": np.zeros(2), "b": np.zeros(2)}, {"a": np.zeros((2, 1)), "c": np.zeros(2)}
    )
    assert not result.matches
    assert len(result.problems) == 3

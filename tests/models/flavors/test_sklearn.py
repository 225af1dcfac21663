from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from shipyard.models.flavors import detect_flavor
from shipyard.models.loading import load_folder
from tests.models.conftest import Package


def test_pipeline_round_trip_predicts_like_the_original(
    package: Package, sklearn_pipeline: Pipeline, iris: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, _ = iris
    manifest, folder = package(sklearn_pipeline, sample_input=frame.head())
    loaded = load_folder(folder)
    assert manifest.flavor == "sklearn"
    assert manifest.flavor_options["class"] == "Pipeline"
    np.testing.assert_array_equal(
        loaded.predict_named(frame)["predictions"], sklearn_pipeline.predict(frame)
    )


def test_forest_on_arrays_round_trip(package: Package, iris_array: np.ndarray) -> None:
    target = (iris_array[:, 2] > 3).astype(np.int64)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(iris_array, target)
    _, folder = package(forest, sample_input=iris_array[:3])
    loaded = load_folder(folder)
    np.testing.assert_array_equal(
        loaded.predict_named({"input": iris_array})["predictions"], forest.predict(iris_array)
    )


def test_pipeline_with_lambda_step_round_trips(package: Package, iris_array: np.ndarray) -> None:
    doubled = FunctionTransformer(lambda x: x * 2)
    model = Pipeline([("double", doubled), ("forest", RandomForestClassifier(n_estimators=3))])
    model.fit(iris_array, (iris_array[:, 0] > 5.8).astype(int))
    _, folder = package(model, sample_input=iris_array[:2])
    np.testing.assert_array_equal(
        load_folder(folder).predict_named({"input": iris_array})["predictions"],
        model.predict(iris_array),
    )


def test_transformer_without_predict_is_served_through_transform(
    package: Package, iris_array: np.ndarray
) -> None:
    scaler = StandardScaler().fit(iris_array)
    manifest, folder = package(scaler, sample_input=iris_array[:2])
    assert detect_flavor(scaler).name == "sklearn"
    assert manifest.flavor_options["method"] == "transform"
    np.testing.assert_allclose(
        load_folder(folder).predict_named({"input": iris_array})["predictions"],
        scaler.transform(iris_array),
    )

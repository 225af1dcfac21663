from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from shipyard.models.loading import load_folder
from tests.models.conftest import Package


def test_classifier_round_trip_returns_class_labels(
    package: Package, iris: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, target = iris
    labels = np.array(["setosa", "versicolor", "virginica"])[target]
    model = lgb.LGBMClassifier(n_estimators=5, num_leaves=4, min_child_samples=5, verbose=-1)
    model.fit(frame, labels)
    manifest, folder = package(model, sample_input=frame.head())
    assert manifest.flavor == "lightgbm"
    assert (folder / "model.txt").is_file()
    assert manifest.signature is not None
    assert manifest.signature.outputs[0].dtype == "BYTES"
    np.testing.assert_array_equal(
        load_folder(folder).predict_named(frame)["predictions"], model.predict(frame)
    )


def test_binary_classifier_round_trip(
    package: Package, iris: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, target = iris
    model = lgb.LGBMClassifier(n_estimators=5, num_leaves=4, verbose=-1).fit(frame, target == 2)
    _, folder = package(model, sample_input=frame.head())
    np.testing.assert_array_equal(
        load_folder(folder).predict_named(frame)["predictions"], model.predict(frame)
    )


def test_booster_round_trip(package: Package, iris: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, _ = iris
    params = {"objective": "regression", "num_leaves": 4, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(frame, label=frame["petal_width"]), num_boost_round=3)
    manifest, folder = package(booster, sample_input=frame.head())
    assert manifest.flavor_options["api"] == "booster"
    np.testing.assert_allclose(
        load_folder(folder).predict_named(frame)["predictions"], booster.predict(frame)
    )

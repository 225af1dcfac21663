from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb

from shipyard.models.loading import load_folder
from tests.models.conftest import Package


def test_classifier_round_trip_in_native_json(
    package: Package, iris: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, target = iris
    model = xgb.XGBClassifier(n_estimators=4, max_depth=2).fit(frame, target)
    manifest, folder = package(model, sample_input=frame.head())
    assert manifest.flavor == "xgboost"
    assert (folder / "model.json").is_file()
    assert not (folder / "model.pkl").exists()
    np.testing.assert_array_equal(
        load_folder(folder).predict_named(frame)["predictions"], model.predict(frame)
    )


def test_booster_round_trip(package: Package, iris_array: np.ndarray) -> None:
    target = iris_array[:, 0] * 2.0
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(iris_array, label=target), num_boost_round=3)
    manifest, folder = package(booster, sample_input=iris_array[:4])
    loaded = load_folder(folder)
    assert manifest.flavor_options["api"] == "booster"
    assert isinstance(loaded.native, xgb.Booster)
    np.testing.assert_allclose(
        loaded.predict_named({"input": iris_array})["predictions"],
        booster.predict(xgb.DMatrix(iris_array)),
    )

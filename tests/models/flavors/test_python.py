from __future__ import annotations

import numpy as np
import pandas as pd

from shipyard.models.flavors import detect_flavor
from shipyard.models.loading import load_folder
from tests.models.conftest import Package


class Doubler:
    """An object with a predict method."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return frame.to_numpy().sum(axis=1) * self.factor


def test_plain_function_round_trip(package: Package) -> None:
    def total(batch: np.ndarray) -> np.ndarray:
        return batch.sum(axis=1)

    batch = np.arange(6.0).reshape(2, 3)
    manifest, folder = package(total, sample_input=batch)
    assert manifest.flavor == "python"
    assert manifest.flavor_options["kind"] == "callable"
    np.testing.assert_array_equal(
        load_folder(folder).predict_named({"input": batch})["predictions"], [3, 12]
    )


def test_object_with_predict_round_trip(package: Package) -> None:
    rows = [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}]
    manifest, folder = package(Doubler(2.0), sample_input=rows)
    assert manifest.flavor_options["kind"] == "predict_method"
    assert manifest.signature is not None
    assert manifest.signature.input_names == ("a", "b")
    result = load_folder(folder).predict_named({"a": np.array([1.0]), "b": np.array([1.5])})
    np.testing.assert_array_equal(result["predictions"], [5.0])


def test_async_function_is_called_synchronously(package: Package) -> None:
    async def negate(batch: np.ndarray) -> np.ndarray:
        return -batch

    _, folder = package(negate, sample_input=np.ones((2, 2)))
    loaded = load_folder(folder)
    assert loaded.native_predict(np.ones((1, 2))).tolist() == [[-1.0, -1.0]]


def test_function_returning_a_dict_names_its_outputs(package: Package) -> None:
    def both(batch: np.ndarray) -> dict[str, np.ndarray]:
        return {"low": batch.min(axis=1), "high": batch.max(axis=1)}

    manifest, _ = package(both, sample_input=np.arange(4.0).reshape(2, 2))
    assert manifest.signature is not None
    assert manifest.signature.output_names == ("low", "high")


def test_classes_are_not_python_models() -> None:
    assert detect_flavor(Doubler(1.0)).name == "python"
    assert detect_flavor(len).name == "python"

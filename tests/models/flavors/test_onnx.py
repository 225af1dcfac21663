from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
from onnx import TensorProto, helper
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression

from shipyard.errors import PackagingError
from shipyard.models.loading import load_folder
from tests.models.conftest import Package


def _add_one_graph() -> onnx.ModelProto:
    node = helper.make_node("Add", ["input", "one"], ["output"])
    graph = helper.make_graph(
        [node],
        "add_one",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [None, 3])],
        initializer=[helper.make_tensor("one", TensorProto.FLOAT, [3], [1.0, 1.0, 1.0])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def test_handmade_graph_round_trip_keeps_output_names(package: Package) -> None:
    batch = np.arange(6, dtype=np.float32).reshape(2, 3)
    manifest, folder = package(_add_one_graph(), sample_input=batch)
    assert manifest.flavor == "onnx"
    assert manifest.signature is not None
    assert manifest.signature.output_names == ("output",)
    np.testing.assert_array_equal(
        load_folder(folder).predict_named({"input": batch})["output"], batch + 1
    )


def test_skl2onnx_classifier_matches_sklearn(
    package: Package, iris: tuple[pd.DataFrame, np.ndarray], iris_array: np.ndarray
) -> None:
    _, target = iris
    clf = LogisticRegression(max_iter=300).fit(iris_array, target)
    proto = to_onnx(clf, iris_array[:1], options={"zipmap": False}, target_opset=17)
    manifest, folder = package(proto, sample_input=iris_array[:3])
    outputs = load_folder(folder).predict_named({"input": iris_array})
    assert manifest.signature is not None
    assert set(manifest.signature.output_names) == {"label", "probabilities"}
    np.testing.assert_array_equal(outputs["label"], clf.predict(iris_array))
    np.testing.assert_allclose(outputs["probabilities"], clf.predict_proba(iris_array), atol=1e-5)


def test_path_to_onnx_file_is_packaged(package: Package, tmp_path: Path) -> None:
    path = tmp_path / "add_one.onnx"
    onnx.save(_add_one_graph(), str(path))
    manifest, folder = package(path, sample_input=np.zeros((1, 3), dtype=np.float32))
    assert manifest.flavor == "onnx"
    assert (folder / "model.onnx").read_bytes() == path.read_bytes()


def test_path_to_a_missing_onnx_file_is_refused_naming_the_path(
    package: Package, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.onnx"
    with pytest.raises(PackagingError, match=r"missing\.onnx'.*existing \.onnx file"):
        package(missing)
    with pytest.raises(PackagingError, match=r"existing \.onnx file"):
        package(str(missing))


def test_float64_input_is_cast_to_the_graph_type(package: Package) -> None:
    _, folder = package(_add_one_graph())
    result = load_folder(folder).predict_named({"input": np.ones((2, 3), dtype=np.float64)})
    np.testing.assert_array_equal(result["output"], np.full((2, 3), 2.0, dtype=np.float32))


def test_graph_with_one_input_per_column_is_fed_column_by_column(package: Package) -> None:
    node = helper.make_node("Sub", ["price", "cost"], ["margin"])
    graph = helper.make_graph(
        [node],
        "margin",
        [
            helper.make_tensor_value_info("price", TensorProto.FLOAT, [None, 1]),
            helper.make_tensor_value_info("cost", TensorProto.FLOAT, [None, 1]),
        ],
        [helper.make_tensor_value_info("margin", TensorProto.FLOAT, [None, 1])],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    rows = [{"cost": 1.0, "price": 3.0}, {"cost": 2.0, "price": 2.5}]
    manifest, folder = package(proto, sample_input=rows)
    result = load_folder(folder).predict_named(
        {"price": np.array([3.0, 2.5]), "cost": np.array([1.0, 2.0])}
    )
    assert manifest.signature is not None
    assert manifest.signature.input_kind == "columns"
    np.testing.assert_allclose(result["margin"], [[2.0], [0.5]])

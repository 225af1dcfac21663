from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from shipyard.errors import PackagingError
from shipyard.models.manifest import ModelManifest
from shipyard.models.signature import Signature, TensorSpec
from shipyard.types import DType
from tests.models.conftest import Package


def test_manifest_on_disk_equals_the_returned_manifest(
    package: Package, sklearn_pipeline: Pipeline, iris: tuple[pd.DataFrame, np.ndarray]
) -> None:
    manifest, folder = package(
        sklearn_pipeline, sample_input=iris[0].head(), metadata={"team": "x"}
    )
    assert ModelManifest.read(folder) == manifest
    assert manifest.metadata == {"team": "x"}
    assert sorted(p.name for p in folder.iterdir()) == [
        "golden",
        "model.pkl",
        "requirements.txt",
        "shipyard.json",
    ]


def test_outputs_are_inferred_by_running_the_model_on_the_sample(
    package: Package, sklearn_pipeline: Pipeline, iris: tuple[pd.DataFrame, np.ndarray]
) -> None:
    manifest, _ = package(sklearn_pipeline, sample_input=iris[0].head(3))
    assert manifest.signature is not None
    assert manifest.signature.outputs == (TensorSpec("predictions", DType.INT64, (-1,)),)


def test_without_sample_or_signature_there_is_no_signature(
    package: Package, sklearn_pipeline: Pipeline
) -> None:
    manifest, _ = package(sklearn_pipeline)
    assert manifest.signature is None


def test_explicit_signature_is_kept_as_given(package: Package, sklearn_pipeline: Pipeline) -> None:
    signature = {
        "input_kind": "columns",
        "inputs": [
            {"name": n, "dtype": "FP64"}
            for n in ("sepal_length", "sepal_width", "petal_length", "petal_width")
        ],
        "outputs": [{"name": "species", "dtype": "INT64", "shape": [-1]}],
    }
    manifest, _ = package(sklearn_pipeline, signature=signature)
    assert manifest.signature == Signature.from_dict(signature)


def test_explicit_inputs_get_outputs_from_the_sample(
    package: Package, sklearn_pipeline: Pipeline, iris: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, _ = iris
    inputs = tuple(TensorSpec(str(n), DType.FP64) for n in frame.columns)
    shuffled = frame[list(reversed(frame.columns))].head()
    manifest, _ = package(sklearn_pipeline, signature=Signature(inputs, ()), sample_input=shuffled)
    assert manifest.signature is not None
    assert manifest.signature.inputs == inputs
    assert manifest.signature.output_names == ("predictions",)


def test_unsupported_object_error_lists_supported_flavors(package: Package) -> None:
    with pytest.raises(PackagingError) as caught:
        package(object())
    message = str(caught.value)
    for supported in ("scikit-learn", "XGBoost", "LightGBM", "PyTorch", "ONNX", "callable"):
        assert supported in message


def test_model_that_fails_on_the_sample_is_refused(package: Package) -> None:
    def broken(batch: np.ndarray) -> np.ndarray:
        raise ValueError("expects 5 features")

    with pytest.raises(PackagingError, match="raised ValueError on sample_input: expects 5"):
        package(broken, sample_input=np.zeros((1, 4)))


def test_non_empty_folder_is_refused(tmp_path: Path, sklearn_pipeline: Pipeline) -> None:
    from shipyard.models.packaging import package_model

    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(PackagingError, match="not an empty folder"):
        package_model(sklearn_pipeline, tmp_path, created_by="t")


def test_metadata_must_be_json(package: Package, sklearn_pipeline: Pipeline) -> None:
    with pytest.raises(PackagingError, match="JSON values"):
        package(sklearn_pipeline, metadata={"when": object()})


def test_metadata_is_stored_as_json(package: Package, sklearn_pipeline: Pipeline) -> None:
    _, folder = package(sklearn_pipeline, metadata={"owner": "ana", "auc": 0.91})
    assert json.loads((folder / "shipyard.json").read_text())["metadata"] == {
        "auc": 0.91,
        "owner": "ana",
    }


def test_failed_packaging_leaves_no_half_folder(tmp_path: Path) -> None:
    from shipyard.models.packaging import package_model

    def broken(batch: np.ndarray) -> np.ndarray:
        raise ValueError("boom")

    new, existing = tmp_path / "new", tmp_path / "existing"
    existing.mkdir()
    for folder in (new, existing):
        with pytest.raises(PackagingError):
            package_model(broken, folder, sample_input=np.zeros((1, 1)), created_by="t")
    assert not new.exists()
    assert list(existing.iterdir()) == []

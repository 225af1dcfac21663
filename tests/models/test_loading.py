from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from shipyard.errors import IntegrityError, ModelLoadError
from shipyard.models.flavors.base import import_optional
from shipyard.models.loading import load_folder
from tests.models.conftest import Package, WriteModule, forget_module


def test_loaded_model_carries_its_manifest(
    package: Package, sklearn_pipeline: Pipeline, iris: tuple[pd.DataFrame, np.ndarray]
) -> None:
    manifest, folder = package(sklearn_pipeline, sample_input=iris[0].head())
    loaded = load_folder(folder)
    assert loaded.manifest == manifest
    assert loaded.signature == manifest.signature


def test_folder_without_manifest_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(IntegrityError, match=r"shipyard\.json is missing"):
        load_folder(tmp_path)


@pytest.mark.parametrize("absolute", [False, True])
def test_manifest_naming_a_file_outside_the_folder_is_refused(
    package: Package, sklearn_pipeline: Pipeline, tmp_path: Path, absolute: bool
) -> None:
    manifest, folder = package(sklearn_pipeline)
    outside = tmp_path / "outside.pkl"  # a loadable pickle no digest covers
    outside.write_bytes((folder / "model.pkl").read_bytes())
    where = str(outside) if absolute else os.path.relpath(outside, folder)
    replace(manifest, flavor_options={**manifest.flavor_options, "file": where}).write(folder)

    with pytest.raises(ModelLoadError, match="outside the model folder"):
        load_folder(folder)


def test_missing_model_file_gives_model_load_error(
    package: Package, sklearn_pipeline: Pipeline
) -> None:
    _, folder = package(sklearn_pipeline)
    (folder / "model.pkl").unlink()
    with pytest.raises(ModelLoadError, match=r"model\.pkl is missing"):
        load_folder(folder)


def test_missing_library_names_the_extra_to_install() -> None:
    with pytest.raises(ModelLoadError, match=r"pip install 'shipyard\[torch\]'"):
        import_optional("shipyard_no_such_module", "torch")


def test_loading_an_sklearn_model_imports_no_other_ml_library(
    package: Package, sklearn_pipeline: Pipeline, iris: tuple[pd.DataFrame, np.ndarray]
) -> None:
    _, folder = package(sklearn_pipeline, sample_input=iris[0].head())
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from shipyard.models.loading import load_folder\n"
        f"load_folder(Path({str(folder)!r}))\n"
        "print(sorted(m for m in ('torch', 'xgboost', 'lightgbm', 'onnxruntime') "
        "if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_module_the_model_needs_is_named_when_missing(
    package: Package, write_module: WriteModule
) -> None:
    scorer = write_module("scorer_gone", "def score(batch):\n    return batch\n")
    _, folder = package(scorer.score, sample_input=np.zeros((1, 1)))
    forget_module(scorer)
    (folder / "code" / "scorer_gone.py").unlink()
    with pytest.raises(ModelLoadError, match="needs module 'scorer_gone'"):
        load_folder(folder)

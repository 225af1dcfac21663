"""The model flavors Shipyard can package, in detection order (plain Python last).

An MLflow model folder is recognised first; library flavors come before scikit-learn because
XGBoost and LightGBM models are also sklearn
estimators; prompt templates (MLflow's registered prompts) come before the catch-all Python
flavor, which comes last.

    >>> detect_flavor(RandomForestClassifier().fit(X, y)).name
    'sklearn'
"""

from __future__ import annotations

from pathlib import Path

from shipyard.errors import ModelLoadError, PackagingError
from shipyard.models.flavors.base import Flavor
from shipyard.models.flavors.lightgbm import LightGBMFlavor
from shipyard.models.flavors.mlflow import MlflowFlavor
from shipyard.models.flavors.onnx import OnnxFlavor
from shipyard.models.flavors.prompt import PromptFlavor
from shipyard.models.flavors.python import PythonFlavor
from shipyard.models.flavors.pytorch import PyTorchFlavor
from shipyard.models.flavors.sklearn import SklearnFlavor
from shipyard.models.flavors.xgboost import XGBoostFlavor

__all__ = ["FLAVORS", "Flavor", "detect_flavor", "flavor_named"]

FLAVORS: tuple[Flavor, ...] = (
    MlflowFlavor(),
    XGBoostFlavor(),
    LightGBMFlavor(),
    PyTorchFlavor(),
    OnnxFlavor(),
    SklearnFlavor(),
    PromptFlavor(),
    PythonFlavor(),
)

_SUPPORTED = (
    "an MLflow model folder (shipyard.models.mlmodel.MlflowModelFolder); "
    "XGBoost and LightGBM models (sklearn API or Booster); PyTorch nn.Module or TorchScript; "
    "ONNX (onnx.ModelProto or a .onnx path); scikit-learn estimators and Pipelines; a plain Python "
    "callable, an object with a predict method, or a shipyard.models.custom.PythonModel"
)


def detect_flavor(obj: object) -> Flavor:
    """The first flavor in ``FLAVORS`` that accepts ``obj``; ``PackagingError`` lists the rest."""
    for flavor in FLAVORS:
        if flavor.detect(obj):
            return flavor
    if isinstance(obj, str | Path):
        raise PackagingError(
            f"cannot package the path {str(obj)!r}: a path is packaged only when it names an "
            f"existing .onnx file; pass the model object itself (supported are {_SUPPORTED})"
        )
    raise PackagingError(
        f"cannot package a {type(obj).__module__}.{type(obj).__qualname__}: supported are "
        f"{_SUPPORTED}"
    )


def flavor_named(name: str) -> Flavor:
    """The flavor called ``name`` (as written in a manifest)."""
    for flavor in FLAVORS:
        if flavor.name == name:
            return flavor
    raise ModelLoadError(
        f"unknown flavor {name!r}: this Shipyard loads {', '.join(f.name for f in FLAVORS)}"
    )

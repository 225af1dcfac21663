"""MLflow-format models: a folder ``mlflow.<flavor>.log_model`` wrote, kept as it is.

The folder is copied into the version under ``mlflow/``, so the mlflow client can download and load
it again (``models:/churn/3``), and Shipyard loads it with the native library its ``MLmodel``
names: a scikit-learn pickle (cloudpickle, pickle or skops), an XGBoost or LightGBM model file.
A model that only has the ``python_function`` flavor (a custom ``mlflow.pyfunc.PythonModel``)
needs mlflow itself to load, which its requirements then include.
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from shipyard.errors import ModelLoadError, PackagingError
from shipyard.models.flavors.base import folder_file, import_optional
from shipyard.models.imports import pickle_modules
from shipyard.models.manifest import FlavorName
from shipyard.models.mlmodel import MlflowModelFolder, MLmodel, read_mlmodel
from shipyard.models.pickling import load_pickle
from shipyard.models.predictor import NativePredict
from shipyard.models.requirements import third_party
from shipyard.types import JSON

__all__ = ["MlflowFlavor"]

_DIR = "mlflow"
_LOADER_PACKAGES = {
    "sklearn": ("scikit-learn",),
    "xgboost": ("xgboost", "scikit-learn"),
    "lightgbm": ("lightgbm", "scikit-learn"),
    "python_function": ("mlflow",),
}


class MlflowFlavor:
    """``MlflowModelFolder``: an MLflow model with the sklearn, xgboost, lightgbm or
    python_function flavor."""

    name: ClassVar[FlavorName] = "mlflow"
    extra: ClassVar[str | None] = None
    fork_safe: ClassVar[bool] = False  # XGBoost's and LightGBM's OpenMP threads do not fork

    def detect(self, obj: object) -> bool:
        return isinstance(obj, MlflowModelFolder)

    def save(self, obj: Any, folder: Path, options: Mapping[str, Any]) -> JSON:
        mlmodel = read_mlmodel(obj.path)
        target = folder / _DIR
        try:
            shutil.copytree(obj.path, target, symlinks=False)
        except (OSError, shutil.Error) as exc:
            raise PackagingError(f"cannot copy the MLflow model in {obj.path}: {exc}") from exc
        return {
            "dir": _DIR,
            "loader": mlmodel.loader,
            "imports": list(_pickle_imports(target, mlmodel)),
        }

    def load(self, folder: Path, options: JSON) -> tuple[Any, NativePredict]:
        root = folder_file(folder, options.get("dir", _DIR))
        try:
            mlmodel = read_mlmodel(root)
        except PackagingError as exc:
            raise ModelLoadError(str(exc)) from exc
        model = _load_native(root, mlmodel)
        predict = getattr(model, "predict", None)
        if not callable(predict):
            raise ModelLoadError(f"the MLflow model in {root} has no predict method")
        return model, predict

    def packages(self, obj: Any) -> tuple[str, ...]:
        mlmodel = read_mlmodel(obj.path)
        skops = mlmodel.flavor_conf.get("serialization_format") == "skops"
        return (*_LOADER_PACKAGES[mlmodel.loader], *(("skops",) if skops else ()))


def _model_file(root: Path, conf: JSON, key: str, default: str) -> Path:
    return folder_file(root, conf.get(key) or default)


def _pickle_imports(root: Path, mlmodel: MLmodel) -> tuple[str, ...]:
    """The third-party modules a pickled model imports (its requirements come from them)."""
    conf = mlmodel.flavor_conf
    if mlmodel.loader == "sklearn" and conf.get("serialization_format") != "skops":
        path = _model_file(root, conf, "pickled_model", "model.pkl")
    elif mlmodel.loader == "lightgbm" and not str(conf.get("data", "")).endswith(".lgb"):
        path = _model_file(root, conf, "data", "model.pkl")
    else:
        return ()
    try:
        with path.open("rb") as stream:
            return third_party(pickle_modules(stream))
    except OSError as exc:
        raise PackagingError(f"cannot read {path}: {exc}") from exc


def _load_native(root: Path, mlmodel: MLmodel) -> Any:
    conf = mlmodel.flavor_conf
    if mlmodel.loader == "sklearn":
        import_optional("sklearn", "sklearn")
        path = _model_file(root, conf, "pickled_model", "model.pkl")
        if conf.get("serialization_format") == "skops":
            return _load_skops(path, conf.get("skops_trusted_types"))
        return load_pickle(path)
    if mlmodel.loader == "xgboost":
        xgb = import_optional("xgboost", "xgboost")
        path = _model_file(root, conf, "data", "model.xgb")
        model = _model_class(conf, xgb.Booster)()
        model.load_model(str(path))
        return model
    if mlmodel.loader == "lightgbm":
        lgb = import_optional("lightgbm", "lightgbm")
        path = _model_file(root, conf, "data", "model.lgb")
        if path.suffix == ".lgb":
            return lgb.Booster(model_file=str(path))
        return load_pickle(path)
    pyfunc = import_optional("mlflow.pyfunc", None)
    return pyfunc.load_model(str(root))


def _load_skops(path: Path, trusted: Any) -> Any:
    """A skops file, allowing only skops' default types and those the ``MLmodel`` lists (as
    mlflow does): a type outside them is refused, never loaded."""
    sio = import_optional("skops.io", None)
    allowed = [str(t) for t in trusted] if isinstance(trusted, list) else None
    try:
        return sio.load(path, trusted=allowed)
    except FileNotFoundError:
        raise ModelLoadError(f"{path} is missing from the MLflow model folder") from None
    except Exception as exc:  # skops raises UntrustedTypesFoundException and plain errors
        raise ModelLoadError(f"cannot load {path.name} with skops: {exc}") from exc


def _model_class(conf: JSON, default: type) -> type:
    """The class ``model_class`` names (``xgboost.sklearn.XGBClassifier``), from that library."""
    dotted = str(conf.get("model_class") or "")
    module, _, name = dotted.rpartition(".")
    if not dotted:
        return default
    if module.partition(".")[0] not in ("xgboost", "lightgbm"):
        raise ModelLoadError(f"the MLmodel names the model class {dotted!r}, not an XGBoost class")
    found = getattr(importlib.import_module(module), name, None)
    if not isinstance(found, type):
        raise ModelLoadError(f"{module} has no class {name!r}")
    return found

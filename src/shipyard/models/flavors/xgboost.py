"""XGBoost models (sklearn API and ``Booster``), saved in XGBoost's own JSON format.

The JSON model format holds no code, so loading it is safe. A sklearn-API model is rebuilt from its
class name (``XGBClassifier``, ``XGBRegressor``, ...) and keeps its ``predict``; a ``Booster``
predicts through a ``DMatrix``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from shipyard.errors import ModelLoadError
from shipyard.models.flavors.base import folder_file, import_optional, type_module
from shipyard.models.manifest import FlavorName
from shipyard.models.predictor import NativePredict
from shipyard.types import JSON

__all__ = ["XGBoostFlavor"]

_FILE = "model.json"
Api = Literal["sklearn", "booster"]


class XGBoostFlavor:
    """``xgboost.XGBModel`` subclasses and ``xgboost.Booster``."""

    name: ClassVar[FlavorName] = "xgboost"
    extra: ClassVar[str | None] = "xgboost"
    # OpenMP threads (GNU libgomp) started by the first predict do not survive a fork.
    fork_safe: ClassVar[bool] = False

    def detect(self, obj: object) -> bool:
        if type_module(obj) != "xgboost":
            return False
        xgb = import_optional("xgboost", self.extra)
        return isinstance(obj, xgb.XGBModel | xgb.Booster)

    def save(self, obj: Any, folder: Path, options: Mapping[str, Any]) -> JSON:
        xgb = import_optional("xgboost", self.extra)
        obj.save_model(str(folder / _FILE))
        api: Api = "booster" if isinstance(obj, xgb.Booster) else "sklearn"
        return {"file": _FILE, "api": api, "class": type(obj).__name__}

    def load(self, folder: Path, options: JSON) -> tuple[Any, NativePredict]:
        xgb = import_optional("xgboost", self.extra)
        path = str(folder_file(folder, options.get("file", _FILE)))
        if options.get("api") == "booster":
            booster = xgb.Booster()
            booster.load_model(path)

            def predict(inputs: Any) -> Any:
                return booster.predict(xgb.DMatrix(inputs))

            return booster, predict
        cls = getattr(xgb, str(options.get("class")), None)
        if not isinstance(cls, type) or not issubclass(cls, xgb.XGBModel):
            raise ModelLoadError(f"xgboost has no model class {options.get('class')!r}")
        model = cls()
        model.load_model(path)
        return model, model.predict

    def packages(self, obj: Any) -> tuple[str, ...]:
        return ("xgboost", "numpy", "scipy")

"""LightGBM models (sklearn API and ``Booster``), saved in LightGBM's text model format.

The text format holds no code, so loading it is safe. A sklearn-API model is loaded back as its
``Booster``; classifiers keep their ``predict`` contract (class labels, not probabilities) through
the ``classes`` saved in the flavor options.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from shipyard.models.flavors.base import folder_file, import_optional, type_module
from shipyard.models.manifest import FlavorName
from shipyard.models.predictor import NativePredict
from shipyard.types import JSON

__all__ = ["LightGBMFlavor"]

_FILE = "model.txt"


class LightGBMFlavor:
    """``lightgbm.LGBMModel`` subclasses and ``lightgbm.Booster``."""

    name: ClassVar[FlavorName] = "lightgbm"
    extra: ClassVar[str | None] = "lightgbm"
    # OpenMP threads (GNU libgomp) started by the first predict do not survive a fork.
    fork_safe: ClassVar[bool] = False

    def detect(self, obj: object) -> bool:
        if type_module(obj) != "lightgbm":
            return False
        lgb = import_optional("lightgbm", self.extra)
        return isinstance(obj, lgb.LGBMModel | lgb.Booster)

    def save(self, obj: Any, folder: Path, options: Mapping[str, Any]) -> JSON:
        lgb = import_optional("lightgbm", self.extra)
        booster = obj if isinstance(obj, lgb.Booster) else obj.booster_
        booster.save_model(str(folder / _FILE))
        saved: JSON = {"file": _FILE, "api": "booster", "class": type(obj).__name__}
        if isinstance(obj, lgb.LGBMModel):
            saved["api"] = "sklearn"
            classes = getattr(obj, "classes_", None)
            if isinstance(obj, lgb.LGBMClassifier) and classes is not None:
                saved["classes"] = np.asarray(classes).tolist()
        return saved

    def load(self, folder: Path, options: JSON) -> tuple[Any, NativePredict]:
        lgb = import_optional("lightgbm", self.extra)
        booster = lgb.Booster(model_file=str(folder_file(folder, options.get("file", _FILE))))
        classes = options.get("classes")
        if classes is None:
            return booster, booster.predict
        labels = np.asarray(classes)

        def predict(inputs: Any) -> Any:
            scores = np.asarray(booster.predict(inputs))
            if scores.ndim == 1:  # binary: probability of the second class
                return labels[(scores > 0.5).astype(np.int64)]
            return labels[scores.argmax(axis=1)]

        return booster, predict

    def packages(self, obj: Any) -> tuple[str, ...]:
        return ("lightgbm", "numpy", "scipy")

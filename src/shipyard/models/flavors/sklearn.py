"""scikit-learn estimators and Pipelines, saved with cloudpickle.

The flavor options' ``imports`` lists the third-party top-level modules the pickle imports or
holds objects of (an ``XGBClassifier`` inside a ``Pipeline`` gives ``xgboost``): packaging pins
their distributions. The model's ``predict`` is what serving calls; a transformer without one (a
feature pipeline) is served through its ``transform``.

Loading runs pickle, which can execute code: that is why the registry verifies every file's digest
before it hands a folder to ``load_folder``. cloudpickle (rather than joblib) also saves functions
and classes defined in ``__main__``, e.g. a ``FunctionTransformer`` built in a notebook.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from shipyard.errors import ModelLoadError
from shipyard.models.flavors.base import folder_file, import_optional
from shipyard.models.manifest import FlavorName
from shipyard.models.pickling import dump_pickle, load_pickle
from shipyard.models.predictor import NativePredict
from shipyard.models.requirements import third_party
from shipyard.types import JSON

__all__ = ["SklearnFlavor"]

_FILE = "model.pkl"
Method = Literal["predict", "transform"]
_METHODS: tuple[Method, ...] = ("predict", "transform")


class SklearnFlavor:
    """Any scikit-learn ``BaseEstimator`` with ``predict`` or ``transform`` (Pipelines included)."""

    name: ClassVar[FlavorName] = "sklearn"
    extra: ClassVar[str | None] = "sklearn"
    fork_safe: ClassVar[bool] = True  # serve still checks that loading started no threads

    def detect(self, obj: object) -> bool:
        if not any(c.__module__.startswith("sklearn.") for c in type(obj).__mro__):
            return False
        base = import_optional("sklearn.base", self.extra)
        return isinstance(obj, base.BaseEstimator) and _method(obj) is not None

    def save(self, obj: Any, folder: Path, options: Mapping[str, Any]) -> JSON:
        imports = dump_pickle(obj, folder / _FILE)
        return {
            "file": _FILE,
            "serialization": "cloudpickle",
            "class": type(obj).__name__,
            "method": _method(obj),
            "imports": list(third_party(imports)),
        }

    def load(self, folder: Path, options: JSON) -> tuple[Any, NativePredict]:
        import_optional("sklearn", self.extra)
        model = load_pickle(folder_file(folder, options.get("file", _FILE)))
        method: Method = "transform" if options.get("method") == "transform" else "predict"
        predict = getattr(model, method, None)
        if not callable(predict):
            raise ModelLoadError(f"{type(model).__name__} has no {method} method")
        return model, predict

    def packages(self, obj: Any) -> tuple[str, ...]:
        return ("scikit-learn",)  # the rest comes from the pickle's "imports"


def _method(obj: object) -> Method | None:
    """``predict`` when the estimator has one, else ``transform``, else None."""
    return next((m for m in _METHODS if callable(getattr(obj, m, None))), None)

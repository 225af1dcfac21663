"""Plain Python models: a callable, an object with ``predict``, or a ``PythonModel``.

Saved with cloudpickle (see ``models/pickling.py``); the options' ``imports`` are the third-party
modules the pickle needs, from which packaging pins requirements. A ``PythonModel`` is returned
unloaded: ``load_folder`` gives it its ``ModelContext`` and runs its ``load``. An ``async def``
predict is wrapped into a sync callable.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from shipyard.models.custom import PythonModel, as_sync
from shipyard.models.flavors.base import folder_file
from shipyard.models.manifest import FlavorName
from shipyard.models.pickling import dump_pickle, load_pickle
from shipyard.models.predictor import NativePredict
from shipyard.models.requirements import third_party
from shipyard.types import JSON

__all__ = ["PythonFlavor"]

_FILE = "model.pkl"
PythonKind = Literal["python_model", "predict_method", "callable"]


class PythonFlavor:
    """The catch-all flavor: anything callable or with a callable ``predict``."""

    name: ClassVar[FlavorName] = "python"
    extra: ClassVar[str | None] = None
    fork_safe: ClassVar[bool] = True  # serve still checks that loading started no threads

    def detect(self, obj: object) -> bool:
        if isinstance(obj, type):
            return False
        return (
            isinstance(obj, PythonModel) or callable(getattr(obj, "predict", None)) or callable(obj)
        )

    def save(self, obj: Any, folder: Path, options: Mapping[str, Any]) -> JSON:
        imports = dump_pickle(obj, folder / _FILE)
        kind: PythonKind = "callable"
        if isinstance(obj, PythonModel):
            kind = "python_model"
        elif callable(getattr(obj, "predict", None)):
            kind = "predict_method"
        return {
            "file": _FILE,
            "serialization": "cloudpickle",
            "kind": kind,
            "imports": list(third_party(imports)),
        }

    def load(self, folder: Path, options: JSON) -> tuple[Any, NativePredict]:
        obj = load_pickle(folder_file(folder, options.get("file", _FILE)))
        if isinstance(obj, PythonModel):
            return obj, _not_activated
        predict = getattr(obj, "predict", None)
        return obj, as_sync(predict if callable(predict) else obj)

    def packages(self, obj: Any) -> tuple[str, ...]:
        return ("cloudpickle",)


def _not_activated(inputs: Any) -> Any:
    raise RuntimeError("PythonModel.load has not run: load the model with load_folder()")

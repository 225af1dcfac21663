"""MLflow-format model folders (an ``MLmodel`` file beside the model's files), read without mlflow.

``MlflowModelFolder`` is what ``package_model`` takes to make a Shipyard version of a model that
``mlflow.<flavor>.log_model`` wrote: the ``mlflow`` flavor (``flavors/mlflow.py``) keeps the folder
as it is and loads it with the native library. ``read_mlmodel`` gives what packaging records:

- the flavor that loads it natively: ``sklearn``, ``xgboost``, ``lightgbm``, or ``python_function``
  (a custom ``mlflow.pyfunc`` model, which needs mlflow itself to load);
- the signature, converted from MLflow's column or tensor schema;
- the input example (``input_example.json``) as a DataFrame or ndarray: the golden sample;
- the requirements that ``requirements.txt`` pins.

    >>> mlmodel = read_mlmodel(Path("mlruns/1/models/m-1/artifacts"))
    >>> mlmodel.loader, mlmodel.signature.input_kind
    ('sklearn', 'columns')
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from shipyard.errors import PackagingError
from shipyard.models.signature import Signature, TensorSpec
from shipyard.types import JSON, DType

__all__ = ["MLMODEL_FILE", "Loader", "MLmodel", "MlflowModelFolder", "read_mlmodel"]

MLMODEL_FILE = "MLmodel"
Loader = Literal["sklearn", "xgboost", "lightgbm", "python_function"]
_NATIVE: tuple[Loader, ...] = ("xgboost", "lightgbm", "sklearn")
_COLUMN_TYPES = {
    "double": DType.FP64,
    "float": DType.FP32,
    "long": DType.INT64,
    "integer": DType.INT32,
    "boolean": DType.BOOL,
    "string": DType.BYTES,
    "binary": DType.BYTES,
}
_NUMPY_TYPES = {
    "float64": DType.FP64,
    "float32": DType.FP32,
    "int64": DType.INT64,
    "int32": DType.INT32,
    "bool": DType.BOOL,
    "object": DType.BYTES,
}


@dataclass(frozen=True, slots=True)
class MlflowModelFolder:
    """A folder holding an MLflow model (its ``MLmodel`` file at the root)."""

    path: Path


@dataclass(frozen=True, slots=True)
class MLmodel:
    """What an ``MLmodel`` file says, in Shipyard's terms."""

    loader: Loader
    flavor_conf: JSON
    """The loader flavor's section of ``MLmodel`` (file names, model class, format)."""
    signature: Signature | None
    input_example: pd.DataFrame | np.ndarray[Any, Any] | None
    requirements: tuple[str, ...]
    run_id: str | None
    model_id: str | None


def read_mlmodel(folder: Path) -> MLmodel:
    """Read ``folder/MLmodel`` (and its input example and requirements); ``PackagingError`` when
    it is missing, malformed, or has no flavor Shipyard loads."""
    import yaml

    path = folder / MLMODEL_FILE
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise PackagingError(
            f"{folder} has no {MLMODEL_FILE} file: it is not an MLflow model"
        ) from None
    except (OSError, UnicodeError, yaml.YAMLError) as exc:
        raise PackagingError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("flavors"), dict):
        raise PackagingError(f"{path} has no flavors: it is not an MLflow model")
    flavors: dict[str, Any] = data["flavors"]
    loader = next((name for name in _NATIVE if name in flavors), None)
    if loader is None and "python_function" in flavors:
        loader = "python_function"
    if loader is None:
        raise PackagingError(
            f"{path} has the flavors {', '.join(map(str, flavors)) or 'none'}; Shipyard loads "
            "MLflow models with the sklearn, xgboost, lightgbm or python_function flavor"
        )
    conf = flavors[loader] if isinstance(flavors[loader], dict) else {}
    return MLmodel(
        loader=loader,
        flavor_conf=conf,
        signature=_signature(data.get("signature")),
        input_example=_input_example(folder, data.get("saved_input_example_info")),
        requirements=_requirements(folder / "requirements.txt"),
        run_id=_text(data.get("run_id")),
        model_id=_text(data.get("model_id")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _signature(raw: Any) -> Signature | None:
    """MLflow's signature as a Shipyard one; None when absent or of a kind Shipyard has no
    equivalent for (then packaging infers it from the input example)."""
    if not isinstance(raw, dict) or not raw.get("inputs"):
        return None
    try:
        inputs = json.loads(raw["inputs"])
        outputs = json.loads(raw["outputs"]) if raw.get("outputs") else []
    except (TypeError, ValueError):
        return None
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        return None
    if all(isinstance(i, dict) and i.get("type") == "tensor" for i in inputs):
        specs = [_tensor_spec(item, "input") for item in inputs[:1]] if len(inputs) == 1 else []
        kind: Literal["columns", "tensor"] = "tensor"
    else:
        specs = [_column_spec(item) for item in inputs]
        kind = "columns"
    out = [_output_spec(item, len(outputs)) for item in outputs]
    if not specs or None in specs or None in out:
        return None
    try:
        return Signature(
            inputs=tuple(s for s in specs if s), outputs=tuple(o for o in out if o), input_kind=kind
        )
    except PackagingError:
        return None


def _column_spec(item: Any) -> TensorSpec | None:
    if not isinstance(item, dict) or not item.get("name") or item.get("type") not in _COLUMN_TYPES:
        return None
    dtype = _COLUMN_TYPES[item["type"]]
    nullable = item.get("required") is False and (dtype is DType.BYTES or dtype.name[:2] == "FP")
    return TensorSpec(str(item["name"]), dtype, (-1,), nullable)


def _tensor_spec(item: Any, name: str) -> TensorSpec | None:
    spec = item.get("tensor-spec") if isinstance(item, dict) else None
    if not isinstance(spec, dict) or spec.get("dtype") not in _NUMPY_TYPES:
        return None
    shape = spec.get("shape") or [-1]
    if not isinstance(shape, list) or not all(isinstance(d, int) for d in shape):
        return None
    return TensorSpec(str(item.get("name") or name), _NUMPY_TYPES[spec["dtype"]], tuple(shape))


def _output_spec(item: Any, count: int) -> TensorSpec | None:
    """An output column (``{"type": "long"}``, unnamed when it is the only one) or tensor."""
    name = item.get("name") if isinstance(item, dict) else None
    if not name and count > 1:
        return None
    name = str(name or "predictions")
    if isinstance(item, dict) and item.get("type") == "tensor":
        return _tensor_spec(item, name)
    if not isinstance(item, dict) or item.get("type") not in _COLUMN_TYPES:
        return None
    return TensorSpec(name, _COLUMN_TYPES[item["type"]], (-1,))


def _input_example(folder: Path, info: Any) -> pd.DataFrame | np.ndarray[Any, Any] | None:
    """The saved input example: a DataFrame (``type: dataframe``) or an ndarray."""
    if not isinstance(info, dict) or not isinstance(info.get("artifact_path"), str):
        return None
    path = folder / info["artifact_path"]
    if path.resolve().parent != folder.resolve() or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeError, ValueError):
        return None
    if info.get("type") == "dataframe":
        if isinstance(data, dict) and "columns" in data and "data" in data:
            return pd.DataFrame(data["data"], columns=data["columns"])
        if isinstance(data, list) and all(isinstance(row, dict) for row in data):
            return pd.DataFrame(data)
        return None
    if info.get("type") == "ndarray":
        values = data.get("inputs") if isinstance(data, dict) else data
        try:
            return np.asarray(values)
        except (TypeError, ValueError):
            return None
    return None


def _requirements(path: Path) -> tuple[str, ...]:
    """``requirements.txt``'s requirement lines (comments, options and blanks dropped)."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeError):
        return ()
    kept = (line.split("#", 1)[0].strip() for line in lines)
    return tuple(line for line in kept if line and not line.startswith("-"))

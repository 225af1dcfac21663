"""ONNX models (an ``onnx.ModelProto`` or a path to a ``.onnx`` file), run with onnxruntime.

The ONNX format holds no Python code. A ``tensor`` input is fed to the graph's single input,
cast to its element type; a table is fed column by column when the graph has one input per column,
else as one 2-D array. Outputs keep the graph's output names.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from shipyard.errors import ModelLoadError
from shipyard.models.flavors.base import folder_file, import_optional, type_module
from shipyard.models.manifest import FlavorName
from shipyard.models.predictor import NativePredict, is_dataframe
from shipyard.types import JSON

__all__ = ["OnnxFlavor"]

_FILE = "model.onnx"
_ORT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


class OnnxFlavor:
    """``onnx.ModelProto`` objects and paths to ``.onnx`` files."""

    name: ClassVar[FlavorName] = "onnx"
    extra: ClassVar[str | None] = "onnx"
    # An InferenceSession starts its thread pools at load, and a fork copies none of them.
    fork_safe: ClassVar[bool] = False

    def detect(self, obj: object) -> bool:
        if isinstance(obj, str | Path):
            return str(obj).endswith(".onnx") and Path(obj).is_file()
        return type_module(obj) == "onnx" and type(obj).__name__ == "ModelProto"

    def save(self, obj: Any, folder: Path, options: Mapping[str, Any]) -> JSON:
        if isinstance(obj, str | Path):
            shutil.copyfile(obj, folder / _FILE)
        else:
            (folder / _FILE).write_bytes(obj.SerializeToString())
        return {"file": _FILE}

    def load(self, folder: Path, options: JSON) -> tuple[Any, NativePredict]:
        ort = import_optional("onnxruntime", self.extra)
        path = folder_file(folder, options.get("file", _FILE))
        if not path.is_file():
            raise ModelLoadError(f"{path} is missing from the model folder")
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        graph_inputs = [(i.name, _ORT_TYPES.get(i.type, np.float32)) for i in session.get_inputs()]
        output_names = [o.name for o in session.get_outputs()]

        def predict(inputs: Any) -> dict[str, Any]:
            feeds = _feeds(inputs, graph_inputs)
            return dict(zip(output_names, session.run(output_names, feeds), strict=True))

        return session, predict

    def packages(self, obj: Any) -> tuple[str, ...]:
        return ("onnxruntime", "numpy")


def _feeds(inputs: Any, graph_inputs: list[tuple[str, Any]]) -> dict[str, np.ndarray]:
    if is_dataframe(inputs):
        names = [name for name, _ in graph_inputs]
        if len(graph_inputs) > 1 and all(n in inputs.columns for n in names):
            return {
                name: inputs[name].to_numpy(dtype=dtype).reshape(-1, 1)
                for name, dtype in graph_inputs
            }
        inputs = inputs.to_numpy()
    name, dtype = graph_inputs[0]
    return {name: np.asarray(inputs).astype(dtype, copy=False)}

"""PyTorch models: TorchScript modules, or an ``nn.Module`` saved as a state dict.

- TorchScript (``torch.jit.script``/``trace``) is saved with ``torch.jit.save`` and needs no Python
  code to load.
- Any other ``nn.Module`` is saved as its ``state_dict`` (loaded with ``weights_only=True``, so no
  pickle code runs) plus its importable class path and constructor kwargs, given as
  ``flavor_options={"init_kwargs": {...}}`` (or ``metadata["init_kwargs"]``). The class must live in
  an importable module, not ``__main__``; the user's own module is saved in ``code/``.

Floating point inputs are cast to the dtype of the model's parameters (usually float32).
"""

from __future__ import annotations

import importlib
import inspect
import json
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from shipyard.errors import ModelLoadError, PackagingError
from shipyard.models.flavors.base import folder_file, import_optional
from shipyard.models.manifest import FlavorName
from shipyard.models.predictor import NativePredict, is_dataframe
from shipyard.types import JSON

__all__ = ["PyTorchFlavor"]

TorchFormat = Literal["torchscript", "state_dict"]
_SCRIPT_FILE = "model.pt"
_STATE_FILE = "state_dict.pt"


class PyTorchFlavor:
    """``torch.nn.Module`` instances, TorchScript or eager."""

    name: ClassVar[FlavorName] = "pytorch"
    extra: ClassVar[str | None] = "torch"
    # PyTorch's OpenMP and inter-op thread pools do not survive a fork.
    fork_safe: ClassVar[bool] = False

    def detect(self, obj: object) -> bool:
        if not any(c.__module__.startswith("torch.") for c in type(obj).__mro__):
            return False
        torch = import_optional("torch", self.extra)
        return isinstance(obj, torch.nn.Module)

    def save(self, obj: Any, folder: Path, options: Mapping[str, Any]) -> JSON:
        torch = import_optional("torch", self.extra)
        if isinstance(obj, torch.jit.ScriptModule):
            with _quiet_jit():
                torch.jit.save(obj, str(folder / _SCRIPT_FILE))
            return {"format": "torchscript", "file": _SCRIPT_FILE}
        cls = type(obj)
        if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
            raise PackagingError(
                f"{cls.__qualname__} is defined in {cls.__module__} or inside a function, so it "
                "cannot be imported when loading: move the class to a module, or save "
                "torch.jit.script(model) instead"
            )
        init_kwargs = dict(options.get("init_kwargs") or {})
        try:
            json.dumps(init_kwargs)
        except (TypeError, ValueError) as exc:
            raise PackagingError(f"init_kwargs must be JSON values: {exc}") from exc
        _check_init_kwargs(cls, init_kwargs)
        torch.save(obj.state_dict(), str(folder / _STATE_FILE))
        return {
            "format": "state_dict",
            "file": _STATE_FILE,
            "class": f"{cls.__module__}:{cls.__qualname__}",
            "init_kwargs": init_kwargs,
        }

    def load(self, folder: Path, options: JSON) -> tuple[Any, NativePredict]:
        torch = import_optional("torch", self.extra)
        path = folder_file(folder, options.get("file", _SCRIPT_FILE))
        if not path.is_file():
            raise ModelLoadError(f"{path} is missing from the model folder")
        fmt: TorchFormat = "state_dict" if options.get("format") == "state_dict" else "torchscript"
        if fmt == "torchscript":
            with _quiet_jit():
                module = torch.jit.load(str(path), map_location="cpu")
        else:
            module = _import_class(str(options["class"]))(**dict(options.get("init_kwargs") or {}))
            module.load_state_dict(torch.load(str(path), map_location="cpu", weights_only=True))
        module.eval()
        float_dtype = next(
            (p.dtype for p in module.parameters() if p.is_floating_point()), torch.float32
        )

        def predict(inputs: Any) -> Any:
            array = inputs.to_numpy() if is_dataframe(inputs) else np.asarray(inputs)
            tensor = torch.from_numpy(np.require(array, requirements=["C", "W"]))
            if tensor.is_floating_point():
                tensor = tensor.to(float_dtype)
            with torch.inference_mode():
                return _to_numpy(module(tensor))

        return module, predict

    def packages(self, obj: Any) -> tuple[str, ...]:
        return ("torch", "numpy")


def _check_init_kwargs(cls: type, init_kwargs: JSON) -> None:
    """Refuse to save a module its class cannot be rebuilt from (checked without building it)."""
    try:
        inspect.signature(cls).bind(**init_kwargs)
    except ValueError:  # no introspectable signature: the load-back check is all there is
        return
    except TypeError as exc:
        raise PackagingError(
            f"the packaged model does not load back: {cls.__qualname__}(**init_kwargs) raises "
            f"TypeError: {exc}. Pass the constructor arguments as "
            "flavor_options={'init_kwargs': {...}} or metadata={'init_kwargs': {...}}"
        ) from exc


def _import_class(path: str) -> Any:
    module_name, _, qualname = path.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ModelLoadError(
            f"cannot import model class {path}: {exc}. Install the package that defines it, or "
            "package the model with code_paths=[...]"
        ) from exc
    return target


def _to_numpy(value: Any) -> Any:
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if isinstance(value, Mapping):
        return {k: _to_numpy(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return tuple(_to_numpy(v) for v in value)
    return value


@contextmanager
def _quiet_jit() -> Iterator[None]:
    """TorchScript still works but warns that it is deprecated; keep that out of serving logs."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit.*deprecated", category=Warning)
        yield

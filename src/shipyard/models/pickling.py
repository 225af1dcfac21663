"""Pickle files of model objects, written with cloudpickle.

cloudpickle saves importable classes and functions by reference (their module must be importable
when loading: ``code/`` makes the user's own modules so) and those defined in ``__main__`` by value.
Loading a pickle can run arbitrary code; only load folders whose digests were verified.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from shipyard.errors import ModelLoadError, PackagingError

__all__ = ["dump_pickle", "load_pickle"]


def dump_pickle(obj: Any, path: Path) -> None:
    """Write ``obj`` to ``path`` with cloudpickle, or raise ``PackagingError`` saying why not."""
    import cloudpickle  # type: ignore[import-untyped]

    try:
        data = cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise PackagingError(
            f"cannot pickle {type(obj).__name__}: {exc}. Keep open files, locks, sockets and "
            "clients out of the model object (create them in PythonModel.load instead)"
        ) from exc
    path.write_bytes(data)


def load_pickle(path: Path) -> Any:
    """Read a pickle written by ``dump_pickle``; a missing module gives ``ModelLoadError``."""
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)  # noqa: S301 - the registry verified the digest first
    except FileNotFoundError:
        raise ModelLoadError(f"{path} is missing from the model folder") from None
    except ModuleNotFoundError as exc:
        raise ModelLoadError(
            f"loading {path.name} needs module {exc.name!r}, which is not importable: install the "
            "model's requirements.txt, or package the module with code_paths=[...]"
        ) from exc

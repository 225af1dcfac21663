"""Pickle files of model objects, written with cloudpickle, and the modules they need.

cloudpickle saves importable classes and functions by reference (their module must be importable
when loading: ``code/`` makes the user's own modules so) and those defined in ``__main__`` by value.
``dump_pickle`` records, while it writes, every module the pickle will import and every module its
objects come from (see ``models/imports.py``): requirements are inferred from that.
Loading a pickle can run arbitrary code; only load folders whose digests were verified.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from shipyard.errors import ModelLoadError, PackagingError
from shipyard.models.imports import object_modules, pickle_modules

__all__ = ["dump_pickle", "load_pickle"]


def dump_pickle(obj: Any, path: Path) -> frozenset[str]:
    """Write ``obj`` to ``path`` with cloudpickle and return the modules it needs (dotted names),
    or raise ``PackagingError`` saying why it cannot be pickled."""
    import cloudpickle  # type: ignore[import-untyped]

    seen: set[str] = set()

    class RecordingPickler(cloudpickle.Pickler):  # type: ignore[misc]
        def persistent_id(self, value: object) -> None:
            seen.update(object_modules(value))

    try:
        with path.open("wb") as stream:
            RecordingPickler(stream, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    except Exception as exc:
        path.unlink(missing_ok=True)
        raise PackagingError(
            f"cannot pickle {type(obj).__name__}: {exc}. Keep open files, locks, sockets and "
            "clients out of the model object (create them in PythonModel.load instead)"
        ) from exc
    with path.open("rb") as written:
        return frozenset(seen | pickle_modules(written))


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

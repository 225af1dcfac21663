"""Write a step's value into its output folder, and read it back for the next step.

One folder per artifact, so every kind is a tree of files with one content digest. pandas,
numpy and cloudpickle are imported only for the kinds that need them.

    >>> write_value("dataframe", frame, out / "train")   # out/train/data.parquet
    >>> read_value("dataframe", out / "train")
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from shipyard.errors import PipelineRunError
from shipyard.pipelines.kinds import Kind

__all__ = ["read_value", "write_value"]

_FILES = {
    "dataframe": "data.parquet",
    "ndarray": "array.npy",
    "json": "value.json",
    "pickle": "object.pkl",
}


def write_value(kind: Kind, value: Any, folder: Path) -> None:
    """Store ``value`` as ``kind`` in the new folder ``folder``."""
    folder.mkdir(parents=True, exist_ok=False)
    if kind == "file":
        source = Path(value)
        if not source.is_file():
            raise PipelineRunError(
                f"returned file {source} does not exist: write it, then return it"
            )
        shutil.copyfile(source, folder / source.name)
    elif kind == "folder":
        source = Path(value)
        if not source.is_dir():
            raise PipelineRunError(f"returned folder {source} does not exist")
        shutil.copytree(source, folder, dirs_exist_ok=True)
    elif kind == "dataframe":
        value.to_parquet(folder / _FILES[kind], index=True)
    elif kind == "ndarray":
        import numpy as np

        np.save(folder / _FILES[kind], value, allow_pickle=False)
    elif kind == "json":
        text = json.dumps(value, sort_keys=True, indent=1, allow_nan=False)
        (folder / _FILES[kind]).write_text(text + "\n")
    else:
        import cloudpickle  # type: ignore[import-untyped]

        (folder / _FILES[kind]).write_bytes(cloudpickle.dumps(value))


def read_value(kind: Kind, folder: Path) -> Any:
    """The value stored as ``kind`` in ``folder``."""
    if kind == "file":
        files = [p for p in folder.iterdir() if p.is_file()]
        if len(files) != 1:
            raise PipelineRunError(f"{folder} should hold exactly one file, not {len(files)}")
        return files[0]
    if kind == "folder":
        return folder
    path = folder / _FILES[kind]
    if kind == "dataframe":
        import pandas as pd

        return pd.read_parquet(path)
    if kind == "ndarray":
        import numpy as np

        return np.load(path, allow_pickle=False)
    if kind == "json":
        return json.loads(path.read_text())
    import pickle

    return pickle.loads(path.read_bytes())  # noqa: S301 - written by this pipeline's own step

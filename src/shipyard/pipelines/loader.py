"""Load a pipeline from ``FILE[:NAME]``: import the file and pick the ``Pipeline`` it defines.

The file's folder is the project: it goes first on ``sys.path`` (so the file's local modules
import) and its local modules are what a step's code digest covers.

    >>> loaded = load_pipeline("examples/pipelines/cancer.py")
    >>> loaded.pipeline.name, loaded.project
    ('cancer', PosixPath('/.../examples/pipelines'))
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from shipyard.errors import NotFoundError, PipelineDefinitionError
from shipyard.pipelines.pipeline import Pipeline

__all__ = ["LoadedPipeline", "load_pipeline", "split_target"]


@dataclass(frozen=True, slots=True)
class LoadedPipeline:
    pipeline: Pipeline
    file: Path
    module: ModuleType

    @property
    def project(self) -> Path:
        return self.file.parent


def split_target(target: str) -> tuple[Path, str | None]:
    """``"pipes.py:train"`` -> (``pipes.py``, ``"train"``); no ``:NAME`` picks the only one."""
    path, sep, name = target.rpartition(":")
    if sep and path.endswith(".py") and name:
        return Path(path), name
    return Path(target), None


def _import_file(file: Path) -> ModuleType:
    module_name = "shipyard_pipeline_" + hashlib.sha256(str(file).encode()).hexdigest()[:12]
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise PipelineDefinitionError(f"{file} cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    folder = str(file.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        if isinstance(exc, PipelineDefinitionError):
            raise
        raise PipelineDefinitionError(
            f"importing {file} failed: {type(exc).__name__}: {exc}"
        ) from exc
    return module


def load_pipeline(target: str | Path, name: str | None = None) -> LoadedPipeline:
    """Import the file named by ``target`` and return the pipeline (``NAME`` or the only one)."""
    path, picked = split_target(str(target))
    picked = name or picked
    file = path.expanduser().resolve()
    if not file.is_file():
        raise NotFoundError(f"pipeline file {path} does not exist")
    module = _import_file(file)
    found = {p.name: p for p in vars(module).values() if isinstance(p, Pipeline)}
    by_attr = {k: p for k, p in vars(module).items() if isinstance(p, Pipeline)}
    if picked is not None:
        chosen = found.get(picked) or by_attr.get(picked)
        if chosen is None:
            raise NotFoundError(
                f"{path} defines no pipeline {picked!r} (it defines: {sorted(found) or 'none'})"
            )
        return LoadedPipeline(chosen, file, module)
    if len(found) != 1:
        listed = ", ".join(sorted(found)) or "none"
        raise PipelineDefinitionError(
            f"{path} defines {len(found)} pipelines ({listed}): name one as {path}:NAME"
        )
    return LoadedPipeline(next(iter(found.values())), file, module)

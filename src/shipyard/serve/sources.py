"""Where the served model comes from: a registry reference, a model folder, or an object in memory.

Each source loads a ``ServedModel`` (blocking: run it in a thread) and can say which version
(and flavor) it points at now: ``--follow-alias`` polls the version, ``--workers N`` asks the
flavor whether it may load once and fork. ``warm_up`` then calls the model once on its golden
sample, so the first request pays no lazy set-up.

    source = RegistrySource(Settings.from_env(), ModelRef.parse("iris@production"))
    served = source.load()
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from shipyard.config import Settings
from shipyard.models.manifest import FlavorName
from shipyard.models.predictor import LoadedModel
from shipyard.refs import ModelRef
from shipyard.serve.runtime import ServedModel

__all__ = [
    "VERSION_FILE",
    "FolderSource",
    "ModelSource",
    "RegistrySource",
    "StaticSource",
    "is_model_folder",
    "source_for",
    "warm_up",
]

VERSION_FILE = "shipyard-version.json"
logger = logging.getLogger("shipyard.serve")


class ModelSource(Protocol):
    """Something that can load the model to serve and tell which version is current."""

    def describe(self) -> str: ...

    def load(self) -> ServedModel: ...

    def current_version(self) -> int | None: ...

    def flavor(self) -> FlavorName: ...


class StaticSource:
    """A model already in memory (embedding, tests, a forked worker): never changes."""

    def __init__(self, model: LoadedModel, name: str = "model", version: int | None = None) -> None:
        self._served = ServedModel(name=name, model=model, version=version)
        self._description: str | None = None

    @classmethod
    def of(cls, served: ServedModel, description: str | None = None) -> StaticSource:
        """A source serving ``served`` as it is (with its registry descriptor)."""
        source = cls(served.model, served.name, served.version)
        source._served = served
        source._description = description
        return source

    def describe(self) -> str:
        return self._description or f"in-memory model {self._served.name!r}"

    def load(self) -> ServedModel:
        return self._served

    def current_version(self) -> int | None:
        return self._served.version

    def flavor(self) -> FlavorName:
        return self._served.model.manifest.flavor


class FolderSource:
    """A verified model folder, as the container image holds at ``/opt/shipyard/model``."""

    def __init__(self, path: Path, trusted_keys: tuple[Path, ...] = ()) -> None:
        self._path = path
        self._trusted_keys = trusted_keys

    def describe(self) -> str:
        return f"model folder {self._path}"

    def load(self) -> ServedModel:
        from shipyard.models.loading import load_folder
        from shipyard.registry.folder import read_verified_folder
        from shipyard.registry.trust import require_trusted

        version = read_verified_folder(self._path)
        require_trusted(version, self._trusted_keys)
        return ServedModel.from_version(version, load_folder(self._path), self._path)

    def current_version(self) -> int | None:
        from shipyard.registry.folder import read_version_descriptor

        return read_version_descriptor(self._path).version

    def flavor(self) -> FlavorName:
        from shipyard.registry.folder import read_version_descriptor

        return read_version_descriptor(self._path).flavor


class RegistrySource:
    """A registry reference (``iris@production``); follows the alias when polled."""

    def __init__(self, settings: Settings, ref: ModelRef) -> None:
        self._ref = ref
        self._settings = settings

    def describe(self) -> str:
        return f"registry reference {self._ref}"

    def load(self) -> ServedModel:
        from shipyard.models.loading import load_folder
        from shipyard.registry import Registry, read_verified_folder
        from shipyard.registry.trust import require_trusted

        with Registry.from_settings(self._settings) as registry:
            folder = registry.fetch(registry.get(self._ref).ref)
        version = read_verified_folder(folder)
        require_trusted(version, self._settings.trusted_keys)
        return ServedModel.from_version(version, load_folder(folder), folder)

    def current_version(self) -> int | None:
        from shipyard.registry import Registry

        with Registry.from_settings(self._settings) as registry:
            return registry.get(self._ref).version

    def flavor(self) -> FlavorName:
        from shipyard.registry import Registry

        with Registry.from_settings(self._settings) as registry:
            return registry.get(self._ref).flavor


def warm_up(served: ServedModel) -> None:
    """Call the model once on its golden sample (when it has one); a failure is only logged."""
    relative = served.model.manifest.golden_path
    if served.folder is None or relative is None:
        return
    from shipyard.models.golden import GoldenSample

    try:
        served.model.predict_named(GoldenSample.read(served.folder, relative).inputs)
    except Exception as exc:  # the server reports a broken model per request, not at load
        logger.warning("warming %s up on its golden sample failed: %s", served.name, exc)


def is_model_folder(path: Path) -> bool:
    """True when ``path`` is a model folder (it holds ``shipyard-version.json``)."""
    return (path / VERSION_FILE).is_file()


def source_for(target: str, settings: Settings) -> ModelSource:
    """A folder source when ``target`` is a model folder, else a registry reference."""
    path = Path(target).expanduser()
    if is_model_folder(path):
        return FolderSource(path, settings.trusted_keys)
    return RegistrySource(settings, ModelRef.parse(target))

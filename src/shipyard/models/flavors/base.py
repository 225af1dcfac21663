"""The ``Flavor`` protocol: how one kind of model object is detected, saved and loaded.

A flavor writes a model's files into a folder and returns JSON ``flavor_options`` that are stored
in the manifest; ``load`` gets them back and returns the native object plus a sync predict that
takes a DataFrame (``columns`` signatures) or an ndarray (``tensor`` signatures).

Heavy libraries are imported inside the flavor that needs them, through ``import_optional``, so a
missing one names the extra to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar, Protocol

from shipyard.errors import ModelLoadError
from shipyard.models.manifest import FlavorName
from shipyard.models.predictor import NativePredict
from shipyard.types import JSON

__all__ = ["Flavor", "folder_file", "import_optional", "type_module"]


class Flavor(Protocol):
    """One kind of model object Shipyard can package."""

    name: ClassVar[FlavorName]
    extra: ClassVar[str | None]
    """The ``shipyard[...]`` extra that installs this flavor's library (None: always there)."""
    fork_safe: ClassVar[bool]
    """True when a process may fork after loading and predicting, and its children predict too:
    ``serve --workers N`` then loads once and shares the model's pages; else each worker loads."""

    def detect(self, obj: object) -> bool:
        """True when this flavor can save ``obj``; must not import heavy libraries needlessly."""
        ...

    def save(self, obj: Any, folder: Path, options: Mapping[str, Any]) -> JSON:
        """Write ``obj``'s files into ``folder``; return the flavor options needed to load it."""
        ...

    def load(self, folder: Path, options: JSON) -> tuple[Any, NativePredict]:
        """Load the native object and a sync predict from ``folder``."""
        ...

    def packages(self, obj: Any) -> tuple[str, ...]:
        """Distribution names whose installed versions the saved model needs."""
        ...


def import_optional(module: str, extra: str | None) -> ModuleType:
    """Import ``module`` or raise ``ModelLoadError`` naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        hint = f"pip install 'shipyard[{extra}]'" if extra else f"pip install {module}"
        raise ModelLoadError(
            f"this model needs {module!r}, which is not installed: {hint}"
        ) from exc


def type_module(obj: object) -> str:
    """The top-level package that defines ``obj``'s type, e.g. ``'xgboost'``."""
    return type(obj).__module__.partition(".")[0]


def folder_file(folder: Path, relative: object) -> Path:
    """``folder / relative`` for a path read from a manifest, which must stay inside ``folder``.

    Only the folder's own files are verified against their digests, so nothing outside it loads.
    """
    name = str(relative)
    if Path(name).is_absolute() or ".." in Path(name).parts or "\\" in name:
        raise ModelLoadError(
            f"the manifest in {folder} names the file {name!r}, which is outside the model folder: "
            "only files inside a model folder are loaded; package the model again"
        )
    return folder / name

"""The model registry: versions, aliases, artifacts, and verified model folders.

>>> from shipyard.registry import Registry, read_verified_folder

Names are imported on first use (PEP 562): importing a registry submodule does not load
SQLAlchemy unless that submodule needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.lazy import lazy_exports

if TYPE_CHECKING:
    from shipyard.registry.entities import AliasEvent, ArtifactFile, ModelSummary, ModelVersion
    from shipyard.registry.folder import (
        DESCRIPTOR_FILE,
        read_verified_folder,
        write_version_descriptor,
    )
    from shipyard.registry.registry import Registry

_LAZY: dict[str, str] = {
    "DESCRIPTOR_FILE": "shipyard.registry.folder",
    "AliasEvent": "shipyard.registry.entities",
    "ArtifactFile": "shipyard.registry.entities",
    "ModelSummary": "shipyard.registry.entities",
    "ModelVersion": "shipyard.registry.entities",
    "Registry": "shipyard.registry.registry",
    "read_verified_folder": "shipyard.registry.folder",
    "write_version_descriptor": "shipyard.registry.folder",
}

__all__ = [
    "DESCRIPTOR_FILE",
    "AliasEvent",
    "ArtifactFile",
    "ModelSummary",
    "ModelVersion",
    "Registry",
    "read_verified_folder",
    "write_version_descriptor",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

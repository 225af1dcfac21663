"""The model registry: versions, aliases, artifacts, and verified model folders.

>>> from shipyard.registry import Registry, read_verified_folder
"""

from __future__ import annotations

from shipyard.registry.entities import AliasEvent, ArtifactFile, ModelSummary, ModelVersion
from shipyard.registry.folder import DESCRIPTOR_FILE, read_verified_folder, write_version_descriptor
from shipyard.registry.registry import Registry

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

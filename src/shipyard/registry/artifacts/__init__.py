"""Artifact stores: where a registry keeps its content-addressed blobs.

>>> store = open_artifact_store(settings.registry)
"""

from __future__ import annotations

from pathlib import Path

from shipyard.config import RegistrySettings
from shipyard.registry.artifacts.base import ArtifactStore, blob_key
from shipyard.registry.artifacts.fsspec_store import FsspecArtifactStore
from shipyard.registry.artifacts.local import LocalArtifactStore

__all__ = [
    "ArtifactStore",
    "FsspecArtifactStore",
    "LocalArtifactStore",
    "blob_key",
    "open_artifact_store",
]


def open_artifact_store(settings: RegistrySettings) -> ArtifactStore:
    """The store named by ``SHIPYARD_ARTIFACT_URL``: a folder, ``file://...`` or ``s3://...``."""
    url = settings.artifact_url
    if url.startswith("file://"):
        return LocalArtifactStore(Path(url.removeprefix("file://")))
    if "://" in url:
        return FsspecArtifactStore(url, endpoint_url=settings.s3_endpoint_url)
    return LocalArtifactStore(Path(url))

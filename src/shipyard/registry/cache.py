"""The local cache of fetched versions: verified model folders under ``SHIPYARD_HOME/cache``.

A version is materialized in ``cache/<name>/<version>-<digest[:16]>/``: every blob is downloaded
into a temporary folder and checked against its sha256 and size, the descriptor is written, the
whole folder is verified, and only then is it renamed into place. A cached folder is re-verified
on every fetch; a damaged one is refused, never loaded.

    >>> folder = materialize(version, store, home / "cache")
"""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from pathlib import Path

from shipyard.errors import IntegrityError, NotFoundError, StoreError
from shipyard.registry.artifacts.base import ArtifactStore, blob_key
from shipyard.registry.digest import file_sha256
from shipyard.registry.entities import ModelVersion
from shipyard.registry.folder import (
    DESCRIPTOR_FILE,
    check_relative_path,
    read_verified_folder,
    write_version_descriptor,
)

__all__ = ["cache_folder", "materialize"]


def cache_folder(cache_root: Path, version: ModelVersion) -> Path:
    """Where ``version`` is cached."""
    return cache_root / version.name / f"{version.version}-{version.digest[:16]}"


def materialize(version: ModelVersion, store: ArtifactStore, cache_root: Path) -> Path:
    """A verified model folder holding ``version``, downloading it when not cached yet."""
    target = cache_folder(cache_root, version)
    if target.is_dir():
        return _verified_cached(target, version)
    staging = cache_root / ".tmp" / f"{version.name}-{version.version}-{uuid.uuid4().hex}"
    try:
        staging.mkdir(parents=True)
        _download(version, store, staging)
        write_version_descriptor(staging, dataclasses.replace(version, aliases=()))
        read_verified_folder(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():
                raise
            # another process cached the same version first: use theirs
    except OSError as exc:
        where = f"{version.name}:{version.version}"
        raise StoreError(f"cannot write {where} to the cache {target}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _verified_cached(target, version)


def _verified_cached(target: Path, version: ModelVersion) -> Path:
    try:
        cached = read_verified_folder(target)
        if cached.digest != version.digest:
            raise IntegrityError(f"{target} holds digest {cached.digest}, not {version.digest}")
    except IntegrityError as exc:
        raise IntegrityError(
            f"the cached copy of {version.name}:{version.version} is damaged: {exc}. "
            f"Remove {target} to fetch it again from the artifact store."
        ) from exc
    if cached.tags != version.tags:  # tags (signatures among them) changed since it was cached
        _rewrite_descriptor(target, dataclasses.replace(version, aliases=()))
    return target


def _rewrite_descriptor(target: Path, version: ModelVersion) -> None:
    """Replace the cached descriptor by a rename, so a reader never sees half of one (the new one
    is written beside the folder: inside it, it would be an unexpected file)."""
    staging = target.parent / f".{target.name}-{uuid.uuid4().hex}"
    try:
        staging.mkdir()
        written = write_version_descriptor(staging, version)
        written.replace(target / DESCRIPTOR_FILE)
    except OSError as exc:
        raise StoreError(f"cannot update the descriptor in {target}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _download(version: ModelVersion, store: ArtifactStore, staging: Path) -> None:
    for artifact in version.files:
        destination = staging / check_relative_path(artifact.path)
        destination.parent.mkdir(parents=True, exist_ok=True)
        where = f"file {artifact.path!r} of {version.name}:{version.version}"
        restore = (
            "import the version again from an export archive ('shipyard models import') to "
            "restore it, or delete the version"
        )
        try:
            store.get(artifact.sha256, destination)
        except NotFoundError as exc:
            raise IntegrityError(
                f"{where} is missing from the artifact store: {exc}; {restore}"
            ) from exc
        sha256, size = file_sha256(destination)
        if (sha256, size) != (artifact.sha256, artifact.size):
            raise IntegrityError(
                f"{where} is damaged in the artifact store {store.url}: got {size} bytes with "
                f"sha256 {sha256[:12]}..., expected {artifact.size} bytes with sha256 "
                f"{artifact.sha256[:12]}... (tampered or truncated); it will not be loaded. "
                f"Delete blob {blob_key(artifact.sha256)} from the store, then {restore}"
            )

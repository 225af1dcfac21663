"""Step artifacts in the registry's content-addressed store (``SHIPYARD_HOME/artifacts``).

An artifact is a folder; each file is a blob under its sha256 (shared with model versions: the
same bytes are stored once) and the artifact's digest is ``registry.digest.version_digest`` of
its files. Materializing hard-links the blobs (read-only) into a step's ``in/`` folder when the
store is a local folder, and downloads them otherwise.

    >>> stored = store_folder(store, step_dir / "out" / "train", kind="dataframe")
    >>> materialize(store, stored, next_dir / "in" / "data")
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.pipelines.kinds import Kind
from shipyard.registry.artifacts import ArtifactStore, LocalArtifactStore
from shipyard.registry.digest import hash_file, hash_tree, version_digest
from shipyard.registry.entities import ArtifactFile
from shipyard.registry.folder import check_relative_path

__all__ = ["StoredArtifact", "is_complete", "materialize", "store_folder", "store_path"]

_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


@dataclass(frozen=True, slots=True)
class StoredArtifact:
    """An artifact in the store: its kind, digest and files."""

    kind: Kind
    digest: str
    files: tuple[ArtifactFile, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "digest": self.digest,
            "files": [[f.path, f.sha256, f.size] for f in self.files],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoredArtifact:
        files = tuple(ArtifactFile(str(p), str(s), int(n)) for p, s, n in data["files"])
        return cls(kind=data["kind"], digest=str(data["digest"]), files=files)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def _store(
    store: ArtifactStore, folder: Path, files: tuple[ArtifactFile, ...], kind: Kind
) -> StoredArtifact:
    for item in files:
        store.put(item.sha256, folder / item.path)
    return StoredArtifact(kind=kind, digest=version_digest(files), files=files)


def store_folder(store: ArtifactStore, folder: Path, kind: Kind) -> StoredArtifact:
    """Put every file of ``folder`` in the store."""
    return _store(store, folder, hash_tree(folder), kind)


def store_path(store: ArtifactStore, path: Path, kind: Kind) -> StoredArtifact:
    """Put a file (under its own name) or a folder in the store: a file or folder parameter."""
    if path.is_file():
        return _store(store, path.parent, (hash_file(path.parent, path.name),), kind)
    return store_folder(store, path, kind)


def is_complete(store: ArtifactStore, artifact: StoredArtifact) -> bool:
    """True when every blob of ``artifact`` is still in the store."""
    return all(store.exists(f.sha256) for f in artifact.files)


def materialize(store: ArtifactStore, artifact: StoredArtifact, dest: Path) -> None:
    """Lay ``artifact``'s files out under the new folder ``dest``."""
    dest.mkdir(parents=True, exist_ok=False)
    for item in artifact.files:
        target = dest / check_relative_path(item.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(store, LocalArtifactStore):
            blob = store.path_of(item.sha256)
            try:
                os.link(blob, target)
                os.chmod(target, _READ_ONLY)
                continue
            except OSError:
                shutil.copyfile(blob, target)
                continue
        store.get(item.sha256, target)

"""A folder of blobs on the local file system (the embedded default).

Each blob is written to a temporary name in its final directory, checked against its sha256,
flushed to disk and then renamed into place, so readers only ever see complete blobs.

    >>> store = LocalArtifactStore(Path("~/.shipyard/artifacts").expanduser())
    >>> store.put(sha256, Path("model.pkl"))
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path

from shipyard.errors import IntegrityError, NotFoundError, StoreError
from shipyard.registry.artifacts.base import blob_key
from shipyard.registry.digest import CHUNK_SIZE

__all__ = ["LocalArtifactStore"]


class LocalArtifactStore:
    """Blobs in ``root/sha256/ab/abcdef...``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser()

    @property
    def url(self) -> str:
        return str(self.root)

    def path_of(self, sha256: str) -> Path:
        """Where blob ``sha256`` lives (whether or not it exists)."""
        return self.root / blob_key(sha256)

    def put(self, sha256: str, source: Path) -> None:
        target = self.path_of(sha256)
        if target.is_file():
            return
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create artifact folder {target.parent}: {exc}") from exc
        temporary = target.with_name(f".tmp-{uuid.uuid4().hex}-{sha256[:12]}")
        try:
            actual = _copy_hashing(source, temporary)
            if actual != sha256:
                raise IntegrityError(
                    f"{source} changed while it was being stored: sha256 {actual[:12]}..., "
                    f"expected {sha256[:12]}..."
                )
            os.replace(temporary, target)
        except OSError as exc:
            raise StoreError(f"cannot write blob {sha256[:12]}... to {self.root}: {exc}") from exc
        finally:
            temporary.unlink(missing_ok=True)

    def get(self, sha256: str, destination: Path) -> None:
        source = self.path_of(sha256)
        try:
            shutil.copyfile(source, destination)
        except FileNotFoundError:
            raise NotFoundError(
                f"blob {sha256[:12]}... is missing from the artifact store {self.root}"
            ) from None
        except OSError as exc:
            raise StoreError(f"cannot read blob {sha256[:12]}... from {self.root}: {exc}") from exc

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def delete(self, sha256: str) -> None:
        try:
            self.path_of(sha256).unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot delete blob {sha256[:12]}... in {self.root}: {exc}") from exc


def _copy_hashing(source: Path, destination: Path) -> str:
    """Copy ``source`` to ``destination``, fsync it, and return the sha256 of what was copied."""
    digest = hashlib.sha256()
    with source.open("rb") as reader, destination.open("xb") as writer:
        while chunk := reader.read(CHUNK_SIZE):
            digest.update(chunk)
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    return digest.hexdigest()

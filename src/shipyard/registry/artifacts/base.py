"""The artifact store: content-addressed blobs, one per distinct file content.

A blob is stored under ``sha256/<first two hex digits>/<sha256>``, so the same file shared by many
versions is stored once and a blob's name says what it must contain. Writers make a blob visible
only once it is complete: a killed upload never leaves a half blob under a real name.

Two implementations: ``LocalArtifactStore`` (a folder) and ``FsspecArtifactStore`` (S3 and other
fsspec file systems).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

from shipyard.errors import IntegrityError

__all__ = ["ArtifactStore", "blob_key", "check_sha256"]

_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_sha256(sha256: str) -> str:
    """Return ``sha256`` if it is 64 lowercase hex digits, else raise ``IntegrityError``."""
    if not _SHA256.fullmatch(sha256):
        raise IntegrityError(f"{sha256!r} is not a sha256 digest (64 lowercase hex digits)")
    return sha256


def blob_key(sha256: str) -> str:
    """The relative key of a blob: ``sha256/ab/abcdef...``."""
    check_sha256(sha256)
    return f"sha256/{sha256[:2]}/{sha256}"


class ArtifactStore(Protocol):
    """Where a registry keeps its blobs."""

    @property
    def url(self) -> str:
        """Where the store is, for messages (never holds credentials)."""
        ...

    def put(self, sha256: str, source: Path) -> None:
        """Store ``source`` as blob ``sha256`` (no-op when it is already there)."""
        ...

    def get(self, sha256: str, destination: Path) -> None:
        """Copy blob ``sha256`` to ``destination``; ``NotFoundError`` when absent."""
        ...

    def exists(self, sha256: str) -> bool:
        """True when blob ``sha256`` is stored."""
        ...

    def delete(self, sha256: str) -> None:
        """Remove blob ``sha256`` (no-op when absent)."""
        ...

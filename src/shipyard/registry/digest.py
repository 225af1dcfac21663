"""Content digests: the sha256 of each artifact file and the digest of a whole version.

A version's digest is the sha256 of the sorted lines ``"{path}\\0{sha256}\\0{size}\\n"``, one per
artifact file, so it names the exact set of files and their contents.

    >>> files = hash_tree(folder, exclude={"shipyard-version.json"})
    >>> version_digest(files)
    '5f1c...'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from shipyard.errors import IntegrityError
from shipyard.registry.entities import ArtifactFile

__all__ = ["CHUNK_SIZE", "file_sha256", "hash_file", "hash_tree", "list_tree", "version_digest"]

CHUNK_SIZE = 1024 * 1024


def file_sha256(path: Path) -> tuple[str, int]:
    """The sha256 (hex) and size in bytes of one file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def hash_file(folder: Path, relative: str) -> ArtifactFile:
    """The ``ArtifactFile`` of ``folder/relative``."""
    sha256, size = file_sha256(folder / relative)
    return ArtifactFile(path=relative, sha256=sha256, size=size)


def list_tree(folder: Path, exclude: Iterable[str] = ()) -> list[str]:
    """Every regular file under ``folder`` as sorted POSIX paths relative to it.

    Symbolic links and special files are refused: a model folder holds plain files only.
    """
    skipped = set(exclude)
    paths: list[str] = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise IntegrityError(
                f"{relative!r} in {folder} is a link or special file: a model folder holds plain "
                "files only"
            )
        if path.is_file() and relative not in skipped:
            paths.append(relative)
    return paths


def hash_tree(folder: Path, exclude: Iterable[str] = ()) -> tuple[ArtifactFile, ...]:
    """The ``ArtifactFile`` of every file under ``folder``, sorted by path."""
    return tuple(hash_file(folder, relative) for relative in list_tree(folder, exclude))


def version_digest(files: Iterable[ArtifactFile]) -> str:
    """The digest of a version: sha256 of its sorted ``path\\0sha256\\0size`` lines."""
    lines = sorted(f"{f.path}\0{f.sha256}\0{f.size}\n" for f in files)
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()

"""Export archives: one ``.tar.gz`` holding a model folder, for air-gapped transfer.

The archive holds ``shipyard-version.json`` and the version's files, nothing else. Reading one
refuses links, absolute paths and ``..``, stays within ``ImportLimits`` while it streams
(``registry/unpack.py``), and the extracted folder must pass ``read_verified_folder``: a tampered
archive is refused.

    >>> write_archive(folder, Path("iris-3.tar.gz"))
    >>> version = extract_archive(Path("iris-3.tar.gz"), Path("/tmp/unpacked"))
"""

from __future__ import annotations

import os
import tarfile
import uuid
from pathlib import Path

from shipyard.config import ImportLimits
from shipyard.errors import ConflictError, IntegrityError, StoreError
from shipyard.registry.digest import list_tree
from shipyard.registry.entities import ModelVersion
from shipyard.registry.folder import DESCRIPTOR_FILE, read_verified_folder
from shipyard.registry.unpack import check_descriptor_bounds, unpack_archive

__all__ = ["extract_archive", "write_archive"]


def write_archive(folder: Path, destination: Path, *, overwrite: bool = False) -> Path:
    """Pack a verified model folder into ``destination`` (written atomically).

    An existing ``destination`` is refused (``ConflictError``) unless ``overwrite``; without it
    the file appears through ``os.link``, which fails rather than replace a file made meanwhile.
    """
    read_verified_folder(folder)
    destination = Path(destination)
    if destination.exists() and not overwrite:
        raise _exists(destination)
    temporary = destination.with_name(f".{destination.name}.{uuid.uuid4().hex}.tmp")
    try:
        with tarfile.open(temporary, "w:gz") as archive:
            archive.add(folder / DESCRIPTOR_FILE, arcname=DESCRIPTOR_FILE)
            for relative in list_tree(folder, exclude={DESCRIPTOR_FILE}):
                archive.add(folder / relative, arcname=relative)
        if overwrite:
            os.replace(temporary, destination)
        else:
            _place_new(temporary, destination)
    except FileExistsError:
        raise _exists(destination) from None
    except OSError as exc:
        raise StoreError(f"cannot write archive {destination}: {exc}") from exc
    finally:
        temporary.unlink(missing_ok=True)
    return destination


def _place_new(temporary: Path, destination: Path) -> None:
    """Move ``temporary`` to ``destination``, failing with FileExistsError if it is taken."""
    try:
        os.link(temporary, destination)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: check, then rename
        if destination.exists():
            raise FileExistsError(destination) from None
        os.replace(temporary, destination)


def _exists(destination: Path) -> ConflictError:
    kind = "a folder" if destination.is_dir() else "a file"
    return ConflictError(
        f"{destination} exists ({kind}): give a new path, or pass --force to overwrite it"
    )


def extract_archive(source: Path, into: Path, limits: ImportLimits | None = None) -> ModelVersion:
    """Unpack an export archive into the empty folder ``into`` within ``limits``, and verify it."""
    source = Path(source)
    limits = limits or ImportLimits()
    if not source.is_file():
        problem = "is a folder" if source.is_dir() else "does not exist"
        raise StoreError(
            f"archive {source} {problem}: give the .tar.gz file written by 'shipyard models export'"
        )
    unpack_archive(source, into, limits)
    try:
        version = read_verified_folder(into)
    except IntegrityError as exc:
        raise IntegrityError(f"archive {source} was refused: {exc}") from exc
    check_descriptor_bounds(version, limits, f"archive {source}")
    return version

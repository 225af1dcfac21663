"""Export archives: one ``.tar.gz`` holding a model folder, for air-gapped transfer.

The archive holds ``shipyard-version.json`` and the version's files, nothing else. Reading one
refuses links, absolute paths and ``..``, and the extracted folder must pass
``read_verified_folder``: a tampered archive is refused.

    >>> write_archive(folder, Path("iris-3.tar.gz"))
    >>> version = extract_archive(Path("iris-3.tar.gz"), Path("/tmp/unpacked"))
"""

from __future__ import annotations

import os
import tarfile
import uuid
import zlib
from pathlib import Path

from shipyard.errors import ConflictError, IntegrityError, StoreError
from shipyard.registry.digest import list_tree
from shipyard.registry.entities import ModelVersion
from shipyard.registry.folder import DESCRIPTOR_FILE, check_relative_path, read_verified_folder

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


def extract_archive(source: Path, into: Path) -> ModelVersion:
    """Unpack an export archive into the empty folder ``into`` and verify it."""
    source = Path(source)
    if not source.is_file():
        problem = "is a folder" if source.is_dir() else "does not exist"
        raise StoreError(
            f"archive {source} {problem}: give the .tar.gz file written by 'shipyard models export'"
        )
    try:
        with tarfile.open(source, "r:*") as archive:
            members = archive.getmembers()
            for member in members:
                if member.isdir() and not member.name.strip("./"):
                    continue  # the archive's root folder ("." from `tar -C folder .`)
                check_relative_path(member.name.removeprefix("./"))
                if not (member.isfile() or member.isdir()):
                    raise IntegrityError(
                        f"archive {source} holds {member.name!r}, which is not a plain file"
                    )
            archive.extractall(into, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise IntegrityError(
            f"{source} is not a readable Shipyard export archive ({exc}); export it again with "
            "'shipyard models export'"
        ) from exc
    try:
        return read_verified_folder(into)
    except IntegrityError as exc:
        raise IntegrityError(f"archive {source} was refused: {exc}") from exc

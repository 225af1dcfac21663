"""Unpack an export archive in one bounded stream: nothing past a limit is ever written.

The archive (``.tar``, ``.tar.gz``, ``.tar.bz2`` or ``.tar.xz``) is decompressed here, through a
reader that counts every uncompressed byte the tar parser asks for, so each bound holds however
the archive was made (``ImportLimits``, ``SHIPYARD_IMPORT_MAX_*``):

- entries: the entry past ``max_entries`` is refused before it is written;
- depth: an entry with more than ``max_depth`` folders is refused before any folder is made (no
  recursion anywhere depends on it);
- bytes: the headers' sizes add up to at most ``max_bytes``, checked before each file is written;
- ratio: past ``RATIO_FLOOR_BYTES``, more than ``max_ratio`` uncompressed bytes per compressed byte
  is a bomb and stops the stream (a 1 MB archive of zeros writes at most the floor);
- the descriptor: ``shipyard-version.json`` (and ``shipyard.json``) at most
  ``max_descriptor_bytes``; once read (``export`` writes it first), every later entry must be one
  of its files, with its size, and its own fields are bounded (``check_descriptor_bounds``).

    >>> unpack_archive(Path("iris-3.tar.gz"), Path("/tmp/empty"), ImportLimits())
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import shutil
import tarfile
import zlib
from pathlib import Path
from typing import IO, cast

from shipyard.config import ImportLimits
from shipyard.errors import IntegrityError, LimitExceededError
from shipyard.models.manifest import MANIFEST_FILE
from shipyard.registry.entities import ModelVersion
from shipyard.registry.folder import DESCRIPTOR_FILE, check_relative_path, read_version_descriptor

__all__ = ["MAX_CREATED_BY", "MAX_PATH", "MAX_TAGS", "check_descriptor_bounds", "unpack_archive"]

MAX_PATH = 1024
"""Characters in one artifact path (the metadata column's width)."""
MAX_CREATED_BY = 256
"""Characters in ``created_by`` (the metadata column's width)."""
MAX_TAGS = 1000
MAX_TAG_VALUE = 64 * 1024
_HEADER_SLACK = 4096  # tar header bytes allowed per entry on top of max_bytes (PAX names, padding)
_CHUNK = 1024 * 1024
_READ_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)


def unpack_archive(source: Path, into: Path, limits: ImportLimits) -> None:
    """Write the archive's plain files and folders into the empty folder ``into``.

    Raises ``LimitExceededError`` for a bound, ``IntegrityError`` for an unreadable archive or an
    entry that is not a plain relative file or folder. Verifying the result is the caller's job.
    """
    try:
        with source.open("rb") as raw:
            counted = _Counted(raw)
            stream = _Bounded(_decompressed(counted), counted, limits, source)
            with tarfile.open(fileobj=stream, mode="r|") as archive:  # type: ignore[call-overload]
                _Unpacker(source, into, limits).run(archive)
    except (LimitExceededError, IntegrityError):
        raise
    except _READ_ERRORS as exc:
        raise IntegrityError(
            f"{source} is not a readable Shipyard export archive ({exc}); export it again with "
            "'shipyard models export'"
        ) from exc


def check_descriptor_bounds(version: ModelVersion, limits: ImportLimits, where: str) -> None:
    """Refuse a descriptor whose fields are larger than the registry stores or limits allow."""
    if len(version.created_by) > MAX_CREATED_BY:
        raise LimitExceededError(
            f"{where}: created_by has {len(version.created_by)} characters, more than "
            f"{MAX_CREATED_BY}: the descriptor was not written by Shipyard"
        )
    if len(version.tags) > MAX_TAGS:
        raise LimitExceededError(f"{where}: {len(version.tags)} tags, more than {MAX_TAGS}")
    for key, value in version.tags.items():
        if len(value) > MAX_TAG_VALUE:
            raise LimitExceededError(
                f"{where}: tag {key[:64]!r} has {len(value)} characters, more than {MAX_TAG_VALUE}"
            )
    if len(version.files) > limits.max_entries:
        raise LimitExceededError(
            f"{where} lists {len(version.files)} files, more than {limits.max_entries} "
            "(raise SHIPYARD_IMPORT_MAX_ENTRIES to import it)"
        )
    total = 0
    for artifact in version.files:
        _check_path(artifact.path, limits, where)
        total += artifact.size
    if total > limits.max_bytes:
        raise LimitExceededError(
            f"{where} lists {total} bytes of files, more than {limits.max_bytes} "
            "(raise SHIPYARD_IMPORT_MAX_BYTES to import it)"
        )


def _check_path(path: str, limits: ImportLimits, where: str) -> None:
    depth = path.count("/")
    if depth > limits.max_depth:
        raise LimitExceededError(
            f"{where}: {path[:80]!r}... is {depth} folders deep, more than {limits.max_depth} "
            "(raise SHIPYARD_IMPORT_MAX_DEPTH to import it)"
        )
    if len(path) > MAX_PATH:
        raise LimitExceededError(
            f"{where}: the path {path[:80]!r}... has {len(path)} characters, more than {MAX_PATH}"
        )


class _Unpacker:
    """Writes entries one at a time, each checked against the limits before it is written."""

    def __init__(self, source: Path, into: Path, limits: ImportLimits) -> None:
        self.where = f"archive {source}"
        self.into = into
        self.limits = limits
        self.entries = 0
        self.declared = 0
        self.written: dict[str, int] = {}
        self.folders = {into}
        self.expected: dict[str, int] | None = None  # path -> size, once the descriptor is read

    def run(self, archive: tarfile.TarFile) -> None:
        for member in archive:
            self.entries += 1
            if self.entries > self.limits.max_entries:
                raise LimitExceededError(
                    f"{self.where} has more than {self.limits.max_entries} entries "
                    "(raise SHIPYARD_IMPORT_MAX_ENTRIES to import it)"
                )
            name = member.name.removeprefix("./")
            if member.isdir() and not name.strip("./"):
                continue  # the archive's root folder ("." from `tar -C folder .`)
            _check_path(name, self.limits, self.where)
            check_relative_path(name)
            if member.isdir():
                self._make_folder(self.into / name)
            elif member.isfile():
                self._write(archive, member, name)
            else:
                raise IntegrityError(
                    f"{self.where} holds {member.name!r}, which is not a plain file"
                )

    def _write(self, archive: tarfile.TarFile, member: tarfile.TarInfo, name: str) -> None:
        self.declared += member.size
        if self.declared > self.limits.max_bytes:
            raise LimitExceededError(
                f"{self.where} holds more than {self.limits.max_bytes} bytes of files (at "
                f"{name!r}); raise SHIPYARD_IMPORT_MAX_BYTES to import it"
            )
        if name in (DESCRIPTOR_FILE, MANIFEST_FILE) and (
            member.size > self.limits.max_descriptor_bytes
        ):
            raise LimitExceededError(
                f"{self.where}: {name} has {member.size} bytes, more than "
                f"{self.limits.max_descriptor_bytes} (SHIPYARD_IMPORT_MAX_DESCRIPTOR_BYTES)"
            )
        if self.expected is not None:
            self._check_expected(self.expected, name, member.size)
        destination = self.into / name
        self._make_folder(destination.parent)
        data = archive.extractfile(member)
        if data is None:  # pragma: no cover - a regular file always has a reader
            raise IntegrityError(f"{self.where}: cannot read {name!r}")
        try:
            with destination.open("xb") as out:
                shutil.copyfileobj(data, out, _CHUNK)
        except FileExistsError:
            raise IntegrityError(f"{self.where} holds {name!r} twice") from None
        self.written[name] = member.size
        if name == DESCRIPTOR_FILE:
            self._read_descriptor()

    def _make_folder(self, folder: Path) -> None:
        if folder not in self.folders:
            folder.mkdir(parents=True, exist_ok=True)
            self.folders.add(folder)

    def _read_descriptor(self) -> None:
        version = read_version_descriptor(self.into)
        check_descriptor_bounds(version, self.limits, self.where)
        self.expected = {f.path: f.size for f in version.files}
        for name, size in self.written.items():
            if name != DESCRIPTOR_FILE:
                self._check_expected(self.expected, name, size)

    def _check_expected(self, expected: dict[str, int], name: str, size: int) -> None:
        if name == DESCRIPTOR_FILE:
            raise IntegrityError(f"{self.where} holds {name!r} twice")
        if name not in expected:
            raise IntegrityError(
                f"{self.where} has unexpected file {name!r}: it is not in the version"
            )
        if expected[name] != size:
            raise IntegrityError(
                f"{self.where}: file {name!r} has {size} bytes, the version says "
                f"{expected[name]}: it was truncated or modified"
            )


class _Counted:
    """The compressed file, counting the bytes read from it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        return data


def _decompressed(counted: _Counted) -> IO[bytes]:
    """A reader of the tar stream inside ``counted`` (gzip, bzip2, xz or none, by magic)."""
    magic = counted.raw.read(6)
    counted.raw.seek(0)
    compressed = cast("IO[bytes]", counted)
    if magic.startswith(b"\x1f\x8b"):
        return cast("IO[bytes]", gzip.GzipFile(fileobj=compressed, mode="rb"))
    if magic.startswith(b"BZh"):
        return bz2.BZ2File(compressed)
    if magic.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(compressed)
    return compressed


class _Bounded:
    """The uncompressed tar stream, refusing more bytes than the limits allow (a bomb)."""

    def __init__(
        self, stream: IO[bytes], counted: _Counted, limits: ImportLimits, source: Path
    ) -> None:
        self.stream = stream
        self.counted = counted
        self.limits = limits
        self.source = source
        self.total = 0
        self.cap = limits.max_bytes + _HEADER_SLACK * (limits.max_entries + 2)

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.total += len(data)
        if self.total > self.cap:
            raise LimitExceededError(
                f"archive {self.source} unpacks to more than {self.cap} bytes; raise "
                "SHIPYARD_IMPORT_MAX_BYTES to import it"
            )
        ratio = self.limits.max_ratio
        if self.total > ImportLimits.RATIO_FLOOR_BYTES and self.total > ratio * max(
            self.counted.count, 1
        ):
            raise LimitExceededError(
                f"archive {self.source} unpacks to over {ratio} times its compressed size "
                f"({self.total} bytes from {self.counted.count}): a compression bomb, refused. "
                "Raise SHIPYARD_IMPORT_MAX_RATIO if the model really compresses that well"
            )
        return data

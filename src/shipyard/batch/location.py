"""Where data is: a local path or an fsspec URL (``s3://bucket/key``), as a file or a folder.

``Location.parse`` picks the file system once (``SHIPYARD_S3_ENDPOINT_URL`` points s3fs at an
S3-compatible store); the rest of the stage reads and writes through it. Object stores make an
object visible only when its upload completed, so ``write_atomic`` puts it directly; local files
are written to a temporary name and renamed.

    >>> loc = Location.parse("s3://scores/2026-12-01/", endpoint_url="http://127.0.0.1:9000")
    >>> loc.is_local
    False
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import fsspec

from shipyard.errors import ConfigError, InvalidInputError, StoreError

__all__ = ["Location"]


@dataclass(frozen=True, slots=True)
class Location:
    """A path on one file system (``path`` without the ``s3://`` prefix)."""

    url: str
    path: str
    fs: Any
    protocol: str

    @classmethod
    def parse(cls, url: str, *, endpoint_url: str | None = None) -> Location:
        protocol = url.partition("://")[0] if "://" in url else "file"
        options: dict[str, Any] = {}
        if protocol == "s3":
            options["use_listings_cache"] = False
            if endpoint_url:
                options["client_kwargs"] = {"endpoint_url": endpoint_url}
        try:
            fs, path = fsspec.url_to_fs(url, **options)
        except (ImportError, ValueError) as exc:
            extra = " (pip install 'shipyard[s3]')" if protocol == "s3" else ""
            raise ConfigError(f"cannot open {url!r}{extra}: {exc}") from exc
        if protocol == "file":
            path = os.path.abspath(os.path.expanduser(url.removeprefix("file://")))
        return cls(url=url, path=str(path).rstrip("/") or "/", fs=fs, protocol=protocol)

    @property
    def is_local(self) -> bool:
        return self.protocol == "file"

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def child(self, name: str) -> Location:
        sep = "" if self.url.endswith("/") else "/"
        return Location(f"{self.url}{sep}{name}", f"{self.path}/{name}", self.fs, self.protocol)

    def sibling(self, name: str) -> Location:
        """The file ``name`` in the same folder (``out.csv`` -> ``name``, ``a/out.csv`` ->
        ``a/name``)."""
        return Location(_parent(self.url) + name, _parent(self.path) + name, self.fs, self.protocol)

    def exists(self) -> bool:
        return bool(self.fs.exists(self.path))

    def is_dir(self) -> bool:
        return bool(self.fs.isdir(self.path))

    def files(self) -> list[str]:
        """The data files of a folder (sorted; names starting with ``_`` or ``.`` skipped)."""
        try:
            entries = self.fs.find(self.path, detail=False)
        except OSError as exc:
            raise StoreError(f"cannot list {self.url}: {exc}") from exc
        found = [
            str(e)
            for e in entries
            if not any(part.startswith(("_", ".")) for part in str(e)[len(self.path) :].split("/"))
        ]
        if not found:
            raise InvalidInputError(f"{self.url} is an empty folder: there is nothing to score")
        return sorted(found)

    def size(self, path: str) -> int:
        return int(self.fs.size(path) or 0)

    def write_atomic(self, data: bytes) -> None:
        """Make ``data`` appear whole under this path, or not at all."""
        self.fs.makedirs(self.path.rsplit("/", 1)[0], exist_ok=True)
        if not self.is_local:
            self.fs.pipe_file(self.path, data)
            return
        temporary = f"{self.path}.tmp-{uuid.uuid4().hex[:8]}"
        with open(temporary, "wb") as stream:  # no fsync: this guards against a killed
            stream.write(data)  # process (the page cache survives it), not a power cut
        os.replace(temporary, self.path)

    def read_bytes(self) -> bytes:
        return bytes(self.fs.cat_file(self.path))

    def remove(self) -> None:
        if self.fs.exists(self.path):
            self.fs.rm(self.path, recursive=True)


def _parent(text: str) -> str:
    """``text`` up to and including its last ``/`` (empty for a bare name)."""
    head, slash, _ = text.rstrip("/").rpartition("/")
    return head + slash

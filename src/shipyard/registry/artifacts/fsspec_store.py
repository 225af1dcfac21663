"""Blobs in any fsspec file system; S3 and S3-compatible stores (MinIO, Ceph) through s3fs.

S3 makes an object visible only once its upload completed, so a killed upload never leaves a half
blob; a source file that no longer has the sha256 it is stored under is taken back out.
``SHIPYARD_S3_ENDPOINT_URL`` points s3fs at an S3-compatible endpoint; credentials come from the
usual AWS environment variables or files.

    >>> store = FsspecArtifactStore("s3://models/shipyard", endpoint_url="http://minio:9000")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shipyard.errors import ConfigError, IntegrityError, NotFoundError, StoreError
from shipyard.registry.artifacts.base import blob_key
from shipyard.registry.digest import file_sha256

__all__ = ["FsspecArtifactStore"]


class FsspecArtifactStore:
    """Blobs under ``url`` (``s3://bucket/prefix``, ``gcs://...``, ``memory://...``)."""

    def __init__(self, url: str, *, endpoint_url: str | None = None) -> None:
        protocol, _, root = url.partition("://")
        if not root.strip("/"):
            raise ConfigError(f"artifact store URL {url!r} needs a bucket or path after '://'")
        self._url = url.rstrip("/")
        self._root = root.strip("/")
        options: dict[str, Any] = {}
        if protocol == "s3":
            options["use_listings_cache"] = False
            if endpoint_url:
                options["client_kwargs"] = {"endpoint_url": endpoint_url}
        try:
            import fsspec  # here, not at the top: a local store never needs it (~30 ms)

            self._fs: Any = fsspec.filesystem(protocol, **options)
        except (ImportError, ValueError) as exc:
            extra = " (pip install 'shipyard[s3]')" if protocol == "s3" else ""
            raise ConfigError(f"cannot open artifact store {url!r}{extra}: {exc}") from exc

    @property
    def url(self) -> str:
        return self._url

    def _path(self, sha256: str) -> str:
        return f"{self._root}/{blob_key(sha256)}"

    def put(self, sha256: str, source: Path) -> None:
        path = self._path(sha256)
        try:
            if self._fs.exists(path):
                return
            self._fs.put_file(str(source), path)
            actual, _ = file_sha256(source)
            if actual != sha256:  # the file changed after it was hashed: take the upload back
                self._fs.rm_file(path)
                raise IntegrityError(
                    f"{source} changed while it was being stored: sha256 {actual[:12]}..., "
                    f"expected {sha256[:12]}...; do not modify a model folder while publishing it"
                )
        except OSError as exc:
            raise StoreError(f"cannot upload blob {sha256[:12]}... to {self._url}: {exc}") from exc

    def get(self, sha256: str, destination: Path) -> None:
        path = self._path(sha256)
        try:
            self._fs.get_file(path, str(destination))
        except FileNotFoundError:
            raise NotFoundError(
                f"blob {sha256[:12]}... is missing from the artifact store {self._url}"
            ) from None
        except OSError as exc:
            message = f"cannot download blob {sha256[:12]}... from {self._url}: {exc}"
            raise StoreError(message) from exc

    def exists(self, sha256: str) -> bool:
        try:
            return bool(self._fs.exists(self._path(sha256)))
        except OSError as exc:
            raise StoreError(f"cannot reach artifact store {self._url}: {exc}") from exc

    def delete(self, sha256: str) -> None:
        path = self._path(sha256)
        try:
            self._fs.rm_file(path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(f"cannot delete blob {sha256[:12]}... in {self._url}: {exc}") from exc

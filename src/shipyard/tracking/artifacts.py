"""Run artifacts: files kept as content-addressed blobs in the registry's artifact store.

A run's artifacts live under the path ``<experiment>/<run>/artifacts/...``, the same path the
``mlflow-artifacts`` API uses (a run's ``artifact_uri`` is ``mlflow-artifacts:/<that path>``), so a
file logged from Python and one uploaded by the ``mlflow`` client are stored and listed alike.

    >>> RunArtifacts(store, blobs).log_file(run, Path("report.html"), "reports")
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.registry.artifacts import ArtifactStore
from shipyard.registry.artifacts.base import check_sha256
from shipyard.registry.digest import file_sha256
from shipyard.tracking.entities import RunInfo
from shipyard.tracking.queries import ArtifactFile
from shipyard.tracking.store import TrackingStore

__all__ = [
    "MLFLOW_ARTIFACTS_SCHEME",
    "RunArtifacts",
    "artifact_root",
    "check_artifact_path",
    "store_path",
]

MLFLOW_ARTIFACTS_SCHEME = "mlflow-artifacts:"


def store_path(uri: str) -> str | None:
    """The store path an ``mlflow-artifacts:/<path>`` (or ``mlflow-artifacts://host/<path>``)
    URI names, checked to be a plain relative path; ``None`` for any other URI."""
    if not uri.startswith(MLFLOW_ARTIFACTS_SCHEME):
        return None
    path = uri.removeprefix(MLFLOW_ARTIFACTS_SCHEME)
    if path.startswith("//"):
        path = path[2:].partition("/")[2]  # drop the host:port
    return check_artifact_path(path.strip("/"))


def artifact_root(info: RunInfo) -> str:
    """The store path under which ``info``'s artifacts live."""
    path = store_path(info.artifact_uri)
    return f"{info.experiment_id}/{info.run_id}/artifacts" if path is None else path


MAX_ARTIFACT_PATH_LENGTH = 1024


def check_artifact_path(path: str) -> str:
    """``path`` if it is a safe relative path (no ``..``, not absolute), else an error."""
    if len(path) > MAX_ARTIFACT_PATH_LENGTH:
        raise InvalidInputError(
            f"artifact path is {len(path)} characters long: at most {MAX_ARTIFACT_PATH_LENGTH}"
        )
    normal = posixpath.normpath(path) if path else ""
    if path and (normal != path.strip("/") or normal.startswith(("..", "/")) or "\\" in path):
        raise InvalidInputError(
            f"artifact path {path!r} is not a plain relative path: drop '..', leading slashes "
            "and backslashes"
        )
    if path.startswith("/"):
        raise InvalidInputError(f"artifact path {path!r} must be relative")
    return normal if path else ""


@dataclass(frozen=True, slots=True)
class RunArtifacts:
    """Store, list and fetch artifact files over the metadata and blob stores."""

    store: TrackingStore
    blobs: ArtifactStore

    def put_file(self, path: str, source: Path, run_id: str | None) -> ArtifactFile:
        """Store ``source`` as artifact ``path`` (relative to the store root)."""
        path = check_artifact_path(path)
        sha256, size = file_sha256(source)
        self.blobs.put(sha256, source)
        self.store.add_artifact_file(path, run_id, sha256, size)
        return ArtifactFile(path, sha256, size)

    def link_files(
        self, info: RunInfo, artifact_path: str, files: Sequence[tuple[str, str, int]]
    ) -> list[str]:
        """Record blobs already in the store (``(relative path, sha256, size)``) as the run's
        artifacts under ``artifact_path``: a reference, the bytes are not copied."""
        base = posixpath.join(artifact_root(info), check_artifact_path(artifact_path))
        rows = [
            (posixpath.join(base, check_artifact_path(path)), check_sha256(sha256), size)
            for path, sha256, size in files
        ]
        self.store.add_artifact_files(info.run_id, rows)
        return [path for path, _, _ in rows]

    def log_file(self, info: RunInfo, source: Path, artifact_path: str | None = None) -> list[str]:
        """Log a file, or every file under a folder, into the run; returns the paths stored."""
        source = Path(source)
        if not source.exists():
            raise NotFoundError(f"cannot log artifact {source}: no such file or folder")
        base = posixpath.join(artifact_root(info), check_artifact_path(artifact_path or ""))
        if source.is_file():
            stored = self.put_file(posixpath.join(base, source.name), source, info.run_id)
            return [stored.path]
        files = sorted(p for p in source.rglob("*") if p.is_file())
        return [
            self.put_file(
                posixpath.join(base, source.name, p.relative_to(source).as_posix()), p, info.run_id
            ).path
            for p in files
        ]

    def list(self, path: str) -> list[tuple[str, bool, int | None]]:
        """The direct children of folder ``path``: ``(name, is_dir, size)``."""
        prefix = check_artifact_path(path)
        children: dict[str, tuple[bool, int | None]] = {}
        for found in self.store.artifact_files(prefix):
            rest = found.path[len(prefix) :].lstrip("/") if prefix else found.path
            name, _, deeper = rest.partition("/")
            children[name] = (True, None) if deeper else (False, found.size)
        return [(name, is_dir, size) for name, (is_dir, size) in sorted(children.items())]

    def fetch(self, path: str, destination: Path) -> ArtifactFile:
        """Copy artifact ``path`` to ``destination``."""
        found = self.store.artifact_file(check_artifact_path(path))
        self.blobs.get(found.sha256, destination)
        return found

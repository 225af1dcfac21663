"""The *model folder*: a version's artifact files plus ``shipyard-version.json``.

The registry hands serving and image builds a model folder, never loose files. Before anything
loads from one, ``read_verified_folder`` checks it against its descriptor: every file's size and
sha256, no file missing, no file extra, the version digest, and that the manifest in the
descriptor is the one in ``shipyard.json``.

    >>> version = read_verified_folder(Path("/opt/shipyard/model"))
    >>> version.name, version.version
    ('iris', 3)
"""

from __future__ import annotations

import json
from pathlib import Path

from shipyard.errors import IntegrityError
from shipyard.models.manifest import ModelManifest
from shipyard.registry.digest import file_sha256, list_tree, version_digest
from shipyard.registry.entities import ModelVersion

__all__ = [
    "DESCRIPTOR_FILE",
    "check_relative_path",
    "read_verified_folder",
    "read_version_descriptor",
    "write_version_descriptor",
]

DESCRIPTOR_FILE = "shipyard-version.json"
MAX_VERSION = 2**31 - 1
"""The largest version number the metadata tables hold (a 32-bit integer column)."""


def check_relative_path(path: str) -> str:
    """Return ``path`` if it is a plain relative POSIX path inside a folder, else raise."""
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        raise IntegrityError(
            f"artifact path {path!r} is not a plain relative path: refusing to write outside "
            "the model folder"
        )
    return path


def write_version_descriptor(folder: Path, version: ModelVersion) -> Path:
    """Write ``shipyard-version.json`` (the version as JSON) into ``folder``."""
    path = folder / DESCRIPTOR_FILE
    path.write_text(json.dumps(version.to_dict(), indent=2, sort_keys=True) + "\n")
    return path


def read_version_descriptor(folder: Path) -> ModelVersion:
    """Read ``shipyard-version.json`` without checking the files against it."""
    path = folder / DESCRIPTOR_FILE
    try:
        version = ModelVersion.from_dict(json.loads(path.read_text()))
        if not 1 <= version.version <= MAX_VERSION:
            raise ValueError(f"version {version.version} is not between 1 and {MAX_VERSION}")
        return version
    except FileNotFoundError:
        raise IntegrityError(
            f"{path} is missing: {folder} is not a Shipyard model folder (fetch one from the "
            "registry or export/import a version)"
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IntegrityError(f"{path} is not a valid version descriptor: {exc!r}") from exc


def read_verified_folder(path: Path) -> ModelVersion:
    """Check a model folder against its descriptor and return the version it holds.

    Raises ``IntegrityError`` naming the first file that is missing, unexpected, truncated or
    modified, or when the version digest or manifest does not match.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise IntegrityError(f"{folder} is not a folder: expected a Shipyard model folder")
    version = read_version_descriptor(folder)
    where = f"model folder {folder} ({version.name}:{version.version})"
    for artifact in version.files:
        check_relative_path(artifact.path)
    expected = {f.path: f for f in version.files}
    present = set(list_tree(folder, exclude={DESCRIPTOR_FILE}))
    missing = sorted(expected.keys() - present)
    if missing:
        raise IntegrityError(f"{where} is missing file {missing[0]!r}: it was deleted or renamed")
    extra = sorted(present - expected.keys())
    if extra:
        raise IntegrityError(f"{where} has unexpected file {extra[0]!r}: it is not in the version")
    for relative, artifact in sorted(expected.items()):
        sha256, size = file_sha256(folder / relative)
        if size != artifact.size:
            raise IntegrityError(
                f"{where}: file {relative!r} has {size} bytes, expected {artifact.size}: it was "
                "truncated or modified"
            )
        if sha256 != artifact.sha256:
            raise IntegrityError(
                f"{where}: file {relative!r} has sha256 {sha256[:12]}..., expected "
                f"{artifact.sha256[:12]}...: it was modified"
            )
    if version_digest(version.files) != version.digest:
        raise IntegrityError(f"{where}: the file list does not match the version digest")
    if ModelManifest.read(folder).to_dict() != version.manifest.to_dict():
        raise IntegrityError(f"{where}: the descriptor's manifest differs from shipyard.json")
    return version

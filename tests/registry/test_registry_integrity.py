"""A tampered, truncated or missing artifact is refused with a clear error, never loaded."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import boto3
import pytest

from shipyard.errors import IntegrityError
from shipyard.registry import Registry
from shipyard.registry.artifacts import LocalArtifactStore, blob_key
from shipyard.registry.cache import cache_folder

from .conftest import MakeFolder


def _overwrite_blob(registry: Registry, sha256: str, content: bytes) -> None:
    """Change a stored blob behind the registry's back, as an attacker or a bad disk would."""
    store = registry.artifacts
    if isinstance(store, LocalArtifactStore):
        store.path_of(sha256).write_bytes(content)
        return
    bucket, _, prefix = os.environ["SHIPYARD_ARTIFACT_URL"].removeprefix("s3://").partition("/")
    client = boto3.client("s3", endpoint_url=os.environ["SHIPYARD_S3_ENDPOINT_URL"])
    client.put_object(Bucket=bucket, Key=f"{prefix}/{blob_key(sha256)}", Body=content)


def _model_blob(registry: Registry, ref: str) -> str:
    return next(f.sha256 for f in registry.get(ref).files if f.path == "model.bin")


@pytest.mark.parametrize(
    ("content", "problem"), [(b"evil weights!", "tampered"), (b"hone", "truncated")]
)
def test_fetch_refuses_a_damaged_blob_in_the_store(
    registry: Registry, make_folder: MakeFolder, content: bytes, problem: str
) -> None:
    registry.publish("iris", *make_folder(b"honest weights"))
    _overwrite_blob(registry, _model_blob(registry, "iris:1"), content)

    with pytest.raises(IntegrityError, match=r"'model\.bin' of iris:1 is damaged") as refused:
        registry.fetch("iris:1")

    assert problem in str(refused.value)
    assert not cache_folder(registry.home / "cache", registry.get("iris:1")).exists()
    assert list((registry.home / "cache" / ".tmp").iterdir()) == []


def test_fetch_refuses_a_missing_blob(registry: Registry, make_folder: MakeFolder) -> None:
    registry.publish("iris", *make_folder(b"weights"))
    registry.artifacts.delete(_model_blob(registry, "iris:1"))

    with pytest.raises(IntegrityError, match="missing from the artifact store"):
        registry.fetch("iris")


def test_importing_an_export_again_restores_a_missing_blob(
    registry: Registry, make_folder: MakeFolder, tmp_path: Path
) -> None:
    registry.publish("iris", *make_folder(b"weights"))
    archive = registry.export("iris:1", tmp_path / "iris.tar.gz")
    shutil.rmtree(registry.home / "cache")
    registry.artifacts.delete(_model_blob(registry, "iris:1"))
    with pytest.raises(IntegrityError, match=r"import the version again .* to restore it"):
        registry.fetch("iris:1")

    restored = registry.import_archive(archive)

    assert restored.version == 1
    assert (registry.fetch("iris:1") / "model.bin").read_bytes() == b"weights"


def test_fetch_refuses_a_modified_cached_file_until_the_cache_is_removed(
    registry: Registry, make_folder: MakeFolder
) -> None:
    registry.publish("iris", *make_folder(b"honest weights"))
    cached = registry.fetch("iris:1")
    (cached / "model.bin").write_bytes(b"honest weightz")

    with pytest.raises(IntegrityError, match=rf"Remove {cached} to fetch it again") as refused:
        registry.fetch("iris:1")
    assert "'model.bin' has sha256" in str(refused.value)

    shutil.rmtree(cached)
    assert (registry.fetch("iris:1") / "model.bin").read_bytes() == b"honest weights"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda folder: (folder / "model.bin").write_bytes(b"hon"), "has 3 bytes, expected 14"),
        (lambda folder: (folder / "model.bin").unlink(), "missing file 'model.bin'"),
        (lambda folder: (folder / "extra.py").write_text("import os"), "unexpected file"),
    ],
)
def test_fetch_refuses_a_truncated_or_altered_cache_folder(
    registry: Registry, make_folder: MakeFolder, damage: object, message: str
) -> None:
    registry.publish("iris", *make_folder(b"honest weights"))
    cached: Path = registry.fetch("iris:1")
    damage(cached)  # type: ignore[operator]

    with pytest.raises(IntegrityError, match=message):
        registry.fetch("iris:1")

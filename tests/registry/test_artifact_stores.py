"""Both artifact stores keep content-addressed blobs: the local folder and S3 (moto server)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from shipyard.config import RegistrySettings
from shipyard.errors import IntegrityError, NotFoundError
from shipyard.registry.artifacts import (
    ArtifactStore,
    FsspecArtifactStore,
    LocalArtifactStore,
    blob_key,
    open_artifact_store,
)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return LocalArtifactStore(tmp_path / "blobs")
    bucket = request.getfixturevalue("s3_bucket")
    endpoint = request.getfixturevalue("s3_endpoint")
    return FsspecArtifactStore(f"s3://{bucket}/blobs", endpoint_url=endpoint)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[bytes], tuple[str, Path]]:
    def make(content: bytes) -> tuple[str, Path]:
        sha256 = hashlib.sha256(content).hexdigest()
        path = tmp_path / f"src-{sha256[:8]}"
        path.write_bytes(content)
        return sha256, path

    return make


def test_put_get_exists_delete_round_trip(
    store: ArtifactStore, write: Callable[[bytes], tuple[str, Path]], tmp_path: Path
) -> None:
    sha256, source = write(b"model weights" * 10_000)
    assert not store.exists(sha256)

    store.put(sha256, source)
    store.put(sha256, source)
    store.get(sha256, tmp_path / "copy")

    assert store.exists(sha256)
    assert (tmp_path / "copy").read_bytes() == source.read_bytes()
    store.delete(sha256)
    store.delete(sha256)
    assert not store.exists(sha256)


def test_get_of_missing_blob_raises_not_found(store: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="is missing from the artifact store"):
        store.get("0" * 64, tmp_path / "nothing")


def test_blob_keys_are_content_addressed_and_validated() -> None:
    sha256 = hashlib.sha256(b"x").hexdigest()
    assert blob_key(sha256) == f"sha256/{sha256[:2]}/{sha256}"
    for bad in ("../../etc/passwd", "ABC", "0" * 63):
        with pytest.raises(IntegrityError, match="not a sha256 digest"):
            blob_key(bad)


def test_local_put_refuses_content_that_does_not_match_its_name(
    tmp_path: Path, write: Callable[[bytes], tuple[str, Path]]
) -> None:
    store = LocalArtifactStore(tmp_path / "blobs")
    sha256, _ = write(b"what was hashed")
    _, changed = write(b"what is on disk now")

    with pytest.raises(IntegrityError, match="changed while it was being stored"):
        store.put(sha256, changed)

    assert not store.exists(sha256)
    assert list(store.path_of(sha256).parent.iterdir()) == []


def test_put_refuses_a_file_changed_after_it_was_hashed(
    store: ArtifactStore, write: Callable[[bytes], tuple[str, Path]]
) -> None:
    sha256, _ = write(b"what was hashed")
    _, changed = write(b"what is on disk now")

    with pytest.raises(IntegrityError, match="changed while it was being stored"):
        store.put(sha256, changed)

    assert not store.exists(sha256)


def test_local_blob_is_written_in_place_with_no_temporary_left(
    tmp_path: Path, write: Callable[[bytes], tuple[str, Path]]
) -> None:
    store = LocalArtifactStore(tmp_path / "blobs")
    sha256, source = write(b"weights")

    store.put(sha256, source)

    assert [p.name for p in store.path_of(sha256).parent.iterdir()] == [sha256]


def test_artifact_url_selects_the_store(tmp_path: Path) -> None:
    def open_url(url: str) -> ArtifactStore:
        return open_artifact_store(RegistrySettings(db_url="sqlite:///x", artifact_url=url))

    assert isinstance(open_url(str(tmp_path)), LocalArtifactStore)
    assert isinstance(open_url(f"file://{tmp_path}"), LocalArtifactStore)
    assert isinstance(open_url("memory://shipyard/blobs"), FsspecArtifactStore)

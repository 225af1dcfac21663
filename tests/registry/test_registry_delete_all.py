"""Deleting every version of a model at once, and exports that never overwrite by accident."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.errors import ConflictError, NotFoundError
from shipyard.registry import Registry

from .conftest import MakeFolder


def test_delete_all_removes_every_version_and_their_blobs(
    registry: Registry, make_folder: MakeFolder
) -> None:
    versions = [registry.publish("iris", *make_folder(p)) for p in (b"a", b"b", b"c")]
    blobs = {f.sha256 for v in versions for f in v.files}

    deleted = registry.delete_all("iris")

    assert [v.version for v in deleted] == [1, 2, 3]
    assert registry.list_models() == []
    assert not any(registry.artifacts.exists(sha) for sha in blobs)
    with pytest.raises(NotFoundError, match="all were deleted"):
        registry.get("iris")
    assert registry.publish("iris", *make_folder(b"d")).version == 4


def test_delete_all_behind_an_alias_deletes_nothing_unless_forced(
    registry: Registry, make_folder: MakeFolder
) -> None:
    registry.publish("iris", *make_folder(b"a"))
    registry.publish("iris", *make_folder(b"b"))
    registry.set_alias("iris", "production", 2)

    with pytest.raises(ConflictError, match=r"every version of iris: alias\(es\) production→2"):
        registry.delete_all("iris")
    assert [v.version for v in registry.list_versions("iris")] == [1, 2]

    assert [v.version for v in registry.delete_all("iris", force=True)] == [1, 2]
    assert registry.history("iris")[-1].action == "remove"


def test_delete_all_of_an_unknown_or_emptied_model_is_not_found(
    registry: Registry, make_folder: MakeFolder
) -> None:
    with pytest.raises(NotFoundError, match="no model named 'wine'"):
        registry.delete_all("wine")
    registry.publish("iris", *make_folder(b"a"))
    registry.delete_all("iris")
    with pytest.raises(NotFoundError, match="nothing to delete"):
        registry.delete_all("iris")


def test_export_refuses_an_existing_file_unless_overwrite(
    registry: Registry, make_folder: MakeFolder, tmp_path: Path
) -> None:
    registry.publish("iris", *make_folder(b"a"))
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "iris.tar.gz"
    target.write_bytes(b"someone else's file")

    with pytest.raises(ConflictError, match=r"iris\.tar\.gz exists \(a file\).*--force"):
        registry.export("iris:1", target)
    assert target.read_bytes() == b"someone else's file"
    assert [p.name for p in target.parent.iterdir()] == ["iris.tar.gz"]  # no temporary left behind

    registry.export("iris:1", target, overwrite=True)
    assert target.read_bytes()[:2] == b"\x1f\x8b"  # gzip

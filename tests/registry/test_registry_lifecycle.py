"""Deleting versions, and moving a version between registries as one archive file."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from shipyard.config import Settings
from shipyard.errors import ConflictError, IntegrityError, NotFoundError, StoreError
from shipyard.registry import DESCRIPTOR_FILE, Registry

from .conftest import MakeFolder


def test_delete_refuses_version_behind_alias(registry: Registry, make_folder: MakeFolder) -> None:
    registry.publish("iris", *make_folder(b"a"))
    registry.set_alias("iris", "production", 1)

    with pytest.raises(ConflictError, match=r"production point at it.*--force"):
        registry.delete("iris:1")

    assert registry.get("iris:1").version == 1


def test_forced_delete_removes_aliases_with_audit_events(
    registry: Registry, make_folder: MakeFolder
) -> None:
    registry.publish("iris", *make_folder(b"a"))
    registry.publish("iris", *make_folder(b"b"))
    registry.set_alias("iris", "production", 1)

    deleted = registry.delete("iris@production", force=True)

    assert deleted.version == 1
    assert [v.version for v in registry.list_versions("iris")] == [2]
    last = registry.history("iris")[-1]
    assert (last.action, last.alias, last.from_version, last.to_version) == (
        "remove",
        "production",
        1,
        None,
    )
    with pytest.raises(NotFoundError, match="no version 1: model 'iris' has versions 2"):
        registry.get("iris:1")


def test_delete_never_reuses_a_version_number(registry: Registry, make_folder: MakeFolder) -> None:
    registry.publish("iris", *make_folder(b"a"))
    registry.publish("iris", *make_folder(b"b"))
    registry.delete("iris:2")

    assert registry.publish("iris", *make_folder(b"c")).version == 3


def test_delete_removes_blobs_no_other_version_uses(
    registry: Registry, make_folder: MakeFolder
) -> None:
    shared = registry.publish("iris", *make_folder(b"shared"))
    registry.publish("iris", *make_folder(b"shared"))
    own = registry.publish("iris", *make_folder(b"only in three"))
    blob = {
        v.version: next(f.sha256 for f in v.files if f.path == "model.bin") for v in (shared, own)
    }

    registry.delete("iris:1")
    registry.delete("iris:3")

    assert registry.artifacts.exists(blob[1])
    assert not registry.artifacts.exists(blob[3])
    assert registry.fetch("iris:2").is_dir()


def test_blob_published_again_while_a_delete_runs_is_kept(
    registry: Registry, make_folder: MakeFolder
) -> None:
    registry.publish("iris", *make_folder(b"same weights"))
    unreferenced = registry.metadata.delete_version("iris", 1, "tester", force=False)
    again = registry.publish("iris", *make_folder(b"same weights"))

    registry.delete_blobs(unreferenced)

    assert (registry.fetch(again.ref) / "model.bin").read_bytes() == b"same weights"


def test_deleting_the_last_version_leaves_a_helpful_message(
    registry: Registry, make_folder: MakeFolder
) -> None:
    registry.publish("iris", *make_folder(b"a"))
    registry.delete("iris")

    assert registry.list_models() == []
    with pytest.raises(NotFoundError, match="model 'iris' has no versions"):
        registry.get("iris")


def test_export_import_round_trip_into_another_registry(
    registry: Registry, make_folder: MakeFolder, tmp_path: Path
) -> None:
    folder, manifest = make_folder(b"weights" * 1000, extra={"code/m.py": b"A = 1\n"})
    registry.publish("iris", folder, manifest)
    original = registry.publish("iris", *make_folder(b"second"), tags={"team": "ml"})
    archive = registry.export("iris:2", tmp_path / "iris-2.tar.gz")
    other_settings = Settings.from_env({"SHIPYARD_HOME": str(tmp_path / "elsewhere")})

    with Registry.from_settings(other_settings) as other:
        imported = other.import_archive(archive)
        again = other.import_archive(archive)
        fetched = other.fetch("iris:2")

    assert (imported.name, imported.version, imported.digest) == ("iris", 2, original.digest)
    assert imported.tags == {"team": "ml"}
    assert imported.created_at == original.created_at
    assert again == imported
    assert (fetched / "model.bin").read_bytes() == b"second"


def test_import_takes_the_next_number_when_its_own_was_used(
    registry: Registry, make_folder: MakeFolder, tmp_path: Path
) -> None:
    registry.publish("iris", *make_folder(b"a"))
    archive = registry.export("iris:1", tmp_path / "iris-1.tar.gz")
    registry.delete("iris:1")

    imported = registry.import_archive(archive)

    assert imported.version == 2


def test_importing_a_renumbered_version_again_returns_it_instead_of_a_copy(
    registry: Registry, make_folder: MakeFolder, tmp_path: Path
) -> None:
    original = registry.publish("iris", *make_folder(b"a"))
    archive = registry.export("iris:1", tmp_path / "iris-1.tar.gz")
    other_settings = Settings.from_env({"SHIPYARD_HOME": str(tmp_path / "elsewhere")})

    with Registry.from_settings(other_settings) as other:
        other.publish("iris", *make_folder(b"taken"))
        first = other.import_archive(archive)
        second = other.import_archive(archive)
        numbers = [v.version for v in other.list_versions("iris")]

    assert (first.version, first.digest) == (2, original.digest)
    assert second == first
    assert numbers == [1, 2]


def test_import_of_a_folder_or_a_missing_file_says_which(
    registry: Registry, tmp_path: Path
) -> None:
    with pytest.raises(StoreError, match=r"is a folder: give the \.tar\.gz file"):
        registry.import_archive(tmp_path)
    with pytest.raises(StoreError, match=r"does not exist: give the \.tar\.gz file"):
        registry.import_archive(tmp_path / "missing.tar.gz")


def _rewrite_archive(source: Path, target: Path, change: dict[str, bytes]) -> Path:
    with tarfile.open(source) as reader, tarfile.open(target, "w:gz") as writer:
        for member in reader.getmembers():
            data = reader.extractfile(member)
            content = change.get(member.name, data.read() if data else b"")
            member.size = len(content)
            writer.addfile(member, io.BytesIO(content))
    return target


def test_import_refuses_a_tampered_archive(
    registry: Registry, make_folder: MakeFolder, tmp_path: Path
) -> None:
    registry.publish("iris", *make_folder(b"honest weights"))
    archive = registry.export("iris:1", tmp_path / "iris.tar.gz")
    tampered = _rewrite_archive(archive, tmp_path / "bad.tar.gz", {"model.bin": b"evil weights!!"})
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[:-200])
    registry.delete("iris:1")

    with pytest.raises(IntegrityError, match=r"'model\.bin' has sha256"):
        registry.import_archive(tampered)
    with pytest.raises(IntegrityError, match="not a readable Shipyard export archive"):
        registry.import_archive(truncated)
    assert registry.list_models() == []


def test_import_refuses_archive_with_path_traversal(
    registry: Registry, make_folder: MakeFolder, tmp_path: Path
) -> None:
    registry.publish("iris", *make_folder(b"w"))
    archive = registry.export("iris:1", tmp_path / "iris.tar.gz")
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(archive) as reader, tarfile.open(evil, "w:gz") as writer:
        for member in reader.getmembers():
            writer.addfile(member, reader.extractfile(member))
        escape = tarfile.TarInfo("../escaped.txt")
        escape.size = 3
        writer.addfile(escape, io.BytesIO(b"bad"))

    with pytest.raises(IntegrityError, match="not a plain relative path"):
        registry.import_archive(evil)
    assert not (registry.home / "escaped.txt").exists()
    assert not (registry.home / "tmp" / "escaped.txt").exists()


def test_export_archive_holds_descriptor_and_files_only(
    registry: Registry, make_folder: MakeFolder, tmp_path: Path
) -> None:
    registry.publish("iris", *make_folder(b"w", extra={"code/m.py": b"1"}))

    exports = tmp_path / "exports"
    exports.mkdir()
    archive = registry.export("iris", exports / "out.tar.gz")

    with tarfile.open(archive) as reader:
        names = sorted(reader.getnames())
    assert names == sorted([DESCRIPTOR_FILE, "code/m.py", "model.bin", "shipyard.json"])
    assert [p.name for p in exports.iterdir()] == ["out.tar.gz"]


def test_import_accepts_an_archive_made_with_tar_from_a_model_folder(
    registry: Registry, make_folder: MakeFolder, tmp_path: Path
) -> None:
    registry.publish("iris", *make_folder(b"w", extra={"code/m.py": b"1"}))
    folder = registry.fetch("iris:1")
    archive = tmp_path / "by-hand.tar.gz"
    with tarfile.open(archive, "w:gz") as writer:
        writer.add(folder, arcname=".")
    registry.delete("iris:1")

    imported = registry.import_archive(archive)

    assert (imported.name, imported.version) == ("iris", 2)
    assert (registry.fetch("iris:2") / "code" / "m.py").read_bytes() == b"1"

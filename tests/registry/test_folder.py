"""``read_verified_folder``: the check serving and container images rely on."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shipyard.errors import IntegrityError
from shipyard.models.manifest import MANIFEST_FILE
from shipyard.registry import DESCRIPTOR_FILE, ModelVersion, read_verified_folder
from shipyard.registry.digest import hash_tree, version_digest
from shipyard.registry.folder import write_version_descriptor

from .conftest import MakeFolder


@pytest.fixture
def model_folder(make_folder: MakeFolder) -> Path:
    """A complete model folder with its descriptor, as the registry hands it out."""
    folder, manifest = make_folder(b"weights", extra={"code/m.py": b"A = 1\n"})
    files = hash_tree(folder)
    version = ModelVersion(
        name="iris",
        version=4,
        digest=version_digest(files),
        manifest=manifest,
        files=files,
        created_at=datetime.now(UTC),
        created_by="tester",
        tags={"team": "ml"},
    )
    write_version_descriptor(folder, version)
    return folder


def _edit_descriptor(folder: Path, **changes: object) -> None:
    path = folder / DESCRIPTOR_FILE
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_intact_folder_reads_back_its_version(model_folder: Path) -> None:
    version = read_verified_folder(model_folder)

    assert (version.name, version.version, version.tags) == ("iris", 4, {"team": "ml"})
    assert {f.path for f in version.files} == {"code/m.py", "model.bin", MANIFEST_FILE}


def test_modified_file_is_named(model_folder: Path) -> None:
    (model_folder / "code" / "m.py").write_bytes(b"A = 2\n")

    with pytest.raises(IntegrityError, match=r"file 'code/m\.py' has sha256 .* it was modified"):
        read_verified_folder(model_folder)


def test_truncated_file_is_named(model_folder: Path) -> None:
    (model_folder / "model.bin").write_bytes(b"weig")

    with pytest.raises(IntegrityError, match=r"'model\.bin' has 4 bytes, expected 7"):
        read_verified_folder(model_folder)


def test_missing_and_extra_files_are_refused(model_folder: Path) -> None:
    (model_folder / "code" / "new.py").write_text("import os\n")
    with pytest.raises(IntegrityError, match=r"unexpected file 'code/new\.py'"):
        read_verified_folder(model_folder)

    (model_folder / "code" / "new.py").unlink()
    (model_folder / "code" / "m.py").unlink()
    with pytest.raises(IntegrityError, match=r"missing file 'code/m\.py'"):
        read_verified_folder(model_folder)


def test_descriptor_digest_must_match_the_files(model_folder: Path) -> None:
    _edit_descriptor(model_folder, digest="0" * 64)

    with pytest.raises(IntegrityError, match="does not match the version digest"):
        read_verified_folder(model_folder)


def test_descriptor_manifest_must_match_shipyard_json(model_folder: Path) -> None:
    data = json.loads((model_folder / DESCRIPTOR_FILE).read_text())
    data["manifest"]["metadata"] = {"forged": True}
    (model_folder / DESCRIPTOR_FILE).write_text(json.dumps(data))

    with pytest.raises(IntegrityError, match=r"manifest differs from shipyard\.json"):
        read_verified_folder(model_folder)


def test_descriptor_paths_outside_the_folder_are_refused(model_folder: Path) -> None:
    data = json.loads((model_folder / DESCRIPTOR_FILE).read_text())
    data["files"][0]["path"] = "../../etc/passwd"
    (model_folder / DESCRIPTOR_FILE).write_text(json.dumps(data))

    with pytest.raises(IntegrityError, match="not a plain relative path"):
        read_verified_folder(model_folder)


def test_symlinks_are_refused(model_folder: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("secret")
    os.symlink(tmp_path / "outside.txt", model_folder / "link.txt")

    with pytest.raises(IntegrityError, match="link or special file"):
        read_verified_folder(model_folder)


def test_folder_without_descriptor_is_not_a_model_folder(make_folder: MakeFolder) -> None:
    folder, _ = make_folder()

    with pytest.raises(IntegrityError, match="is not a Shipyard model folder"):
        read_verified_folder(folder)
    with pytest.raises(IntegrityError, match="is not a folder"):
        read_verified_folder(folder / "nope")


def test_unreadable_descriptor_is_refused(model_folder: Path) -> None:
    (model_folder / DESCRIPTOR_FILE).write_text("{not json")

    with pytest.raises(IntegrityError, match="not a valid version descriptor"):
        read_verified_folder(model_folder)


@pytest.mark.parametrize(
    "change",
    [
        {"tags": ["team"]},
        {"manifest": []},
        {"files": "model.bin"},
        {"version": 0},
        {"version": 2**31},
    ],
)
def test_descriptor_with_wrongly_typed_fields_or_out_of_range_version_is_refused(
    model_folder: Path, change: dict[str, object]
) -> None:
    _edit_descriptor(model_folder, **change)

    with pytest.raises(IntegrityError, match="not a valid version descriptor"):
        read_verified_folder(model_folder)

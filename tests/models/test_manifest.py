"""The shipyard.json manifest: write, read, refuse what it cannot read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shipyard.errors import IntegrityError, ModelLoadError, PackagingError
from shipyard.models.manifest import (
    MANIFEST_FILE,
    Lineage,
    ModelManifest,
    Requirement,
    Requirements,
)

LINEAGE = Lineage(created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), created_by="ada")
REQS = Requirements("3.11.7", (Requirement("scikit-learn", "1.5.2"), Requirement("numpy", "2.1.0")))


def test_manifest_round_trips_through_its_file(tmp_path: Path) -> None:
    manifest = ModelManifest(
        flavor="sklearn",
        signature=None,
        requirements=REQS,
        lineage=LINEAGE,
        metadata={"team": "risk"},
    )
    manifest.write(tmp_path)
    assert ModelManifest.read(tmp_path) == manifest


def test_requirement_lines_are_sorted_pins() -> None:
    assert REQS.to_lines() == ["numpy==2.1.0", "scikit-learn==1.5.2"]


def test_unpinned_requirement_is_refused_with_a_fix() -> None:
    with pytest.raises(PackagingError, match="NAME==VERSION"):
        Requirements.from_dict({"python_version": "3.11", "packages": ["numpy>=1"]})


def test_unknown_flavor_is_refused() -> None:
    with pytest.raises(PackagingError, match="unknown flavor"):
        ModelManifest(flavor="caffe", signature=None, requirements=REQS, lineage=LINEAGE)  # type: ignore[arg-type]


def test_missing_or_corrupt_manifest_is_an_integrity_error(tmp_path: Path) -> None:
    with pytest.raises(IntegrityError, match="not a Shipyard model folder"):
        ModelManifest.read(tmp_path)
    (tmp_path / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(IntegrityError, match="not a valid Shipyard manifest"):
        ModelManifest.read(tmp_path)


def test_newer_manifest_format_asks_for_an_upgrade(tmp_path: Path) -> None:
    manifest = ModelManifest(flavor="python", signature=None, requirements=REQS, lineage=LINEAGE)
    data = manifest.to_dict() | {"format_version": 99}
    with pytest.raises(PackagingError, match="upgrade Shipyard"):
        ModelManifest.from_dict(data)


def test_reading_a_manifest_of_a_newer_format_is_a_load_error(tmp_path: Path) -> None:
    manifest = ModelManifest(flavor="python", signature=None, requirements=REQS, lineage=LINEAGE)
    manifest.write(tmp_path)
    path = tmp_path / MANIFEST_FILE
    path.write_text(path.read_text().replace('"format_version": 1', '"format_version": 99'))
    with pytest.raises(ModelLoadError, match="upgrade Shipyard"):
        ModelManifest.read(tmp_path)

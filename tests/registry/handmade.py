"""Hand-made model folders for registry tests (also imported by the worker subprocess)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from shipyard.models.manifest import Lineage, ModelManifest, Requirements


def write_model_folder(
    folder: Path, payload: bytes, *, extra: dict[str, bytes] | None = None
) -> ModelManifest:
    """A model folder by hand: ``model.bin``, optional extra files, ``shipyard.json``."""
    folder.mkdir(parents=True)
    (folder / "model.bin").write_bytes(payload)
    for relative, content in (extra or {}).items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(content)
    manifest = ModelManifest(
        flavor="python",
        signature=None,
        requirements=Requirements(python_version="3.11", packages=()),
        lineage=Lineage(created_at=datetime.now(UTC), created_by="tester"),
        metadata={"payload_size": len(payload)},
    )
    manifest.write(folder)
    return manifest

"""The registry's frozen values: what a version is, what an alias move was.

``ModelVersion`` is what the registry hands to serving and image builds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from shipyard.models.manifest import FlavorName, ModelManifest
from shipyard.models.signature import Signature
from shipyard.refs import ModelRef
from shipyard.types import JSON

__all__ = ["AliasAction", "AliasEvent", "ArtifactFile", "ModelSummary", "ModelVersion"]

AliasAction = Literal["set", "remove", "rollback"]


@dataclass(frozen=True, slots=True)
class ArtifactFile:
    """One file of a version: its path inside the model folder, sha256 and size in bytes."""

    path: str
    sha256: str
    size: int

    def to_dict(self) -> JSON:
        return {"path": self.path, "sha256": self.sha256, "size": self.size}

    @classmethod
    def from_dict(cls, data: JSON) -> ArtifactFile:
        return cls(path=str(data["path"]), sha256=str(data["sha256"]), size=int(data["size"]))


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One immutable, registered version of a model."""

    name: str
    version: int
    digest: str
    manifest: ModelManifest
    files: tuple[ArtifactFile, ...]
    created_at: datetime
    created_by: str
    aliases: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> ModelRef:
        return ModelRef(self.name, version=self.version)

    @property
    def flavor(self) -> FlavorName:
        return self.manifest.flavor

    @property
    def signature(self) -> Signature | None:
        return self.manifest.signature

    @property
    def size_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def to_dict(self) -> JSON:
        return {
            "name": self.name,
            "version": self.version,
            "digest": self.digest,
            "flavor": self.flavor,
            "aliases": list(self.aliases),
            "tags": dict(self.tags),
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "size_bytes": self.size_bytes,
            "files": [f.to_dict() for f in self.files],
            "manifest": self.manifest.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: JSON) -> ModelVersion:
        """Read what ``to_dict`` wrote (``shipyard-version.json``, export archives)."""
        return cls(
            name=str(data["name"]),
            version=int(data["version"]),
            digest=str(data["digest"]),
            manifest=ModelManifest.from_dict(data["manifest"]),
            files=tuple(ArtifactFile.from_dict(f) for f in data["files"]),
            created_at=datetime.fromisoformat(str(data["created_at"])),
            created_by=str(data["created_by"]),
            aliases=tuple(str(a) for a in data.get("aliases") or ()),
            tags={str(k): str(v) for k, v in (data.get("tags") or {}).items()},
        )


@dataclass(frozen=True, slots=True)
class AliasEvent:
    """One move of an alias, kept forever in the audit history."""

    name: str
    alias: str
    action: AliasAction
    from_version: int | None
    to_version: int | None
    actor: str
    at: datetime

    def to_dict(self) -> JSON:
        return {
            "name": self.name,
            "alias": self.alias,
            "action": self.action,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "actor": self.actor,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class ModelSummary:
    """A registered model at a glance."""

    name: str
    latest_version: int
    version_count: int
    aliases: dict[str, int]
    updated_at: datetime

    def to_dict(self) -> JSON:
        return {
            "name": self.name,
            "latest_version": self.latest_version,
            "version_count": self.version_count,
            "aliases": dict(self.aliases),
            "updated_at": self.updated_at.isoformat(),
        }

"""The manifest of a packaged model: ``shipyard.json`` at the root of its artifact folder.

It says everything needed to load and run the model again: the flavor that loads it, the
signature serving validates against, the pinned requirements, lineage, and what else was saved
(custom code, a reference-data profile, the golden sample). ``ModelManifest`` is the value
``models/`` hands to ``registry/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args

from shipyard.errors import IntegrityError, ModelLoadError, PackagingError
from shipyard.models.signature import Signature
from shipyard.types import JSON

__all__ = [
    "MANIFEST_FILE",
    "MLFLOW_SOURCE_KEY",
    "FlavorName",
    "Lineage",
    "ModelManifest",
    "Requirement",
    "Requirements",
]

MANIFEST_FILE = "shipyard.json"
MLFLOW_SOURCE_KEY = "mlflow_source"
"""The metadata key holding the MLflow ``source`` URI a version was registered from."""
FORMAT_VERSION = 1

FlavorName = Literal[
    "sklearn", "xgboost", "lightgbm", "pytorch", "onnx", "python", "mlflow", "prompt"
]


@dataclass(frozen=True, slots=True)
class Requirement:
    """One pinned distribution, e.g. ``scikit-learn==1.5.2``."""

    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True, slots=True)
class Requirements:
    """The Python version and the exact packages a model needs to run."""

    python_version: str
    packages: tuple[Requirement, ...]
    overridden: bool = False

    def __post_init__(self) -> None:
        ordered = tuple(sorted(set(self.packages), key=lambda r: (r.name.lower(), r.version)))
        object.__setattr__(self, "packages", ordered)

    def to_lines(self) -> list[str]:
        """``requirements.txt`` lines, one pin each, sorted by name."""
        return [str(r) for r in self.packages]

    def to_dict(self) -> JSON:
        return {
            "python_version": self.python_version,
            "packages": self.to_lines(),
            "overridden": self.overridden,
        }

    @classmethod
    def from_dict(cls, data: JSON) -> Requirements:
        packages = []
        for line in data.get("packages", ()):
            name, sep, version = str(line).partition("==")
            if not sep:
                raise PackagingError(f"requirement {line!r} is not pinned: write NAME==VERSION")
            packages.append(Requirement(name.strip(), version.strip()))
        return cls(
            python_version=str(data["python_version"]),
            packages=tuple(packages),
            overridden=bool(data.get("overridden", False)),
        )


@dataclass(frozen=True, slots=True)
class Lineage:
    """Where a model version came from."""

    created_at: datetime
    created_by: str
    run_id: str | None = None
    dataset_digest: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    source: str | None = None
    repository: str | None = None
    """The git remote as a browsable URL without credentials (``models/lineage.py``)."""

    def to_dict(self) -> JSON:
        return {
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "run_id": self.run_id,
            "dataset_digest": self.dataset_digest,
            "git_commit": self.git_commit,
            "git_dirty": self.git_dirty,
            "source": self.source,
            "repository": self.repository,
        }

    @classmethod
    def from_dict(cls, data: JSON) -> Lineage:
        return cls(
            created_at=datetime.fromisoformat(data["created_at"]),
            created_by=str(data["created_by"]),
            run_id=data.get("run_id"),
            dataset_digest=data.get("dataset_digest"),
            git_commit=data.get("git_commit"),
            git_dirty=data.get("git_dirty"),
            source=data.get("source"),
            repository=data.get("repository"),
        )


@dataclass(frozen=True, slots=True)
class ModelManifest:
    """What a packaged model is and how to load it."""

    flavor: FlavorName
    signature: Signature | None
    requirements: Requirements
    lineage: Lineage
    flavor_options: JSON = field(default_factory=dict)
    code_paths: tuple[str, ...] = ()
    profile_path: str | None = None
    metadata: JSON = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    golden_path: str | None = None
    """The golden sample's folder (``models/golden.py``), when a sample input was given."""

    def __post_init__(self) -> None:
        if self.flavor not in get_args(FlavorName):
            raise PackagingError(
                f"unknown flavor {self.flavor!r}: expected one of {', '.join(get_args(FlavorName))}"
            )

    def to_dict(self) -> JSON:
        return {
            "format_version": self.format_version,
            "flavor": self.flavor,
            "flavor_options": self.flavor_options,
            "signature": None if self.signature is None else self.signature.to_dict(),
            "requirements": self.requirements.to_dict(),
            "lineage": self.lineage.to_dict(),
            "code_paths": list(self.code_paths),
            "profile_path": self.profile_path,
            "golden_path": self.golden_path,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: JSON) -> ModelManifest:
        version = int(data.get("format_version", 0))
        if version > FORMAT_VERSION:
            raise PackagingError(
                f"this model was saved by a newer Shipyard (manifest format {version}, this one "
                f"reads up to {FORMAT_VERSION}): upgrade Shipyard to load it"
            )
        signature: Any = data.get("signature")
        return cls(
            flavor=data["flavor"],
            flavor_options=dict(data.get("flavor_options") or {}),
            signature=None if signature is None else Signature.from_dict(signature),
            requirements=Requirements.from_dict(data["requirements"]),
            lineage=Lineage.from_dict(data["lineage"]),
            code_paths=tuple(data.get("code_paths") or ()),
            profile_path=data.get("profile_path"),
            golden_path=data.get("golden_path"),
            metadata=dict(data.get("metadata") or {}),
            format_version=version,
        )

    def write(self, folder: Path) -> Path:
        """Write ``shipyard.json`` into ``folder`` and return its path."""
        path = folder / MANIFEST_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def read(cls, folder: Path) -> ModelManifest:
        """Read ``shipyard.json`` from a model's artifact folder."""
        path = folder / MANIFEST_FILE
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except FileNotFoundError:
            raise IntegrityError(
                f"{path} is missing: this is not a Shipyard model folder"
            ) from None
        except PackagingError as exc:
            raise ModelLoadError(f"{path} cannot be loaded: {exc}") from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise IntegrityError(f"{path} is not a valid Shipyard manifest: {exc}") from exc

"""Artifacts saved next to a ``PythonModel``: inner models and plain files or folders.

``package_model(MyModel(), folder, artifacts={"clf": clf, "vocab": Path("vocab.txt")})`` saves
``clf`` with its own flavor into ``artifacts/clf/`` and copies ``vocab.txt`` to
``artifacts/vocab.txt``. At load time the ``ModelContext`` maps every name to its path, and each
model artifact's name to its loaded native object.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shipyard.errors import ModelLoadError, PackagingError
from shipyard.models.custom import ModelContext
from shipyard.models.flavors import Flavor, detect_flavor, flavor_named
from shipyard.models.flavors.base import folder_file
from shipyard.refs import validate_name
from shipyard.types import JSON

__all__ = [
    "ARTIFACTS_DIR",
    "artifact_imports",
    "artifact_packages",
    "load_context",
    "save_artifacts",
]

ARTIFACTS_DIR = "artifacts"


def save_artifacts(folder: Path, artifacts: Mapping[str, Any]) -> JSON:
    """Save each artifact under ``folder/artifacts``; return their descriptions for the manifest."""
    root = folder / ARTIFACTS_DIR
    root.mkdir()
    described: JSON = {}
    for name, value in artifacts.items():
        _check_name(name)
        if isinstance(value, str | Path):
            source = Path(value).expanduser()
            if not source.exists():
                raise PackagingError(f"artifact {name!r}: {source} does not exist")
            target = root / name
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)
            described[name] = {"path": f"{ARTIFACTS_DIR}/{name}", "flavor": None}
            continue
        flavor = _model_flavor(name, value)
        target = root / name
        target.mkdir()
        options = flavor.save(value, target, {})
        described[name] = {
            "path": f"{ARTIFACTS_DIR}/{name}",
            "flavor": flavor.name,
            "options": options,
        }
    return described


def artifact_packages(artifacts: Mapping[str, Any]) -> tuple[str, ...]:
    """The distributions the model artifacts' flavors need."""
    packages: list[str] = []
    for name, value in artifacts.items():
        if not isinstance(value, str | Path):
            packages.extend(_model_flavor(name, value).packages(value))
    return tuple(packages)


def artifact_imports(described: JSON) -> list[str]:
    """The modules the saved model artifacts' pickles need (their flavor options' ``imports``)."""
    found: list[str] = []
    for info in described.values():
        found.extend(str(m) for m in (info.get("options") or {}).get("imports") or ())
    return found


def load_context(folder: Path, described: JSON) -> ModelContext:
    """The ``ModelContext`` of a loaded ``PythonModel``: artifact paths and loaded models."""
    paths: dict[str, Path] = {}
    models: dict[str, Any] = {}
    for name, info in described.items():
        path = folder_file(folder, info["path"])
        if not path.exists():
            raise ModelLoadError(f"artifact {name!r} is missing from the model folder ({path})")
        paths[name] = path
        if info.get("flavor"):
            models[name], _ = flavor_named(str(info["flavor"])).load(path, dict(info["options"]))
    return ModelContext(folder=folder, artifacts=paths, models=models)


def _check_name(name: str) -> None:
    try:
        validate_name(name)
    except ValueError:
        raise PackagingError(
            f"artifact name {name!r} is not valid: use lowercase letters, digits, '-', '_' and '.'"
        ) from None


def _model_flavor(name: str, value: Any) -> Flavor:
    try:
        flavor = detect_flavor(value)
    except PackagingError as exc:
        raise PackagingError(f"artifact {name!r}: {exc}; or give a file path") from exc
    if flavor.name == "python":
        raise PackagingError(
            f"artifact {name!r} is a plain Python object: artifacts are models of a library flavor "
            "(scikit-learn, XGBoost, ...) or file paths; keep plain state on the PythonModel itself"
        )
    return flavor

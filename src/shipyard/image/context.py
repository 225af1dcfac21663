"""Write a build context: everything ``docker build`` needs, and nothing it must fetch.

    context/
      Dockerfile  .dockerignore
      requirements.lock   wheelhouse/*.whl      the locked, hashed dependencies
      model/               the verified model folder (with shipyard-version.json)
      service/             Shipyard's own code + its dist-info (the server in the image)
      config/build.json    what was built from what (model, base, lock digest; no tags, so
                         retagging or a code change leaves this layer as it was)

Every file's mtime is set to the model version's creation time, so the same version gives a
byte-identical context (and identical ``COPY`` layers) on any machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import shipyard
from shipyard.errors import BuildError, ConflictError
from shipyard.image.dockerfile import (
    CONFIG_DIR,
    LOCK_FILE,
    MODEL_CONTEXT_DIR,
    SERVICE_DIR,
    WHEELHOUSE_DIR,
    render_dockerfile,
    render_dockerignore,
)
from shipyard.image.labels import image_labels
from shipyard.image.spec import BuildSpec
from shipyard.image.wheelhouse import Wheelhouse

__all__ = [
    "BuildContext",
    "default_service_source",
    "link_wheels",
    "write_context",
    "write_service",
]

_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".pytest_cache")


@dataclass(frozen=True, slots=True)
class BuildContext:
    """A written build context and what went into it."""

    path: Path
    spec: BuildSpec
    dockerfile: str
    lock_sha256: str

    @property
    def dockerfile_path(self) -> Path:
        return self.path / "Dockerfile"


def default_service_source() -> Path:
    """The folder of the running Shipyard package: the service code the image runs."""
    return Path(shipyard.__file__).resolve().parent


def write_context(
    spec: BuildSpec,
    model_folder: Path,
    wheelhouse: Wheelhouse,
    dest: Path,
    *,
    service_source: Path | None = None,
) -> BuildContext:
    """Write the context for ``spec`` into ``dest`` (which must be empty or absent)."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise ConflictError(
            f"{dest} is not empty: give an empty or new folder for the build context"
        )
    dest.mkdir(parents=True, exist_ok=True)
    dockerfile = render_dockerfile(spec)
    (dest / "Dockerfile").write_text(dockerfile)
    (dest / ".dockerignore").write_text(render_dockerignore())
    lock = wheelhouse.lock_text()
    (dest / LOCK_FILE).write_text(lock)
    link_wheels(wheelhouse, dest / WHEELHOUSE_DIR)
    shutil.copytree(model_folder, dest / MODEL_CONTEXT_DIR)  # verbatim: it is verified whole
    write_service(dest / SERVICE_DIR, service_source or default_service_source())
    lock_sha = hashlib.sha256(lock.encode()).hexdigest()
    (dest / CONFIG_DIR).mkdir()
    (dest / CONFIG_DIR / "build.json").write_text(_build_info(spec, lock_sha))
    if spec.trusted_keys:  # -> TRUSTED_KEYS_DIR in the image
        keys = dest / CONFIG_DIR / "trusted-keys"
        keys.mkdir()
        for number, line in enumerate(spec.trusted_keys):
            (keys / f"key-{number}.pub").write_text(line.strip() + "\n")
    _set_mtimes(dest, int(spec.model.created_at.timestamp()))
    return BuildContext(path=dest, spec=spec, dockerfile=dockerfile, lock_sha256=lock_sha)


def link_wheels(wheelhouse: Wheelhouse, dest: Path) -> None:
    """Hard-link the cached wheels (copy across file systems); the lock names each one."""
    dest.mkdir()
    for wheel in wheelhouse.wheels:
        source = wheelhouse.path / wheel.filename
        try:
            os.link(source, dest / wheel.filename)
        except OSError:
            shutil.copy2(source, dest / wheel.filename)


def write_service(dest: Path, source: Path) -> None:
    """Shipyard's package plus a dist-info, so ``importlib.metadata`` finds it in the image."""
    if not (source / "__main__.py").is_file():
        raise BuildError(f"{source} is not the shipyard package (no __main__.py)")
    shutil.copytree(source, dest / "shipyard", ignore=_SKIP)
    dist = metadata.distribution("shipyard")
    info = dest / f"shipyard-{dist.version}.dist-info"
    info.mkdir()
    for name in ("METADATA", "entry_points.txt", "top_level.txt"):
        text = dist.read_text(name)
        if text is not None:
            (info / name).write_text(text)
    (info / "INSTALLER").write_text("shipyard-build\n")


def _build_info(spec: BuildSpec, lock_sha256: str) -> str:
    model = spec.model
    info = {
        "model": {"name": model.name, "version": model.version, "digest": model.digest},
        "base_image": spec.base_image,
        "base_digest": spec.base_digest,
        "python_version": spec.python_version,
        "lock_sha256": lock_sha256,
        "labels": image_labels(spec),
    }
    return json.dumps(info, indent=2, sort_keys=True) + "\n"


def _set_mtimes(root: Path, epoch: int) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        if not path.is_symlink():
            os.utime(path, (epoch, epoch))
    os.utime(root, (epoch, epoch))

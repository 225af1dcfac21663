"""From a verified model folder to a build context, and from a context to an image.

The two commands share it: ``shipyard dockerfile`` stops after ``write_build_context``;
``shipyard build`` goes on with ``build_image`` on a connected engine.

    >>> spec = plan_build(folder, base_image="python:3.11-slim")
    >>> context = write_build_context(spec, folder, dest, cache_dir=home / "cache" / "build")
    >>> image = build_context_image(engine, context)
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from shipyard.docker_engine import BuiltImage, DockerEngine
from shipyard.image.buildlog import BuildLog
from shipyard.image.context import BuildContext, write_context
from shipyard.image.image import build_context_image
from shipyard.image.spec import BuildSpec
from shipyard.image.wheelhouse import (
    Target,
    image_requirements,
    resolve_wheelhouse,
    service_requirements,
)
from shipyard.registry.entities import ModelVersion
from shipyard.registry.folder import read_verified_folder
from shipyard.registry.trust import require_trusted, trusted_key_lines

__all__ = ["build_image", "plan_build", "write_build_context"]


def plan_build(
    model_folder: Path,
    *,
    base_image: str | None = None,
    tags: tuple[str, ...] = (),
    current: ModelVersion | None = None,
    prune_tests: bool = True,
    trusted_keys: tuple[Path, ...] = (),
) -> BuildSpec:
    """The spec for a verified model folder; ``current`` (from the registry) supplies up-to-date
    aliases for the default tags. Under a trust policy (``trusted_keys``) the version must be
    signed by one of them, and the image requires the same."""
    version = read_verified_folder(model_folder)
    if current is not None and current.digest == version.digest:
        version = current
    require_trusted(version, trusted_keys)
    return BuildSpec.for_model(
        version,
        base_image=base_image,
        tags=tags,
        prune_tests=prune_tests,
        trusted_keys=trusted_key_lines(trusted_keys),
    )


def write_build_context(
    spec: BuildSpec,
    model_folder: Path,
    dest: Path,
    *,
    cache_dir: Path,
    service_source: Path | None = None,
) -> BuildContext:
    """Resolve the wheelhouse on this host (cached) and write the whole context into ``dest``."""
    target = Target.for_python(spec.python_version)
    requirements = image_requirements(
        spec.model.manifest.requirements, service_requirements(target)
    )
    wheelhouse = resolve_wheelhouse(requirements, target, cache_dir)
    return write_context(spec, model_folder, wheelhouse, dest, service_source=service_source)


def build_image(
    engine: DockerEngine,
    spec: BuildSpec,
    model_folder: Path,
    *,
    cache_dir: Path,
    no_cache: bool = False,
    service_source: Path | None = None,
    on_line: Callable[[BuildLog, str], None] | None = None,
) -> BuiltImage:
    """Record the base's digest, write a fresh context and build it into a tagged image."""
    spec = spec.with_base_digest(engine.base_digest(spec.base_image))
    with tempfile.TemporaryDirectory(prefix="shipyard-build-") as tmp:
        context = write_build_context(
            spec,
            model_folder,
            Path(tmp) / "context",
            cache_dir=cache_dir,
            service_source=service_source,
        )
        return build_context_image(engine, context, no_cache=no_cache, on_line=on_line)

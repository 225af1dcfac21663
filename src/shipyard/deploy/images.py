"""Which image a deployment runs: a registry reference names its built image, anything else is an
image already. A reference whose image is missing is built first (``build.pipeline``).

    >>> source = resolve_image("cancer@production", settings)
    >>> source.image, source.model.version
    ('shipyard/cancer:1', 1)
    >>> built = ensure_image(engine, source, settings)   # builds it when the engine lacks it
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker.errors

from shipyard.config import Settings
from shipyard.docker_engine import BuiltImage, DockerEngine, engine_errors
from shipyard.errors import InvalidNameError, NotFoundError
from shipyard.image.buildlog import BuildLog
from shipyard.image.pipeline import build_image, plan_build
from shipyard.image.spec import default_tags
from shipyard.refs import ModelRef
from shipyard.registry.entities import ModelVersion
from shipyard.registry.registry import Registry

__all__ = ["ImageSource", "ensure_image", "has_image", "resolve_image"]


@dataclass(frozen=True, slots=True)
class ImageSource:
    """The image to run and, when it came from the registry, the model version it serves."""

    image: str
    model: ModelVersion | None = None
    ref: str | None = None


def resolve_image(target: str, settings: Settings) -> ImageSource:
    """``cancer:1`` -> ``shipyard/cancer:1`` when it names a registered version, else as is."""
    try:
        ref = ModelRef.parse(target)
    except InvalidNameError:
        return ImageSource(target)
    try:
        with Registry.from_settings(settings) as registry:
            version = registry.get(ref)
    except NotFoundError:
        return ImageSource(target)
    return ImageSource(f"{default_tags(version)[0]}", version, target)


def has_image(engine: DockerEngine, image: str) -> bool:
    with engine_errors(f"inspecting {image}"):
        try:
            engine.client.api.inspect_image(image)
        except docker.errors.ImageNotFound:
            return False
    return True


def ensure_image(
    engine: DockerEngine,
    source: ImageSource,
    settings: Settings,
    *,
    base_image: str | None = None,
    cache_dir: Path | None = None,
    on_line: Callable[[BuildLog, str], None] | None = None,
) -> BuiltImage:
    """The engine's image for ``source``, built first when a registry version has none yet."""
    if has_image(engine, source.image):
        return engine.inspect(source.image)
    if source.model is None or source.ref is None:
        raise NotFoundError(
            f"no image {source.image!r} in the engine and no registered model of that name: "
            "give a registry reference (NAME:VERSION, NAME@ALIAS) or build the image first"
        )
    with Registry.from_settings(settings) as registry:
        folder = registry.fetch(source.ref)
        current = registry.get(source.ref)
    spec = plan_build(
        folder, base_image=base_image, current=current, trusted_keys=settings.trusted_keys
    )
    cache = cache_dir or settings.wheel_cache
    return build_image(engine, spec, folder, cache_dir=cache, on_line=on_line)

"""``BuildSpec``: everything that decides what an image contains, as one frozen value.

The edge (CLI, ``build.pipeline``) builds it once from a ``ModelVersion`` and options; the pure
render (``build.dockerfile``, ``build.labels``) reads it; the Docker SDK edge (``build.image``)
tags with it.

    >>> spec = BuildSpec.for_model(version)
    >>> spec.base_image, spec.tags
    ('python:3.11-slim', ('shipyard/iris:3', 'shipyard/iris:production'))
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from importlib import metadata

from shipyard.contract import CONTAINER_PORT, IMAGE_UID
from shipyard.errors import ConfigError
from shipyard.registry.entities import ModelVersion

__all__ = [
    "BuildSpec",
    "default_base_image",
    "default_tags",
    "python_minor",
]

_PYTHON = re.compile(r"(\d+)\.(\d+)(?:\.\d+)?.*")
_APT_PIN = re.compile(r"[a-z0-9][a-z0-9+.-]*=[A-Za-z0-9.+:~-]+")
_TAG = re.compile(r"[a-z0-9]+(?:[._/:@-][A-Za-z0-9_.-]+)*")


def python_minor(version: str) -> str:
    """``"3.11.7"`` -> ``"3.11"``; raises ``ConfigError`` for anything that is not a version."""
    match = _PYTHON.fullmatch(version.strip())
    if not match:
        raise ConfigError(f"python version {version!r} is not like 3.11 or 3.11.7")
    return f"{match.group(1)}.{match.group(2)}"


def default_base_image(python_version: str) -> str:
    """The official slim image for the model's Python, e.g. ``python:3.11-slim``."""
    return f"python:{python_minor(python_version)}-slim"


def default_tags(version: ModelVersion, repository: str = "shipyard") -> tuple[str, ...]:
    """``shipyard/<name>:<version>`` plus one ``shipyard/<name>:<alias>`` per alias."""
    image = f"{repository}/{version.name}"
    return (f"{image}:{version.version}", *(f"{image}:{a}" for a in sorted(version.aliases)))


@dataclass(frozen=True, slots=True)
class BuildSpec:
    """What to build: the model version, the base, the tags and the runtime settings."""

    model: ModelVersion
    base_image: str
    python_version: str
    tags: tuple[str, ...]
    base_digest: str | None = None
    system_packages: tuple[str, ...] = ()
    port: int = CONTAINER_PORT
    uid: int = IMAGE_UID
    healthcheck_interval_s: int = 5
    prune_tests: bool = True
    trusted_keys: tuple[str, ...] = ()
    """Public keys (OpenSSH lines) the image's self-check and server require a signature by:
    the builder's ``SHIPYARD_TRUSTED_KEYS``, baked in; empty: none required."""
    shipyard_version: str = field(default_factory=lambda: metadata.version("shipyard"))

    def __post_init__(self) -> None:
        python_minor(self.python_version)
        if not self.tags:
            raise ConfigError("an image needs at least one tag, e.g. shipyard/iris:3")
        for tag in self.tags:
            if not _TAG.fullmatch(tag):
                raise ConfigError(f"invalid image tag {tag!r}: use REPOSITORY[:TAG] in lowercase")
        for package in self.system_packages:
            if not _APT_PIN.fullmatch(package):
                raise ConfigError(
                    f"system package {package!r} is not pinned: write NAME=VERSION "
                    "(for example libgomp1=12.2.0-14) so that builds are reproducible"
                )
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is out of range: use 1-65535")
        if self.uid <= 0:
            raise ConfigError(f"uid {self.uid} would run as root: use a uid above 0")

    @classmethod
    def for_model(
        cls,
        model: ModelVersion,
        *,
        base_image: str | None = None,
        tags: tuple[str, ...] = (),
        system_packages: tuple[str, ...] = (),
        prune_tests: bool = True,
        trusted_keys: tuple[str, ...] = (),
    ) -> BuildSpec:
        """A spec with the defaults: the model's Python, its slim base and its default tags."""
        python_version = python_minor(model.manifest.requirements.python_version)
        return cls(
            model=model,
            base_image=base_image or default_base_image(python_version),
            python_version=python_version,
            tags=tags or default_tags(model),
            system_packages=system_packages,
            prune_tests=prune_tests,
            trusted_keys=trusted_keys,
        )

    def with_base_digest(self, digest: str | None) -> BuildSpec:
        """The same spec with the base image's resolved digest (``sha256:...``) recorded."""
        return replace(self, base_digest=digest)

    @property
    def base_reference(self) -> str:
        """The base as written in ``FROM``: pinned by digest when the digest is known."""
        if self.base_digest is None or "@" in self.base_image:
            return self.base_image
        return f"{self.base_image}@{self.base_digest}"

"""Deploy targets: explicit classes in an explicit tuple (no string registry).

>>> target = connect_target("docker")
"""

from __future__ import annotations

from shipyard.deploy.spec import TARGET_NAMES, TargetName
from shipyard.deploy.targets.base import Target
from shipyard.deploy.targets.docker.target import DockerTarget
from shipyard.errors import ConfigError

__all__ = ["TARGETS", "connect_target", "target_class"]

TARGETS = (DockerTarget,)


def target_class(name: str) -> type[DockerTarget]:
    for cls in TARGETS:
        if cls.name == name:
            return cls
    raise ConfigError(f"unknown target {name!r}: use one of {', '.join(TARGET_NAMES)}")


def connect_target(name: TargetName | str) -> Target:
    """The target ``name``, connected (its engine or cluster must answer)."""
    return target_class(name).connect()

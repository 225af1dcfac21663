"""Deploy targets: explicit classes in an explicit tuple (no string registry).

>>> files = target_class("kubernetes").render(spec)   # pure, no cluster needed
>>> target = connect_target("docker")
>>> target = connect_target("kubernetes", spec=spec)   # spec.context and spec.namespace
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Protocol

from shipyard.deploy.spec import TARGET_NAMES, DeploymentSpec, TargetName
from shipyard.deploy.targets.base import Target
from shipyard.deploy.targets.docker.target import DockerTarget
from shipyard.deploy.targets.kubernetes.target import KubernetesTarget
from shipyard.deploy.targets.swarm.target import SwarmTarget
from shipyard.errors import ConfigError

__all__ = ["TARGETS", "TargetClass", "connect_target", "target_class"]


class TargetClass(Protocol):
    """What a target class offers before it is connected: its name and its pure render."""

    name: ClassVar[TargetName]
    render: Callable[[DeploymentSpec], dict[str, str]]


TARGETS: tuple[type[DockerTarget] | type[SwarmTarget] | type[KubernetesTarget], ...] = (
    DockerTarget,
    SwarmTarget,
    KubernetesTarget,
)


def target_class(name: str) -> type[DockerTarget] | type[SwarmTarget] | type[KubernetesTarget]:
    for cls in TARGETS:
        if cls.name == name:
            return cls
    raise ConfigError(f"unknown target {name!r}: use one of {', '.join(TARGET_NAMES)}")


def connect_target(name: TargetName | str, *, spec: DeploymentSpec | None = None) -> Target:
    """The target ``name``, connected (its engine or cluster must answer); Kubernetes uses the
    kubeconfig context and namespace of ``spec`` (the deployment's)."""
    cls = target_class(name)
    if cls is KubernetesTarget:
        if spec is None:
            return KubernetesTarget.connect()
        return KubernetesTarget.connect(context=spec.context, namespace=spec.namespace)
    connected: Target = cls.connect()
    return connected

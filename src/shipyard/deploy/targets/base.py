"""What every deploy target offers: a pure render and a thin apply, and what they report.

>>> target = DockerTarget(engine)
>>> files = target.render(spec)          # pure: manifest text, validated
>>> status = target.apply(spec, revision=2, previous=(old_spec, 1), progress=print)

What differs between targets is declared, not probed: ``scales_in_place`` (then it is a
``ScalingTarget``), ``reads_replica_metrics`` (a ``MetricsTarget``) and ``engine`` (the local
Docker engine that builds a missing image, or ``None`` for a cluster).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from shipyard.deploy.spec import DeploymentSpec, TargetName

if TYPE_CHECKING:
    from shipyard.docker_engine import DockerEngine

__all__ = [
    "DEPLOYMENT_LABEL",
    "REVISION_LABEL",
    "ROLE_LABEL",
    "WEIGHT_LABEL",
    "DeploymentStatus",
    "MetricsTarget",
    "Progress",
    "ReplicaStatus",
    "ScalingTarget",
    "Target",
]

DEPLOYMENT_LABEL = "io.shipyard.deployment"
REVISION_LABEL = "io.shipyard.revision"
ROLE_LABEL = "io.shipyard.role"
WEIGHT_LABEL = "io.shipyard.weight"
"""A canary's share of the requests, in percent."""

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ReplicaStatus:
    """One running copy of the model server."""

    name: str
    revision: int
    image: str
    ready: bool
    url: str | None = None
    role: str = "stable"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "revision": self.revision,
            "image": self.image,
            "ready": self.ready,
            "url": self.url,
            "role": self.role,
        }


@dataclass(frozen=True, slots=True)
class DeploymentStatus:
    """What runs for a deployment right now, as the target sees it."""

    name: str
    target: TargetName
    url: str | None
    replicas: tuple[ReplicaStatus, ...]

    @property
    def ready_count(self) -> int:
        return sum(1 for replica in self.replicas if replica.ready)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "target": self.target,
            "url": self.url,
            "ready": self.ready_count,
            "replicas": [replica.to_dict() for replica in self.replicas],
        }


class Target(Protocol):
    """A place deployments run: Docker on one host, a Swarm, a Kubernetes cluster."""

    name: ClassVar[TargetName]
    scales_in_place: ClassVar[bool]
    """``scale`` changes the replica count without a rolling update (a ``ScalingTarget``)."""
    reads_replica_metrics: ClassVar[bool]
    """This host reaches each replica's ``/metrics`` (a ``MetricsTarget``: canary analysis)."""

    @property
    def engine(self) -> DockerEngine | None:
        """The local Docker engine the replicas run on (a missing image is built there first);
        ``None`` for a cluster, which pulls images from a registry."""
        ...

    def render(self, spec: DeploymentSpec) -> dict[str, str]:
        """The files that describe ``spec`` on this target, validated (pure)."""
        ...

    def check(self, spec: DeploymentSpec) -> None:
        """Refuse what this target cannot run before anything is recorded (images, names)."""
        ...

    def apply(
        self,
        spec: DeploymentSpec,
        revision: int,
        *,
        previous: tuple[DeploymentSpec, int] | None,
        progress: Progress,
        wait: bool = True,
    ) -> DeploymentStatus:
        """Make ``spec`` run as ``revision``; roll back to ``previous`` if it fails readiness.
        ``wait=False``: return once applied, without waiting for readiness (no rollback)."""
        ...

    def status(self, name: str) -> DeploymentStatus:
        """What runs for ``name`` now."""
        ...

    def exists(self, name: str) -> bool:
        """Whether anything of ``name`` runs on this target."""
        ...

    def remove(self, name: str) -> list[str]:
        """Remove everything ``name`` made; return what was removed."""
        ...

    def start_canary(
        self, spec: DeploymentSpec, revision: int, weight: int, progress: Progress
    ) -> DeploymentStatus:
        """One canary replica of ``spec`` next to stable, taking ``weight`` percent of requests."""
        ...

    def retire_canary(self, spec: DeploymentSpec, progress: Progress) -> None:
        """Send every request to stable again and remove the canary (promote rolled it first)."""
        ...

    def close(self) -> None:
        """Let go of the engine or cluster connection."""
        ...


class ScalingTarget(Target, Protocol):
    """A target with ``scales_in_place``: replicas are added or removed, none replaced."""

    def scale(
        self, spec: DeploymentSpec, revision: int, progress: Progress, *, wait: bool = True
    ) -> DeploymentStatus:
        """Run ``spec.replicas`` copies of the live ``revision``."""
        ...


class MetricsTarget(Target, Protocol):
    """A target with ``reads_replica_metrics``."""

    def replica_urls(self, name: str) -> dict[str, list[str]]:
        """``{"stable": [...], "canary": [...]}``: where each replica's ``/metrics`` is."""
        ...

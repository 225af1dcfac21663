"""What every deploy target offers: a pure render and a thin apply, and what they report.

>>> target = DockerTarget(engine)
>>> files = target.render(spec)          # pure: manifest text, validated
>>> status = target.apply(spec, revision=2, previous=(old_spec, 1), progress=print)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from shipyard.deploy.spec import DeploymentSpec, TargetName

__all__ = [
    "DEPLOYMENT_LABEL",
    "REVISION_LABEL",
    "ROLE_LABEL",
    "WEIGHT_LABEL",
    "DeploymentStatus",
    "Progress",
    "ReplicaStatus",
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

    def render(self, spec: DeploymentSpec) -> dict[str, str]:
        """The files that describe ``spec`` on this target, validated (pure)."""
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

"""The Kubernetes target, render side: manifests plus ``kustomization.yaml``.

No cluster is reachable where this was written, so applying from Shipyard is not in this branch
yet: write the manifests with ``-o DIR`` and apply them with
``kubectl apply --server-side --field-manager=shipyard -k DIR``.
"""

from __future__ import annotations

from typing import ClassVar

from shipyard.deploy.spec import DeploymentSpec, TargetName
from shipyard.deploy.targets.kubernetes.render import render_manifests
from shipyard.errors import DeployError

__all__ = ["KubernetesTarget"]


class KubernetesTarget:
    """Render-only for now (see the module docstring)."""

    name: ClassVar[TargetName] = "kubernetes"

    @classmethod
    def render(cls, spec: DeploymentSpec) -> dict[str, str]:
        return render_manifests(spec)

    @classmethod
    def connect(cls) -> KubernetesTarget:
        raise DeployError(
            "applying to Kubernetes from Shipyard is not available yet: render the manifests "
            "with `shipyard deploy REF --target kubernetes --dry-run -o DIR`, then "
            "`kubectl apply --server-side --field-manager=shipyard -k DIR`"
        )

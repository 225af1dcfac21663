"""The Swarm target, render side: a stack file for ``docker stack deploy``.

N replicas with healthchecks, a restart policy, resource limits and ``update_config``
(start-first, ``failure_action: rollback``, a monitor window from the measured load time);
replicas on DNS round-robin and nginx in front, published in host mode (the ingress routing mesh
needs IPVS). Applying it from Shipyard is not in this branch yet: write it with ``-o DIR`` and run
``docker stack deploy -c DIR/stack.yaml NAME``.
"""

from __future__ import annotations

from typing import ClassVar

from shipyard.deploy.spec import DeploymentSpec, TargetName
from shipyard.deploy.targets.docker.compose import render_compose, to_yaml, validate_compose
from shipyard.deploy.targets.docker.nginx import render_nginx_conf
from shipyard.errors import DeployError

__all__ = ["SwarmTarget"]

_SWARM_DNS = "127.0.0.11"


class SwarmTarget:
    """Render-only for now (see the module docstring)."""

    name: ClassVar[TargetName] = "swarm"

    @classmethod
    def render(cls, spec: DeploymentSpec) -> dict[str, str]:
        doc = render_compose(spec, mode="swarm")
        validate_compose(doc)
        nginx = render_nginx_conf(["model:8080"], resolver=_SWARM_DNS)
        return {"stack.yaml": to_yaml(doc), "nginx.conf": nginx}

    @classmethod
    def connect(cls) -> SwarmTarget:
        raise DeployError(
            "applying to Swarm from Shipyard is not available yet: render the stack with "
            "`shipyard deploy REF --target swarm --dry-run -o DIR`, then "
            "`docker stack deploy -c DIR/stack.yaml NAME`"
        )

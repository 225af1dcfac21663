"""A Kubernetes canary, rendered purely: two Deployments split by weight with a Gateway API route.

The stable Deployment ``NAME`` and the canary ``NAME-canary`` (one pod) have distinct selectors
(``io.shipyard.role: stable|canary``) and a Service each; an ``HTTPRoute``
(``gateway.networking.k8s.io/v1``) attached to a Gateway the user names sends ``weight`` percent
of the requests to the canary's Service and the rest to stable's. No service mesh is needed: any
Gateway API implementation splits by ``backendRefs[].weight``. Promote and abort re-render the
route with the canary at 0 (stable only), then the canary's Deployment and Service go.

    >>> objects = render_canary_objects(canary_spec, weight=10, revision=3)
    >>> [b["weight"] for b in objects["httproute.yaml"]["spec"]["rules"][0]["backendRefs"]]
    [90, 10]
"""

from __future__ import annotations

from typing import Any

from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.targets.base import ROLE_LABEL
from shipyard.deploy.targets.kubernetes.render import (
    deployment_name,
    kustomization,
    render_deployment,
    render_objects,
    render_service,
    service_port,
)
from shipyard.errors import ConfigError

__all__ = [
    "CANARY_FILES",
    "DEFAULT_GATEWAY",
    "ROUTE_FILE",
    "parse_gateway",
    "render_canary_manifests",
    "render_canary_objects",
    "render_route",
]

DEFAULT_GATEWAY = "shipyard"
"""The Gateway a canary's route attaches to when ``--gateway`` is not given (same namespace)."""
ROUTE_FILE = "httproute.yaml"
CANARY_FILES = ("canary-deployment.yaml", "canary-service.yaml")


def parse_gateway(text: str | None, namespace: str) -> tuple[str, str]:
    """``public`` -> ``("public", namespace)``; ``public/infra`` -> ``("public", "infra")``."""
    name, _, gateway_namespace = (text or DEFAULT_GATEWAY).partition("/")
    if not name:
        raise ConfigError(f"--gateway {text!r} is not NAME[/NAMESPACE]")
    return name, gateway_namespace or namespace


def render_route(spec: DeploymentSpec, canary_weight: int) -> dict[str, Any]:
    """The ``HTTPRoute`` of ``spec``: stable gets ``100 - canary_weight`` percent, the canary the
    rest; at 0 the canary is not a backend at all (what promote and abort apply)."""
    if not 0 <= canary_weight <= 99:
        raise ConfigError(f"--weight {canary_weight} is not 1-99 (percent of the requests)")
    gateway, gateway_namespace = parse_gateway(spec.gateway, spec.namespace)
    parent: dict[str, Any] = {
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "name": gateway,
    }
    if gateway_namespace != spec.namespace:
        parent["namespace"] = gateway_namespace
    port = service_port(spec)
    backends = [_backend(spec.name, port, 100 - canary_weight)]
    if canary_weight > 0:
        backends.append(_backend(deployment_name(spec.name, "canary"), port, canary_weight))
    stable_meta = render_service(spec)["metadata"]
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {
            "name": spec.name,
            "namespace": spec.namespace,
            "labels": {k: v for k, v in stable_meta["labels"].items() if k != ROLE_LABEL},
        },
        "spec": {
            "parentRefs": [parent],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": backends,
                }
            ],
        },
    }


def render_canary_objects(
    canary: DeploymentSpec, *, weight: int, revision: int | None = None
) -> dict[str, dict[str, Any]]:
    """The canary's Deployment and Service and the route splitting traffic by ``weight``."""
    if not 1 <= weight <= 99:
        raise ConfigError(f"--weight {weight} is not 1-99 (percent of the requests)")
    return {
        CANARY_FILES[0]: render_deployment(canary, role="canary", revision=revision),
        CANARY_FILES[1]: render_service(canary, role="canary"),
        ROUTE_FILE: render_route(canary, weight),
    }


def render_canary_manifests(
    stable: DeploymentSpec, canary: DeploymentSpec, *, weight: int
) -> dict[str, str]:
    """What ``deployments canary --dry-run -o DIR`` writes: stable's manifests, the canary's and
    the route, with one ``kustomization.yaml`` listing them all."""
    if (canary.name, canary.namespace) != (stable.name, stable.namespace):
        raise ConfigError("a canary runs under its stable deployment's name and namespace")
    objects = {**render_objects(stable), **render_canary_objects(canary, weight=weight)}
    return kustomization(objects, stable.namespace)


def _backend(service: str, port: int, weight: int) -> dict[str, Any]:
    return {"group": "", "kind": "Service", "name": service, "port": port, "weight": weight}

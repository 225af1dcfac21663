"""Render a deployment as Kubernetes manifests: plain dicts, a pure function of the spec.

Deployment (readiness ``/readyz``, liveness ``/healthz``, a startup budget from the measured
load time, memory from the measured RSS, a locked-down securityContext with an emptyDir for
logs, preStop and a grace period longer than the drain), Service, PodDisruptionBudget,
NetworkPolicy and, with ``--autoscale``, an autoscaling/v2 HPA that scales down slowly.
``-o DIR`` writes them with a ``kustomization.yaml``; ``kubernetes-validate`` checks them offline.
The pods carry a role label (``io.shipyard.role: stable``) in their selector, so a canary
(``canary.py``: ``NAME-canary`` with ``role: canary``) never mixes with them.

    >>> files = render_manifests(spec)
    >>> sorted(files)[:2]
    ['deployment.yaml', 'kustomization.yaml']
"""

from __future__ import annotations

import math
from typing import Any, Literal

import yaml

from shipyard.contract import (
    CONTAINER_PORT,
    DRAIN_SECONDS,
    HEALTH_PATH,
    IMAGE_UID,
    LOG_DIR,
    READY_PATH,
    SERVE_ENV_PREFIX,
)
from shipyard.deploy.probes import memory_request_bytes, start_budget_seconds
from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.targets.base import REVISION_LABEL, ROLE_LABEL

__all__ = [
    "Role",
    "deployment_name",
    "kustomization",
    "render_deployment",
    "render_manifests",
    "render_objects",
    "render_service",
    "service_port",
    "to_yaml",
]

Role = Literal["stable", "canary"]
_PERIOD_S = 2


def deployment_name(name: str, role: Role = "stable") -> str:
    """``cancer`` for stable, ``cancer-canary`` for its canary (Deployment and Service)."""
    return name if role == "stable" else f"{name}-canary"


def _labels(spec: DeploymentSpec, role: Role | None = None) -> dict[str, str]:
    labels = {
        "app.kubernetes.io/name": spec.model_name or spec.name,
        "app.kubernetes.io/instance": spec.name,
        "app.kubernetes.io/component": "model-server",
        "app.kubernetes.io/managed-by": "shipyard",
    }
    if spec.model_version is not None:
        labels["app.kubernetes.io/version"] = str(spec.model_version)
    if role is not None:
        labels[ROLE_LABEL] = role
    return labels


def _selector(spec: DeploymentSpec, role: Role | None = None) -> dict[str, str]:
    """Every pod of the deployment (``role=None``), or the stable or canary ones only."""
    selector = {
        "app.kubernetes.io/instance": spec.name,
        "app.kubernetes.io/component": "model-server",
    }
    if role is not None:
        selector[ROLE_LABEL] = role
    return selector


def _meta(spec: DeploymentSpec, role: Role | None = None) -> dict[str, Any]:
    return {
        "name": deployment_name(spec.name, role or "stable"),
        "namespace": spec.namespace,
        "labels": _labels(spec, role),
    }


def _resources(spec: DeploymentSpec) -> dict[str, Any]:
    memory = spec.memory_bytes or memory_request_bytes(spec.peak_rss_bytes)
    requests: dict[str, str] = {"cpu": f"{math.ceil((spec.cpu or 0.25) * 1000)}m"}
    limits: dict[str, str] = {}
    if memory is not None:
        requests["memory"] = f"{math.ceil(memory / 2**20)}Mi"
        limits["memory"] = requests["memory"]
    if spec.cpu is not None:
        limits["cpu"] = requests["cpu"]
    return {"requests": requests, **({"limits": limits} if limits else {})}


def _container(spec: DeploymentSpec) -> dict[str, Any]:
    env = [{"name": k, "value": v} for k, v in sorted(spec.environment.items())]
    env.append({"name": f"{SERVE_ENV_PREFIX}PORT", "value": str(CONTAINER_PORT)})
    mounts: list[dict[str, Any]] = [
        {"name": "logs", "mountPath": LOG_DIR},
        {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - an emptyDir of its own
    ]
    if spec.prediction_log is not None:
        env.append(
            {"name": f"{SERVE_ENV_PREFIX}PREDICTION_LOG", "value": f"{LOG_DIR}/predictions.jsonl"}
        )
    if spec.api_key_secret is not None:
        env.append(
            {"name": f"{SERVE_ENV_PREFIX}API_KEY_FILE", "value": "/etc/shipyard/keys/api-keys"}
        )
        mounts.append({"name": "api-keys", "mountPath": "/etc/shipyard/keys", "readOnly": True})
    startup_failures = math.ceil(start_budget_seconds(spec.load_seconds) / _PERIOD_S)
    return {
        "name": "model",
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": CONTAINER_PORT, "protocol": "TCP"}],
        "env": env,
        "resources": _resources(spec),
        "startupProbe": {
            "httpGet": {"path": READY_PATH, "port": "http"},
            "periodSeconds": _PERIOD_S,
            "failureThreshold": startup_failures,
        },
        "readinessProbe": {
            "httpGet": {"path": READY_PATH, "port": "http"},
            "periodSeconds": _PERIOD_S,
            "failureThreshold": 2,
        },
        "livenessProbe": {
            "httpGet": {"path": HEALTH_PATH, "port": "http"},
            "periodSeconds": 10,
            "failureThreshold": 3,
        },
        "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": IMAGE_UID,
            "runAsGroup": IMAGE_UID,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": mounts,
    }


def render_deployment(
    spec: DeploymentSpec, *, role: Role = "stable", revision: int | None = None
) -> dict[str, Any]:
    """The Deployment of ``spec``'s stable pods or (``role="canary"``) of its one canary pod;
    ``revision`` is recorded as a pod-template annotation (``rollout undo`` restores it too)."""
    volumes: list[dict[str, Any]] = [
        {"name": "logs", "emptyDir": {}},
        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
    ]
    if spec.api_key_secret is not None:
        volumes.append({"name": "api-keys", "secret": {"secretName": spec.api_key_secret}})
    template_meta: dict[str, Any] = {"labels": _labels(spec, role)}
    if revision is not None:
        template_meta["annotations"] = {REVISION_LABEL: str(revision)}
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(spec, role),
        "spec": {
            "selector": {"matchLabels": _selector(spec, role)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "progressDeadlineSeconds": start_budget_seconds(spec.load_seconds) + 120,
            "template": {
                "metadata": template_meta,
                "spec": {
                    "automountServiceAccountToken": False,
                    "terminationGracePeriodSeconds": DRAIN_SECONDS + 15,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "fsGroup": IMAGE_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [_container(spec)],
                    "volumes": volumes,
                },
            },
        },
    }
    if role == "canary":
        body["spec"]["replicas"] = 1
    elif spec.autoscale is None:
        body["spec"]["replicas"] = spec.replicas
    return body


def render_service(spec: DeploymentSpec, *, role: Role = "stable") -> dict[str, Any]:
    """The Service in front of the stable (or the canary) pods only."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(spec, role),
        "spec": {
            "selector": _selector(spec, role),
            "ports": [{"name": "http", "port": service_port(spec), "targetPort": "http"}],
        },
    }


def service_port(spec: DeploymentSpec) -> int:
    return spec.port or CONTAINER_PORT


def render_objects(
    spec: DeploymentSpec, *, revision: int | None = None
) -> dict[str, dict[str, Any]]:
    """File name -> Kubernetes object for ``spec``."""
    objects: dict[str, dict[str, Any]] = {
        "deployment.yaml": render_deployment(spec, revision=revision),
        "service.yaml": render_service(spec),
        "pdb.yaml": {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _meta(spec),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _selector(spec, "stable")}},
        },
        "networkpolicy.yaml": {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(spec),
            "spec": {
                "podSelector": {"matchLabels": _selector(spec)},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"ports": [{"port": CONTAINER_PORT, "protocol": "TCP"}]}],
                "egress": [],
            },
        },
    }
    if spec.autoscale is not None:
        objects["hpa.yaml"] = {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": _meta(spec),
            "spec": {
                "scaleTargetRef": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": spec.name,
                },
                "minReplicas": spec.autoscale.minimum,
                "maxReplicas": spec.autoscale.maximum,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {
                                "type": "Utilization",
                                "averageUtilization": spec.autoscale.cpu_percent,
                            },
                        },
                    }
                ],
                "behavior": {
                    "scaleDown": {
                        "stabilizationWindowSeconds": 300,
                        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
                    }
                },
            },
        }
    return objects


def render_manifests(spec: DeploymentSpec, *, revision: int | None = None) -> dict[str, str]:
    """File name -> YAML text, plus a ``kustomization.yaml`` listing them."""
    return kustomization(render_objects(spec, revision=revision), spec.namespace)


def kustomization(objects: dict[str, dict[str, Any]], namespace: str) -> dict[str, str]:
    """The objects as YAML files plus the ``kustomization.yaml`` that lists them."""
    files = {name: to_yaml(body) for name, body in objects.items()}
    files["kustomization.yaml"] = to_yaml(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "namespace": namespace,
            "resources": sorted(objects),
        }
    )
    return files


def to_yaml(body: dict[str, Any]) -> str:
    return "# Generated by Shipyard.\n" + str(yaml.safe_dump(body, sort_keys=False))

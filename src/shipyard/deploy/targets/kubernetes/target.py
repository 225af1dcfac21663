"""The Kubernetes target: the pure manifests (``render.py``, ``canary.py``) applied through
``kubectl`` (``kubectl.py``, the only module that talks to a cluster).

Kubernetes rolls a Deployment out by itself (``maxSurge: 1``, ``maxUnavailable: 0``), but never
rolls it back: with ``--wait`` (the default) ``apply`` watches ``kubectl rollout status`` for a
budget from the measured load time and, when the rollout stalls or the pods fail readiness,
runs ``kubectl rollout undo`` and raises ``RolloutError``. A first revision that never gets ready
is deleted again. Everything is checked by the API server (``--dry-run=server``) before anything
changes, and an object of the same name that Shipyard did not make is never taken over.

    >>> target = KubernetesTarget.connect(context=None, namespace="models")
    >>> target.apply(spec, 1, previous=None, progress=print).ready_count
    3
"""

from __future__ import annotations

from typing import Any, ClassVar

from shipyard.contract import DRAIN_SECONDS
from shipyard.deploy.probes import start_budget_seconds
from shipyard.deploy.spec import DeploymentSpec, TargetName
from shipyard.deploy.targets.base import (
    REVISION_LABEL,
    ROLE_LABEL,
    DeploymentStatus,
    Progress,
    ReplicaStatus,
)
from shipyard.deploy.targets.kubernetes.canary import (
    CANARY_FILES,
    ROUTE_FILE,
    render_canary_objects,
    render_route,
)
from shipyard.deploy.targets.kubernetes.render import (
    deployment_name,
    kustomization,
    render_manifests,
)
from shipyard.errors import ConfigError, ConflictError, RolloutError
from shipyard.kubectl import Kubectl

__all__ = ["KubernetesTarget", "replica_status", "rollout_budget_seconds"]

_KINDS = "deployments,services,poddisruptionbudgets,networkpolicies,horizontalpodautoscalers"
_ROUTES = "httproutes.gateway.networking.k8s.io"


def rollout_budget_seconds(spec: DeploymentSpec) -> int:
    """How long ``rollout status`` may watch: each pod's start budget plus its drain, one pod
    at a time, plus two minutes; always longer than the Deployment's progress deadline, so a
    stalled rollout is reported by Kubernetes itself (``ProgressDeadlineExceeded``)."""
    per_pod = start_budget_seconds(spec.load_seconds) + DRAIN_SECONDS + 15
    return 120 + per_pod * max(spec.replicas, 1)


class KubernetesTarget:
    """Deployments on a Kubernetes cluster, one namespace, through kubectl."""

    name: ClassVar[TargetName] = "kubernetes"
    scales_in_place: ClassVar[bool] = True
    reads_replica_metrics: ClassVar[bool] = False  # pods are reached through the cluster only
    engine: ClassVar[None] = None  # the cluster pulls images from a registry

    def __init__(self, kubectl: Kubectl) -> None:
        self.kubectl = kubectl

    def close(self) -> None:
        """Nothing to let go of: every kubectl call is its own process."""

    @classmethod
    def connect(cls, *, context: str | None = None, namespace: str = "default") -> KubernetesTarget:
        """Check a cluster answers (5 s), else ``ClusterUnavailableError`` saying what to do."""
        kubectl = Kubectl.find(context=context, namespace=namespace)
        kubectl.server_version()
        return cls(kubectl)

    # -- pure ------------------------------------------------------------------------------

    @classmethod
    def render(cls, spec: DeploymentSpec) -> dict[str, str]:
        return render_manifests(spec)

    # -- apply -----------------------------------------------------------------------------

    def check(self, spec: DeploymentSpec) -> None:
        """Refuse before anything changes: an object of that name Shipyard did not make, or
        manifests the API server rejects (``--dry-run=server``)."""
        for kind in ("deployment", "service"):
            found = self.kubectl.get_named(kind, spec.name)
            labels = ((found or {}).get("metadata") or {}).get("labels") or {}
            if found is not None and labels.get("app.kubernetes.io/managed-by") != "shipyard":
                raise ConflictError(
                    f"a {kind} named {spec.name!r} exists in namespace {spec.namespace} and is "
                    "not Shipyard's: pick another --name or --namespace"
                )
        self.kubectl.apply(render_manifests(spec), dry_run=True)

    def apply(
        self,
        spec: DeploymentSpec,
        revision: int,
        *,
        previous: tuple[DeploymentSpec, int] | None,
        progress: Progress,
        wait: bool = True,
    ) -> DeploymentStatus:
        progress(
            f"kubectl apply --server-side -k (revision {revision}, namespace {spec.namespace})"
        )
        self.kubectl.apply(render_manifests(spec, revision=revision))
        if wait:
            self._watch(spec, revision, previous, progress)
        else:
            progress("not waiting for readiness (--no-wait): no automatic rollback")
        return self.status(spec.name)

    def scale(
        self, spec: DeploymentSpec, revision: int, progress: Progress, *, wait: bool = True
    ) -> DeploymentStatus:
        """Apply the running revision with another replica count (no new pod template)."""
        if spec.autoscale is not None:
            raise ConfigError(
                f"the HPA owns the replica count of {spec.name!r} "
                f"({spec.autoscale.minimum}:{spec.autoscale.maximum}): deploy with another "
                "--autoscale instead"
            )
        progress(f"kubectl apply --server-side -k (replicas {spec.replicas})")
        self.kubectl.apply(render_manifests(spec, revision=revision))
        if wait:
            ready, message = self.kubectl.rollout_status(spec.name, rollout_budget_seconds(spec))
            if not ready:
                progress(f"not every replica is ready yet: {message}")
        return self.status(spec.name)

    def start_canary(
        self, spec: DeploymentSpec, revision: int, weight: int, progress: Progress
    ) -> DeploymentStatus:
        """``NAME-canary`` (one pod of ``spec``) and its Service, then the route at ``weight``."""
        if self.kubectl.get_named("deployment", deployment_name(spec.name, "canary")):
            raise ConflictError(
                f"{spec.name!r} has a canary already: `deployments promote` or `abort` it first"
            )
        objects = render_canary_objects(spec, weight=weight, revision=revision)
        self.kubectl.apply(kustomization(objects, spec.namespace), dry_run=True)
        pods = {name: objects[name] for name in CANARY_FILES}
        progress(f"kubectl apply --server-side -k (canary of revision {revision})")
        self.kubectl.apply(kustomization(pods, spec.namespace))
        canary = deployment_name(spec.name, "canary")
        budget = rollout_budget_seconds(spec.with_changes(replicas=1))
        ready, message = self.kubectl.rollout_status(canary, budget)
        if not ready:
            progress("the canary did not get ready: deleting it")
            self.kubectl.delete("deployment,service", names=(canary,))
            raise RolloutError(
                f"canary revision {revision} did not become ready ({message}); it was deleted "
                "and stable takes every request"
            )
        progress(f"routing {weight}% of the requests to the canary (HTTPRoute {spec.name})")
        self.kubectl.apply(kustomization({ROUTE_FILE: objects[ROUTE_FILE]}, spec.namespace))
        return self.status(spec.name)

    def retire_canary(self, spec: DeploymentSpec, progress: Progress) -> None:
        """Route every request to stable (the canary at weight 0), then delete the canary."""
        progress(f"routing every request to stable (HTTPRoute {spec.name})")
        self.kubectl.apply(kustomization({ROUTE_FILE: render_route(spec, 0)}, spec.namespace))
        canary = deployment_name(spec.name, "canary")
        progress(f"deleting deployment/{canary}")
        self.kubectl.delete("deployment,service", names=(canary,))

    def status(self, name: str) -> DeploymentStatus:
        items = self.kubectl.get("pods,services", _selector(name))
        url = None
        replicas = []
        for item in items:
            meta = item.get("metadata") or {}
            if item.get("kind") == "Service":
                if meta.get("name") == name:
                    port = ((item.get("spec") or {}).get("ports") or [{}])[0].get("port")
                    url = f"http://{name}.{self.kubectl.namespace}.svc:{port}"
                continue
            if meta.get("deletionTimestamp"):
                continue
            replicas.append(replica_status(item))
        return DeploymentStatus(name=name, target=self.name, url=url, replicas=tuple(replicas))

    def exists(self, name: str) -> bool:
        return bool(self.kubectl.get("deployments", _selector(name)))

    def remove(self, name: str) -> list[str]:
        selector = _selector(name)
        removed = self.kubectl.delete(_ROUTES, selector=selector)
        return removed + self.kubectl.delete(_KINDS, selector=selector)

    # -- steps -----------------------------------------------------------------------------

    def _watch(
        self,
        spec: DeploymentSpec,
        revision: int,
        previous: tuple[DeploymentSpec, int] | None,
        progress: Progress,
    ) -> None:
        budget = rollout_budget_seconds(spec)
        progress(f"kubectl rollout status deployment/{spec.name} --timeout={budget}s")
        ready, message = self.kubectl.rollout_status(spec.name, budget)
        if ready:
            return
        if previous is None:
            progress(f"revision {revision} did not get ready: deleting it")
            self.remove(spec.name)
            raise RolloutError(
                f"revision {revision} did not become ready on kubernetes ({message}); it was "
                "deleted (nothing ran before it)"
            )
        progress(f"rollout failed ({message}): kubectl rollout undo deployment/{spec.name}")
        self.kubectl.rollout_undo(spec.name)
        restored, _ = self.kubectl.rollout_status(spec.name, rollout_budget_seconds(previous[0]))
        kept = "is back" if restored else "is being put back"
        raise RolloutError(
            f"revision {revision} did not become ready on kubernetes ({message}); "
            f"`kubectl rollout undo` ran and revision {previous[1]} {kept}"
        )


def _selector(name: str) -> str:
    return f"app.kubernetes.io/instance={name},app.kubernetes.io/managed-by=shipyard"


def replica_status(pod: dict[str, Any]) -> ReplicaStatus:
    """A pod, as `kubectl get -o json` prints it, as a replica."""
    meta = pod.get("metadata") or {}
    conditions = (pod.get("status") or {}).get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    return ReplicaStatus(
        name=str(meta.get("name", "")),
        revision=int((meta.get("annotations") or {}).get(REVISION_LABEL, "0")),
        image=str(containers[0].get("image", "")),
        ready=ready,
        role=str((meta.get("labels") or {}).get(ROLE_LABEL, "stable")),
    )

"""The Kubernetes target without a cluster: the rollout budget outlasts the Deployment's
progress deadline, a pod as ``kubectl get -o json`` prints it becomes a replica status, and every
kubectl command the edge runs is one the real kubectl accepts."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.targets.kubernetes.canary import render_canary_manifests
from shipyard.deploy.targets.kubernetes.render import render_deployment
from shipyard.deploy.targets.kubernetes.target import replica_status, rollout_budget_seconds
from shipyard.errors import ClusterUnavailableError, DeployError
from shipyard.kubectl import Kubectl
from tests.kubeconfig import unreachable_cluster_env


@pytest.mark.parametrize(("load", "replicas"), [(None, 1), (0.5, 1), (4.0, 3), (200.0, 10)])
def test_the_rollout_budget_outlasts_the_progress_deadline(
    load: float | None, replicas: int
) -> None:
    spec = DeploymentSpec(
        name="cancer", image="r/c:1", target="kubernetes", replicas=replicas, load_seconds=load
    )
    deadline = render_deployment(spec)["spec"]["progressDeadlineSeconds"]
    assert rollout_budget_seconds(spec) > deadline


def test_a_pod_becomes_a_replica_with_its_revision_role_and_readiness() -> None:
    pod = {
        "kind": "Pod",
        "metadata": {
            "name": "cancer-canary-7d9f-abcde",
            "labels": {"io.shipyard.role": "canary"},
            "annotations": {"io.shipyard.revision": "4"},
        },
        "spec": {"containers": [{"name": "model", "image": "r/c:3"}]},
        "status": {"conditions": [{"type": "Ready", "status": "True"}], "podIP": "10.0.0.7"},
    }
    replica = replica_status(pod)
    assert (replica.name, replica.revision, replica.role, replica.image, replica.ready) == (
        "cancer-canary-7d9f-abcde",
        4,
        "canary",
        "r/c:3",
        True,
    )
    pod["status"] = {"conditions": [{"type": "Ready", "status": "False"}]}
    assert replica_status(pod).ready is False


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_every_kubectl_call_is_accepted_by_the_real_kubectl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each command the edge runs parses (flags, kustomization) and gets as far as the network:
    against a closed port that is a refused connection, never a usage error."""
    for key, value in unreachable_cluster_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    kubectl = Kubectl.find(context=None, namespace="models")
    spec = DeploymentSpec(name="cancer", image="r/c:1", target="kubernetes", namespace="models")
    canary = spec.with_changes(image="r/c:2", gateway="public/infra")
    files = render_canary_manifests(spec, canary, weight=10)
    calls: list[Callable[[], object]] = [
        lambda: kubectl.apply(files, dry_run=True),
        lambda: kubectl.apply(files),
        lambda: kubectl.rollout_undo("cancer"),
        lambda: kubectl.get("pods,services", "app.kubernetes.io/instance=cancer"),
        lambda: kubectl.get_named("deployment", "cancer"),
        lambda: kubectl.delete("httproutes.gateway.networking.k8s.io", selector="a=b"),
        lambda: kubectl.delete("deployment,service", names=("cancer-canary",)),
    ]
    for call in calls:
        with pytest.raises(DeployError, match="refused") as caught:
            call()
        assert "unknown flag" not in str(caught.value) and "usage" not in str(caught.value)
    ready, message = kubectl.rollout_status("cancer", 5)
    assert not ready and "refused" in message
    with pytest.raises(ClusterUnavailableError, match="refused"):
        kubectl.server_version()
    with pytest.raises(ClusterUnavailableError, match="context nope"):
        Kubectl.find(context="nope", namespace="models").server_version()

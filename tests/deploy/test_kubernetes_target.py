"""The Kubernetes target's own arithmetic and reading, without a cluster: the rollout budget
outlasts the Deployment's progress deadline, and a pod as ``kubectl get -o json`` prints it
becomes a replica status."""

from __future__ import annotations

import pytest

from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.targets.kubernetes.render import render_deployment
from shipyard.deploy.targets.kubernetes.target import replica_status, rollout_budget_seconds


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

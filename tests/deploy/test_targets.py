"""Deploy targets declare what they can do (``targets/base.py``); nothing is probed."""

from __future__ import annotations

import pytest

from shipyard.deploy.targets import TARGETS
from shipyard.deploy.targets.kubernetes.target import KubernetesTarget

CAPABILITIES = {
    "docker": {"scales_in_place": True, "reads_replica_metrics": True},
    "swarm": {"scales_in_place": False, "reads_replica_metrics": True},
    "kubernetes": {"scales_in_place": True, "reads_replica_metrics": False},
}


@pytest.mark.parametrize("target", TARGETS, ids=lambda cls: cls.name)
def test_each_target_declares_its_capabilities_and_has_what_they_promise(target: type) -> None:
    declared = {flag: getattr(target, flag) for flag in CAPABILITIES[target.name]}
    assert declared == CAPABILITIES[target.name]
    assert callable(getattr(target, "scale", None)) == target.scales_in_place
    assert callable(getattr(target, "replica_urls", None)) == target.reads_replica_metrics
    for method in ("render", "check", "apply", "status", "exists", "remove", "close"):
        assert callable(getattr(target, method)), method
    assert callable(target.start_canary) and callable(target.retire_canary)


def test_a_cluster_has_no_local_engine_to_build_images_on() -> None:
    assert KubernetesTarget.engine is None

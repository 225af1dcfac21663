"""What every target must do, written once: the docker and swarm test modules run these on a
deployment of 3 replicas of the demo model behind the target's balancer.

That deployment is shared by a whole module, so every test gets it at its baseline (the spec it
was first deployed with, no canary, every replica ready) and leaves it so, failed or not
(``at_baseline``): a canary that a failed promotion leaves behind is aborted, not inherited.

    >>> with at_baseline(deployed):
    ...     revision, status = update_under_load(deployed, second_image.tags[0], version=2)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest

from shipyard.config import Settings
from shipyard.deploy.canary import CanaryPolicy
from shipyard.deploy.service import Deployments
from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.targets.base import DeploymentStatus
from shipyard.deploy.targets.docker.target import DockerTarget
from shipyard.deploy.targets.swarm.target import SwarmTarget
from shipyard.errors import RolloutError
from tests.deploy.conftest import ROW, Load

__all__ = [
    "Deployed",
    "at_baseline",
    "broken_update_is_rolled_back",
    "canary_is_aborted_automatically",
    "canary_is_promoted",
    "deploy_and_remove",
    "deployed_on",
    "drift_from_baseline",
    "restore_baseline",
    "scale_to",
    "served_requests",
    "update_under_load",
]


@dataclass
class Deployed:
    """A live deployment under test: its name, target, records, balancer URL and the spec it
    was first deployed with (its baseline)."""

    name: str
    target: DockerTarget | SwarmTarget
    deployments: Deployments
    url: str
    baseline: DeploymentSpec


def _quiet(_message: str) -> None:
    """Progress for tests: nothing."""


@contextmanager
def deployed_on(
    target: DockerTarget | SwarmTarget, spec: DeploymentSpec, settings: Settings
) -> Iterator[Deployed]:
    """``spec`` deployed on ``target`` for the length of the block, removed afterwards."""
    deployments = Deployments.open(settings)
    try:
        _, status = deployments.deploy(spec, target, progress=_quiet)
        assert status.url is not None
        yield Deployed(spec.name, target, deployments, status.url, spec)
    finally:
        target.remove(spec.name)
        deployments.close()


def drift_from_baseline(deployed: Deployed) -> list[str]:
    """How the deployment differs from its baseline, one line each; empty when it is at it."""
    baseline = deployed.baseline
    drift: list[str] = []
    records = deployed.deployments.records
    live = records.live(deployed.name)
    if live.spec != baseline:
        drift.append(f"live revision {live.revision} ({live.action}) is not the baseline spec")
    if any(record.outcome == "canary" for record in records.history(deployed.name)):
        drift.append(f"a canary is on record: revision {records.canary(deployed.name).revision}")
    status = deployed.target.status(deployed.name)
    roles = sorted(replica.role for replica in status.replicas)
    if roles != ["stable"] * baseline.replicas:
        drift.append(f"replicas are {roles}, not {baseline.replicas} stable")
    if {replica.image for replica in status.replicas} != {baseline.image}:
        drift.append(f"replicas run {sorted({r.image for r in status.replicas})}")
    if status.ready_count != len(status.replicas):
        drift.append(f"{status.ready_count} of {len(status.replicas)} replicas are ready")
    return drift


def restore_baseline(deployed: Deployed) -> None:
    """Abort any canary and roll back to the baseline spec, when the deployment has drifted."""
    if not drift_from_baseline(deployed):
        return
    name, target, deployments = deployed.name, deployed.target, deployed.deployments
    if any(record.outcome == "canary" for record in deployments.records.history(name)):
        deployments.abort(name, target, reason="test teardown", progress=_quiet)
    target.retire_canary(deployed.baseline, _quiet)  # one no record knows of
    if drift_from_baseline(deployed):
        deployments.change(name, target, action="restore", progress=_quiet, spec=deployed.baseline)
    left = drift_from_baseline(deployed)
    assert left == [], f"{name} could not be brought back to its baseline: {left}"


@contextmanager
def at_baseline(deployed: Deployed) -> Iterator[Deployed]:
    """The shared deployment at its baseline for the block, and back at it afterwards."""
    try:
        restore_baseline(deployed)  # only when an earlier test's teardown could not
    except Exception as exc:
        pytest.fail(f"an earlier test left the shared deployment off its baseline: {exc}")
    try:
        yield deployed
    finally:
        restore_baseline(deployed)


def deploy_and_remove(
    target: DockerTarget | SwarmTarget, spec: DeploymentSpec, settings: Settings
) -> list[str]:
    """Deploy ``spec``, then ``rm`` it; returns what ``rm`` says it removed."""
    with Deployments.open(settings) as deployments:
        deployments.deploy(spec, target, progress=_quiet)
        return deployments.remove(spec.name, target)


def served_requests(url: str) -> float:
    """How many predictions the replica whose ``/metrics`` is under ``url`` has answered."""
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return sum(
        float(line.rpartition(" ")[2])
        for line in text.splitlines()
        if line.startswith("shipyard_requests_total{") and 'route="/predict"' in line
    )


def scale_to(deployed: Deployed, replicas: int) -> DeploymentStatus:
    _, status = deployed.deployments.change(
        deployed.name, deployed.target, action="scale", progress=_quiet, replicas=replicas
    )
    assert len(status.replicas) == replicas and status.ready_count == replicas, status
    return status


def update_under_load(
    deployed: Deployed, image: str, *, version: int
) -> tuple[int, DeploymentStatus, Load]:
    """Roll to ``image`` under constant load: no request fails, every replica ends on it."""
    load = Load(deployed.url).start()
    try:
        revision, status = deployed.deployments.change(
            deployed.name,
            deployed.target,
            action="update",
            progress=_quiet,
            image=image,
            model_version=version,
        )
    finally:
        load.stop()
    assert load.failed == [], load.failed[:5]
    assert load.ok > 20
    assert {r.image for r in status.replicas} == {image}
    return revision, status, load


def broken_update_is_rolled_back(deployed: Deployed, image: str, *, match: str) -> int:
    """An update to an image whose model cannot load rolls back by itself, failing no request
    under load; returns the revision still live."""
    live = deployed.deployments.records.live(deployed.name)
    load = Load(deployed.url).start()
    try:
        with pytest.raises(RolloutError, match=match):
            deployed.deployments.change(
                deployed.name, deployed.target, action="update", progress=_quiet, image=image
            )
    finally:
        load.stop()
    assert load.failed == [], load.failed[:5]
    status = deployed.target.status(deployed.name)
    assert {r.image for r in status.replicas} == {live.spec.image}
    assert deployed.deployments.records.history(deployed.name)[-1].outcome == "rolled-back"
    return live.revision


def canary_is_promoted(deployed: Deployed, image: str, *, version: int) -> Load:
    """A canary of ``image`` takes about its 30 % of the requests; promoted under load, every
    stable replica ends on it, the canary is gone and the history says so."""
    revision, status = deployed.deployments.canary(
        deployed.name,
        deployed.target,
        weight=30,
        progress=_quiet,
        image=image,
        model_version=version,
    )
    canaries = [r for r in status.replicas if r.role == "canary"]
    assert len(canaries) == 1 and canaries[0].ready, status
    canary_url = deployed.target.replica_urls(deployed.name)["canary"][0]
    before = served_requests(canary_url)
    with httpx.Client(timeout=30) as client:
        for _ in range(60):
            assert client.post(f"{deployed.url}/predict", json=[ROW]).status_code == 200
    served = served_requests(canary_url) - before
    assert 5 <= served <= 40, served  # about 30 % of 60
    load = Load(deployed.url).start()
    try:
        _, status = deployed.deployments.promote(deployed.name, deployed.target, progress=_quiet)
    finally:
        load.stop()
    assert [r.role for r in status.replicas] == ["stable"] * 3
    assert {r.image for r in status.replicas} == {image} and status.ready_count == 3
    outcomes = {r.revision: r.outcome for r in deployed.deployments.records.history(deployed.name)}
    assert outcomes[revision] == "promoted"
    return load


def canary_is_aborted_automatically(deployed: Deployed) -> Load:
    """A canary that answers errors is aborted by the analysis of both sides' ``/metrics``;
    stable then takes every request again. Returns the load seen during the analysis."""
    live = deployed.deployments.records.live(deployed.name)
    # Same image, but it refuses bodies over 1 KiB: every 4-row prediction it gets is a 413.
    env = (*live.spec.env, ("SHIPYARD_SERVE_MAX_BODY_BYTES", "1024"))
    revision, _ = deployed.deployments.canary(
        deployed.name, deployed.target, weight=30, progress=_quiet, env=env
    )
    load = Load(deployed.url, rows=4).start()
    try:
        verdict = deployed.deployments.watch_canary(
            deployed.name,
            deployed.target,
            seconds=60,
            policy=CanaryPolicy(min_requests=10),
            progress=_quiet,
        )
    finally:
        load.stop()
    assert verdict.healthy is False and "error rate" in verdict.reason, verdict
    status = deployed.target.status(deployed.name)
    assert [r.role for r in status.replicas] == ["stable"] * 3
    record = deployed.deployments.records.revision(deployed.name, revision)
    assert record.outcome == "aborted" and "error rate" in (record.detail or "")
    with httpx.Client(timeout=30) as client:  # stable takes everything again
        assert all(
            client.post(f"{deployed.url}/predict", json=[ROW]).status_code == 200 for _ in range(20)
        )
    return load

"""The docker target on the real engine: replicas behind nginx, scaling, rolling updates under
load with zero failed requests, a broken version rolled back by itself, history, rollback, rm."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from shipyard.config import Settings
from shipyard.deploy.service import Deployments
from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.targets.base import DEPLOYMENT_LABEL
from shipyard.deploy.targets.docker.target import DockerTarget
from shipyard.docker_engine import BuiltImage, DockerEngine
from shipyard.errors import RolloutError
from shipyard.registry.entities import ModelVersion
from tests.build.conftest import DemoModel
from tests.deploy.conftest import ROW, Load, unique_name

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@dataclass
class Deployed:
    name: str
    spec: DeploymentSpec
    target: DockerTarget
    deployments: Deployments
    url: str


def _served_requests(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return sum(
        float(line.rpartition(" ")[2])
        for line in text.splitlines()
        if line.startswith("shipyard_requests_total{") and 'route="/predict"' in line
    )


@pytest.fixture(scope="module")
def deployed(
    engine: DockerEngine, built_image: BuiltImage, lb_image: str, demo_model: DemoModel
) -> Iterator[Deployed]:
    name = unique_name()
    spec = DeploymentSpec(
        name=name,
        image=built_image.tags[0],
        replicas=3,
        port=0,
        lb_image=lb_image,
        model_name="cancer",
        model_version=demo_model.version.version,
    )
    target = DockerTarget(engine)
    deployments = Deployments.open(Settings.from_env(demo_model.env))
    try:
        _, status = deployments.deploy(spec, target, progress=lambda _m: None)
        assert status.url is not None
        yield Deployed(name, spec, target, deployments, status.url)
    finally:
        target.remove(name)
        deployments.close()


def test_three_replicas_are_ready_and_all_take_traffic(deployed: Deployed) -> None:
    status = deployed.target.status(deployed.name)
    assert status.ready_count == 3 and len(status.replicas) == 3
    assert status.url is not None and status.url.startswith("http://127.0.0.1:")
    before = {r.name: _served_requests(r.url or "") for r in status.replicas}
    with httpx.Client(timeout=30) as client:
        for _ in range(30):
            assert client.post(f"{deployed.url}/predict", json=[ROW]).status_code == 200
    after = {r.name: _served_requests(r.url or "") for r in status.replicas}
    assert all(after[name] > before[name] for name in before), (before, after)


def test_scale_down_and_up_keeps_serving(deployed: Deployed) -> None:
    load = Load(deployed.url).start()
    try:
        _, status = deployed.deployments.change(
            deployed.name, deployed.target, action="scale", progress=lambda _m: None, replicas=1
        )
        assert len(status.replicas) == 1 and status.ready_count == 1
        _, status = deployed.deployments.change(
            deployed.name, deployed.target, action="scale", progress=lambda _m: None, replicas=3
        )
        assert len(status.replicas) == 3 and status.ready_count == 3
    finally:
        load.stop()
    assert load.failed == [] and load.ok > 0


def test_rolling_update_under_load_fails_no_request_and_history_records_it(
    deployed: Deployed, second_image: BuiltImage, second_version: ModelVersion
) -> None:
    load = Load(deployed.url).start()
    try:
        revision, status = deployed.deployments.change(
            deployed.name,
            deployed.target,
            action="update",
            progress=lambda _m: None,
            image=second_image.tags[0],
            model_version=second_version.version,
        )
    finally:
        load.stop()
    assert load.failed == [], load.failed[:5]
    assert load.ok > 20
    assert {r.image for r in status.replicas} == {second_image.tags[0]}
    assert {r.revision for r in status.replicas} == {revision} and status.ready_count == 3
    history = deployed.deployments.records.history(deployed.name)
    assert history[-1].outcome == "applied" and history[-1].spec.model_version == 2
    assert statistics.quantiles(load.latencies, n=100)[98] < 5.0


def test_broken_version_is_rolled_back_by_itself_without_failed_requests(
    deployed: Deployed, broken_image: str
) -> None:
    live = deployed.deployments.records.live(deployed.name)
    load = Load(deployed.url).start()
    try:
        with pytest.raises(RolloutError, match="failed readiness"):
            deployed.deployments.change(
                deployed.name,
                deployed.target,
                action="update",
                progress=lambda _m: None,
                image=broken_image,
            )
    finally:
        load.stop()
    assert load.failed == [], load.failed[:5]
    status = deployed.target.status(deployed.name)
    assert {r.image for r in status.replicas} == {live.spec.image} and status.ready_count == 3
    history = deployed.deployments.records.history(deployed.name)
    assert history[-1].outcome == "rolled-back" and "could not load" in (history[-1].detail or "")
    assert deployed.deployments.records.live(deployed.name).revision == live.revision


def test_rollback_returns_to_the_first_model_version(
    deployed: Deployed, built_image: BuiltImage
) -> None:
    load = Load(deployed.url).start()
    try:
        revision, status = deployed.deployments.rollback(
            deployed.name, deployed.target, to=1, progress=lambda _m: None
        )
    finally:
        load.stop()
    assert load.failed == []
    assert {r.image for r in status.replicas} == {built_image.tags[0]}
    history = deployed.deployments.records.history(deployed.name)
    assert [r.spec.model_version for r in history if r.outcome == "applied"][-2:] == [2, 1]
    assert history[-1].revision == revision and history[-1].action == "rollback to 1"


def test_rm_leaves_nothing_behind(
    engine: DockerEngine, built_image: BuiltImage, lb_image: str, demo_model: DemoModel
) -> None:
    name = unique_name()
    spec = DeploymentSpec(
        name=name, image=built_image.tags[0], replicas=2, port=0, lb_image=lb_image
    )
    target = DockerTarget(engine)
    with Deployments.open(Settings.from_env(demo_model.env)) as deployments:
        deployments.deploy(spec, target, progress=lambda _m: None)
        removed = deployments.remove(name, target)
    assert f"{name}-lb" in removed and f"shipyard-{name}" in removed
    label = {"label": f"{DEPLOYMENT_LABEL}={name}"}
    assert engine.client.containers.list(all=True, filters=label) == []
    assert engine.client.networks.list(filters=label) == []


def test_canary_takes_its_share_and_is_promoted_without_failed_requests(
    deployed: Deployed, second_image: BuiltImage
) -> None:
    revision, status = deployed.deployments.canary(
        deployed.name,
        deployed.target,
        weight=30,
        progress=lambda _m: None,
        image=second_image.tags[0],
        model_version=2,
    )
    canaries = [r for r in status.replicas if r.role == "canary"]
    assert len(canaries) == 1 and canaries[0].ready
    with httpx.Client(timeout=30) as client:
        for _ in range(60):
            assert client.post(f"{deployed.url}/predict", json=[ROW]).status_code == 200
    served = _served_requests(canaries[0].url or "")
    assert 5 <= served <= 40, served  # about 30 % of 60
    load = Load(deployed.url).start()
    try:
        _, status = deployed.deployments.promote(
            deployed.name, deployed.target, progress=lambda _m: None
        )
    finally:
        load.stop()
    assert load.failed == [], load.failed[:5]
    assert [r.role for r in status.replicas] == ["stable"] * 3
    assert {r.image for r in status.replicas} == {second_image.tags[0]}
    outcomes = {r.revision: r.outcome for r in deployed.deployments.records.history(deployed.name)}
    assert outcomes[revision] == "promoted"


def test_a_worse_canary_is_aborted_automatically(deployed: Deployed) -> None:
    from shipyard.deploy.canary import CanaryPolicy

    live = deployed.deployments.records.live(deployed.name)
    # Same image, but it refuses bodies over 1 KiB: every 4-row prediction it gets is a 413.
    env = (*live.spec.env, ("SHIPYARD_SERVE_MAX_BODY_BYTES", "1024"))
    revision, _ = deployed.deployments.canary(
        deployed.name, deployed.target, weight=30, progress=lambda _m: None, env=env
    )
    load = Load(deployed.url, rows=4).start()
    try:
        verdict = deployed.deployments.watch_canary(
            deployed.name,
            deployed.target,
            seconds=60,
            policy=CanaryPolicy(min_requests=10),
            progress=lambda _m: None,
        )
    finally:
        load.stop()
    assert verdict.healthy is False and "error rate" in verdict.reason
    status = deployed.target.status(deployed.name)
    assert [r.role for r in status.replicas] == ["stable"] * 3
    record = deployed.deployments.records.revision(deployed.name, revision)
    assert record.outcome == "aborted" and "error rate" in (record.detail or "")
    with httpx.Client(timeout=30) as client:  # stable takes everything again
        assert all(
            client.post(f"{deployed.url}/predict", json=[ROW]).status_code == 200 for _ in range(20)
        )

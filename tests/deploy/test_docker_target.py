"""The docker target on the real engine: replicas behind nginx, scaling, rolling updates under
load with zero failed requests, a broken version rolled back by itself, history, rollback, rm.

One deployment serves the module; each test gets it at its baseline and leaves it there, failed
or not (``scenarios.at_baseline``)."""

from __future__ import annotations

import statistics
from collections.abc import Iterator

import httpx
import pytest

from shipyard.config import Settings
from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.targets.base import DEPLOYMENT_LABEL
from shipyard.deploy.targets.docker.target import DockerTarget
from shipyard.docker_engine import BuiltImage, DockerEngine
from shipyard.registry.entities import ModelVersion
from tests.deploy import scenarios
from tests.deploy.conftest import ROW, Load, unique_name
from tests.deploy.scenarios import Deployed
from tests.image.conftest import DemoModel

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def shared_deployment(
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
    settings = Settings.from_env(demo_model.env)
    with scenarios.deployed_on(DockerTarget(engine), spec, settings) as deployed:
        yield deployed


@pytest.fixture
def deployed(shared_deployment: Deployed) -> Iterator[Deployed]:
    """The module's deployment at its baseline: 3 ready replicas of version 1, no canary."""
    with scenarios.at_baseline(shared_deployment) as baseline:
        yield baseline


def test_three_replicas_are_ready_and_all_take_traffic(deployed: Deployed) -> None:
    status = deployed.target.status(deployed.name)
    assert status.ready_count == 3 and len(status.replicas) == 3
    assert status.url is not None and status.url.startswith("http://127.0.0.1:")
    before = {r.name: scenarios.served_requests(r.url or "") for r in status.replicas}
    with httpx.Client(timeout=30) as client:
        for _ in range(30):
            assert client.post(f"{deployed.url}/predict", json=[ROW]).status_code == 200
    after = {r.name: scenarios.served_requests(r.url or "") for r in status.replicas}
    assert all(after[name] > before[name] for name in before), (before, after)


def test_scale_down_and_up_keeps_serving(deployed: Deployed) -> None:
    load = Load(deployed.url).start()
    try:
        scenarios.scale_to(deployed, 1)
        scenarios.scale_to(deployed, 3)
    finally:
        load.stop()
    assert load.failed == [] and load.ok > 0


def test_rolling_update_under_load_fails_no_request_and_history_records_it(
    deployed: Deployed, second_image: BuiltImage, second_version: ModelVersion
) -> None:
    revision, status, load = scenarios.update_under_load(
        deployed, second_image.tags[0], version=second_version.version
    )
    assert {r.revision for r in status.replicas} == {revision} and status.ready_count == 3
    history = deployed.deployments.records.history(deployed.name)
    assert history[-1].outcome == "applied" and history[-1].spec.model_version == 2
    assert statistics.quantiles(load.latencies, n=100)[98] < 5.0


def test_broken_version_is_rolled_back_by_itself_without_failed_requests(
    deployed: Deployed, broken_image: str
) -> None:
    kept = scenarios.broken_update_is_rolled_back(deployed, broken_image, match="failed readiness")
    assert deployed.target.status(deployed.name).ready_count == 3
    history = deployed.deployments.records.history(deployed.name)
    assert "could not load" in (history[-1].detail or "")
    assert deployed.deployments.records.live(deployed.name).revision == kept


def test_rollback_returns_to_the_first_model_version(
    deployed: Deployed, built_image: BuiltImage, second_image: BuiltImage
) -> None:
    deployed.deployments.change(
        deployed.name,
        deployed.target,
        action="update",
        progress=lambda _m: None,
        image=second_image.tags[0],
        model_version=2,
    )
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
    settings = Settings.from_env(demo_model.env)
    removed = scenarios.deploy_and_remove(DockerTarget(engine), spec, settings)
    assert f"{name}-lb" in removed and f"shipyard-{name}" in removed
    label = {"label": f"{DEPLOYMENT_LABEL}={name}"}
    assert engine.client.containers.list(all=True, filters=label) == []
    assert engine.client.networks.list(filters=label) == []


def test_canary_takes_its_share_and_is_promoted_without_failed_requests(
    deployed: Deployed, second_image: BuiltImage
) -> None:
    load = scenarios.canary_is_promoted(deployed, second_image.tags[0], version=2)
    assert load.failed == [], load.failed[:5]


def test_a_worse_canary_is_aborted_automatically(deployed: Deployed) -> None:
    scenarios.canary_is_aborted_automatically(deployed)

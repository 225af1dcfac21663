"""The swarm target on a real single-node Swarm (``docker swarm init --advertise-addr
127.0.0.1``): replicas behind nginx in host mode, scaling, a rolling update under load with zero
failed requests, a broken version that Swarm rolls back by itself, ``rm``, and a canary service
promoted or aborted by the analysis of its ``/metrics``.

One stack serves the module; each test gets it at its baseline and leaves it there, failed or not
(``scenarios.at_baseline``), so a canary that Swarm's rollback of a promotion leaves behind fails
only the test that made it."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from shipyard.config import Settings
from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.targets.swarm.target import SwarmTarget
from shipyard.docker_engine import BuiltImage, DockerEngine
from shipyard.errors import ClusterUnavailableError, RolloutError
from shipyard.registry.entities import ModelVersion
from tests.deploy import scenarios
from tests.deploy.conftest import ROW, unique_name
from tests.deploy.scenarios import Deployed
from tests.image.conftest import DemoModel

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def swarm(engine: DockerEngine) -> Iterator[SwarmTarget]:
    try:
        target = SwarmTarget.connect()
    except ClusterUnavailableError as exc:
        pytest.skip(f"no swarm: {exc} (scripts/services.sh initialises one)")
    yield target
    target.close()


@pytest.fixture(scope="module")
def shared_stack(
    swarm: SwarmTarget, built_image: BuiltImage, lb_image: str, demo_model: DemoModel
) -> Iterator[Deployed]:
    spec = DeploymentSpec(
        name=unique_name(),
        image=built_image.tags[0],
        target="swarm",
        replicas=3,
        port=_free_port(),
        lb_image=lb_image,
        model_name="cancer",
        model_version=demo_model.version.version,
    )
    with scenarios.deployed_on(swarm, spec, Settings.from_env(demo_model.env)) as deployed:
        yield deployed


@pytest.fixture
def stack(shared_stack: Deployed) -> Iterator[Deployed]:
    """The module's stack at its baseline: 3 ready stable replicas of version 1, no canary."""
    with scenarios.at_baseline(shared_stack) as deployed:
        yield deployed


def test_three_healthy_replicas_all_take_traffic(stack: Deployed) -> None:
    status = stack.target.status(stack.name)
    assert status.ready_count == 3 and len(status.replicas) == 3
    with httpx.Client(timeout=30) as client:
        for _ in range(60):
            assert client.post(f"{stack.url}/predict", json=[ROW]).status_code == 200
    # Each replica's /metrics, read through the balancer (the host cannot reach the overlay).
    urls = stack.target.replica_urls(stack.name)
    counts = [scenarios.served_requests(url) for url in urls["stable"]]
    assert urls["canary"] == [] and len(counts) == 3 and all(count > 0 for count in counts), counts


def test_scale_down_and_up(stack: Deployed) -> None:
    scenarios.scale_to(stack, 2)
    scenarios.scale_to(stack, 3)


def test_rolling_update_under_load_fails_no_request(
    stack: Deployed, second_image: BuiltImage, second_version: ModelVersion
) -> None:
    scenarios.update_under_load(stack, second_image.tags[0], version=second_version.version)


def test_broken_version_is_rolled_back_by_swarm_without_failed_requests(
    stack: Deployed, broken_image: str
) -> None:
    scenarios.broken_update_is_rolled_back(stack, broken_image, match="rolled back")


def test_canary_service_takes_its_share_and_is_promoted(
    stack: Deployed, built_image: BuiltImage, demo_model: DemoModel, engine: DockerEngine
) -> None:
    version = demo_model.version.version
    load = scenarios.canary_is_promoted(stack, built_image.tags[0], version=version)
    canary = {"label": f"com.docker.swarm.service.name={stack.name}_canary"}
    assert engine.client.services.list(filters={"name": f"{stack.name}_canary"}) == []
    assert engine.client.containers.list(all=True, filters=canary) == []
    assert load.failed == [], load.failed[:5]


def test_a_canary_whose_model_cannot_load_is_removed_at_once(
    stack: Deployed, broken_image: str, engine: DockerEngine
) -> None:
    with pytest.raises(RolloutError, match="failed readiness"):
        stack.deployments.canary(
            stack.name, stack.target, weight=10, progress=lambda _m: None, image=broken_image
        )
    assert engine.client.services.list(filters={"name": f"{stack.name}_canary"}) == []
    assert stack.deployments.records.history(stack.name)[-1].outcome == "failed"
    assert [r.role for r in stack.target.status(stack.name).replicas] == ["stable"] * 3


def test_a_canary_service_that_answers_errors_is_aborted_automatically(stack: Deployed) -> None:
    load = scenarios.canary_is_aborted_automatically(stack)
    # The only failures under load were the canary's own 413s, until the abort.
    assert all(failure.startswith("413") for failure in load.failed), load.failed[:5]


def test_rm_leaves_nothing_behind(
    swarm: SwarmTarget,
    engine: DockerEngine,
    built_image: BuiltImage,
    lb_image: str,
    demo_model: DemoModel,
) -> None:
    name = unique_name()
    spec = DeploymentSpec(
        name=name,
        image=built_image.tags[0],
        target="swarm",
        replicas=1,
        port=_free_port(),
        lb_image=lb_image,
    )
    scenarios.deploy_and_remove(swarm, spec, Settings.from_env(demo_model.env))
    label = {"label": f"com.docker.stack.namespace={name}"}
    assert engine.client.services.list(filters=label) == []
    assert engine.client.networks.list(filters=label) == []
    assert engine.client.containers.list(all=True, filters=label) == []

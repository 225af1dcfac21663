"""The swarm target on a real single-node Swarm (``docker swarm init --advertise-addr
127.0.0.1``): replicas behind nginx in host mode, scaling, a rolling update under load with zero
failed requests, a broken version that Swarm rolls back by itself, and ``rm``."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from shipyard.config import Settings
from shipyard.deploy.service import Deployments
from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.targets.swarm.target import SwarmTarget
from shipyard.docker_engine import BuiltImage, DockerEngine
from shipyard.errors import ClusterUnavailableError, RolloutError
from shipyard.registry.entities import ModelVersion
from tests.build.conftest import DemoModel
from tests.deploy.conftest import ROW, Load, unique_name

pytestmark = [pytest.mark.docker, pytest.mark.slow]

_METRICS = (
    "import urllib.request; print(urllib.request.urlopen("
    "'http://127.0.0.1:8080/metrics').read().decode())"
)


@dataclass
class Stack:
    name: str
    target: SwarmTarget
    deployments: Deployments
    url: str


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
def stack(
    swarm: SwarmTarget, built_image: BuiltImage, lb_image: str, demo_model: DemoModel
) -> Iterator[Stack]:
    name = unique_name()
    spec = DeploymentSpec(
        name=name,
        image=built_image.tags[0],
        target="swarm",
        replicas=3,
        port=_free_port(),
        lb_image=lb_image,
        model_name="cancer",
        model_version=demo_model.version.version,
    )
    deployments = Deployments.open(Settings.from_env(demo_model.env))
    try:
        _, status = deployments.deploy(spec, swarm, progress=lambda _m: None)
        assert status.url is not None
        yield Stack(name, swarm, deployments, status.url)
    finally:
        swarm.remove(name)
        deployments.close()


def _predict_counts(engine: DockerEngine, name: str) -> list[float]:
    counts = []
    for container in engine.client.containers.list(
        filters={"label": f"com.docker.swarm.service.name={name}_model"}
    ):
        text = container.exec_run(["/opt/venv/bin/python", "-c", _METRICS]).output.decode()
        counts.append(
            sum(
                float(line.rpartition(" ")[2])
                for line in text.splitlines()
                if line.startswith("shipyard_requests_total{") and 'route="/predict"' in line
            )
        )
    return counts


def test_three_healthy_replicas_all_take_traffic(stack: Stack, engine: DockerEngine) -> None:
    status = stack.target.status(stack.name)
    assert status.ready_count == 3 and len(status.replicas) == 3
    with httpx.Client(timeout=30) as client:
        for _ in range(60):
            assert client.post(f"{stack.url}/predict", json=[ROW]).status_code == 200
    counts = _predict_counts(engine, stack.name)
    assert len(counts) == 3 and all(count > 0 for count in counts), counts


def test_scale_down_and_up(stack: Stack) -> None:
    _, status = stack.deployments.change(
        stack.name, stack.target, action="scale", progress=lambda _m: None, replicas=2
    )
    assert len(status.replicas) == 2 and status.ready_count == 2
    _, status = stack.deployments.change(
        stack.name, stack.target, action="scale", progress=lambda _m: None, replicas=3
    )
    assert len(status.replicas) == 3 and status.ready_count == 3


def test_rolling_update_under_load_fails_no_request(
    stack: Stack, second_image: BuiltImage, second_version: ModelVersion
) -> None:
    load = Load(stack.url).start()
    try:
        _, status = stack.deployments.change(
            stack.name,
            stack.target,
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


def test_broken_version_is_rolled_back_by_swarm_without_failed_requests(
    stack: Stack, broken_image: str
) -> None:
    live = stack.deployments.records.live(stack.name)
    load = Load(stack.url).start()
    try:
        with pytest.raises(RolloutError, match="rolled back"):
            stack.deployments.change(
                stack.name,
                stack.target,
                action="update",
                progress=lambda _m: None,
                image=broken_image,
            )
    finally:
        load.stop()
    assert load.failed == [], load.failed[:5]
    status = stack.target.status(stack.name)
    assert {r.image for r in status.replicas} == {live.spec.image}
    assert stack.deployments.records.history(stack.name)[-1].outcome == "rolled-back"


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
    with Deployments.open(Settings.from_env(demo_model.env)) as deployments:
        deployments.deploy(spec, swarm, progress=lambda _m: None)
        deployments.remove(name, swarm)
    label = {"label": f"com.docker.stack.namespace={name}"}
    assert engine.client.services.list(filters=label) == []
    assert engine.client.networks.list(filters=label) == []
    assert engine.client.containers.list(all=True, filters=label) == []

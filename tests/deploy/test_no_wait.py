"""``--no-wait`` on the real engine: a version that can never get ready is applied and reported
at once, recorded ``applied`` with a detail saying readiness was not watched, and not rolled back
(the same image with ``--wait`` fails readiness: tests/deploy/test_docker_target.py)."""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.config import Settings
from shipyard.deploy.service import NOT_WAITED, Deployments
from shipyard.deploy.spec import DeploymentSpec
from shipyard.deploy.targets.base import DEPLOYMENT_LABEL
from shipyard.deploy.targets.swarm.target import SwarmTarget
from shipyard.docker_engine import DockerEngine
from shipyard.errors import ClusterUnavailableError
from tests.deploy.conftest import unique_name
from tests.image.conftest import DemoModel

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_no_wait_applies_a_broken_version_without_waiting_or_rolling_back(
    demo_model: DemoModel, engine: DockerEngine, broken_image: str, lb_image: str
) -> None:
    name = unique_name()
    env = dict(demo_model.env)
    args = ["deploy", broken_image, "--name", name, "--port", "0", "--lb-image", lb_image]
    runner = CliRunner()
    try:
        result = runner.invoke(app, [*args, "--no-wait", "--json"], env=env)
        assert result.exit_code == 0, result.output
        assert "no automatic rollback" in result.stderr
        document = json.loads(result.stdout)
        assert document["revision"] == 1 and len(document["replicas"]) == 1
        history = runner.invoke(app, ["deployments", "history", name, "--json"], env=env)
        (revision,) = json.loads(history.stdout)
        assert revision["outcome"] == "applied"
        assert revision["detail"] == NOT_WAITED
    finally:
        removed = runner.invoke(app, ["deployments", "rm", name, "--json"], env=env)
    assert removed.exit_code == 0, removed.output
    label = {"label": f"{DEPLOYMENT_LABEL}={name}"}
    assert engine.client.containers.list(all=True, filters=label) == []


def test_no_wait_on_swarm_returns_after_the_stack_deploy(
    demo_model: DemoModel, engine: DockerEngine, broken_image: str, lb_image: str
) -> None:
    try:
        swarm = SwarmTarget.connect()
    except ClusterUnavailableError as exc:
        pytest.skip(f"no swarm: {exc} (scripts/services.sh initialises one)")
    name = unique_name()
    spec = DeploymentSpec(
        name=name, image=broken_image, target="swarm", port=_free_port(), lb_image=lb_image
    )
    steps: list[str] = []
    try:
        with Deployments.open(Settings.from_env(demo_model.env)) as deployments:
            revision, status = deployments.deploy(spec, swarm, progress=steps.append, wait=False)
            (record,) = deployments.records.history(name)
        assert revision == 1 and status.name == name
        assert (record.outcome, record.detail) == ("applied", NOT_WAITED)
        assert any("--no-wait" in step for step in steps), steps
    finally:
        swarm.remove(name)
        swarm.close()

"""``shipyard deploy | deployments | run | stop`` from the command line: dry runs, bad input
(distinct exit codes, nothing applied), ``run`` failing fast and ``stop``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.deploy.targets.base import DEPLOYMENT_LABEL
from shipyard.docker_engine import BuiltImage, DockerEngine
from tests.deploy.conftest import unique_name
from tests.image.conftest import DemoModel


@pytest.fixture
def cli_env(demo_model: DemoModel) -> dict[str, str]:
    return dict(demo_model.env)


def test_dry_run_writes_a_valid_compose_file_without_an_engine(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "manifests"
    args = ["deploy", "cancer:1", "--replicas", "3", "--memory", "512Mi", "--cpu", "0.5"]
    env = {**cli_env, "DOCKER_HOST": f"unix://{tmp_path / 'none.sock'}"}
    result = CliRunner().invoke(app, [*args, "--dry-run", "-o", str(out), "--json"], env=env)
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load((out / "compose.yaml").read_text())
    model = doc["services"]["model"]
    assert model["image"] == "shipyard/cancer:1" and model["deploy"]["replicas"] == 3
    assert model["deploy"]["resources"]["limits"] == {"cpus": "0.5", "memory": "512M"}
    assert doc["services"]["lb"]["ports"] == ["127.0.0.1:8080:8080"]
    assert "upstream replicas" in (out / "nginx.conf").read_text()
    assert json.loads(result.stdout)["spec"]["model_version"] == 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--target", "nomad"], 2, "unknown target 'nomad'"),
        (["--replicas", "-1"], 2, "--replicas -1 is out of range"),
        (["--memory", "lots"], 2, "--memory 'lots' is not a size"),
        (["--cpu", "0"], 2, "--cpu '0' is out of range"),
        (["--name", "Bad_Name"], 2, "invalid deployment name"),
        (["--env", "NOEQUALS"], 2, "is not KEY=VALUE"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_applied(
    cli_env: dict[str, str], args: list[str], code: int, message: str
) -> None:
    result = CliRunner().invoke(app, ["deploy", "cancer:1", *args, "--json"], env=cli_env)
    assert result.exit_code == code, result.output
    assert message in json.loads(result.stdout)["error"]["message"]


def test_unreachable_engine_is_exit_6(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = {**cli_env, "DOCKER_HOST": f"unix://{tmp_path / 'none.sock'}"}
    result = CliRunner().invoke(app, ["deploy", "cancer:1", "--json"], env=env)
    assert result.exit_code == 6, result.output
    assert "no Docker engine reachable" in json.loads(result.stdout)["error"]["message"]


@pytest.mark.docker
def test_missing_image_is_not_found_and_nothing_applied(
    cli_env: dict[str, str], engine: DockerEngine, lb_image: str
) -> None:
    name = unique_name()
    args = ["deploy", "shipyard-test/none:missing", "--name", name, "--lb-image", lb_image]
    result = CliRunner().invoke(app, [*args, "--json"], env=cli_env)
    assert result.exit_code == 3, result.output
    assert "no image 'shipyard-test/none:missing'" in json.loads(result.stdout)["error"]["message"]
    label = {"label": f"{DEPLOYMENT_LABEL}={name}"}
    assert engine.client.containers.list(all=True, filters=label) == []
    listed = CliRunner().invoke(app, ["deployments", "list", "--json"], env=cli_env)
    assert name not in listed.stdout


@pytest.mark.docker
@pytest.mark.slow
def test_cli_deploy_status_history_rm_and_a_taken_name(
    cli_env: dict[str, str], engine: DockerEngine, built_image: BuiltImage, lb_image: str
) -> None:
    name = unique_name()
    runner = CliRunner()
    args = ["deploy", built_image.tags[0], "--name", name, "--port", "0", "--replicas", "2"]
    try:
        result = runner.invoke(app, [*args, "--lb-image", lb_image, "--json"], env=cli_env)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["ready"] == 2
        again = runner.invoke(app, [*args, "--lb-image", lb_image, "--json"], env=cli_env)
        assert (
            again.exit_code == 4 and "already runs" in json.loads(again.stdout)["error"]["message"]
        )
        status = runner.invoke(app, ["deployments", "status", name, "--json"], env=cli_env)
        assert json.loads(status.stdout)["ready"] == 2
        history = runner.invoke(app, ["deployments", "history", name, "--json"], env=cli_env)
        assert [r["outcome"] for r in json.loads(history.stdout)] == ["applied"]
    finally:
        removed = runner.invoke(app, ["deployments", "rm", name, "--json"], env=cli_env)
    assert removed.exit_code == 0, removed.output
    assert (
        engine.client.containers.list(all=True, filters={"label": f"{DEPLOYMENT_LABEL}={name}"})
        == []
    )


@pytest.mark.docker
@pytest.mark.slow
def test_run_reports_a_model_that_fails_to_load_within_seconds(
    cli_env: dict[str, str], broken_image: str
) -> None:
    started = time.monotonic()
    args = ["run", broken_image, "--port", "0", "--detach", "--name", unique_name(), "--json"]
    result = CliRunner().invoke(app, args, env=cli_env)
    elapsed = time.monotonic() - started
    assert result.exit_code == 8, result.output
    assert "could not load its model" in json.loads(result.stdout)["error"]["message"]
    assert elapsed < 30, elapsed


@pytest.mark.docker
@pytest.mark.slow
def test_run_with_name_then_stop(
    cli_env: dict[str, str], engine: DockerEngine, built_image: BuiltImage
) -> None:
    name = unique_name()
    args = ["run", built_image.tags[0], "--port", "0", "--detach", "--name", name, "--json"]
    result = CliRunner().invoke(app, args, env=cli_env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["name"] == name
    taken = CliRunner().invoke(app, args, env=cli_env)
    assert taken.exit_code == 4 and "exists already" in json.loads(taken.stdout)["error"]["message"]
    stopped = CliRunner().invoke(app, ["stop", name, "--json"], env=cli_env)
    assert stopped.exit_code == 0 and json.loads(stopped.stdout)["exit_code"] == 0
    missing = CliRunner().invoke(app, ["stop", name, "--json"], env=cli_env)
    assert missing.exit_code == 3


def test_kubernetes_dry_run_writes_manifests(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "k8s"
    args = ["deploy", "cancer:1", "--target", "kubernetes", "--autoscale", "2:5@60"]
    result = CliRunner().invoke(app, [*args, "--dry-run", "-o", str(out), "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert (out / "kustomization.yaml").is_file() and (out / "hpa.yaml").is_file()
    # applying without a cluster: tests/deploy/test_kubernetes_cli.py

"""``shipyard deploy --target kubernetes`` and its canary from the command line, with no cluster:
an unreachable API is exit 15 with what to do and nothing written, applied or recorded; a
canary's dry run writes the kustomization with the weighted HTTPRoute.

No cluster can run here, and none is faked: the apply edge is ``kubectl`` itself, documented
command by command in ``targets/kubernetes/kubectl.py`` and ``docs/guide/deploying.md``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.config import Settings
from shipyard.deploy.history import DeploymentRecords
from shipyard.deploy.spec import DeploymentSpec
from tests.deploy.gateway_api import route_problems, schema_errors
from tests.kubeconfig import unreachable_cluster_env

IMAGE = "registry.example/shipyard/cancer:2"
needs_kubectl = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl is not installed (scripts/services.sh)"
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A Shipyard home and a kubeconfig whose API server is a closed port on 127.0.0.1."""
    return {
        "SHIPYARD_HOME": str(tmp_path / "home"),
        "SHIPYARD_USER": "tester",
        **unreachable_cluster_env(tmp_path),
    }


def _invoke(env: dict[str, str], *args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(app, [*args, "--json"], env=env)
    return result.exit_code, json.loads(result.stdout)


@needs_kubectl
@pytest.mark.parametrize("context", [None, "missing"])
def test_no_reachable_cluster_is_exit_15_and_nothing_is_written_or_recorded(
    env: dict[str, str], tmp_path: Path, context: str | None
) -> None:
    out = tmp_path / "manifests"
    args = ["deploy", IMAGE, "--target", "kubernetes", "--namespace", "models", "-o", str(out)]
    code, document = _invoke(env, *args, *(["--context", context] if context else []))
    assert code == 15, document
    error = document["error"]
    assert set(error) == {"type", "message", "exit_code"}
    assert (error["type"], error["exit_code"]) == ("ClusterUnavailableError", 15)
    message = str(error["message"])
    assert "no Kubernetes API answers" in message
    assert "KUBECONFIG" in message and "--context" in message and "--dry-run -o DIR" in message
    assert not out.exists()
    assert _invoke(env, "deployments", "list") == (0, [])


def test_the_same_options_render_offline_with_dry_run(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "manifests"
    args = ["deploy", IMAGE, "--target", "kubernetes", "--namespace", "models", "--dry-run"]
    code, document = _invoke(env, *args, "--context", "prod", "-o", str(out))
    assert code == 0, document
    assert (out / "kustomization.yaml").is_file() and (out / "deployment.yaml").is_file()
    assert document["spec"]["context"] == "prod"


def _record(env: dict[str, str], spec: DeploymentSpec) -> None:
    """A deployment as ``shipyard deploy`` records it once applied (the records are real)."""
    with DeploymentRecords.open(Settings.from_env(env)) as records:
        revision = records.begin(spec, action="deploy", user="tester", new=True)
        records.finish(spec.name, revision, "applied")


@needs_kubectl
def test_commands_on_a_recorded_deployment_need_its_cluster(env: dict[str, str]) -> None:
    _record(
        env, DeploymentSpec(name="cancer", image=IMAGE, target="kubernetes", namespace="models")
    )
    for args in (("status", "cancer"), ("scale", "cancer", "2"), ("rm", "cancer")):
        code, document = _invoke(env, "deployments", *args)
        assert code == 15, (args, document)
    code, history = _invoke(env, "deployments", "history", "cancer")
    assert code == 0 and [r["outcome"] for r in history] == ["applied"]


def test_canary_dry_run_writes_the_weighted_route(env: dict[str, str], tmp_path: Path) -> None:
    stable = DeploymentSpec(
        name="cancer", image=IMAGE, target="kubernetes", namespace="models", replicas=3
    )
    _record(env, stable)
    out = tmp_path / "canary"
    args = ["deployments", "canary", "cancer", "registry.example/shipyard/cancer:3"]
    code, document = _invoke(
        env, *args, "--weight", "10", "--gateway", "public/infra", "--dry-run", "-o", str(out)
    )
    assert code == 0, document
    route = yaml.safe_load((out / "httproute.yaml").read_text())
    backends = route["spec"]["rules"][0]["backendRefs"]
    assert [(b["name"], b["weight"]) for b in backends] == [("cancer", 90), ("cancer-canary", 10)]
    assert route["spec"]["parentRefs"][0]["name"] == "public"
    kustomization = yaml.safe_load((out / "kustomization.yaml").read_text())
    assert {"httproute.yaml", "canary-deployment.yaml", "canary-service.yaml"} <= set(
        kustomization["resources"]
    )
    canary = yaml.safe_load((out / "canary-deployment.yaml").read_text())
    assert canary["spec"]["template"]["spec"]["containers"][0]["image"].endswith("cancer:3")
    services = {
        body["metadata"]["name"]: body["spec"]["ports"][0]["port"]
        for body in (yaml.safe_load((out / f).read_text()) for f in kustomization["resources"])
        if body["kind"] == "Service"
    }
    assert route_problems(route, services) == []
    assert schema_errors([route]) == [None]
    code, history = _invoke(env, "deployments", "history", "cancer")
    assert len(history) == 1  # a dry run records nothing


def test_canary_dry_run_is_for_kubernetes_only(env: dict[str, str], tmp_path: Path) -> None:
    _record(env, DeploymentSpec(name="cancer", image=IMAGE))
    args = ["deployments", "canary", "cancer", IMAGE, "--dry-run", "-o", str(tmp_path / "x")]
    code, document = _invoke(env, *args)
    assert code == 2 and "kubernetes canaries" in document["error"]["message"]


@pytest.mark.parametrize(
    ("command", "wanted"),
    [
        (("deploy",), ("--no-wait", "--context", "kubectl apply --server-side")),
        (("deployments", "update"), ("--no-wait",)),
        (("deployments", "scale"), ("--no-wait",)),
        (("deployments", "canary"), ("--gateway", "--dry-run", "HTTPRoute")),
    ],
)
def test_the_help_names_the_new_options(command: tuple[str, ...], wanted: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for text in wanted:
        assert text in result.stdout

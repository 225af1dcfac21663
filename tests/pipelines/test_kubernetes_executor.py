"""The kubernetes executor drives the one kubectl driver of the core: every command it runs is
one the real kubectl accepts, and against a closed port each fails with "connection refused"
(no cluster can run here, and none is faked)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.errors import ClusterUnavailableError, DeployError
from shipyard.kubectl import Kubectl
from shipyard.pipelines.executors.kubernetes import KubernetesJobs
from shipyard.pipelines.export import ExportOptions, plan_export, render_jobs
from shipyard.pipelines.loader import load_pipeline
from tests.kubeconfig import unreachable_cluster_env
from tests.pipelines.conftest import Workspace

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


@pytest.fixture
def no_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = unreachable_cluster_env(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def test_connect_says_no_cluster_answers(no_cluster: dict[str, str]) -> None:
    with pytest.raises(ClusterUnavailableError, match="refused"):
        KubernetesJobs.connect(context=None, namespace="ml")


def test_every_executor_call_reaches_the_network(
    no_cluster: dict[str, str], workspace: Workspace
) -> None:
    plan = plan_export(load_pipeline(workspace.file), ExportOptions(namespace="ml"))
    documents = render_jobs(plan)
    kubectl = Kubectl.find(context=None, namespace="ml")
    jobs = KubernetesJobs(kubectl)
    calls: list[Callable[[], object]] = [
        lambda: kubectl.apply_documents([d for d in documents if d["kind"] != "Job"]),
        lambda: kubectl.job_state("ingest"),
        lambda: jobs.run(documents, on_status=lambda node, state: None),
    ]
    for call in calls:
        with pytest.raises(DeployError, match="refused") as caught:
            call()
        assert "unknown flag" not in str(caught.value) and "usage" not in str(caught.value)


def test_a_named_context_is_passed_to_kubectl(no_cluster: dict[str, str]) -> None:
    with pytest.raises(ClusterUnavailableError, match="context nowhere"):
        KubernetesJobs.connect(context="nowhere", namespace="ml")
    with pytest.raises(ClusterUnavailableError, match="no-such-context"):
        KubernetesJobs.connect(context="no-such-context", namespace="ml")


def test_cli_run_on_kubernetes_exits_15_with_json(
    no_cluster: dict[str, str], workspace: Workspace
) -> None:
    args = ["pipeline", "run", str(workspace.file), "--executor", "kubernetes", "--json"]
    result = CliRunner().invoke(app, [*args, "--namespace", "ml", "--context", "nowhere"])
    assert result.exit_code == 15, result.output
    error = json.loads(result.output)["error"]
    assert error["type"] == "ClusterUnavailableError"
    assert "refused" in error["message"]

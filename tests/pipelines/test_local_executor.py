"""The local executor's semantics on small pipelines: parallel steps, timeouts, retries, a step
that writes no declared output, cache switches, and errors raised before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.errors import ConfigError, DockerUnavailableError, PipelineDefinitionError
from tests.pipelines.conftest import TINY, Workspace, executed, statuses

pytestmark = pytest.mark.slow


def test_independent_steps_run_in_parallel(workspace: Workspace) -> None:
    summary = workspace.run(f"{TINY}:fan", parallel=2)
    assert summary.status == "succeeded"
    assert executed(summary) == {"stamp", "stamp_2", "overlap"}
    from shipyard.pipelines.serializers import read_value

    outcome = summary.step("overlap").outputs["output"]
    folder = workspace.home / "check"
    from shipyard.pipelines.artifacts import materialize
    from shipyard.registry.artifacts import LocalArtifactStore

    materialize(LocalArtifactStore(workspace.home / "artifacts"), outcome, folder)
    assert read_value("json", folder) is True


def test_timeout_kills_the_step_and_skips_its_dependents(workspace: Workspace) -> None:
    summary = workspace.run(f"{TINY}:timeouts")
    assert statuses(summary) == {"sleepy": "failed", "after_sleepy": "skipped"}
    sleepy = summary.step("sleepy")
    assert "timeout of 2" in (sleepy.error or "")
    assert sleepy.duration_s is not None and sleepy.duration_s < 60
    assert "killed" in Path(sleepy.log_path or "").read_text()


def test_retries_run_the_step_again_with_backoff(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINY_STATE", str(tmp_path / "attempts"))
    summary = workspace.run(f"{TINY}:retried")
    assert summary.status == "succeeded"
    assert summary.step("flaky").attempts == 2
    log = Path(summary.step("flaky").log_path or "").read_text()
    assert "flaky attempt 1" in log and "attempt 2" in log


def test_step_that_writes_no_declared_output_fails_clearly(workspace: Workspace) -> None:
    summary = workspace.run(f"{TINY}:nooutput")
    assert summary.status == "failed"
    assert "wrote no output 'output'" in (summary.step("forgetful").error or "")


def test_no_cache_per_run_and_per_step(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINY_STATE", str(tmp_path / "attempts"))
    (tmp_path / "attempts").write_text("5")
    target = f"{TINY}:retried"
    assert executed(workspace.run(target)) == {"flaky"}
    assert executed(workspace.run(target)) == set()
    assert executed(workspace.run(target, no_cache_steps=frozenset({"flaky"}))) == {"flaky"}
    assert executed(workspace.run(target, no_cache=True)) == {"flaky"}


def test_unknown_executor_is_refused_before_anything_runs(workspace: Workspace) -> None:
    with pytest.raises(ConfigError, match="unknown executor 'podman'"):
        workspace.run(f"{TINY}:fan", executor="podman")
    assert not (workspace.home / "pipelines").exists()


def test_unreachable_docker_engine_is_refused_before_anything_runs(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with pytest.raises(DockerUnavailableError, match="no Docker engine"):
        workspace.run(f"{TINY}:fan", executor="docker")
    assert not (workspace.home / "pipelines").exists()


def test_missing_local_requirement_is_refused_before_anything_runs(workspace: Workspace) -> None:
    workspace.edit('requirements=["scikit-learn>=1.3"', 'requirements=["scikit-learn>=99"')
    with pytest.raises(ConfigError, match="needs scikit-learn>=99"):
        workspace.run()
    assert not (workspace.home / "pipelines" / "runs").exists()


def test_file_with_several_pipelines_needs_a_name(workspace: Workspace) -> None:
    with pytest.raises(PipelineDefinitionError, match="name one as"):
        workspace.run(TINY)

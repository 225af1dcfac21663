"""Each pipeline run is a tracked run: params, per-step seconds and cache hits, the metrics a step
outputs, artifact references, FAILED on a failing step, ``--resume`` continuing the same tracked
run, and the registered version carrying the tracked run's id (dataset digest -> run -> version).
Real processes (local executor), a real registry and tracking store in a private SHIPYARD_HOME."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.config import Settings
from shipyard.pipelines.runner import RunSummary
from shipyard.registry.registry import Registry
from shipyard.tracking import Run, RunStatus, Tracker
from tests.pipelines.conftest import Workspace, executed, statuses

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

PROJECT = Path(__file__).resolve().parent / "fixtures" / "tracked"
ALL = {"load", "fit", "score", "register"}


def _workspace(root: Path) -> Workspace:
    shutil.copytree(PROJECT, root / "project", ignore=shutil.ignore_patterns("__pycache__"))
    return Workspace(root / "home", root / "project")


def _tracked(settings: Settings, run_id: str | None) -> Run:
    assert run_id is not None
    with Tracker.from_settings(settings) as tracker:
        return tracker.store.get_run(run_id)


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, RunSummary]]:
    """The pipeline run once on an empty home (every step executed)."""
    space = _workspace(tmp_path_factory.mktemp("tracked"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHIPYARD_HOME", str(space.home))
        patch.setenv("SHIPYARD_USER", "tester")
        summary = space.run(space.project / "tracked.py")
        assert summary.status == "succeeded", summary.to_dict()
        yield space, summary


def test_run_is_tracked_with_params_step_metrics_and_step_figures(
    first: tuple[Workspace, RunSummary],
) -> None:
    space, summary = first
    run = _tracked(space.settings, summary.tracking_run_id)
    assert run.info.status is RunStatus.FINISHED
    with Tracker.from_settings(space.settings) as tracker:
        assert tracker.store.get_experiment(run.info.experiment_id).name == "tracked"
        assert run.params["c"] == "1.0"
        assert run.params["data"] == str(space.project / "rows.csv")
        assert len(run.params["data.digest"]) == 64
        assert run.tags["shipyard.pipeline"] == "tracked"
        assert run.tags["shipyard.pipeline_run"] == summary.run_id
        for node in ALL:
            assert run.tags[f"step.{node}.status"] == "succeeded"
            assert run.metrics[f"step.{node}.cached"].value == 0
            assert run.metrics[f"step.{node}.seconds"].value > 0
        assert run.metrics["pipeline.executed"].value == 4
        # the score step's Metrics output, under its own keys; an invalid key is named, not lost
        assert 0.5 <= run.metrics["accuracy"].value <= 1
        assert run.metrics["rows"].value == 40
        assert run.tags["step.score.metrics_not_logged"] == "not a key?"
        # artifacts are references to the blobs the steps stored: same sha256, no copy
        fit_model = summary.step("fit").outputs["output"].files[0]
        root = run.info.artifact_uri.removeprefix("mlflow-artifacts:").strip("/")
        listed = tracker.store.artifact_files(f"{root}/steps/fit")
        assert [(f.path.rsplit("/", 1)[-1], f.sha256) for f in listed] == [
            (fit_model.path, fit_model.sha256)
        ]


def test_registered_version_carries_the_tracked_run_and_dataset_digest(
    first: tuple[Workspace, RunSummary],
) -> None:
    space, summary = first
    run = _tracked(space.settings, summary.tracking_run_id)
    with Registry.from_settings(space.settings) as registry:
        version = registry.get("tracked@production")
    assert version.manifest.lineage.run_id == summary.tracking_run_id
    digest = run.tags["shipyard.dataset_digest"]
    assert version.manifest.lineage.dataset_digest == digest
    assert version.tags["shipyard.pipeline_run"] == summary.run_id
    with Tracker.from_settings(space.settings) as tracker:
        linked = tracker.store.linked_models(run.info.run_id)
    assert [(m.name, m.version, m.dataset_digest) for m in linked] == [("tracked", 1, digest)]


def test_cached_rerun_is_a_new_tracked_run_with_cache_hits(
    first: tuple[Workspace, RunSummary], fresh_copy: Callable[[Workspace], Workspace]
) -> None:
    space = fresh_copy(first[0])
    again = space.run(space.project / "tracked.py", experiment="nightly")
    assert again.executed == 0
    assert again.tracking_run_id not in (None, first[1].tracking_run_id)
    run = _tracked(space.settings, again.tracking_run_id)
    with Tracker.from_settings(space.settings) as tracker:
        assert tracker.store.get_experiment(run.info.experiment_id).name == "nightly"
    for node in ALL:
        assert run.metrics[f"step.{node}.cached"].value == 1
        assert run.tags[f"step.{node}.status"] == "cached"
    assert run.metrics["pipeline.cached"].value == 4
    assert "accuracy" in run.metrics  # a cached evaluation still reports its figures


def test_failing_step_fails_the_tracked_run_and_resume_continues_it(
    first: tuple[Workspace, RunSummary],
    fresh_copy: Callable[[Workspace], Workspace],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    space = fresh_copy(first[0])
    source = space.project / "tracked.py"
    monkeypatch.setenv("TRACKED_FAIL", "1")
    failed = space.run(source, no_cache_steps=frozenset({"score"}))
    assert statuses(failed)["score"] == "failed"
    assert statuses(failed)["register"] == "skipped"
    run = _tracked(space.settings, failed.tracking_run_id)
    assert run.info.status is RunStatus.FAILED
    assert "step 'score' failed" in run.tags["shipyard.error"]
    assert "scoring broke" in run.tags["shipyard.error"]
    assert run.tags["step.score.status"] == "failed"
    assert "scoring broke" in run.tags["step.score.error"]
    assert run.tags["step.register.status"] == "skipped"

    monkeypatch.delenv("TRACKED_FAIL")
    resumed = space.run(source, resume=failed.run_id, no_cache=True)
    assert resumed.status == "succeeded"
    assert executed(resumed) == {"score", "register"}
    assert resumed.tracking_run_id == failed.tracking_run_id  # the same tracked run, continued
    run = _tracked(space.settings, resumed.tracking_run_id)
    assert run.info.status is RunStatus.FINISHED
    assert run.tags["step.score.status"] == "succeeded"
    assert run.tags["step.register.status"] == "succeeded"
    with Tracker.from_settings(space.settings) as tracker:
        linked = tracker.store.linked_models(run.info.run_id)
    assert [(m.name, m.version) for m in linked] == [("tracked", 2)]


def test_cli_shows_the_link_both_ways(
    first: tuple[Workspace, RunSummary], fresh_copy: Callable[[Workspace], Workspace]
) -> None:
    fresh_copy(first[0])  # SHIPYARD_HOME points at a copy of the first run's home
    runner = CliRunner()
    summary = first[1]
    shown = runner.invoke(app, ["pipeline", "runs", "show", summary.run_id])
    assert shown.exit_code == 0, shown.output
    assert f"tracked run {summary.tracking_run_id}" in shown.output
    as_json = runner.invoke(app, ["pipeline", "runs", "show", summary.run_id, "--json"])
    assert json.loads(as_json.output)["tracking_run_id"] == summary.tracking_run_id
    tracked = runner.invoke(app, ["runs", "show", str(summary.tracking_run_id)])
    assert tracked.exit_code == 0, tracked.output
    assert f"from pipeline run {summary.run_id} of tracked" in tracked.output

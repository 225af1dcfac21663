"""``shipyard.start_run`` against real SQLite and PostgreSQL: ends, failures, kills, lineage."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import shipyard
from shipyard.config import Settings
from shipyard.errors import InvalidInputError, InvalidNameError, NotFoundError
from shipyard.tracking import RunStatus, Tracker
from shipyard.tracking.entities import now_ms

WORKER = Path(__file__).with_name("run_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def test_run_logs_params_metrics_tags_and_finishes(tracking_settings: Settings) -> None:
    with shipyard.start_run(
        experiment="churn", params={"depth": 5}, tags={"team": "ml"}, settings=tracking_settings
    ) as run:
        run.log_metric("auc", 0.80)
        run.log_metric("auc", 0.85)
        run.log_metrics({"auc": 0.91, "loss": 0.3}, step=7)
        run.log_params({"lr": 0.1})
        run.set_tags({"stage": "tuning"})
        assert shipyard.tracking.active_run() is run
    stored = run.get()
    assert stored.info.status is RunStatus.FINISHED
    assert stored.info.end_time is not None
    assert stored.params == {"depth": "5", "lr": "0.1"}
    assert stored.tags["team"] == "ml" and stored.tags["stage"] == "tuning"
    assert stored.metrics["auc"].value == 0.91 and stored.metrics["auc"].step == 7
    with Tracker.from_settings(tracking_settings) as tracker:
        history = tracker.store.metric_history(run.id, "auc")
    assert [(m.step, m.value) for m in history] == [(0, 0.80), (1, 0.85), (7, 0.91)]
    assert shipyard.tracking.active_run() is None


def test_run_records_git_python_packages_host_and_argv(tracking_settings: Settings) -> None:
    with shipyard.start_run(experiment="env", settings=tracking_settings) as run:
        pass
    with Tracker.from_settings(tracking_settings) as tracker:
        environment = tracker.store.environment(run.id)
    assert environment is not None
    assert environment["source"] == __file__
    assert len(environment["git_commit"]) == 40 and isinstance(environment["git_dirty"], bool)
    assert environment["python"] == ".".join(map(str, sys.version_info[:3]))
    assert environment["packages"]["numpy"] == np.__version__
    assert environment["host"] and environment["argv"] == sys.argv
    tags = run.get().tags
    assert tags["mlflow.source.git.commit"] == environment["git_commit"]
    assert tags["mlflow.user"] == tracking_settings.user


def test_run_that_raises_is_failed_with_the_error(tracking_settings: Settings) -> None:
    with (
        pytest.raises(ZeroDivisionError),
        shipyard.start_run(experiment="churn", settings=tracking_settings) as run,
    ):
        _ = 1 / 0
    stored = run.get()
    assert stored.info.status is RunStatus.FAILED
    assert stored.tags["shipyard.error"] == "ZeroDivisionError: division by zero"


def test_ctrl_c_marks_the_run_killed(tracking_settings: Settings) -> None:
    with (
        pytest.raises(KeyboardInterrupt),
        shipyard.start_run(experiment="churn", settings=tracking_settings) as run,
    ):
        raise KeyboardInterrupt
    assert run.get().info.status is RunStatus.KILLED


def _worker(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    environ = {**os.environ, **env, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args], stdout=subprocess.PIPE, text=True, env=environ
    )


def test_sigterm_marks_the_run_killed(
    tracking_env: dict[str, str], tracking_settings: Settings
) -> None:
    process = _worker(["wait", "sigterm"], tracking_env)
    assert process.stdout is not None
    run_id = process.stdout.readline().strip()
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM
    with Tracker.from_settings(tracking_settings) as tracker:
        assert tracker.store.get_run(run_id).info.status is RunStatus.KILLED


def test_a_killed_process_leaves_a_stale_run_that_is_reaped(
    tracking_env: dict[str, str], tracking_settings: Settings
) -> None:
    process = _worker(["wait", "sigkill"], tracking_env)
    assert process.stdout is not None
    run_id = process.stdout.readline().strip()
    process.kill()
    process.communicate(timeout=30)
    with Tracker.from_settings(tracking_settings) as tracker:
        assert tracker.store.get_run(run_id).info.status is RunStatus.RUNNING
        assert tracker.store.reap_stale_runs(60_000) == []  # the heartbeat is recent
        assert tracker.store.reap_stale_runs(60_000, now=now_ms() + 120_000) == [run_id]
        stale = tracker.store.get_run(run_id)
    assert stale.info.status is RunStatus.KILLED
    assert stale.tags["shipyard.end_reason"].startswith("stale")


@pytest.mark.slow
def test_concurrent_processes_lose_nothing(
    tracking_env: dict[str, str], tracking_settings: Settings
) -> None:
    workers = [_worker(["log", "concurrent", "60"], tracking_env) for _ in range(4)]
    run_ids = []
    for process in workers:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        run_ids.append(out.strip())
    with Tracker.from_settings(tracking_settings) as tracker:
        for run_id in run_ids:
            history = tracker.store.metric_history(run_id, "loss")
            assert [m.step for m in history] == list(range(60))
            assert tracker.store.get_run(run_id).info.status is RunStatus.FINISHED


def test_param_logged_again_with_another_value_is_refused_and_nothing_written(
    tracking_settings: Settings,
) -> None:
    with shipyard.start_run(experiment="p", params={"depth": 5}, settings=tracking_settings) as run:
        run.log_params({"depth": 5})  # the same value again is fine
        with pytest.raises(InvalidInputError, match="already logged with value '5'"):
            run._tracker.store.log_batch(
                run.id,
                metrics=[shipyard.tracking.Metric("auc", 0.5, now_ms(), 0)],
                params={"lr": "0.1", "depth": "6"},
                tags={"x": "y"},
            )
    stored = run.get()
    assert stored.params == {"depth": "5"}
    assert "auc" not in stored.metrics and "x" not in stored.tags


def test_bad_keys_and_values_are_refused(tracking_settings: Settings) -> None:
    with shipyard.start_run(experiment="bad", settings=tracking_settings) as run:
        with pytest.raises(InvalidNameError, match="would resolve"):
            run.log_metric("a/../b", 1.0)
        with pytest.raises(InvalidNameError, match="may only contain"):
            run.log_metric("auc!", 1.0)
        with pytest.raises(InvalidInputError, match="must be numbers"):
            run.log_metric("auc", "high")  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match="at most 6000"):
            run.log_param("long", "x" * 6001)
        with pytest.raises(InvalidInputError, match="101 params"):
            run.log_params({f"p{i}": i for i in range(101)})
    assert run.get().params == {} and run.get().metrics == {}


def test_nan_and_infinities_are_stored_as_mlflow_stores_them(tracking_settings: Settings) -> None:
    with shipyard.start_run(experiment="nan", settings=tracking_settings) as run:
        run.log_metrics({"nan": float("nan"), "inf": math.inf, "ninf": -math.inf})
    metrics = run.get().metrics
    assert math.isnan(metrics["nan"].value)
    assert metrics["inf"].value == sys.float_info.max
    assert metrics["ninf"].value == -sys.float_info.max


def test_log_artifact_stores_files_and_folders(tracking_settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "report.txt").write_text("hello")
    (tmp_path / "plots" / "deep").mkdir(parents=True)
    (tmp_path / "plots" / "deep" / "a.txt").write_text("a")
    with shipyard.start_run(experiment="art", settings=tracking_settings) as run:
        assert run.log_artifact(tmp_path / "report.txt") == [
            f"{run.experiment_id}/{run.id}/artifacts/report.txt"
        ]
        run.log_artifact(tmp_path / "plots", artifact_path="figures")
        with pytest.raises(NotFoundError):
            run.log_artifact(tmp_path / "missing.txt")
    with Tracker.from_settings(tracking_settings) as tracker:
        root = f"{run.experiment_id}/{run.id}/artifacts"
        assert tracker.artifacts.list(root) == [("figures", True, None), ("report.txt", False, 5)]
        assert tracker.artifacts.list(f"{root}/figures/plots/deep") == [("a.txt", False, 1)]
        tracker.artifacts.fetch(f"{root}/report.txt", tmp_path / "back.txt")
    assert (tmp_path / "back.txt").read_text() == "hello"


def _model() -> tuple[LogisticRegression, np.ndarray]:
    features = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]])
    return LogisticRegression().fit(features, [0, 1, 0, 1]), features


def test_save_model_inside_a_run_links_dataset_run_and_version(
    tracking_settings: Settings,
) -> None:
    clf, features = _model()
    with shipyard.start_run(
        experiment="churn", dataset_digest="sha256:" + "ab" * 32, settings=tracking_settings
    ) as run:
        version = shipyard.save_model(
            clf, "churn", sample_input=features, settings=tracking_settings
        )
    assert version.manifest.lineage.run_id == run.id
    assert version.manifest.lineage.dataset_digest == "sha256:" + "ab" * 32
    with Tracker.from_settings(tracking_settings) as tracker:
        [linked] = tracker.store.linked_models(run.id)
    assert (linked.name, linked.version, linked.dataset_digest) == (
        "churn",
        version.version,
        "sha256:" + "ab" * 32,
    )


def test_save_model_with_a_run_id_links_that_run(tracking_settings: Settings) -> None:
    clf, _ = _model()
    with shipyard.start_run(experiment="churn", settings=tracking_settings) as run:
        pass
    version = shipyard.save_model(clf, "later", run=run.id, settings=tracking_settings)
    assert version.manifest.lineage.run_id == run.id
    with pytest.raises(NotFoundError, match="does not exist"):
        shipyard.save_model(clf, "later", run="0" * 32, settings=tracking_settings)

"""The real ``mlflow`` client, unchanged, against ``shipyard server`` on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import mlflow
import numpy as np
import pytest
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LogisticRegression

import shipyard
from shipyard.config import Settings

from .conftest import RunningServer


def _experiment(name: str) -> str:
    """A fresh experiment for one test (the server is shared by the module)."""
    unique = f"{name}-{uuid.uuid4().hex[:8]}"
    mlflow.set_experiment(unique)
    return unique


def test_set_experiment_start_run_log_and_end_run(mlflow_client: Any) -> None:
    name = _experiment("churn")
    experiment = mlflow.get_experiment_by_name(name)
    assert mlflow.set_experiment(name).experiment_id == experiment.experiment_id
    with mlflow.start_run(run_name="first") as run:
        mlflow.log_param("depth", 5)
        mlflow.log_params({"lr": 0.1, "trees": 100})
        mlflow.log_metric("auc", 0.9, step=1)
        mlflow.log_metrics({"auc": 0.95, "loss": 0.2}, step=2)
        mlflow.set_tag("team", "ml")
        mlflow.set_tags({"stage": "tuning"})
    stored = mlflow_client.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED" and stored.info.end_time is not None
    assert stored.info.run_name == "first"
    assert stored.info.experiment_id == experiment.experiment_id
    assert stored.data.params == {"depth": "5", "lr": "0.1", "trees": "100"}
    assert stored.data.metrics == {"auc": 0.95, "loss": 0.2}
    assert stored.data.tags["team"] == "ml" and stored.data.tags["stage"] == "tuning"
    assert stored.data.tags["mlflow.user"]


def test_a_run_without_experiment_goes_to_default(mlflow_client: Any) -> None:
    assert mlflow.tracking.fluent._active_experiment_id is None
    with mlflow.start_run() as run:
        mlflow.log_metric("x", 1.0)
    assert mlflow_client.get_run(run.info.run_id).info.experiment_id == "0"
    assert run.info.run_name  # the server named it


def test_get_metric_history(mlflow_client: Any) -> None:
    _experiment("history")
    with mlflow.start_run() as run:
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    history = mlflow_client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(s, 1.0 / (s + 1)) for s in range(5)]


def _populate(count: int) -> tuple[str, list[str]]:
    name = _experiment("search")
    run_ids = []
    for index in range(count):
        with mlflow.start_run(run_name=f"r{index}") as run:
            mlflow.log_params({"depth": str(5 if index % 2 == 0 else 3)})
            if index != 4:
                mlflow.log_metric("auc", 0.5 + index / 10)
            mlflow.set_tag("parity", "even" if index % 2 == 0 else "odd")
        run_ids.append(run.info.run_id)
    return name, run_ids


def test_search_runs_with_filter_strings_and_order_by(mlflow_client: Any) -> None:
    name, run_ids = _populate(6)
    frame = mlflow.search_runs(
        filter_string="metrics.auc > 0.55 and params.depth = '5'", order_by=["metrics.auc DESC"]
    )
    assert list(frame["run_id"]) == [run_ids[2]]  # 0 is under 0.55, 4 has no auc
    ordered = mlflow.search_runs(order_by=["metrics.auc DESC"])
    assert list(ordered["run_id"]) == [run_ids[i] for i in (5, 3, 2, 1, 0, 4)]  # missing last
    ascending = mlflow.search_runs(order_by=["metrics.auc ASC"])
    assert list(ascending["run_id"])[:2] == [run_ids[0], run_ids[1]]
    tagged = mlflow.search_runs(
        filter_string="tags.parity = 'odd' and attributes.status = 'FINISHED'"
    )
    assert set(tagged["run_id"]) == {run_ids[1], run_ids[3], run_ids[5]}
    by_name = mlflow.search_runs(filter_string="attributes.run_name LIKE 'r%'")
    assert len(by_name) == 6
    experiment_id = mlflow.get_experiment_by_name(name).experiment_id
    first = mlflow_client.search_runs([experiment_id], order_by=["metrics.auc DESC"], max_results=4)
    assert [r.info.run_id for r in first] == [run_ids[i] for i in (5, 3, 2, 1)]
    second = mlflow_client.search_runs(
        [experiment_id], order_by=["metrics.auc DESC"], max_results=4, page_token=first.token
    )
    assert [r.info.run_id for r in second] == [run_ids[0], run_ids[4]] and second.token is None


def test_bad_filter_is_invalid_parameter_value(mlflow_client: Any) -> None:
    _experiment("bad-filter")
    with pytest.raises(MlflowException, match="not a number") as raised:
        mlflow.search_runs(filter_string="metrics.auc > high")
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"


def test_log_artifact_upload_list_and_download(mlflow_client: Any, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "roc.txt").write_text("roc")
    _experiment("artifacts")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(tmp_path / "notes.txt"))
        mlflow.log_artifact(str(tmp_path / "notes.txt"), artifact_path="copies")
        mlflow.log_artifacts(str(tmp_path / "plots"), artifact_path="plots")
    run_id = run.info.run_id
    listed = {(f.path, f.is_dir, f.file_size) for f in mlflow_client.list_artifacts(run_id)}
    assert listed == {("notes.txt", False, 5), ("copies", True, None), ("plots", True, None)}
    assert [f.path for f in mlflow_client.list_artifacts(run_id, "plots")] == ["plots/roc.txt"]
    downloaded = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="copies/notes.txt", dst_path=str(tmp_path / "back")
    )
    assert Path(downloaded).read_text() == "hello"


def test_an_experiment_on_a_local_folder_as_in_mlflows_example(
    mlflow_client: Any, tmp_path: Path
) -> None:
    """MLflow's ``create_experiment`` example: a loopback server accepts a local folder, which
    the client writes itself."""
    location = tmp_path.joinpath("mlruns").as_uri()
    name = f"Social NLP Experiments {uuid.uuid4().hex[:8]}"
    experiment_id = mlflow_client.create_experiment(name, artifact_location=location)
    assert mlflow_client.get_experiment(experiment_id).artifact_location == location
    (tmp_path / "notes.txt").write_text("hello")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_artifact(str(tmp_path / "notes.txt"))
    assert run.info.artifact_uri.startswith(location)
    assert (
        tmp_path / "mlruns" / run.info.run_id / "artifacts" / "notes.txt"
    ).read_text() == "hello"
    assert [f.path for f in mlflow_client.list_artifacts(run.info.run_id)] == ["notes.txt"]


def test_nan_and_infinities_are_stored_as_mlflow_stores_them(mlflow_client: Any) -> None:
    with mlflow.start_run() as run:
        mlflow.log_metrics({"nan": math.nan, "inf": math.inf, "ninf": -math.inf})
    metrics = mlflow_client.get_run(run.info.run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == sys.float_info.max and metrics["ninf"] == -sys.float_info.max
    [nan] = mlflow_client.get_metric_history(run.info.run_id, "nan")
    assert math.isnan(nan.value)


def test_unknown_run_is_resource_does_not_exist_404(
    mlflow_client: Any, tracking_server: RunningServer
) -> None:
    with pytest.raises(MlflowException) as raised:
        mlflow_client.get_run("0" * 32)
    assert raised.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    response = httpx.get(
        f"{tracking_server.url}/api/2.0/mlflow/runs/get", params={"run_id": "0" * 32}
    )
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as missing:
        mlflow_client.get_experiment("424242")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def _batch(url: str, run_id: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{url}/api/2.0/mlflow/runs/log-batch", json={"run_id": run_id, **body})


def test_param_logged_again_with_another_value_is_400_and_nothing_is_written(
    mlflow_client: Any, tracking_server: RunningServer
) -> None:
    with mlflow.start_run() as run:
        mlflow.log_param("depth", 5)
        mlflow.log_param("depth", 5)  # the same value again is accepted
        with pytest.raises(MlflowException) as raised:
            mlflow.log_param("depth", 6)
        assert raised.value.error_code == "INVALID_PARAMETER_VALUE"
        response = _batch(
            tracking_server.url,
            run.info.run_id,
            metrics=[{"key": "auc", "value": 0.9, "timestamp": 1, "step": 0}],
            params=[{"key": "lr", "value": "0.1"}, {"key": "depth", "value": "7"}],
            tags=[{"key": "half", "value": "written"}],
        )
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "already logged with value '5'" in response.json()["message"]
    data = mlflow_client.get_run(run.info.run_id).data
    assert data.params == {"depth": "5"} and "auc" not in data.metrics and "half" not in data.tags


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": i} for i in range(1001)]},
            "1001 metrics",
        ),
        ({"params": [{"key": f"p{i}", "value": "v"} for i in range(101)]}, "101 params"),
        ({"tags": [{"key": f"t{i}", "value": "v"} for i in range(101)]}, "101 tags"),
        ({"metrics": [{"key": "a/../b", "value": 1, "timestamp": 1, "step": 0}]}, "resolve"),
        ({"metrics": [{"key": "bad!", "value": 1, "timestamp": 1, "step": 0}]}, "may only"),
        ({"metrics": [{"key": "m", "value": "high", "timestamp": 1, "step": 0}]}, "numbers"),
        ({"params": [{"key": "p", "value": "x" * 6001}]}, "at most 6000"),
    ],
    ids=["metrics", "params", "tags", "path-key", "bad-key", "bad-value", "long-param"],
)
def test_bad_batches_are_400_and_write_nothing(
    mlflow_client: Any, tracking_server: RunningServer, body: dict[str, Any], message: str
) -> None:
    with mlflow.start_run() as run:
        extra = {"tags": [{"key": "ok", "value": "1"}]} if "tags" not in body else {}
        response = _batch(tracking_server.url, run.info.run_id, **body, **extra)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert message in response.json()["message"]
    data = mlflow_client.get_run(run.info.run_id).data
    assert data.metrics == {} and data.params == {} and "ok" not in data.tags


def test_invalid_experiment_name_is_400(mlflow_client: Any) -> None:
    with pytest.raises(MlflowException) as raised:
        mlflow_client.create_experiment("x" * 501)
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"
    mlflow_client.create_experiment("taken-name")
    with pytest.raises(MlflowException) as taken:
        mlflow_client.create_experiment("taken-name")
    assert taken.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_deleted_run_is_hidden_from_search(mlflow_client: Any) -> None:
    _experiment("deleting")
    with mlflow.start_run() as kept, mlflow.start_run(nested=True) as gone:
        pass
    mlflow_client.delete_run(gone.info.run_id)
    assert list(mlflow.search_runs()["run_id"]) == [kept.info.run_id]
    assert mlflow_client.get_run(gone.info.run_id).info.lifecycle_stage == "deleted"


def test_a_runs_model_is_registered_with_its_run_id(
    mlflow_client: Any, tracking_server: RunningServer, server_settings: Settings
) -> None:
    features = np.array([[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2]])
    _experiment("churn")
    with mlflow.start_run() as run:
        clf = LogisticRegression().fit(features, [0, 1, 0, 1])
        mlflow.log_metric("accuracy", 1.0)
        version = shipyard.save_model(
            clf, "churn", sample_input=features, run=run.info.run_id, settings=server_settings
        )
    assert version.manifest.lineage.run_id == run.info.run_id
    shown = httpx.get(f"{tracking_server.url}/api/shipyard/v1/runs/{run.info.run_id}").json()
    assert shown["models"] == [
        {"name": "churn", "version": version.version, "dataset_digest": None}
    ]
    assert shown["metrics"]["accuracy"]["value"] == 1.0


def test_shipyard_api_lists_runs_with_filter_and_order(
    mlflow_client: Any, tracking_server: RunningServer
) -> None:
    name, run_ids = _populate(4)
    listed = httpx.get(
        f"{tracking_server.url}/api/shipyard/v1/runs",
        params={"experiment": name, "filter": "metrics.auc > 0.55", "order_by": "metrics.auc DESC"},
    ).json()
    assert [r["run_id"] for r in listed["runs"]] == [run_ids[3], run_ids[2], run_ids[1]]
    history = httpx.get(
        f"{tracking_server.url}/api/shipyard/v1/runs/{run_ids[3]}/metrics/auc"
    ).json()
    assert [point["value"] for point in history["history"]] == [0.8]
    bad = httpx.get(f"{tracking_server.url}/api/shipyard/v1/runs", params={"filter": "x"})
    assert bad.status_code == 400 and "error" in bad.json()


@pytest.mark.slow
def test_processes_logging_at_once_lose_nothing(
    mlflow_client: Any, tracking_server: RunningServer
) -> None:
    import subprocess

    _experiment("concurrent")
    with mlflow.start_run() as run:
        worker = Path(__file__).with_name("mlflow_worker.py")
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(worker),
                    tracking_server.url,
                    run.info.run_id,
                    str(n),
                    "3",
                    "200",
                ]
            )
            for n in range(4)
        ]
        assert [p.wait(timeout=300) for p in processes] == [0] * 4
    for n in range(4):
        history = mlflow_client.get_metric_history(run.info.run_id, f"w{n}")
        assert sorted(m.step for m in history) == list(range(600))


def test_unknown_endpoint_and_artifact_delete(
    mlflow_client: Any, tracking_server: RunningServer, tmp_path: Path
) -> None:
    missing = httpx.post(f"{tracking_server.url}/api/2.0/mlflow/runs/no-such-call", json={})
    assert missing.status_code == 404 and missing.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    (tmp_path / "a.txt").write_text("a")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(tmp_path / "a.txt"))
    root = run.info.artifact_uri.removeprefix("mlflow-artifacts:/")
    artifacts = f"{tracking_server.url}/api/2.0/mlflow-artifacts/artifacts"
    assert httpx.delete(f"{artifacts}/{root}/a.txt").status_code == 200
    assert mlflow_client.list_artifacts(run.info.run_id) == []
    gone = httpx.get(f"{artifacts}/{root}/a.txt")
    assert gone.status_code == 404 and gone.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    escape = httpx.put(f"{artifacts}/{root}/..%2F..%2Fescape.txt", content=b"x")
    assert escape.status_code in (400, 404)


def test_log_batch_of_1000_values_reports_its_server_time(
    mlflow_client: Any, tracking_server: RunningServer
) -> None:
    with mlflow.start_run() as run:
        metrics = [{"key": "loss", "value": i / 3, "timestamp": 1, "step": i} for i in range(1000)]
        response = _batch(tracking_server.url, run.info.run_id, metrics=metrics)
    assert response.status_code == 200
    assert response.headers["server-timing"].startswith("app;dur=")
    assert len(mlflow_client.get_metric_history(run.info.run_id, "loss")) == 1000

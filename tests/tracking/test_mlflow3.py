"""MLflow 3's tracking calls with the real ``mlflow`` client against ``shipyard server`` (SQLite
and PostgreSQL): logged models (``mlflow.sklearn.log_model``, loading ``runs:/`` and
``models:/``), autolog's datasets and GridSearchCV's child runs, experiment rename, restore and
tag deletion, ``search_experiments`` ordering and paging, server-info."""

from __future__ import annotations

import time
import uuid
import warnings
from typing import Any

import httpx
import mlflow
import numpy as np
import pytest
from mlflow.entities import LoggedModelStatus
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeClassifier

from .conftest import RunningServer

PREFIX = "/api/2.0/mlflow"
pytestmark = pytest.mark.filterwarnings(  # the client's own advice on a model without type hints
    "ignore:.*Any type hint is inferred:UserWarning"
)


def _experiment(name: str) -> str:
    """A fresh experiment for one test (the server is shared by the module); its id."""
    return str(mlflow.set_experiment(f"{name}-{uuid.uuid4().hex[:8]}").experiment_id)


def test_sklearn_model_logs_and_loads_by_run_and_by_model_id(mlflow_client: Any) -> None:
    experiment_id = _experiment("logged")
    features, labels = load_iris(return_X_y=True)
    clf = LogisticRegression(max_iter=300).fit(features, labels)
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(clf, name="model")
        mlflow.log_metric("accuracy", 0.97, model_id=info.model_id, dataset=None)
    by_run = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model").predict(features)
    by_id = mlflow.pyfunc.load_model(f"models:/{info.model_id}").predict(features)
    np.testing.assert_array_equal(by_run, clf.predict(features))
    np.testing.assert_array_equal(by_id, by_run)

    model = mlflow_client.get_logged_model(info.model_id)
    assert model.status == LoggedModelStatus.READY and model.name == "model"
    assert (model.experiment_id, model.source_run_id) == (experiment_id, run.info.run_id)
    assert model.artifact_location.endswith(f"/models/{info.model_id}/artifacts")
    assert [(m.key, m.value, m.run_id) for m in model.metrics] == [
        ("accuracy", 0.97, run.info.run_id)
    ]
    stored = mlflow_client.get_run(run.info.run_id)
    assert [o.model_id for o in stored.outputs.model_outputs] == [info.model_id]
    assert stored.data.metrics["accuracy"] == 0.97


def test_logged_model_tags_params_search_and_delete(mlflow_client: Any) -> None:
    experiment_id = _experiment("models")
    first = mlflow_client.create_logged_model(
        experiment_id, name="first", params={"lr": "0.1"}, tags={"team": "ml"}
    )
    second = mlflow_client.create_logged_model(experiment_id, name="second", model_type="agent")
    assert first.status == LoggedModelStatus.PENDING and first.params == {"lr": "0.1"}
    mlflow_client.log_model_params(second.model_id, {"depth": "3"})
    mlflow_client.set_logged_model_tags(second.model_id, {"stage": "dev", "team": "ops"})
    mlflow_client.delete_logged_model_tag(second.model_id, "stage")
    mlflow_client.finalize_logged_model(second.model_id, LoggedModelStatus.READY)
    got = mlflow_client.get_logged_model(second.model_id)
    assert (got.tags, got.params, got.model_type) == ({"team": "ops"}, {"depth": "3"}, "agent")

    def names(**kwargs: Any) -> list[str]:
        return [m.name for m in mlflow_client.search_logged_models([experiment_id], **kwargs)]

    assert names() == ["second", "first"]  # newest first
    assert names(order_by=[{"field_name": "name"}]) == ["first", "second"]
    assert names(filter_string="params.depth = '3'") == ["second"]
    assert names(filter_string="tags.team = 'ml' AND name LIKE 'f%'") == ["first"]
    page = mlflow_client.search_logged_models([experiment_id], max_results=1)
    rest = mlflow_client.search_logged_models([experiment_id], max_results=1, page_token=page.token)
    assert [m.name for m in [*page, *rest]] == ["second", "first"] and not rest.token

    mlflow_client.delete_logged_model(first.model_id)
    assert names() == ["second"]
    with pytest.raises(MlflowException) as missing:
        mlflow_client.get_logged_model(first.model_id)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as bad:
        mlflow_client.search_logged_models([experiment_id], filter_string="oops.x = 1")
    assert bad.value.error_code == "INVALID_PARAMETER_VALUE"


def test_autolog_logs_datasets_and_grid_search_child_runs(mlflow_client: Any) -> None:
    experiment_id = _experiment("autolog")
    features, labels = load_iris(return_X_y=True, as_frame=True)
    mlflow.sklearn.autolog(log_models=False, log_input_examples=False, log_datasets=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn's deprecations inside autolog's metrics
            with mlflow.start_run() as run:
                search = GridSearchCV(DecisionTreeClassifier(), {"max_depth": [1, 2]}, cv=2)
                search.fit(features, labels)
    finally:
        mlflow.sklearn.autolog(disable=True)
    parent = mlflow_client.get_run(run.info.run_id)
    [used] = parent.inputs.dataset_inputs
    assert used.dataset.source_type and used.dataset.digest and used.dataset.schema
    assert {t.key: t.value for t in used.tags} == {"mlflow.data.context": "train"}
    children = mlflow_client.search_runs(
        [experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    )
    assert sorted(c.data.params["max_depth"] for c in children) == ["1", "2"]
    assert parent.data.params["best_max_depth"] in ("1", "2")


def test_rename_restore_and_delete_tags(mlflow_client: Any) -> None:
    experiment_id = _experiment("lifecycle")
    new_name = f"renamed-{uuid.uuid4().hex[:8]}"
    mlflow_client.rename_experiment(experiment_id, new_name)
    assert mlflow_client.get_experiment(experiment_id).name == new_name
    mlflow_client.set_experiment_tag(experiment_id, "team", "ml")
    mlflow_client.delete_experiment_tag(experiment_id, "team")
    assert "team" not in mlflow_client.get_experiment(experiment_id).tags
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.set_tag("note", "x")
    mlflow_client.delete_tag(run.info.run_id, "note")
    assert "note" not in mlflow_client.get_run(run.info.run_id).data.tags
    with pytest.raises(MlflowException) as missing:
        mlflow_client.delete_tag(run.info.run_id, "note")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    mlflow_client.delete_experiment(experiment_id)
    assert mlflow_client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    mlflow_client.restore_experiment(experiment_id)
    assert mlflow_client.get_experiment(experiment_id).lifecycle_stage == "active"
    assert mlflow_client.get_run(run.info.run_id).info.lifecycle_stage == "active"
    with pytest.raises(MlflowException) as taken:
        mlflow_client.rename_experiment(experiment_id, "Default")
    assert taken.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_search_experiments_filters_orders_and_pages(mlflow_client: Any) -> None:
    prefix = f"paged-{uuid.uuid4().hex[:8]}"
    ids = [
        mlflow_client.create_experiment(f"{prefix}-{i}", tags={"parity": str(i % 2)})
        for i in range(5)
    ]
    mine = f"name LIKE '{prefix}-%'"
    newest_first = [e.experiment_id for e in mlflow_client.search_experiments(filter_string=mine)]
    assert newest_first == ids[::-1]
    by_name = mlflow_client.search_experiments(filter_string=mine, order_by=["name DESC"])
    assert [e.name for e in by_name] == [f"{prefix}-{i}" for i in range(4, -1, -1)]
    even = mlflow_client.search_experiments(
        filter_string=f"{mine} AND tags.parity = '0'", order_by=["experiment_id ASC"]
    )
    assert [e.experiment_id for e in even] == [ids[0], ids[2], ids[4]]

    seen, token = [], None
    while True:
        page = mlflow_client.search_experiments(
            filter_string=mine, order_by=["name"], max_results=2, page_token=token
        )
        seen += [e.experiment_id for e in page]
        token = page.token
        if not token:
            break
    assert seen == ids
    with pytest.raises(MlflowException) as bad:
        mlflow_client.search_experiments(filter_string="params.x = '1'")
    assert bad.value.error_code == "INVALID_PARAMETER_VALUE"


def test_server_info_and_hostile_logged_model_calls_get_4xx(
    tracking_server: RunningServer,
) -> None:
    url = tracking_server.url
    info = httpx.get(f"{url}/api/3.0/mlflow/server-info").json()
    assert info["store_type"] == "SqlStore" and info["workspaces_enabled"] is False
    assert httpx.get(f"{url}{PREFIX}/logged-models/m-nope").status_code == 404
    bad_bodies = [
        ("POST", "/logged-models", {"experiment_id": "0", "name": "a/b"}),
        ("POST", "/logged-models", {"experiment_id": "0", "source_run_id": "x" * 300}),
        ("POST", "/logged-models", {"experiment_id": "9" * 30}),
        ("POST", "/logged-models/search", {"experiment_ids": ["0"], "max_results": 10**9}),
        ("POST", "/logged-models/search", {"experiment_ids": ["0"], "order_by": [{}]}),
        ("POST", "/runs/log-inputs", {"run_id": "x", "datasets": [{"dataset": 1}]}),
        ("POST", "/runs/outputs", {"run_id": "x", "models": [{"model_id": "m", "step": "z"}]}),
        ("PATCH", "/logged-models/m-nope", {"status": "LOGGED_MODEL_BROKEN"}),
    ]
    for method, path, body in bad_bodies:
        status = httpx.request(method, f"{url}{PREFIX}{path}", json=body).status_code
        assert 400 <= status < 500, (path, body, status)


def test_trace_calls_outside_tracing_answer_as_mlflow_with_no_traces(mlflow_client: Any) -> None:
    """MlflowClient's delete_traces and link_traces_to_run examples: Shipyard stores no traces,
    so nothing is deleted and nothing linked, as MLflow's store answers when it holds none."""
    run = mlflow_client.create_run("0")
    now = int(time.time() * 1000)
    assert mlflow_client.delete_traces(experiment_id="0", max_timestamp_millis=now) == 0
    assert mlflow_client.delete_traces(experiment_id="0", trace_ids=["id_1", "id_2"]) == 0
    mlflow_client.link_traces_to_run(["trace_123", "trace_456"], run.info.run_id)
    with pytest.raises(MlflowException, match="more than 100 traces") as raised:
        mlflow_client.link_traces_to_run([f"t{i}" for i in range(101)], run.info.run_id)
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as bad:
        mlflow_client.delete_traces(experiment_id="not-an-id", max_timestamp_millis=now)
    assert bad.value.error_code == "INVALID_PARAMETER_VALUE"

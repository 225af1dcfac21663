"""MLflow 3's GenAI evaluation datasets through the real ``mlflow`` client, against
``shipyard server`` on SQLite and PostgreSQL: create, tag, merge records (deduplicated on their
inputs), page through them, search, associate with experiments, delete; and the errors."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import mlflow
import pytest
from mlflow.exceptions import MlflowException

from .conftest import RunningServer


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_a_dataset_keeps_tags_experiments_and_merged_records(mlflow_client: Any) -> None:
    experiment = mlflow_client.create_experiment(_name("eval"))
    dataset = mlflow_client.create_dataset(
        _name("qa"), experiment_id=[experiment], tags={"team": "search", "mlflow.user": "ana"}
    )
    assert dataset.dataset_id.startswith("d-")
    assert dataset.created_by == "ana"
    assert dataset.experiment_ids == [experiment]

    dataset.merge_records(
        [
            {"inputs": {"question": "2+2?"}, "expectations": {"answer": "4"}},
            {"inputs": {"question": "capital of France?"}, "outputs": "Paris"},
        ]
    )
    # the same inputs again: merged into the first record, not a third one
    dataset.merge_records(
        [{"inputs": {"question": "2+2?"}, "expectations": {"difficulty": "easy"}}]
    )
    frame = mlflow_client.get_dataset(dataset.dataset_id).to_df()
    assert len(frame) == 2
    first = frame[frame["inputs"].map(lambda i: i["question"] == "2+2?")].iloc[0]
    assert first["expectations"] == {"answer": "4", "difficulty": "easy"}

    stored = mlflow_client.get_dataset(dataset.dataset_id)
    assert stored.profile and '"num_records": 2' in stored.profile
    assert stored.schema and '"question": "string"' in stored.schema
    assert stored.digest != dataset.digest  # every update changes it

    mlflow_client.set_dataset_tags(dataset.dataset_id, {"team": "ranking", "stage": "draft"})
    mlflow_client.delete_dataset_tag(dataset.dataset_id, "stage")
    mlflow_client.delete_dataset_tag(dataset.dataset_id, "never-set")  # silent, as in MLflow
    assert mlflow_client.get_dataset(dataset.dataset_id).tags["team"] == "ranking"
    assert "stage" not in mlflow_client.get_dataset(dataset.dataset_id).tags

    other = mlflow_client.create_experiment(_name("eval"))
    mlflow_client.add_dataset_to_experiments(dataset.dataset_id, [other])
    assert mlflow_client.get_dataset(dataset.dataset_id).experiment_ids == [experiment, other]
    mlflow_client.remove_dataset_from_experiments(dataset.dataset_id, [experiment])
    assert mlflow_client.get_dataset(dataset.dataset_id).experiment_ids == [other]
    with pytest.raises(MlflowException, match="No Experiment with id=999999"):
        mlflow_client.add_dataset_to_experiments(dataset.dataset_id, ["999999"])

    mlflow_client.delete_dataset(dataset.dataset_id)
    with pytest.raises(MlflowException, match="not found") as raised:
        mlflow_client.get_dataset(dataset.dataset_id)
    assert raised.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    mlflow_client.delete_dataset(dataset.dataset_id)  # deleting twice is silent, as in MLflow


def test_search_filters_orders_and_pages_like_mlflow(mlflow_client: Any) -> None:
    experiment = mlflow_client.create_experiment(_name("search"))
    prefix = _name("qa")
    made = [
        mlflow_client.create_dataset(f"{prefix}_{i}", experiment_id=experiment, tags={"i": str(i)})
        for i in range(3)
    ]
    mlflow_client.create_dataset(_name("other"), experiment_id=experiment)

    found = mlflow_client.search_datasets([experiment], filter_string=f"name LIKE '{prefix}%'")
    newest_first = sorted(made, key=lambda d: (d.created_time, d.dataset_id), reverse=True)
    assert [d.name for d in found] == [d.name for d in newest_first]  # then by id, as MLflow

    by_name = mlflow_client.search_datasets(
        [experiment], filter_string=f"name LIKE '{prefix}%'", order_by=["name ASC"], max_results=2
    )
    assert [d.name for d in by_name] == [f"{prefix}_0", f"{prefix}_1"]
    rest = mlflow_client.search_datasets(
        [experiment],
        filter_string=f"name LIKE '{prefix}%'",
        order_by=["name ASC"],
        page_token=by_name.token,
    )
    assert [d.name for d in rest] == [f"{prefix}_2"] and not rest.token

    tagged = mlflow_client.search_datasets([experiment], filter_string="tags.i = '1'")
    assert [d.dataset_id for d in tagged] == [made[1].dataset_id]
    since = mlflow_client.search_datasets(
        [experiment], filter_string=f"created_time >= {made[2].created_time} AND tags.i != '0'"
    )
    assert made[2].dataset_id in [d.dataset_id for d in since]
    assert not list(mlflow_client.search_datasets(["123456789"]))

    with pytest.raises(MlflowException, match="invalid filter key") as raised:
        mlflow_client.search_datasets([experiment], filter_string="owner = 'ana'")
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"


def test_records_page_with_mlflow_cursor_tokens(
    mlflow_client: Any, tracking_server: RunningServer
) -> None:
    dataset = mlflow_client.create_dataset(_name("pages"))
    dataset.merge_records([{"inputs": {"n": n}} for n in range(5)])
    url = f"{tracking_server.url}/api/3.0/mlflow/datasets/{dataset.dataset_id}/records"
    seen: list[int] = []
    token = None
    while True:
        params: dict[str, Any] = {"max_results": 2, **({"page_token": token} if token else {})}
        page = httpx.get(url, params=params).json()
        seen += [record["inputs"]["n"] for record in json.loads(page["records"])]
        token = page.get("next_page_token")
        if not token:
            break
    assert sorted(seen) == [0, 1, 2, 3, 4] and len(seen) == 5

    records = json.loads(httpx.get(url).json()["records"])
    deleted = httpx.request(
        "DELETE", url, json={"dataset_record_ids": [r["dataset_record_id"] for r in records[:2]]}
    )
    assert deleted.json() == {"deleted_count": 2}
    assert len(mlflow_client.get_dataset(dataset.dataset_id).to_df()) == 3


def test_bad_input_is_a_clear_4xx(mlflow_client: Any, tracking_server: RunningServer) -> None:
    base = f"{tracking_server.url}/api/3.0/mlflow/datasets"
    dataset = mlflow_client.create_dataset(_name("bad"))
    cases = [
        ("POST", f"{base}/create", {"name": "x", "tags": "not json"}, 400),
        ("POST", f"{base}/create", {"tags": "{}"}, 400),
        ("POST", f"{base}/{dataset.dataset_id}/records", {"records": '{"inputs": 1}'}, 400),
        ("POST", f"{base}/{dataset.dataset_id}/records", {"records": '[{"inputs": 3}]'}, 400),
        ("POST", f"{base}/d-unknown/records", {"records": '[{"inputs": {}}]'}, 404),
        (
            "POST",
            f"{base}/{dataset.dataset_id}/records",
            {"records": '[{"inputs": {"x": NaN}}]'},
            400,
        ),
        ("POST", f"{base}/create", {"name": "nul", "tags": '{"a": "x\\u0000y"}'}, 400),
        (
            "POST",
            f"{base}/{dataset.dataset_id}/records",
            {"records": '[{"inputs": {}, "extra": 1}]'},
            400,
        ),
        ("PATCH", f"{base}/d-unknown/tags", {"tags": '{"a": "b"}'}, 404),
        ("GET", f"{base}/{dataset.dataset_id}/records?page_token=%%%", None, 400),
        ("POST", f"{base}/search", {"filter_string": "name ="}, 400),
        ("POST", f"{base}/search", {"order_by": ["digest ASC"]}, 400),
    ]
    for method, url, body, status in cases:
        response = httpx.request(method, url, json=body)
        assert response.status_code == status, (method, url, body, response.text)
        assert response.json()["error_code"]
    assert mlflow.MlflowClient(tracking_server.url).get_dataset(dataset.dataset_id).name

"""Hostile input to a real ``shipyard server``: each is MLflow's JSON error with a 4xx, never a
500 (issue 21's findings: Unicode digits, integers past 64 bits, a huge page-token offset, a
metric of 10**400, non-string fields, deep nesting, lone surrogates, over-long filters)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from tests.tracking.conftest import RunningServer

API = "/api/2.0/mlflow"
BIG = "9" * 40


@pytest.fixture(scope="module")
def run_id(tracking_server: RunningServer) -> str:
    created = httpx.post(f"{tracking_server.url}{API}/runs/create", json={"experiment_id": "0"})
    return str(created.json()["run"]["info"]["run_id"])


def _token(offset: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _search(**body: Any) -> tuple[str, dict[str, Any]]:
    return "/runs/search", {"experiment_ids": ["0"], **body}


CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "unicode digit experiment id": ("/runs/create", {"experiment_id": "²"}),
    "unicode digit start_time": ("/runs/create", {"experiment_id": "0", "start_time": "²"}),
    "unicode digit max_results": _search(max_results="²"),
    "unicode digit experiment_ids": ("/runs/search", {"experiment_ids": ["²"]}),
    "unicode digit experiments max_results": ("/experiments/search", {"max_results": "²"}),
    "40-digit experiment id": ("/runs/create", {"experiment_id": BIG}),
    "40-digit start_time": ("/runs/create", {"experiment_id": "0", "start_time": BIG}),
    "uint64 start_time": ("/runs/create", {"experiment_id": "0", "start_time": 2**64 - 1}),
    "40-digit experiment_ids": ("/runs/search", {"experiment_ids": [BIG]}),
    "40-digit delete": ("/experiments/delete", {"experiment_id": BIG}),
    "40-digit tag": ("/experiments/set-experiment-tag", {"experiment_id": BIG, "key": "k"}),
    "page-token offset 1e30": _search(page_token=_token(10**30)),
    "float page-token offset": _search(page_token=_token(1e30)),
    "start_time > 1e30": _search(filter="attributes.start_time > 1e30"),
    "non-string page_token": _search(page_token=123),
    "non-string filter": _search(filter=123),
    "non-string experiments filter": ("/experiments/search", {"filter": 123}),
    "non-string order_by": _search(order_by=[1]),
    "negative experiments max_results": ("/experiments/search", {"max_results": -3}),
    "1000-clause filter": _search(filter=" and ".join(["metrics.a > 1"] * 1000)),
    "20,000-clause filter": _search(filter=" and ".join(["metrics.a > 1"] * 20_000)),
    "user_id of 300 characters": ("/runs/create", {"experiment_id": "0", "user_id": "u" * 300}),
    "file artifact_location on another host": (
        "/experiments/create",
        {"name": "f", "artifact_location": "file://otherhost/x"},
    ),
    "file artifact_location with ..": (
        "/experiments/create",
        {"name": "f", "artifact_location": "file:///tmp/../etc"},
    ),
    "artifact_location with ..": (
        "/experiments/create",
        {"name": "up", "artifact_location": "mlflow-artifacts:/../../../tmp"},
    ),
    "artifact_location on another host": (
        "/experiments/create",
        {"name": "away", "artifact_location": "mlflow-artifacts://otherhost/x"},
    ),
}
RUN_CASES: dict[str, dict[str, Any]] = {
    "metric of 10**400": {"key": "m", "value": 10**400, "timestamp": 1},
    "timestamp past 64 bits": {"key": "m", "value": 1.0, "timestamp": 10**20},
    "unicode digit step": {"key": "m", "value": 1.0, "timestamp": 1, "step": "²"},
    "step past 64 bits": {"key": "m", "value": 1.0, "timestamp": 1, "step": 2**63},
}
RAW_BODIES: dict[str, tuple[str, bytes]] = {
    "nested 100,000 deep": ("/runs/create", b"[" * 100_000 + b"]" * 100_000),
    "nested 100,000 deep with NaN": (
        "/runs/create",
        b'{"a": NaN, "b": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ),
    "lone surrogate": ("/experiments/create", b'{"name": "\\ud800"}'),
    "lone surrogate with NaN": ("/experiments/create", b'{"a": NaN, "name": "\\ud800"}'),
    "integer of 400 digits with NaN": (
        "/runs/create",
        b'{"a": NaN, "start_time": 1' + b"0" * 400 + b"}",
    ),
    "not UTF-8": ("/experiments/create", b'{"name": "\xff"}'),
    "NUL in a string": ("/experiments/create", b'{"name": "a\\u0000b"}'),
}


def _assert_mlflow_400(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == "INVALID_PARAMETER_VALUE" and body["message"]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hostile_field_is_invalid_parameter_value(
    tracking_server: RunningServer, case: str
) -> None:
    path, body = CASES[case]
    _assert_mlflow_400(httpx.post(f"{tracking_server.url}{API}{path}", json=body, timeout=30))


@pytest.mark.parametrize("case", RUN_CASES, ids=str)
def test_hostile_metric_is_invalid_parameter_value(
    tracking_server: RunningServer, run_id: str, case: str
) -> None:
    metric = RUN_CASES[case]
    url = f"{tracking_server.url}{API}"
    _assert_mlflow_400(httpx.post(f"{url}/runs/log-metric", json={"run_id": run_id, **metric}))
    batch = {"run_id": run_id, "metrics": [metric]}
    _assert_mlflow_400(httpx.post(f"{url}/runs/log-batch", json=batch))


@pytest.mark.parametrize("case", RAW_BODIES, ids=str)
def test_hostile_json_is_invalid_parameter_value(tracking_server: RunningServer, case: str) -> None:
    path, raw = RAW_BODIES[case]
    headers = {"content-type": "application/json"}
    url = f"{tracking_server.url}{API}{path}"
    _assert_mlflow_400(httpx.post(url, content=raw, headers=headers, timeout=30))


@pytest.mark.parametrize(
    "path",
    [
        f"{API}/experiments/get-by-name?experiment_name=%00k",
        "/api/shipyard/v1/runs?filter=%00",
        f"/api/shipyard/v1/runs/{'0' * 32}/metrics/a%00b",
        "/api/2.0/mlflow-artifacts/artifacts/0/a%00b",
    ],
)
def test_nul_in_a_url_is_400(tracking_server: RunningServer, path: str) -> None:
    response = httpx.get(f"{tracking_server.url}{path}")
    assert response.status_code == 400
    assert "NUL" in response.text


def test_an_artifact_path_over_1024_characters_is_400(tracking_server: RunningServer) -> None:
    url = f"{tracking_server.url}/api/2.0/mlflow-artifacts/artifacts/0/{'a' * 1100}"
    _assert_mlflow_400(httpx.put(url, content=b"x"))


def test_unicode_digits_in_query_values_are_400(tracking_server: RunningServer) -> None:
    got = httpx.get(f"{tracking_server.url}{API}/experiments/get", params={"experiment_id": "²"})
    _assert_mlflow_400(got)
    runs = httpx.get(f"{tracking_server.url}/api/shipyard/v1/runs", params={"max_results": "²"})
    assert runs.status_code == 400 and runs.json()["code"] == "INVALID_PARAMETER_VALUE"
    by_id = httpx.get(f"{tracking_server.url}/api/shipyard/v1/runs", params={"experiment": "²"})
    assert by_id.status_code == 404  # "²" is a name then, and no experiment has it


def test_an_experiment_may_name_a_folder_of_this_servers_artifacts(
    tracking_server: RunningServer,
) -> None:
    url = f"{tracking_server.url}{API}/experiments"
    body = {"name": "own-place", "artifact_location": "mlflow-artifacts:/team/churn"}
    created = httpx.post(f"{url}/create", json=body).json()["experiment_id"]
    got = httpx.get(f"{url}/get", params={"experiment_id": created}).json()
    assert got["experiment"]["artifact_location"] == "mlflow-artifacts:/team/churn"


def test_experiments_search_honours_max_results(tracking_server: RunningServer) -> None:
    url = f"{tracking_server.url}{API}/experiments"
    for name in ("max-results-a", "max-results-b"):
        httpx.post(f"{url}/create", json={"name": name})
    found = httpx.post(f"{url}/search", json={"max_results": 1}).json()["experiments"]
    assert len(found) == 1

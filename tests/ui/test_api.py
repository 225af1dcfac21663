"""The endpoints the UI added, over HTTP: a 10k-step metric comes back bounded, the keys of an
experiment, the pages served without a key while the APIs keep theirs, and no 5xx for bad input."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ui import seed
from tests.ui.conftest import UiServer

STEPS = 10_000


@pytest.fixture(scope="module")
def long_run(ui_server: UiServer) -> Iterator[tuple[str, str]]:
    """A run with ``big``: 10,000 steps; and ``small``: one value."""
    with ui_server.client() as client:
        experiment_id = seed.experiment(client, "long")
        run_id = seed.run(client, experiment_id, "long", {"kind": "long"}, {"small": 1.0})
        seed.long_metric(client, run_id, "big", STEPS)
    yield experiment_id, run_id


def test_a_10k_step_metric_is_downsampled_to_the_points_asked(
    ui_server: UiServer, long_run: tuple[str, str]
) -> None:
    _, run_id = long_run
    with ui_server.client() as client:
        url = f"/api/shipyard/v1/runs/{run_id}/metrics/big"
        body = client.get(url, params={"max_points": 500}).json()
        full = client.get(url).json()["history"]
    assert body["total"] == STEPS and body["downsampled"] is True
    assert 100 < len(body["steps"]) <= 500 and len(body["values"]) == len(body["steps"])
    assert max(body["values"]) == max(m["value"] for m in full)
    assert min(body["values"]) == min(m["value"] for m in full)
    assert body["steps"] == sorted(body["steps"])


def test_a_short_metric_comes_back_whole(ui_server: UiServer, long_run: tuple[str, str]) -> None:
    _, run_id = long_run
    with ui_server.client() as client:
        body = client.get(
            f"/api/shipyard/v1/runs/{run_id}/metrics/small", params={"max_points": 500}
        ).json()
    assert body == {"key": "small", "total": 1, "downsampled": False, "steps": [0], "values": [1]}


def test_an_experiments_keys_list_its_params_metrics_and_tags(
    ui_server: UiServer, long_run: tuple[str, str]
) -> None:
    experiment_id, _ = long_run
    with ui_server.client() as client:
        keys = client.get(f"/api/shipyard/v1/experiments/{experiment_id}/keys").json()
    assert keys["params"] == ["kind"] and keys["metrics"] == ["big", "small"]
    assert "mlflow.runName" in keys["tags"]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/runs/{run}/metrics/big", {"max_points": "abc"}, 400),
        ("/runs/{run}/metrics/big", {"max_points": "1"}, 400),
        ("/runs/{run}/metrics/big", {"max_points": "10001"}, 400),
        ("/runs/{run}/metrics/big", {"max_points": "99999999999999999999999"}, 400),
        ("/runs/{run}/metrics/big", {"max_points": ""}, 200),
        ("/runs/{run}/metrics/no-such-key", {"max_points": "10"}, 200),
        ("/runs/0123456789abcdef0123456789abcdef/metrics/big", {"max_points": "10"}, 404),
        ("/runs/not-a-run/metrics/big", {"max_points": "10"}, 404),
        ("/experiments/{experiment}/keys", {"limit": "0"}, 400),
        ("/experiments/{experiment}/keys", {"limit": "x"}, 400),
        ("/experiments/999999/keys", {}, 404),
        ("/experiments/abc/keys", {}, 400),
        ("/experiments/99999999999999999999999/keys", {}, 400),
        ("/models/no-such-model", {}, 404),
        ("/models/bad name!", {}, 400),
        ("/runs", {"filter": "metrics.auc >>> 1"}, 400),
        ("/runs", {"order_by": "nonsense.x"}, 400),
        ("/runs", {"page_token": "garbage"}, 400),
    ],
)
def test_bad_input_is_a_clear_4xx_never_a_5xx(
    ui_server: UiServer,
    long_run: tuple[str, str],
    path: str,
    params: dict[str, str],
    status: int,
) -> None:
    experiment_id, run_id = long_run
    url = "/api/shipyard/v1" + path.format(run=run_id, experiment=experiment_id)
    with ui_server.client() as client:
        response = client.get(url, params=params)
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.json()["error"]


def test_the_pages_are_open_but_the_apis_need_a_key(ui_server: UiServer) -> None:
    with ui_server.client(key="wrong") as client:
        page = client.get("/")
        script = client.get("/ui/static/app.js")
        license_text = client.get("/ui/static/vendor/uPlot.LICENSE")
        api = client.get("/api/shipyard/v1/experiments")
        from_ui = client.get("/api/shipyard/v1/experiments", headers={"X-Shipyard-UI": "1"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "MIT" in license_text.text or "Permission is hereby granted" in license_text.text
    assert api.status_code == 401 and api.headers["www-authenticate"].startswith("Basic")
    assert from_ui.status_code == 401 and "www-authenticate" not in from_ui.headers


def test_a_read_only_key_reads_but_cannot_write(ui_server: UiServer) -> None:
    with ui_server.client(key=ui_server.read_only_token) as client:
        assert client.get("/api/shipyard/v1/experiments").status_code == 200
        response = client.post(
            "/api/2.0/mlflow/experiments/create",
            json={"name": "nope"},
            headers={"Origin": ui_server.url},
        )
    assert response.status_code == 403

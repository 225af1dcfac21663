"""Comparing runs in a real browser: ticked in the runs table, then their params side by side
(only those that differ, unless asked), one chart per metric with every run overlaid from
server-downsampled histories, and a parallel-coordinates line per run."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.ui import seed
from tests.ui.conftest import UiServer, screenshot

expect = pytest.importorskip("playwright.sync_api", reason="pip install playwright").expect


@pytest.fixture(scope="module")
def three_runs(ui_server: UiServer) -> tuple[str, list[str]]:
    with ui_server.client() as client:
        experiment_id = seed.experiment(client, "compare")
        runs = [
            seed.run(
                client,
                experiment_id,
                f"lr-{rate}",
                {"learning_rate": str(rate), "seed": "7", "depth": str(depth)},
                {"auc": 0.8 + rate},
            )
            for rate, depth in ((0.01, 3), (0.05, 5), (0.1, 8))
        ]
        for run_id in runs:
            seed.long_metric(client, run_id, "loss", 3000)
    return experiment_id, runs


def test_ticked_runs_compare_params_charts_and_parallel_coordinates(
    page: Any, ui_server: UiServer, three_runs: tuple[str, list[str]]
) -> None:
    experiment_id, _ = three_runs
    page.goto(f"{ui_server.url}/#/experiments/{experiment_id}")
    expect(page.locator("#compare")).to_be_disabled()
    for name in ("lr-0.01", "lr-0.05", "lr-0.1"):
        page.get_by_label(f"Select {name} to compare").check()
    page.locator("#compare").click()
    expect(page.locator("h1")).to_have_text("Comparing 3 runs")

    params = page.get_by_role("table", name="Parameters")
    expect(params).to_contain_text("learning_rate")
    expect(params).not_to_contain_text("seed")  # the same in every run: hidden at first
    page.locator("#all-params").check()
    expect(page.get_by_role("table", name="Parameters")).to_contain_text("seed")
    expect(page.get_by_role("table", name="Metrics")).to_contain_text("auc")

    chart = page.locator('figure[data-metric="loss"]')
    expect(chart).to_have_attribute("data-series", "3")
    expect(chart.locator("canvas")).to_be_visible()
    points = int(chart.get_attribute("data-points"))
    assert 300 < points <= 3 * 920  # each of 3000 steps downsampled to the chart's width
    expect(page.locator("#parallel polyline")).to_have_count(3)
    screenshot(page, "compare")


def test_the_several_runs_metric_api_bounds_its_input(
    ui_server: UiServer, three_runs: tuple[str, list[str]]
) -> None:
    _, runs = three_runs
    with ui_server.client() as client:
        both = client.get(
            "/api/shipyard/v1/metrics/loss", params={"run_id": runs[:2], "max_points": 100}
        )
        assert both.status_code == 200
        assert [s["total"] for s in both.json()["runs"]] == [3000, 3000]
        assert all(len(s["steps"]) <= 100 for s in both.json()["runs"])
        cases = [
            {"run_id": [f"{i:032x}" for i in range(101)]},
            {},
            {"run_id": runs[0], "max_points": 1},
        ]
        for params in cases:
            response = client.get("/api/shipyard/v1/metrics/loss", params=params)
            assert response.status_code == 400, (params, response.text)
        unknown = client.get("/api/shipyard/v1/metrics/loss", params={"run_id": "0" * 32})
        assert unknown.status_code == 404
    assert httpx.get(f"{ui_server.url}/api/shipyard/v1/metrics/loss").status_code == 401

"""The run page in a real browser: the mlflow client's printed link opens it, with the run's
params, a chart of each metric, and artifacts that preview."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.ui import seed
from tests.ui.conftest import UiServer, screenshot
from tests.ui.images import png

expect = pytest.importorskip("playwright.sync_api", reason="pip install playwright").expect


def test_the_link_mlflow_prints_opens_the_run_with_params_chart_and_artifacts(
    page: Any, mlflow_at: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mlflow = mlflow_at
    mlflow.set_experiment(f"link-{uuid.uuid4().hex[:8]}")
    (tmp_path / "curve.png").write_bytes(png())
    with mlflow.start_run(run_name="linked-run") as run:
        mlflow.log_params({"learning_rate": 0.05, "depth": 7})
        for step in range(30):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_dict({"features": ["a", "b"], "seed": 42}, "config.json")
        mlflow.log_text("trained on 4 rows\n", "notes/readme.txt")
        mlflow.log_artifact(str(tmp_path / "curve.png"), "plots")
    printed = re.search(r"View run \S+ at: (\S+)", capsys.readouterr().out)
    assert printed, "the mlflow client printed no run link"
    link = printed.group(1)
    assert link.endswith(f"/runs/{run.info.run_id}") and "/#/experiments/" in link

    page.goto(link)
    expect(page.locator("h1")).to_have_text("linked-run")
    params = page.get_by_role("table", name="parameters")
    expect(params).to_contain_text("learning_rate")
    expect(params).to_contain_text("0.05")
    chart = page.locator('figure[data-metric="loss"]')
    expect(chart).to_have_attribute("data-total", "30")
    expect(chart.locator("canvas")).to_be_visible()

    page.get_by_role("button", name="config.json").click()
    expect(page.locator("#artifact-preview pre")).to_contain_text('"seed": 42')
    page.get_by_role("button", name="notes/").click()
    page.get_by_role("button", name="readme.txt").click()
    expect(page.locator("#artifact-preview pre")).to_contain_text("trained on 4 rows")
    page.get_by_role("button", name="plots/").click()
    page.get_by_role("button", name="curve.png").click()
    image = page.locator("#artifact-preview img")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") == 8
    screenshot(page, "run")


def test_the_experiment_link_mlflow_prints_opens_its_runs(
    page: Any, mlflow_at: Any, ui_server: UiServer
) -> None:
    mlflow = mlflow_at
    experiment_id = mlflow.set_experiment(f"exp-link-{uuid.uuid4().hex[:8]}").experiment_id
    with mlflow.start_run(run_name="only-run"):
        mlflow.log_metric("auc", 0.75)
    page.goto(f"{ui_server.url}/#/experiments/{experiment_id}")
    expect(page.get_by_role("table", name="Runs")).to_contain_text("only-run")
    page.get_by_role("link", name="only-run").click()
    expect(page.locator("h1")).to_have_text("only-run")


def test_a_10k_step_metric_is_drawn_from_a_bounded_number_of_points(
    page: Any, ui_server: UiServer
) -> None:
    with ui_server.client() as client:
        experiment_id = seed.experiment(client, "chart")
        run_id = seed.run(client, experiment_id, "long-chart", {}, {})
        seed.long_metric(client, run_id, "big", 10_000)
    page.goto(f"{ui_server.url}/#/experiments/{experiment_id}/runs/{run_id}")
    chart = page.locator('figure[data-metric="big"]')
    expect(chart).to_have_attribute("data-total", "10000")
    expect(chart.locator("canvas")).to_be_visible()
    points = int(chart.get_attribute("data-points"))
    assert 100 < points <= 920  # two points per pixel of a 460-pixel chart
    expect(chart.locator("figcaption")).to_contain_text(f"{points} of 10000 points")
    screenshot(page, "chart-10k")

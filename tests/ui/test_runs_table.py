"""The runs table in a real browser: pages of 50 by server page tokens, the search filter of
`runs list`, sorting on the server by a metric or a param, and chosen columns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui import seed
from tests.ui.conftest import UiServer, screenshot

expect = pytest.importorskip("playwright.sync_api", reason="pip install playwright").expect

RUNS = 60


@pytest.fixture(scope="module")
def table_experiment(ui_server: UiServer) -> Iterator[str]:
    """60 runs: ``auc`` = index / 100, ``depth`` = index % 3, ``loss`` = 1 - auc."""
    with ui_server.client() as client:
        experiment_id = seed.experiment(client, "table")
        for index in range(RUNS):
            seed.run(
                client,
                experiment_id,
                f"run-{index:02d}",
                {"depth": str(index % 3), "optimizer": "adam"},
                {"auc": index / 100, "loss": 1 - index / 100},
            )
    yield experiment_id


def _names(page: Any) -> list[str]:
    return page.locator("#runs tbody tr td:first-child").all_inner_texts()


def _column(page: Any, header: str) -> list[str]:
    index = page.locator("#runs thead th").all_inner_texts().index(header)
    return page.locator(f"#runs tbody tr td:nth-child({index + 1})").all_inner_texts()


def test_runs_page_by_page_with_server_tokens(
    page: Any, ui_server: UiServer, table_experiment: str
) -> None:
    page.goto(f"{ui_server.url}/#/experiments/{table_experiment}")
    expect(page.locator("#runs tbody tr")).to_have_count(50)
    expect(page.locator("#page-info")).to_have_text("Runs 1\u201350")
    page.locator("#next-page").click()
    expect(page.locator("#runs tbody tr")).to_have_count(RUNS - 50)
    expect(page.locator("#page-info")).to_have_text("Runs 51\u201360")
    expect(page.locator("#next-page")).to_have_count(0)
    page.locator("#previous-page").click()
    expect(page.locator("#runs tbody tr")).to_have_count(50)


def test_the_filter_is_the_search_syntax_of_runs_list(
    page: Any, ui_server: UiServer, table_experiment: str
) -> None:
    page.goto(f"{ui_server.url}/#/experiments/{table_experiment}")
    page.get_by_label("Filter").fill("metrics.auc >= 0.5 and params.depth = '0'")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#runs tbody tr")).to_have_count(3)
    assert sorted(_names(page)) == ["run-51", "run-54", "run-57"]
    assert "filter=" in page.evaluate("location.hash")  # the filtered view is a link


def test_a_bad_filter_says_what_is_wrong_and_keeps_the_form(
    page: Any, ui_server: UiServer, table_experiment: str
) -> None:
    page.goto(f"{ui_server.url}/#/experiments/{table_experiment}")
    page.get_by_label("Filter").fill("metrics.auc >>> 1")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Filter")).to_have_value("metrics.auc >>> 1")
    page.problems.clear()  # the 400 of the search is logged by the browser, as it should be


def test_sorting_by_a_metric_and_a_param_happens_on_the_server(
    page: Any, ui_server: UiServer, table_experiment: str
) -> None:
    page.goto(f"{ui_server.url}/#/experiments/{table_experiment}")
    page.locator('a.sort[data-column="metrics.auc"]').click()
    expect(page.locator('th[aria-sort="ascending"]')).to_contain_text("metrics.auc")
    assert _column(page, "metrics.auc ▲")[:3] == ["0", "0.0100000", "0.0200000"]
    page.locator('a.sort[data-column="metrics.auc"]').click()
    expect(page.locator('th[aria-sort="descending"]')).to_contain_text("metrics.auc")
    assert _names(page)[:2] == ["run-59", "run-58"]  # across all 60 runs, not this page's
    page.locator('a.sort[data-column="params.depth"]').click()
    expect(page.locator('th[aria-sort="ascending"]')).to_contain_text("params.depth")
    depths = _column(page, "params.depth ▲")
    assert depths[:20] == ["0"] * 20 and depths[20:40] == ["1"] * 20
    screenshot(page, "runs")


def test_columns_are_chosen_and_kept(page: Any, ui_server: UiServer, table_experiment: str) -> None:
    page.goto(f"{ui_server.url}/#/experiments/{table_experiment}")
    headers = page.locator("#runs thead th")
    expect(headers).to_contain_text(["Run", "Status", "Started", "User", "params.depth"])
    page.locator("#columns summary").click()
    page.get_by_label("params.optimizer").uncheck()
    expect(page.locator("#runs thead")).not_to_contain_text("params.optimizer")
    page.get_by_label("metrics.loss").uncheck()
    page.get_by_label("tags.mlflow.runName").check()
    expect(page.locator("#runs thead")).not_to_contain_text("metrics.loss")
    expect(page.locator("#runs thead")).to_contain_text("tags.mlflow.runName")
    page.reload()
    expect(page.locator("#runs thead")).to_contain_text("tags.mlflow.runName")
    expect(page.locator("#runs thead")).not_to_contain_text("params.optimizer")

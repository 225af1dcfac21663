"""``shipyard runs ...`` and ``shipyard experiments ...`` against real SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import shipyard
from shipyard.cli.compare import sparkline
from shipyard.cli.main import app
from shipyard.config import Settings


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def as_json(*args: str) -> Any:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def three_runs(tracking_settings: Settings) -> list[str]:
    run_ids = []
    for index, (depth, auc) in enumerate([(5, 0.95), (3, 0.85), (5, 0.80)]):
        with shipyard.start_run(
            experiment="churn", params={"depth": depth}, settings=tracking_settings
        ) as active:
            for step in range(4):
                active.log_metric("auc", auc - 0.1 * (3 - step) / 3, step=step)
            active.set_tag("index", index)
        run_ids.append(active.id)
    return run_ids


def test_runs_list_filters_and_orders(three_runs: list[str]) -> None:
    listed = as_json(
        "runs", "list", "--experiment", "churn",
        "--filter", "metrics.auc > 0.5 and params.depth = '5'",
        "--order-by", "metrics.auc DESC",
    )  # fmt: skip
    assert [r["run_id"] for r in listed] == [three_runs[0], three_runs[2]]
    assert listed[0]["metrics"]["auc"]["value"] == pytest.approx(0.95)
    table = run("runs", "list", "--order-by", "metrics.auc ASC")
    assert table.exit_code == 0 and "3 run(s)" in table.stdout


def test_runs_show_and_compare(three_runs: list[str]) -> None:
    shown = as_json("runs", "show", three_runs[0])
    assert shown["params"] == {"depth": "5"} and shown["status"] == "FINISHED"
    assert shown["environment"]["python"]
    table = run("runs", "show", three_runs[0])
    assert table.exit_code == 0 and "params" in table.stdout
    compared = run("runs", "compare", *three_runs)
    assert compared.exit_code == 0
    assert "param depth" in compared.stdout and "metric auc" in compared.stdout
    assert sparkline([0.65, 0.75, 0.85, 0.95]) in compared.stdout
    data = as_json("runs", "compare", three_runs[0], three_runs[1])
    assert len(data["histories"][f"{three_runs[0]}/auc"]) == 4


def test_runs_rm_hides_the_run(three_runs: list[str]) -> None:
    assert as_json("runs", "rm", three_runs[1]) == {"deleted": [three_runs[1]]}
    listed = as_json("runs", "list", "--experiment", "churn")
    assert three_runs[1] not in [r["run_id"] for r in listed]


def test_experiments_create_list_rm(tracking_settings: Settings) -> None:
    created = as_json("experiments", "create", "fraud")
    names = [e["name"] for e in as_json("experiments", "list")]
    assert names == ["Default", "fraud"]
    assert run("experiments", "create", "fraud").exit_code == 4  # conflict
    assert (
        as_json("experiments", "rm", "fraud")["deleted"]["experiment_id"]
        == created["experiment_id"]
    )
    assert [e["name"] for e in as_json("experiments", "list")] == ["Default"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["runs", "show", "0" * 32], 3),
        (["runs", "list", "--filter", "metrics.auc >"], 2),
        (["runs", "list", "--experiment", "nope"], 3),
        (["runs", "compare", "0" * 32], 2),
    ],
)
def test_bad_input_exits_with_distinct_codes(
    tracking_settings: Settings, args: list[str], code: int
) -> None:
    result = run(*args)
    assert result.exit_code == code, result.output


def test_sparkline_scales_values_and_shows_nan_as_blank() -> None:
    assert sparkline([0.0, 0.5, 1.0]) == "▁▅█"
    assert sparkline([1.0, float("nan"), 1.0]) == "▅ ▅"
    assert len(sparkline([float(i) for i in range(100)])) == 24
    assert sparkline([]) == ""

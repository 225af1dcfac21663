"""``shipyard pipeline ...``: show, run (--json, exit codes), runs list/show and export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipyard.cli.main import app
from tests.pipelines.conftest import TINY, Workspace


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_show_draws_the_dag_and_json_lists_nodes(runner: CliRunner, workspace: Workspace) -> None:
    shown = runner.invoke(app, ["pipeline", "show", str(workspace.file)])
    assert shown.exit_code == 0, shown.output
    for step in ("ingest", "prepare", "train", "evaluate", "register"):
        assert step in shown.output
    data = json.loads(
        runner.invoke(app, ["pipeline", "show", str(workspace.file), "--json"]).output
    )
    assert [n["id"] for n in data["nodes"]] == [
        "ingest",
        "prepare",
        "train",
        "evaluate",
        "register",
    ]
    assert data["parameters"]["split_config"]["kind"] == "file"


def test_bad_definition_exits_2_with_a_message(runner: CliRunner, workspace: Workspace) -> None:
    result = runner.invoke(app, ["pipeline", "run", str(TINY), "--json"])
    assert result.exit_code == 2
    assert "name one as" in json.loads(result.output)["error"]["message"]


@pytest.mark.slow
def test_run_json_then_runs_list_and_show(
    runner: CliRunner, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINY_STATE", str(tmp_path / "attempts"))
    (tmp_path / "attempts").write_text("5")
    result = runner.invoke(app, ["pipeline", "run", f"{TINY}:retried", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["executed"] == 1
    assert len(summary["tracking_run_id"]) == 32  # the run's tracked run (`shipyard runs show`)
    listed = json.loads(runner.invoke(app, ["pipeline", "runs", "list", "--json"]).output)
    assert [r["id"] for r in listed] == [summary["run_id"]]
    shown = json.loads(
        runner.invoke(app, ["pipeline", "runs", "show", summary["run_id"], "--json"]).output
    )
    assert shown["steps"][0]["status"] == "succeeded"
    log = runner.invoke(app, ["pipeline", "runs", "show", summary["run_id"], "--log", "flaky"])
    assert "attempt 1" in log.output


@pytest.mark.slow
def test_failed_run_exits_8_and_says_how_to_resume(runner: CliRunner, workspace: Workspace) -> None:
    result = runner.invoke(app, ["pipeline", "run", f"{TINY}:nooutput"])
    assert result.exit_code == 12
    assert "--resume" in result.output


def test_export_writes_manifests(runner: CliRunner, workspace: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "argo"
    result = runner.invoke(
        app, ["pipeline", "export", str(workspace.file), "--to", "argo", "-o", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["files"] == [str(out / "cancer-workflow.yaml")]
    bad = runner.invoke(
        app, ["pipeline", "export", str(workspace.file), "--to", "nomad", "-o", str(out)]
    )
    assert bad.exit_code == 2

"""Monitoring logs written by a real ``shipyard serve`` under load, with a real feedback file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, mean_squared_error
from typer.testing import CliRunner

from shipyard.cli.main import app
from tests.monitor.conftest import PHASE_ROWS, SHIFTED, ServedLog, feedback_csv

pytestmark = pytest.mark.slow


def _cli(env: dict[str, str], *args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def classifier_report(
    served_classifier: ServedLog, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, object]:
    labels = feedback_csv(tmp_path_factory.mktemp("fb") / "labels.csv", served_classifier.rows)
    stored = _cli(
        served_classifier.env, "monitor", "feedback", str(labels), "--model", "clf", "--json"
    )
    assert stored["stored"] == 2 * PHASE_ROWS
    return _cli(served_classifier.env, "monitor", served_classifier.ref, "--logs",
                str(served_classifier.log), "--window", f"{PHASE_ROWS}rows", "--json")  # fmt: skip


def test_half_sd_shift_on_three_features_is_detected_on_those_features(
    classifier_report: dict[str, object],
) -> None:
    stationary, shifted, last = classifier_report["windows"]  # type: ignore[misc]
    assert last["rows"] == 0 and last["rejected"] == 1  # the request sent after both phases
    assert stationary["rows"] == shifted["rows"] == PHASE_ROWS
    assert stationary["drifting"] == []
    assert not stationary["dataset_drift"]
    assert sorted(shifted["drifting"]) == SHIFTED
    assert shifted["dataset_drift"]  # 3 of 6 columns: Evidently's "at least half"
    assert {f["test"] for f in shifted["features"]} == {"wasserstein"}  # 2000 reference rows


def test_calibrated_mode_finds_the_same_shifted_features(served_classifier: ServedLog) -> None:
    report = _cli(served_classifier.env, "monitor", served_classifier.ref, "--window",
                  f"{PHASE_ROWS}rows", "--method", "calibrated", "--json")  # fmt: skip
    stationary, shifted, _ = report["windows"]  # type: ignore[misc]
    assert stationary["drifting"] == []
    assert sorted(shifted["drifting"]) == SHIFTED


def test_joined_accuracy_equals_scikit_learn_on_the_same_rows(
    classifier_report: dict[str, object], served_classifier: ServedLog
) -> None:
    rows = served_classifier.rows
    windows = classifier_report["windows"][:2]  # type: ignore[index]
    for window, phase in zip(windows, ("stationary", "shifted"), strict=True):
        mine = rows[rows.phase == phase]
        performance = window["performance"]
        assert performance["labelled"] == PHASE_ROWS
        assert performance["task"] == "classification"
        metrics = performance["metrics"]
        assert metrics["accuracy"] == accuracy_score(mine.label, mine.prediction)
        assert metrics["f1"] == f1_score(mine.label, mine.prediction)
        assert performance["expected"] == {"accuracy": 0.85}


def test_rejected_request_and_a_cut_short_line_are_counted_not_fatal(
    classifier_report: dict[str, object],
) -> None:
    read = classifier_report["read"]
    assert read["bad_lines"] == 1  # type: ignore[index]
    assert read["rejected"] == 1  # type: ignore[index]
    assert sum(w["rejected"] for w in classifier_report["windows"]) == 1  # type: ignore[attr-defined]


def test_joined_rmse_equals_scikit_learn_on_the_same_rows(
    served_regressor: ServedLog, tmp_path: Path
) -> None:
    labels = feedback_csv(tmp_path / "labels.csv", served_regressor.rows)
    _cli(served_regressor.env, "monitor", "feedback", str(labels), "--model", "reg", "--json")
    report = _cli(served_regressor.env, "monitor", served_regressor.ref, "--logs",
                  str(served_regressor.log), "--window", f"{PHASE_ROWS}rows", "--json")  # fmt: skip
    rows = served_regressor.rows
    for window, phase in zip(report["windows"], ("stationary", "shifted"), strict=True):  # type: ignore[call-overload]
        mine = rows[rows.phase == phase]
        metrics = window["performance"]["metrics"]
        assert window["performance"]["task"] == "regression"
        expected = math.sqrt(mean_squared_error(mine.label, mine.prediction))
        assert metrics["rmse"] == pytest.approx(expected, rel=1e-12)
    assert report["windows"][1]["prediction_drift"]  # 2*x0 moved: so did the predictions


def test_results_are_stored_per_window(
    served_classifier: ServedLog, classifier_report: dict[str, object]
) -> None:
    from shipyard.config import Settings
    from shipyard.monitor.store import ResultStore
    from shipyard.registry import Registry

    with Registry.from_settings(Settings.from_env(served_classifier.env)) as registry:
        stored = ResultStore(registry.metadata.engine).windows("clf", 1)
    auto = [w for w in stored if w["method"] == "auto"]
    assert [w["rows"] for w in auto] == [PHASE_ROWS, PHASE_ROWS, 0]
    assert [w["dataset_drift"] for w in auto] == [False, True, False]
    assert auto[1]["result"]["drifting"] == SHIFTED
    assert np.isfinite(pd.Series([w["drift_share"] for w in auto])).all()

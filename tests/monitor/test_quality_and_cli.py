"""Quality counts, the label-free estimate, and the CLI's answers to bad input."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.monitor.detect import column_quality
from shipyard.monitor.performance import estimate_accuracy
from shipyard.monitor.reference import ReferenceColumn


def test_quality_counts_missing_out_of_range_and_unseen_values() -> None:
    numeric = ReferenceColumn("age", "in.age", "numeric", np.array([20.0, 60.0]), 2, 20.0, 60.0)
    quality = column_quality(numeric, np.array([25.0, np.nan, 70.0, 10.0, 60.0]))
    assert (quality.missing, quality.out_of_range, quality.unseen) == (1, 2, 0)
    city = ReferenceColumn("city", "in.city", "categorical", np.array(["a", "b"], dtype=object), 2,
                           categories=frozenset({"a", "b"}))  # fmt: skip
    quality = column_quality(city, np.array(["a", None, "c", "c"], dtype=object))
    assert (quality.missing, quality.unseen) == (1, 2)


def test_label_free_estimate_is_the_mean_top_class_probability() -> None:
    assert estimate_accuracy(np.array([[0.9, 0.1], [0.4, 0.6]])) == 0.75


def test_cli_refuses_a_bad_window_and_a_missing_log_with_distinct_codes(
    shipyard_env: dict[str, str],
) -> None:
    runner = CliRunner()
    bad_window = runner.invoke(app, ["monitor", "iris:1", "--window", "soon"], env=shipyard_env)
    assert bad_window.exit_code == 2
    assert "duration" in bad_window.output
    unknown = runner.invoke(app, ["monitor", "iris:1", "--logs", "/nowhere"], env=shipyard_env)
    assert unknown.exit_code == 3  # no model iris (and no log): not found
    rules = runner.invoke(app, ["monitor", "rules", "--min-accuracy", "0.9"])
    assert rules.exit_code == 0 and "ShipyardAccuracyLow" in rules.stdout

"""Drift tests are scipy's statistics with Evidently 0.7's defaults; metrics equal sklearn's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from shipyard.errors import InvalidInputError
from shipyard.monitor import performance
from shipyard.monitor.drift import choose_test, run_test, wasserstein_normed
from shipyard.monitor.feedback import parse_feedback
from shipyard.monitor.windows import WindowSpec


@pytest.mark.parametrize(
    ("rows", "kind", "distinct", "expected"),
    [
        (1000, "numeric", 50, "ks"),
        (1000, "numeric", 4, "chisquare"),
        (1000, "categorical", 3, "chisquare"),
        (1000, "categorical", 2, "z"),
        (1001, "numeric", 50, "wasserstein"),
        (1001, "numeric", 5, "jensenshannon"),
        (1001, "categorical", 2, "jensenshannon"),
    ],
)
def test_default_test_follows_evidently(rows: int, kind: str, distinct: int, expected: str) -> None:
    assert choose_test(rows, kind, distinct) == expected  # type: ignore[arg-type]


def test_scores_are_scipys() -> None:
    rng = np.random.default_rng(0)
    ref, cur = rng.normal(size=800), rng.normal(0.3, 1, size=5000)
    assert run_test("ks", ref, cur) == stats.ks_2samp(ref, cur).pvalue
    exact = stats.wasserstein_distance(ref, cur) / np.std(ref)
    assert wasserstein_normed(ref, cur) == pytest.approx(exact, abs=1e-3)  # sketched current
    cats_ref = np.array(["a"] * 60 + ["b"] * 40)
    cats_cur = np.array(["a"] * 30 + ["b"] * 70)
    expected = stats.chisquare([30, 70], [60 * 1.0, 40 * 1.0]).pvalue
    assert run_test("chisquare", cats_ref, cats_cur) == pytest.approx(expected)
    assert run_test("z", cats_ref, cats_cur) < 0.05
    assert run_test("jensenshannon", cats_ref, cats_ref) == pytest.approx(0.0, abs=1e-6)
    assert run_test("psi", ref, ref + 1.0) > 0.1


def test_numpy_metrics_equal_sklearns() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 500)
    predicted = np.where(rng.random(500) < 0.8, labels, 1 - labels)
    scores = rng.random(500).round(2)  # ties, as real scores have
    mine = performance._numpy_classification(labels, predicted, np.array([0, 1]), True)
    assert mine["accuracy"] == skm.accuracy_score(labels, predicted)
    assert mine["precision"] == pytest.approx(skm.precision_score(labels, predicted))
    assert mine["f1"] == pytest.approx(skm.f1_score(labels, predicted))
    assert performance._roc_auc(labels == 1, scores) == pytest.approx(
        skm.roc_auc_score(labels, scores)
    )
    y, p = rng.normal(size=300), rng.normal(size=300)
    mine_r = performance.regression_metrics(y, p)
    assert mine_r["mae"] == pytest.approx(skm.mean_absolute_error(y, p))
    assert mine_r["r2"] == pytest.approx(skm.r2_score(y, p))


def test_windows_parse_durations_and_counts() -> None:
    assert WindowSpec.parse("1h") == WindowSpec("time", 3600.0)
    assert WindowSpec.parse("5000rows") == WindowSpec("count", 5000.0)
    with pytest.raises(InvalidInputError, match="duration"):
        WindowSpec.parse("soon")


def test_feedback_takes_csv_and_json_lines_and_names_a_bad_line() -> None:
    assert parse_feedback(b"request_id,row,label\nr1,0,1\nr2,3,cat\n")[1].label == "cat"
    assert parse_feedback(b'{"request_id": "r1", "target": 2.5}\n')[0].label == 2.5
    with pytest.raises(InvalidInputError, match="item 2 needs a request_id and a label"):
        parse_feedback(b'{"request_id": "r1", "label": 1}\n{"request_id": "r2"}\n')

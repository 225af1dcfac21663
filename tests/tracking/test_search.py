"""Run search on real SQLite and PostgreSQL: filters, metric order (NaN, missing), pages."""

from __future__ import annotations

import math
import random

import pytest

from shipyard.errors import InvalidInputError
from shipyard.tracking import Tracker
from shipyard.tracking.entities import Metric, now_ms


@pytest.fixture
def runs(tracker: Tracker) -> tuple[str, list[tuple[str, float | None, str]]]:
    """25 runs: auc random, NaN for some, missing for others; depth 3 or 5."""
    rng = random.Random(3)
    experiment = tracker.store.create_experiment("search")
    made = []
    for index in range(25):
        run = tracker.store.create_run(experiment, user_id="u", start_time=1_000 + index)
        auc: float | None = (
            None if index % 7 == 0 else (math.nan if index % 5 == 0 else rng.random())
        )
        depth = "5" if index % 2 else "3"
        metrics = [] if auc is None else [Metric("auc", auc, now_ms(), 0)]
        tracker.store.log_batch(run.run_id, metrics=metrics, params={"depth": depth})
        made.append((run.run_id, auc, depth))
    return experiment, made


def _expected(made: list[tuple[str, float | None, str]], descending: bool) -> list[str]:
    """MLflow's order: numbers, then NaN, then missing; ties newest first."""
    order = list(reversed(made))  # newest first (start_time DESC) as the tie break
    numbers = [m for m in order if m[1] is not None and not math.isnan(m[1])]
    numbers.sort(key=lambda m: m[1], reverse=descending)  # type: ignore[arg-type,return-value]
    nans = [m for m in order if m[1] is not None and math.isnan(m[1])]
    missing = [m for m in order if m[1] is None]
    return [m[0] for m in numbers + nans + missing]


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
def test_metric_order_puts_nan_then_missing_last_on_every_page(
    tracker: Tracker, runs: tuple[str, list[tuple[str, float | None, str]]], descending: bool
) -> None:
    experiment, made = runs
    order = [f"metrics.auc {'DESC' if descending else 'ASC'}"]
    pages, token = [], None
    while True:
        found, token = tracker.store.search_runs(
            [experiment], None, order, max_results=4, page_token=token
        )
        pages.extend(run.run_id for run in found)
        if token is None:
            break
    assert pages == _expected(made, descending)
    # the general plan (two order terms) agrees with the metric fast path
    both, _ = tracker.store.search_runs([experiment], None, [*order, "attributes.start_time DESC"])
    assert [run.run_id for run in both] == pages


def test_filters_combine_metrics_params_and_attributes(
    tracker: Tracker, runs: tuple[str, list[tuple[str, float | None, str]]]
) -> None:
    experiment, made = runs
    found, _ = tracker.store.search_runs(
        [experiment], "metrics.auc > 0.5 and params.depth = '5'", ["metrics.auc DESC"]
    )
    expected = [m for m in made if m[1] is not None and m[1] > 0.5 and m[2] == "5"]
    assert sorted(r.run_id for r in found) == sorted(m[0] for m in expected)
    assert [r.metrics["auc"].value for r in found] == sorted((m[1] for m in expected), reverse=True)  # type: ignore[misc]
    later, _ = tracker.store.search_runs([experiment], "attributes.start_time >= 1020")
    assert len(later) == 5
    status, _ = tracker.store.search_runs([experiment], "attributes.status IN ('RUNNING')")
    assert len(status) == 25


def test_like_is_case_sensitive_and_ilike_is_not(tracker: Tracker) -> None:
    experiment = tracker.store.create_experiment("like")
    for name in ("Alpha", "alpha", "beta"):
        tracker.store.create_run(experiment, user_id="u", run_name=name)
    like, _ = tracker.store.search_runs([experiment], "attributes.run_name LIKE 'a%'")
    ilike, _ = tracker.store.search_runs([experiment], "attributes.run_name ILIKE 'a%'")
    assert [r.info.run_name for r in like] == ["alpha"]
    assert sorted(r.info.run_name for r in ilike) == ["Alpha", "alpha"]


def test_bad_page_token_and_sizes_are_refused(tracker: Tracker) -> None:
    with pytest.raises(InvalidInputError, match="page token"):
        tracker.store.search_runs(["0"], page_token="garbage!")  # noqa: S106
    with pytest.raises(InvalidInputError, match="max_results"):
        tracker.store.search_runs(["0"], max_results=50_001)

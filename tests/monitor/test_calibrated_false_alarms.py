"""Calibrated mode on 100 stationary windows served by a real server: few false alarms."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from shipyard.config import Settings
from shipyard.monitor.analyze import AnalysisOptions
from shipyard.monitor.monitor import Monitor, MonitorOptions
from shipyard.monitor.windows import WindowSpec
from tests.monitor.conftest import make_rows, regressor_server

pytestmark = pytest.mark.slow

WINDOWS = 100
WINDOW_ROWS = 300
ALPHA = 0.05


@pytest.fixture(scope="module")
def stationary_log(
    monitor_home: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    rng = np.random.default_rng(11)
    settings = Settings.from_env(monitor_home)
    train = make_rows(rng, 3000, shift=False)
    log = tmp_path_factory.mktemp("steady") / "predictions.jsonl"
    with (
        regressor_server(settings, "steady", train, log, rng) as url,
        ThreadPoolExecutor(4) as pool,
    ):
        live = make_rows(rng, WINDOWS * WINDOW_ROWS, shift=False)

        def call(start: int) -> int:
            part = live.iloc[start : start + 100].to_dict(orient="records")
            with httpx.Client(base_url=url, timeout=30) as http:
                return http.post("/predict", json=part).status_code

        assert set(pool.map(call, range(0, len(live), 100))) == {200}
    yield log


def _alarms(settings: Settings, log: Path, method: str) -> list[bool]:
    options = MonitorOptions(
        AnalysisOptions(WindowSpec.parse(f"{WINDOW_ROWS}rows"), method, ALPHA),  # type: ignore[arg-type]
        logs=str(log),
    )
    with Monitor.open(settings, "steady:1") as monitor:
        report = monitor.update(options)
    assert len(report.windows) == WINDOWS
    assert all(w.rows == WINDOW_ROWS for w in report.windows)
    return [w.dataset_drift or w.prediction_drift for w in report.windows]


def test_hundred_stationary_windows_alarm_at_most_alpha_in_calibrated_mode(
    monitor_home: dict[str, str], stationary_log: Path
) -> None:
    alarms = _alarms(Settings.from_env(monitor_home), stationary_log, "calibrated")
    assert sum(alarms) / WINDOWS <= ALPHA, f"{sum(alarms)} of {WINDOWS} stationary windows alarmed"


def test_fixed_p_value_tests_alarm_far_more_often_on_the_same_windows(
    monitor_home: dict[str, str], stationary_log: Path
) -> None:
    """K-S at p < 0.05 on 7 columns: the per-column level compounds (the calibrated mode's case)."""
    settings = Settings.from_env(monitor_home)
    options = MonitorOptions(AnalysisOptions(WindowSpec.parse(f"{WINDOW_ROWS}rows"), "ks", ALPHA))
    with Monitor.open(settings, "steady:1") as monitor:
        report = monitor.update(options)
    any_column = [bool(w.drifting) or w.prediction_drift for w in report.windows]
    assert sum(any_column) / WINDOWS > 2 * ALPHA

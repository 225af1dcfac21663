"""Canary analysis is pure: metrics text in, a verdict out."""

from __future__ import annotations

from shipyard.deploy.canary import CanaryPolicy, RouteStats, judge, parse_metrics

TEXT = """\
# TYPE shipyard_requests_total counter
shipyard_requests_total{route="/predict",status="200"} 90
shipyard_requests_total{route="/predict",status="500"} 10
shipyard_requests_total{route="/readyz",status="200"} 500
# TYPE shipyard_request_errors_total counter
shipyard_request_errors_total{route="/predict",status="500"} 10
# TYPE shipyard_request_duration_seconds histogram
shipyard_request_duration_seconds_bucket{route="/predict",le="0.01"} 50
shipyard_request_duration_seconds_bucket{route="/predict",le="0.1"} 99
shipyard_request_duration_seconds_bucket{route="/predict",le="+Inf"} 100
shipyard_request_duration_seconds_sum{route="/predict"} 2.0
shipyard_request_duration_seconds_count{route="/predict"} 100
"""


def _stats(requests: float, errors: float, p_fast: float) -> RouteStats:
    return RouteStats(
        requests, errors, ((0.01, requests * p_fast), (1.0, requests), (float("inf"), requests))
    )


def test_parse_counts_only_prediction_routes() -> None:
    stats = parse_metrics(TEXT)
    assert (stats.requests, stats.errors) == (100, 10)
    assert stats.error_rate == 0.1
    assert 0.01 < stats.quantile(0.99) <= 0.1


def test_a_window_is_the_difference_of_two_snapshots() -> None:
    window = parse_metrics(TEXT) - RouteStats(50, 5, ((0.01, 25), (0.1, 50), (float("inf"), 50)))
    assert (window.requests, window.errors) == (50, 5)


def test_higher_error_rate_than_stable_fails_the_canary() -> None:
    verdict = judge(_stats(1000, 1, 0.99), _stats(100, 10, 0.99), CanaryPolicy())
    assert verdict.healthy is False and "error rate" in verdict.reason


def test_slower_p99_fails_the_canary_and_equal_passes() -> None:
    slow = judge(_stats(1000, 0, 0.999), _stats(100, 0, 0.5), CanaryPolicy())
    assert slow.healthy is False and "p99" in slow.reason
    same = judge(_stats(1000, 0, 0.999), _stats(100, 0, 0.999), CanaryPolicy())
    assert same.healthy is True


def test_too_little_traffic_is_no_verdict() -> None:
    assert judge(_stats(1000, 0, 1), _stats(5, 5, 1), CanaryPolicy()).healthy is None

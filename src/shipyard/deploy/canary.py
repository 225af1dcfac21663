"""Canary analysis: compare the canary's ``/metrics`` with the stable replicas', purely.

Two snapshots of each side (when the canary started taking traffic, and now) give the requests,
errors (status >= 400) and latency histogram of the window in between. The canary fails when its
error rate is higher than stable's by more than ``max_error_rate_increase``, or its p99 is more
than ``max_p99_ratio`` times stable's; too few requests is no verdict yet.

    >>> before, after = parse_metrics(text0), parse_metrics(text1)
    >>> judge(stable=after_s - before_s, canary=after_c - before_c, policy=CanaryPolicy())
    Verdict(healthy=True, reason='...')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["CanaryPolicy", "RouteStats", "Verdict", "judge", "parse_metrics"]


@dataclass(frozen=True, slots=True)
class RouteStats:
    """Prediction requests, errors and a cumulative latency histogram (upper bound -> count)."""

    requests: float = 0.0
    errors: float = 0.0
    buckets: tuple[tuple[float, float], ...] = ()

    def __sub__(self, earlier: RouteStats) -> RouteStats:
        old = dict(earlier.buckets)
        return RouteStats(
            requests=self.requests - earlier.requests,
            errors=self.errors - earlier.errors,
            buckets=tuple((le, count - old.get(le, 0.0)) for le, count in self.buckets),
        )

    def __add__(self, other: RouteStats) -> RouteStats:
        theirs = dict(other.buckets)
        mine = dict(self.buckets)
        bounds = sorted(set(mine) | set(theirs))
        return RouteStats(
            requests=self.requests + other.requests,
            errors=self.errors + other.errors,
            buckets=tuple((le, mine.get(le, 0.0) + theirs.get(le, 0.0)) for le in bounds),
        )

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def quantile(self, q: float) -> float:
        """The ``q`` quantile from the histogram (linear within a bucket, as Prometheus does)."""
        if not self.buckets or self.buckets[-1][1] <= 0:
            return 0.0
        total = self.buckets[-1][1]
        rank = q * total
        lower_bound, lower_count = 0.0, 0.0
        for le, count in self.buckets:
            if count >= rank:
                if le == float("inf"):
                    return lower_bound
                span = count - lower_count
                fraction = (rank - lower_count) / span if span else 1.0
                return lower_bound + (le - lower_bound) * fraction
            lower_bound, lower_count = le, count
        return lower_bound


def parse_metrics(text: str) -> RouteStats:
    """The prediction routes' totals from one server's exposition text."""
    requests = errors = 0.0
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            route = sample.labels.get("route")
            if not route or not ("predict" in route or route.endswith("infer")):
                continue
            if sample.name == "shipyard_requests_total":
                requests += sample.value
            elif sample.name == "shipyard_request_errors_total":
                errors += sample.value
            elif sample.name == "shipyard_request_duration_seconds_bucket":
                le = float(sample.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + sample.value
    return RouteStats(requests, errors, tuple(sorted(buckets.items())))


def combine(stats: Iterable[RouteStats]) -> RouteStats:
    total = RouteStats()
    for item in stats:
        total = total + item
    return total


@dataclass(frozen=True, slots=True)
class CanaryPolicy:
    """When a canary is worse than stable (the margins) and when there is enough to judge."""

    max_error_rate_increase: float = 0.01
    max_p99_ratio: float = 1.5
    p99_floor_seconds: float = 0.01
    min_requests: int = 20


@dataclass(frozen=True, slots=True)
class Verdict:
    healthy: bool | None
    reason: str
    figures: dict[str, float] = field(default_factory=dict)


def judge(stable: RouteStats, canary: RouteStats, policy: CanaryPolicy) -> Verdict:
    """Compare one window of stable and canary traffic; ``healthy=None``: not enough traffic."""
    figures = {
        "stable_requests": stable.requests,
        "canary_requests": canary.requests,
        "stable_error_rate": stable.error_rate,
        "canary_error_rate": canary.error_rate,
        "stable_p99_s": stable.quantile(0.99),
        "canary_p99_s": canary.quantile(0.99),
    }
    if canary.requests < policy.min_requests:
        return Verdict(None, f"only {canary.requests:.0f} canary requests so far", figures)
    increase = canary.error_rate - stable.error_rate
    if increase > policy.max_error_rate_increase:
        return Verdict(
            False,
            f"canary error rate {canary.error_rate:.1%} vs stable {stable.error_rate:.1%} "
            f"(margin {policy.max_error_rate_increase:.1%})",
            figures,
        )
    limit = max(figures["stable_p99_s"], policy.p99_floor_seconds) * policy.max_p99_ratio
    if figures["canary_p99_s"] > limit:
        return Verdict(
            False,
            f"canary p99 {figures['canary_p99_s'] * 1000:.0f} ms vs stable "
            f"{figures['stable_p99_s'] * 1000:.0f} ms (at most x{policy.max_p99_ratio:g})",
            figures,
        )
    return Verdict(True, "canary is within the margins", figures)

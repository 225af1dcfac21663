"""Prometheus metrics, kept in plain dicts so recording one request costs about a microsecond.

``GET /metrics`` renders the text exposition format (version 0.0.4). Each worker process keeps
its own numbers; Prometheus sums them across scrape targets.

    shipyard_requests_total{route,status}              counter
    shipyard_request_errors_total{route,status}        counter (status >= 400)
    shipyard_request_duration_seconds{route}           histogram
    shipyard_batch_rows                                histogram of rows per model call
    shipyard_queue_depth                               gauge: requests waiting for the model
    shipyard_requests_in_flight                        gauge
    shipyard_model_info{name,version}                  gauge, 1 for the served version
    shipyard_prediction_log_dropped_total              counter: records dropped on a full queue
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable

__all__ = ["CONTENT_TYPE", "Histogram", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
)  # fmt: skip
ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class Histogram:
    """Bucket counts, a sum and a count: enough for ``histogram_quantile``."""

    __slots__ = ("bounds", "count", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value
        self.count += 1

    def render(self, name: str, labels: str) -> list[str]:
        sep = "," if labels else ""
        lines = []
        cumulative = 0
        for bound, n in zip(self.bounds, self.counts, strict=False):
            cumulative += n
            lines.append(f'{name}_bucket{{{labels}{sep}le="{bound:g}"}} {cumulative}')
        lines.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.count}')
        suffix = f"{{{labels}}}" if labels else ""
        lines.append(f"{name}_sum{suffix} {self.total!r}")
        lines.append(f"{name}_count{suffix} {self.count}")
        return lines


class Metrics:
    """Everything ``/metrics`` reports for one server process."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, int], int] = {}
        self.latency: dict[str, Histogram] = {}
        self.batch_rows = Histogram(ROW_BUCKETS)
        self.in_flight = 0
        self.model: tuple[str, str] | None = None
        self.queue_depth: Callable[[], int] = lambda: 0
        self.log_dropped: Callable[[], int] = lambda: 0

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        key = (route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        histogram = self.latency.get(route)
        if histogram is None:
            histogram = self.latency[route] = Histogram(LATENCY_BUCKETS)
        histogram.observe(seconds)

    def observe_batch(self, rows: int) -> None:
        self.batch_rows.observe(rows)

    def render(self) -> bytes:
        out: list[str] = []
        out += _header("shipyard_requests_total", "counter", "HTTP requests by route and status.")
        for (route, status), n in sorted(self.requests.items()):
            out.append(f'shipyard_requests_total{{route="{route}",status="{status}"}} {n}')
        out += _header(
            "shipyard_request_errors_total", "counter", "HTTP responses with status >= 400."
        )
        for (route, status), n in sorted(self.requests.items()):
            if status >= 400:
                out.append(
                    f'shipyard_request_errors_total{{route="{route}",status="{status}"}} {n}'
                )
        out += _header(
            "shipyard_request_duration_seconds", "histogram", "Time from request to response."
        )
        for route, histogram in sorted(self.latency.items()):
            out += histogram.render("shipyard_request_duration_seconds", f'route="{route}"')
        out += _header("shipyard_batch_rows", "histogram", "Rows per model call.")
        out += self.batch_rows.render("shipyard_batch_rows", "")
        out += _header("shipyard_queue_depth", "gauge", "Requests waiting for the model.")
        out.append(f"shipyard_queue_depth {self.queue_depth()}")
        out += _header("shipyard_requests_in_flight", "gauge", "Requests being handled.")
        out.append(f"shipyard_requests_in_flight {self.in_flight}")
        out += _header("shipyard_model_info", "gauge", "The model version being served.")
        if self.model is not None:
            name, version = self.model
            out.append(f'shipyard_model_info{{name="{name}",version="{version}"}} 1')
        out += _header(
            "shipyard_prediction_log_dropped_total",
            "counter",
            "Prediction-log records dropped because the writer's queue was full.",
        )
        out.append(f"shipyard_prediction_log_dropped_total {self.log_dropped()}")
        return ("\n".join(out) + "\n").encode()


def _header(name: str, kind: str, help_text: str) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]

"""``/metrics`` across ``--workers N``: each worker's numbers in its own files, summed at scrape.

``server.run`` makes a fresh ``PROMETHEUS_MULTIPROC_DIR`` for each multi-worker start (and
removes it at exit). Each worker writes its totals there in ``prometheus_client``'s multiprocess
file format (``counter_<pid>.db``, ``histogram_<pid>.db``, ``gauge_livesum_<pid>.db``,
``gauge_livemax_<pid>.db``): every second, before answering a scrape, and at shutdown. A scrape
is answered by ``prometheus_client``'s ``MultiProcessCollector`` over all of the files, so the
counters and histograms are the sums over workers (a finished worker's counts stay), the
in-flight and queue gauges the sum over live workers, and ``shipyard_model_info`` their maximum.

Writing whole totals (not deltas) from the in-process dicts keeps the hot path at dict speed
(see ``metrics.py``); a write is about 1 µs a series, some 60 series a second per worker.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from shipyard.serve.metrics import (
    BATCH_ROWS,
    BATCH_ROWS_HELP,
    DURATION,
    DURATION_HELP,
    ERRORS,
    ERRORS_HELP,
    IN_FLIGHT,
    IN_FLIGHT_HELP,
    LOG_DROPPED,
    LOG_DROPPED_HELP,
    MODEL_INFO,
    MODEL_INFO_HELP,
    QUEUE_DEPTH,
    QUEUE_DEPTH_HELP,
    REQUESTS,
    REQUESTS_HELP,
    Histogram,
    Metrics,
)

__all__ = ["MULTIPROC_ENV", "WorkerMetrics"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_FILES = ("counter", "histogram", "gauge_livesum", "gauge_livemax")


class WorkerMetrics:
    """This worker's files in the shared directory, and the exposition over all workers."""

    def __init__(self, directory: Path, pid: int | None = None) -> None:
        self._directory = directory
        self._pid = os.getpid() if pid is None else pid
        self._files = {kind: self._open(kind) for kind in _FILES}
        self._keys: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], str] = {}
        self._registry = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(self._registry, path=str(directory))  # type: ignore[no-untyped-call]

    def _open(self, kind: str) -> MmapedDict:
        return MmapedDict(str(self._directory / f"{kind}_{self._pid}.db"))  # type: ignore[no-untyped-call]

    def render(self, metrics: Metrics) -> bytes:
        """Write this worker's totals, then sum every worker's files."""
        self.write(metrics)
        return generate_latest(self._registry)

    def write(self, metrics: Metrics) -> None:
        """Copy this worker's current totals into its files."""
        for (route, status), n in metrics.requests.items():
            labels = (route, str(status))
            self._put("counter", REQUESTS, "_total", REQUESTS_HELP, ("route", "status"), labels, n)
            if status >= 400:
                self._put("counter", ERRORS, "_total", ERRORS_HELP, ("route", "status"), labels, n)
        for route, histogram in metrics.latency.items():
            self._histogram(DURATION, DURATION_HELP, ("route",), (route,), histogram)
        self._histogram(BATCH_ROWS, BATCH_ROWS_HELP, (), (), metrics.batch_rows)
        self._put("counter", LOG_DROPPED, "_total", LOG_DROPPED_HELP, (), (), metrics.log_dropped())
        self._put("gauge_livesum", QUEUE_DEPTH, "", QUEUE_DEPTH_HELP, (), (), metrics.queue_depth())
        self._put("gauge_livesum", IN_FLIGHT, "", IN_FLIGHT_HELP, (), (), metrics.in_flight)
        if metrics.model is not None:
            self._put("gauge_livemax", MODEL_INFO, "", MODEL_INFO_HELP, ("name", "version"),
                      metrics.model, 1)  # fmt: skip

    def close(self) -> None:
        """Close this worker's files; its live gauges go, its counts stay for the others."""
        for mapped in self._files.values():
            mapped.close()  # type: ignore[no-untyped-call]
        mark_process_dead(self._pid, str(self._directory))  # type: ignore[no-untyped-call]

    def _histogram(
        self,
        name: str,
        help_text: str,
        labelnames: tuple[str, ...],
        labels: tuple[str, ...],
        histogram: Histogram,
    ) -> None:
        names = (*labelnames, "le")
        bounds = [*(float(b) for b in histogram.bounds), float("inf")]
        for bound, count in zip(bounds, histogram.counts, strict=True):
            le = "+Inf" if bound == float("inf") else repr(bound)
            self._put("histogram", name, "_bucket", help_text, names, (*labels, le), count)
        self._put("histogram", name, "_sum", help_text, labelnames, labels, histogram.total)

    def _put(
        self,
        kind: str,
        name: str,
        suffix: str,
        help_text: str,
        labelnames: tuple[str, ...],
        labels: tuple[str, ...],
        value: float,
    ) -> None:
        cache = (name, suffix, labelnames, labels)
        key = self._keys.get(cache)
        if key is None:
            key = self._keys[cache] = mmap_key(
                name, name + suffix, list(labelnames), list(labels), help_text
            )
        self._files[kind].write_value(key, float(value), 0.0)  # type: ignore[no-untyped-call]

"""Startup and shutdown of a serving process, and ``--follow-alias``.

Startup begins loading the model in a thread and returns at once, so the server answers
``/healthz`` (200) and ``/readyz`` (503) while a large model loads. With ``follow_alias`` a task
polls the source and swaps in each new version. Shutdown (after uvicorn has drained in-flight
requests) finishes queued predictions, stops the predict threads and flushes the prediction log.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from pathlib import Path

from shipyard.serve.dataplane import DataPlane
from shipyard.serve.metrics import Metrics
from shipyard.serve.predlog import PredictionLogger
from shipyard.serve.runtime import ModelRuntime, ServedModel
from shipyard.serve.sources import ModelSource, warm_up
from shipyard.serve.workermetrics import WorkerMetrics

__all__ = ["ServerLifespan"]

logger = logging.getLogger("shipyard.serve")

METRICS_FLUSH_SECONDS = 1.0


class ServerLifespan:
    """What happens when a serving process starts and stops."""

    def __init__(
        self,
        source: ModelSource,
        runtime: ModelRuntime,
        dataplane: DataPlane,
        metrics: Metrics,
        prediction_log: PredictionLogger | None,
        *,
        follow_alias: bool = False,
        poll_seconds: float = 2.0,
        metrics_dir: Path | None = None,
    ) -> None:
        self._source = source
        self._runtime = runtime
        self._dataplane = dataplane
        self._metrics = metrics
        self._log = prediction_log
        self._follow = follow_alias
        self._poll_seconds = poll_seconds
        self._tasks: list[asyncio.Task[None]] = []
        self._metrics_dir = metrics_dir
        self._shared: WorkerMetrics | None = None

    async def startup(self) -> None:
        if self._log is not None:
            self._log.start()
            self._metrics.log_dropped = lambda: self._log.dropped if self._log else 0
        self._metrics.queue_depth = lambda: self._runtime.queue_depth
        loop = asyncio.get_running_loop()
        if self._metrics_dir is not None:
            self._shared = self._metrics.shared = WorkerMetrics(self._metrics_dir)
            self._tasks.append(loop.create_task(self._flush_metrics(), name="shipyard-metrics"))
        self._tasks.append(loop.create_task(self._load(), name="shipyard-load"))

    async def shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._runtime.close()
        if self._log is not None:
            await asyncio.to_thread(self._log.close)
        if self._shared is not None:
            self._shared.write(self._metrics)
            self._shared.close()
            self._metrics.shared = self._shared = None

    async def _flush_metrics(self) -> None:
        """Keep this worker's numbers in the shared directory at most a second old."""
        while True:
            await asyncio.sleep(METRICS_FLUSH_SECONDS)
            if self._shared is not None:
                self._shared.write(self._metrics)

    async def _load(self) -> None:
        logger.info("loading %s", self._source.describe())
        try:
            served = await asyncio.to_thread(self._load_warm)
        except Exception as exc:
            self._dataplane.load_error = f"{type(exc).__name__}: {exc}"
            logger.error("could not load %s: %s", self._source.describe(), exc)
            return
        await self._activate(served)
        if self._follow:
            await self._follow_alias()

    def _load_warm(self) -> ServedModel:
        served = self._source.load()
        warm_up(served)
        return served

    async def _activate(self, served: ServedModel) -> None:
        await self._runtime.swap(served)
        self._metrics.model = (served.name, served.version_label)
        # The model's objects live as long as the process: keep the cyclic GC from rescanning
        # them on every collection, which shows up as latency spikes.
        gc.collect()
        gc.freeze()

    async def _follow_alias(self) -> None:
        while True:
            await asyncio.sleep(self._poll_seconds)
            current = self._runtime.current
            try:
                version = await asyncio.to_thread(self._source.current_version)
                if current is None or version == current.served.version:
                    continue
                logger.info(
                    "%s now points at version %s: loading it", self._source.describe(), version
                )
                served = await asyncio.to_thread(self._load_warm)
            except Exception as exc:
                logger.warning("following %s failed (will retry): %s", self._source.describe(), exc)
                continue
            if served.version != current.served.version:
                await self._activate(served)

"""Adaptive micro-batching: concurrent requests share one model call, then get their own rows back.

One dedicated predict thread runs the model, so compute never blocks the event loop and the model
is never called from many threads at once (which made forests slower, not faster). While it works
on one batch, new requests queue up; when it is free, the queue is merged, counting rows rather
than requests, up to ``max_batch_size`` rows. A request that already carries ``max_batch_size``
rows or more goes alone at once: nothing holds it back.

The ``max_latency_ms`` window is adaptive: a lone caller (the previous call served one request)
is dispatched at once, so single-connection latency pays nothing; under concurrent load the
batcher waits at most that long after the oldest queued request for others to join it.

    batcher = MicroBatcher(model.predict, BatchPolicy(max_batch_size=64, max_latency_s=0.001))
    await batcher.start()
    outputs = await batcher.submit({"input": rows}, rows=len(rows))
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from shipyard.errors import PredictionError

__all__ = [
    "BatchPolicy",
    "BatcherClosedError",
    "MicroBatcher",
    "Predict",
    "merge_inputs",
    "split_outputs",
]

Predict = Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]]
Outputs = dict[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class BatchPolicy:
    """How requests are merged: ``enabled=False`` calls the model once per request."""

    max_batch_size: int = 64
    max_latency_s: float = 0.001
    enabled: bool = True


class BatcherClosedError(RuntimeError):
    """The batcher is closing (its version was swapped out): send the request to the new one."""


class _Pending:
    __slots__ = ("arrived", "future", "inputs", "rows")

    def __init__(
        self,
        inputs: Mapping[str, np.ndarray],
        rows: int,
        future: asyncio.Future[Outputs],
        at: float,
    ) -> None:
        self.inputs = inputs
        self.rows = rows
        self.future = future
        self.arrived = at


def merge_inputs(parts: list[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate each named input along the batch dimension, in order."""
    if len(parts) == 1:
        return dict(parts[0])
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def split_outputs(outputs: Outputs, sizes: list[int]) -> list[Outputs]:
    """Cut each output back into per-request slices; raise if the model lost or added rows."""
    total = sum(sizes)
    for name, array in outputs.items():
        if array.ndim == 0 or array.shape[0] != total:
            raise PredictionError(
                f"output {name!r} has shape {list(array.shape)} for a batch of {total} rows: "
                "the first dimension of every output must be the batch"
            )
    result: list[Outputs] = []
    start = 0
    for size in sizes:
        result.append({name: array[start : start + size] for name, array in outputs.items()})
        start += size
    return result


class MicroBatcher:
    """Queue requests, merge them into model calls on one predict thread, split results back."""

    def __init__(
        self,
        predict: Predict,
        policy: BatchPolicy,
        *,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._predict = predict
        self._policy = policy
        self._on_batch = on_batch
        self._queue: deque[_Pending] = deque()
        self._queued_rows = 0
        self._wakeup = asyncio.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._last_merged = 1

    @property
    def queue_depth(self) -> int:
        """Requests waiting for the predict thread."""
        return len(self._queue)

    async def start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shipyard-predict")
        self._task = asyncio.get_running_loop().create_task(self._run(), name="shipyard-batcher")

    async def submit(self, inputs: Mapping[str, np.ndarray], rows: int) -> Outputs:
        """Queue one request of ``rows`` rows and wait for its own outputs."""
        if self._closing or self._task is None:
            raise BatcherClosedError("the batcher is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outputs] = loop.create_future()
        self._queue.append(_Pending(inputs, rows, future, loop.time()))
        self._queued_rows += rows
        self._wakeup.set()
        return await future

    async def close(self) -> None:
        """Finish every queued request, then stop the predict thread."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        policy = self._policy
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if (
                policy.enabled
                and policy.max_latency_s > 0
                and self._last_merged > 1
                and self._queued_rows < policy.max_batch_size
            ):
                remaining = self._queue[0].arrived + policy.max_latency_s - loop.time()
                if remaining > 0:
                    await asyncio.sleep(remaining)
            batch = self._take()
            self._last_merged = len(batch)
            try:
                results = await loop.run_in_executor(self._executor, self._call, batch)
            except BaseException as exc:  # pragma: no cover - executor shut down under us
                results = [exc] * len(batch)
            for pending, result in zip(batch, results, strict=True):
                if pending.future.done():
                    continue
                if isinstance(result, BaseException):
                    pending.future.set_exception(result)
                else:
                    pending.future.set_result(result)
            if self._on_batch is not None:
                self._on_batch(sum(p.rows for p in batch))

    def _take(self) -> list[_Pending]:
        batch: list[_Pending] = []
        rows = 0
        limit = self._policy.max_batch_size
        queue = self._queue
        while queue:
            head = queue[0]
            if batch and (not self._policy.enabled or rows + head.rows > limit):
                break
            batch.append(queue.popleft())
            rows += head.rows
        self._queued_rows -= rows
        return batch

    def _call(self, batch: list[_Pending]) -> list[Outputs | BaseException]:
        """Runs on the predict thread: one merged call, or each alone if the merged one fails."""
        if len(batch) == 1:
            return [self._call_one(batch[0])]
        try:
            merged = self._predict(merge_inputs([p.inputs for p in batch]))
            return list(split_outputs(merged, [p.rows for p in batch]))
        except Exception:
            return [self._call_one(p) for p in batch]

    def _call_one(self, pending: _Pending) -> Outputs | BaseException:
        try:
            return self._predict(pending.inputs)
        except Exception as exc:
            return exc

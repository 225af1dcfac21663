"""Adaptive micro-batching: concurrent requests share one model call, then get their own rows back.

One dedicated predict thread runs the model, so compute never blocks the event loop and the model
is never called from many threads at once (which made forests slower, not faster). While it works
on one batch, new requests queue up; when it is free, the queue is merged, counting rows rather
than requests, up to ``max_batch_size`` rows. A request that already carries ``max_batch_size``
rows or more goes alone at once: nothing holds it back.

The ``max_latency_ms`` window is adaptive: a lone caller (the previous call served one request)
is dispatched at once, so single-connection latency pays nothing; under concurrent load the
batcher waits at most that long after the oldest queued request for others to join it.

A request the server knows to be ``alone`` (no other request is being answered by this process)
skips the hand-off too: when the batcher is idle, its last call served one request (not a
merged batch: under many connections the first request after a batch is often alone for a
moment, and calling it on the loop would keep the others from joining the next batch) and the
model's last call alone took at most ``BatchPolicy.inline_max_s`` for as many rows, it is
called right on the event loop. Nothing
waits meanwhile, so nothing is delayed by more than that bound; the two thread hand-offs
(about 0.1 ms a request, bench/serve) are gone. Validation, metrics and the prediction log are
the caller's and stay the same.

    batcher = MicroBatcher(model.predict_named, BatchPolicy(max_batch_size=64, max_latency_s=0.001))
    await batcher.start()
    outputs = await batcher.submit({"input": rows}, rows=len(rows))
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from queue import SimpleQueue

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
    inline_max_s: float = 0.02


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
    """Queue requests, merge them into model calls on one predict thread, split results back.

    No task sits in between: ``submit`` schedules a dispatch when the thread is idle, the thread
    hands results back with ``call_soon_threadsafe``, and finishing one batch dispatches the next.
    """

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
        self._work: SimpleQueue[list[_Pending] | None] = SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._busy = False  # a batch is scheduled, waiting for its window, or on the thread
        self._closing = False
        self._idle: asyncio.Event | None = None
        self._last_merged = 1
        self._timed = (float("inf"), 0)  # (seconds, rows) of the last call for one request

    @property
    def queue_depth(self) -> int:
        """Requests waiting for the predict thread."""
        return len(self._queue)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._idle = asyncio.Event()
        self._thread = threading.Thread(
            target=self._predict_loop, args=(self._loop,), name="shipyard-predict", daemon=True
        )
        self._thread.start()

    async def submit(
        self, inputs: Mapping[str, np.ndarray], rows: int, *, alone: bool = False
    ) -> Outputs:
        """Queue one request of ``rows`` rows and wait for its own outputs.

        ``alone``: no other request is being answered in this process (the server knows), so a
        quick model may be called at once, on the loop.
        """
        loop = self._loop
        if self._closing or loop is None:
            raise BatcherClosedError("the batcher is not running")
        if alone and not self._busy and self._last_merged <= 1 and self._is_quick(rows):
            return self._call_inline(inputs, rows)
        future: asyncio.Future[Outputs] = loop.create_future()
        self._queue.append(_Pending(inputs, rows, future, loop.time()))
        self._queued_rows += rows
        if not self._busy:
            self._busy = True
            if self._last_merged > 1:
                loop.call_soon(self._dispatch)  # let requests parsed in this iteration join
            else:
                self._send()  # a lone caller goes to the model at once
        return await future

    async def close(self) -> None:
        """Finish every queued request, then stop the predict thread."""
        self._closing = True
        if self._idle is not None and (self._busy or self._queue):
            await self._idle.wait()
        if self._thread is not None:
            self._work.put(None)
            await asyncio.to_thread(self._thread.join)
            self._thread = None

    def _is_quick(self, rows: int) -> bool:
        seconds, timed_rows = self._timed
        return rows <= timed_rows and seconds <= self._policy.inline_max_s

    def _call_inline(self, inputs: Mapping[str, np.ndarray], rows: int) -> Outputs:
        self._last_merged = 1
        result = self._call_alone(inputs, rows)
        if self._on_batch is not None:
            self._on_batch(rows)
        if isinstance(result, BaseException):
            raise result
        return result

    def _dispatch(self) -> None:
        """On the loop: send the next batch to the thread, or wait out the latency window."""
        loop = self._loop
        if loop is None:
            return
        policy = self._policy
        if (
            policy.enabled
            and policy.max_latency_s > 0
            and self._last_merged > 1
            and self._queued_rows < policy.max_batch_size
        ):
            remaining = self._queue[0].arrived + policy.max_latency_s - loop.time()
            if remaining > 0:
                loop.call_later(remaining, self._send)
                return
        self._send()

    def _send(self) -> None:
        batch = self._take()
        self._last_merged = len(batch)
        self._work.put(batch)

    def _finish(self, batch: list[_Pending], results: list[Outputs | BaseException]) -> None:
        """On the loop: hand each caller its result, then dispatch what queued meanwhile."""
        for pending, result in zip(batch, results, strict=True):
            if pending.future.done():
                continue
            if isinstance(result, BaseException):
                pending.future.set_exception(result)
            else:
                pending.future.set_result(result)
        if self._on_batch is not None:
            self._on_batch(sum(p.rows for p in batch))
        if self._queue:
            self._dispatch()
        else:
            self._busy = False
            if self._closing and self._idle is not None:
                self._idle.set()

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

    def _predict_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """The predict thread: run each batch it is handed, post the results to the loop."""
        while True:
            batch = self._work.get()
            if batch is None:
                return
            results = self._call(batch)
            try:
                loop.call_soon_threadsafe(self._finish, batch, results)
            except RuntimeError:  # pragma: no cover - the loop closed under us
                return

    def _call(self, batch: list[_Pending]) -> list[Outputs | BaseException]:
        """On the predict thread: one merged call, or each alone if the merged one fails."""
        if len(batch) == 1:
            return [self._call_one(batch[0])]
        try:
            merged = self._predict(merge_inputs([p.inputs for p in batch]))
            return list(split_outputs(merged, [p.rows for p in batch]))
        except Exception:
            return [self._call_one(p) for p in batch]

    def _call_one(self, pending: _Pending) -> Outputs | BaseException:
        return self._call_alone(pending.inputs, pending.rows)

    def _call_alone(self, inputs: Mapping[str, np.ndarray], rows: int) -> Outputs | BaseException:
        """One request's own model call, timed (that decides whether the next may go inline)."""
        started = time.perf_counter()
        try:
            return self._predict(inputs)
        except Exception as exc:
            return exc
        finally:
            self._timed = (time.perf_counter() - started, rows)

"""The prediction log: each request's inputs, outputs, latency, version and id, as JSON lines.

A background writer thread drains a bounded queue to a file (or stdout). A request only does a
``put_nowait``: when the queue is full the record is dropped and counted (``/metrics`` reports
it), so logging never slows or fails a request. Serialization happens on the writer thread.

    {"request_id": "…", "ts": 1732…, "model_name": "iris", "model_version": 3,
     "latency_ms": 1.9, "inputs": {"input": [[…]]}, "outputs": {"predictions": [0]}}
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from shipyard.types import JSON

__all__ = ["PredictionLogger", "PredictionRecord"]

logger = logging.getLogger("shipyard.serve")

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE
_DRAIN = 4096
_INTERVAL_S = 0.02


@dataclass(frozen=True, slots=True)
class PredictionRecord:
    """One served prediction, as monitoring will read it back."""

    request_id: str
    ts: float
    model_name: str
    model_version: int | None
    latency_ms: float
    inputs: Mapping[str, np.ndarray]
    outputs: Mapping[str, np.ndarray]

    def to_dict(self) -> JSON:
        return {
            "request_id": self.request_id,
            "ts": self.ts,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "latency_ms": round(self.latency_ms, 3),
            "inputs": {k: _plain(v) for k, v in self.inputs.items()},
            "outputs": {k: _plain(v) for k, v in self.outputs.items()},
        }


def _plain(array: np.ndarray) -> Any:
    if array.dtype.kind in "biuf" and array.dtype != np.float16:
        return np.ascontiguousarray(array)
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in array.tolist()]


class PredictionLogger:
    """Appends ``PredictionRecord``s as JSON lines from a background thread."""

    def __init__(self, target: str, max_queue: int = 10_000) -> None:
        self._target = target
        self._queue: queue.Queue[PredictionRecord | None] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self.written = 0

    def start(self) -> None:
        if self._target != "-":
            Path(self._target).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(
            target=self._write_loop, name="shipyard-prediction-log", daemon=True
        )
        self._thread.start()

    def log(self, record: PredictionRecord) -> None:
        """Queue a record; drop and count it when the queue is full. Never blocks."""
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop the writer thread (give up after ``timeout`` s)."""
        if self._thread is None:
            return
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            logger.warning("prediction log writer is stuck: queued records are not written")
        self._thread.join(timeout=timeout)
        if self._thread.is_alive():
            logger.warning("prediction log writer did not finish within %s s", timeout)
        self._thread = None

    def _write_loop(self) -> None:
        if self._target == "-":
            self._drain(sys.stdout.buffer)
            return
        with Path(self._target).expanduser().open("ab") as stream:
            self._drain(stream)

    def _drain(self, stream: IO[bytes]) -> None:
        while True:
            first = self._queue.get()
            records = [first]
            while len(records) < _DRAIN:
                try:
                    records.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            done = None in records
            lines = [orjson.dumps(r.to_dict(), option=_OPTIONS) for r in records if r is not None]
            if lines:
                stream.write(b"".join(lines))
                stream.flush()
                self.written += len(lines)
            if done:
                return
            # Let records gather: one wake-up and one write per interval, not one per request.
            time.sleep(_INTERVAL_S)

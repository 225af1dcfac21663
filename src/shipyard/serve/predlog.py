"""The prediction log: each request's inputs, outputs, latency, version and id, as JSON lines.

A background writer thread drains a bounded queue to a file (or stdout) every 20 ms. A request
only appends to a deque (no lock, no wake-up): when the queue is full the record is dropped and
counted (``/metrics`` reports it), so logging never slows or fails a request. Serialization
happens on the writer thread.

    {"request_id": "…", "ts": 1732…, "model_name": "iris", "model_version": 3,
     "latency_ms": 1.9, "inputs": {"input": [[…]]}, "outputs": {"predictions": [0]}}
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import deque
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
        self._max_queue = max_queue
        self._records: deque[PredictionRecord] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self.written = 0

    def start(self) -> None:
        if self._target != "-":
            Path(self._target).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._write_loop, name="shipyard-prediction-log", daemon=True
        )
        self._thread.start()

    def log(self, record: PredictionRecord) -> None:
        """Queue a record; drop and count it when the queue is full. Never blocks."""
        if len(self._records) >= self._max_queue:
            self.dropped += 1
        else:
            self._records.append(record)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop the writer thread (give up after ``timeout`` s)."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=timeout)
        if self._thread.is_alive():
            logger.warning(
                "prediction log writer did not finish within %s s: %d queued records are not "
                "written",
                timeout,
                len(self._records),
            )
        self._thread = None

    def _write_loop(self) -> None:
        if self._target == "-":
            self._drain(sys.stdout.buffer)
            return
        with Path(self._target).expanduser().open("ab") as stream:
            self._drain(stream)

    def _drain(self, stream: IO[bytes]) -> None:
        """Every interval, write what has gathered in one write; after ``close``, the rest."""
        records = self._records
        while True:
            stopping = self._stop.wait(_INTERVAL_S)
            while records:
                batch = [records.popleft() for _ in range(min(_DRAIN, len(records)))]
                stream.write(b"".join(orjson.dumps(r.to_dict(), option=_OPTIONS) for r in batch))
                stream.flush()
                self.written += len(batch)
            if stopping:
                return

"""The prediction log: each request's inputs, outputs, latency, version and id, as JSON lines.

A background writer thread drains a bounded queue to a file (or stdout) every 20 ms. A request
only appends to a deque (no lock, no wake-up): when the queue is full the record is dropped and
counted (``/metrics`` reports it), so logging never slows or fails a request. Serialization
happens on the writer thread.

Record schema, version 1 (``"v": 1``; ``docs/architecture/08-monitor.md`` documents every field)::

    {"v": 1, "request_id": "…", "ts": 1732…, "model_name": "iris", "model_version": 3,
     "status": "ok", "latency_ms": 1.9, "inputs": {"input": [[…]]}, "outputs": {"predictions": [0]}}

A request the server rejected (its inputs failed validation) is logged with ``"status":
"rejected"``, an ``"error"`` and no inputs or outputs. Readers skip lines whose ``v`` they do not
know. A file log rotates when it reaches ``max_bytes`` or is ``rotate_seconds`` old: it is renamed
``<stem>.<UTC time>-<pid><suffix>`` and only the newest ``keep`` rotated segments are kept, so disk
use stays under ``(keep + 1) * max_bytes``. Worker processes sharing one path notice that another
worker rotated it (the inode changed) and reopen.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import orjson

from shipyard.types import JSON

__all__ = ["SCHEMA_VERSION", "LogRotation", "PredictionLogger", "PredictionRecord"]

logger = logging.getLogger("shipyard.serve")

SCHEMA_VERSION = 1
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE
_DRAIN = 4096
_INTERVAL_S = 0.02
_EMPTY: Mapping[str, np.ndarray] = {}


@dataclass(frozen=True, slots=True)
class PredictionRecord:
    """One served (or rejected) prediction, as monitoring will read it back."""

    request_id: str
    ts: float
    model_name: str
    model_version: int | None
    latency_ms: float
    inputs: Mapping[str, np.ndarray]
    outputs: Mapping[str, np.ndarray]
    status: Literal["ok", "rejected"] = "ok"
    error: str | None = None

    def to_dict(self) -> JSON:
        record: JSON = {
            "v": SCHEMA_VERSION,
            "request_id": self.request_id,
            "ts": self.ts,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 3),
        }
        if self.status == "ok":
            record["inputs"] = {k: _plain(v) for k, v in self.inputs.items()}
            record["outputs"] = {k: _plain(v) for k, v in self.outputs.items()}
        else:
            record["error"] = self.error
        return record

    @classmethod
    def rejected(
        cls, request_id: str, model_name: str, model_version: int | None, error: str
    ) -> PredictionRecord:
        """The record of a request whose inputs the server refused."""
        return cls(request_id, time.time(), model_name, model_version, 0.0, _EMPTY, _EMPTY,
                   "rejected", error)  # fmt: skip


def _plain(array: np.ndarray) -> Any:
    if array.dtype.kind in "biuf" and array.dtype != np.float16:
        return np.ascontiguousarray(array)
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in array.tolist()]


@dataclass(frozen=True, slots=True)
class LogRotation:
    """When a file log rotates and how many rotated segments stay on disk."""

    max_bytes: int = 64 * 1024 * 1024
    max_seconds: float = 3600.0
    keep: int = 24

    def __post_init__(self) -> None:
        if self.max_bytes < 1024 or self.max_seconds <= 0 or self.keep < 1:
            raise ValueError(f"invalid log rotation {self}: need max_bytes >= 1024, "
                             "max_seconds > 0 and keep >= 1")  # fmt: skip


class PredictionLogger:
    """Appends ``PredictionRecord``s as JSON lines from a background thread."""

    def __init__(
        self, target: str, max_queue: int = 10_000, rotation: LogRotation | None = None
    ) -> None:
        self._target = target
        self._max_queue = max_queue
        self._rotation = rotation or LogRotation()
        self._records: deque[PredictionRecord] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self.written = 0
        self.rotated = 0

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
            self._drain(_Stdout())
            return
        segment = _Segment(Path(self._target).expanduser(), self._rotation)
        segment.stream()  # open now: a FIFO blocks here until its reader comes
        try:
            self._drain(segment)
        finally:
            segment.close()
        self.rotated = segment.rotated

    def _drain(self, sink: _Sink) -> None:
        """Every interval, write what has gathered in one write; after ``close``, the rest."""
        records = self._records
        while True:
            stopping = self._stop.wait(_INTERVAL_S)
            while records:
                batch = [records.popleft() for _ in range(min(_DRAIN, len(records)))]
                stream = sink.stream()
                stream.write(b"".join(orjson.dumps(r.to_dict(), option=_OPTIONS) for r in batch))
                stream.flush()
                self.written += len(batch)
            if stopping:
                return


class _Sink:
    def stream(self) -> IO[bytes]:
        raise NotImplementedError


class _Stdout(_Sink):
    def stream(self) -> IO[bytes]:
        return sys.stdout.buffer


@dataclass
class _Segment(_Sink):
    """The open file of a rotating log; ``stream()`` rotates it first when it is due."""

    path: Path
    rotation: LogRotation
    rotated: int = 0
    _file: IO[bytes] | None = None
    _opened: float = field(default=0.0)

    def stream(self) -> IO[bytes]:
        if self._file is None:
            return self._open()
        try:
            same = os.stat(self.path).st_ino == os.fstat(self._file.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # another worker rotated it (or someone removed it): start a new file
            self.close()
            return self._open()
        size = os.fstat(self._file.fileno()).st_size
        if size >= self.rotation.max_bytes or (
            size and time.time() - self._opened >= self.rotation.max_seconds
        ):
            self._rotate()
            return self._open()
        return self._file

    def _open(self) -> IO[bytes]:
        self._file = self.path.open("ab")
        self._opened = time.time()
        return self._file

    def _rotate(self) -> None:
        self.close()
        now = time.time()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{now % 1:.6f}"[1:] + "Z"
        target = self.path.with_name(f"{self.path.stem}.{stamp}-{os.getpid()}{self.path.suffix}")
        try:
            self.path.rename(target)
        except FileNotFoundError:
            return
        self.rotated += 1
        pattern = f"{self.path.stem}.*{self.path.suffix}"
        segments = sorted(self.path.parent.glob(pattern))
        for old in segments[: max(0, len(segments) - self.rotation.keep)]:
            old.unlink(missing_ok=True)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

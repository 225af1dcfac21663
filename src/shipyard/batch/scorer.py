"""Score one chunk the way the server scores a request, and write its part.

``RowScorer`` (``batch/rows.py``) converts, validates and predicts the chunk, setting bad rows
aside; ``ChunkScorer`` adds what a ``shipyard predict`` run needs around it: the row numbers of
the whole input in its errors, the prediction log, and the part and rejects files of the chunk.
"""

from __future__ import annotations

import time
import uuid

import numpy as np
import pyarrow as pa

from shipyard.batch.location import Location
from shipyard.batch.options import DataFormat, OnError
from shipyard.batch.progress import ChunkRecord
from shipyard.batch.reader import Chunk
from shipyard.batch.rejects import rejected_rows
from shipyard.batch.rows import MAX_CALLS, RowScorer, Tensors
from shipyard.batch.writer import encode_part, output_table, part_name
from shipyard.errors import InvalidInputError, PredictionError
from shipyard.serve.predlog import PredictionLogger, PredictionRecord
from shipyard.serve.runtime import ServedModel

__all__ = ["MAX_CALLS", "ChunkScorer"]


class ChunkScorer:
    """Scores chunks with one model and writes their parts into ``partial``."""

    def __init__(
        self,
        served: ServedModel,
        partial: Location,
        keep: tuple[str, ...],
        output_format: DataFormat,
        on_error: OnError,
        features: tuple[str, ...] = (),
    ) -> None:
        self._served = served
        self._partial = partial
        self._keep = keep
        self._format = output_format
        self._on_error = on_error
        self._rows = RowScorer(served.model, on_error, features)
        self._run = uuid.uuid4().hex[:12]

    def score(self, chunk: Chunk, log: PredictionLogger | None) -> ChunkRecord:
        converted = self._rows.convert(chunk)
        first, last = chunk.start, chunk.start + chunk.rows - 1
        if converted.reasons and self._on_error == "fail":
            row, reason = min(converted.reasons.items())
            raise InvalidInputError(
                f"row {chunk.start + row} (0-based): {reason}. Fix the input, or pass "
                "--on-error skip to set bad rows aside in a rejects file"
            )
        began = time.perf_counter()
        try:
            scored = self._rows.predict(converted)
        except InvalidInputError as exc:
            raise InvalidInputError(f"rows {first}-{last}: {exc}") from None
        except PredictionError as exc:
            raise PredictionError(f"rows {first}-{last}: {exc}") from exc
        good, reasons = scored.good, scored.reasons
        part = None
        columns: list[str] = []
        if good.any():
            if log is not None:
                log.log(self._record(chunk, began, scored.inputs, scored.outputs))
            kept = {k: _kept(chunk, k, good) for k in self._keep}
            table = output_table(kept, scored.outputs, self._format)
            columns = list(table.column_names)
            part = part_name(chunk.index, self._format)
            self._partial.child(part).write_atomic(encode_part(table, self._format))
        rejects = None
        if reasons:
            rejects = f"rejects-{chunk.index:06d}.jsonl"
            self._partial.child(rejects).write_atomic(rejected_rows(chunk, reasons))
        written = int(good.sum())
        return ChunkRecord(
            chunk.index,
            chunk.start,
            chunk.rows,
            written,
            chunk.rows - written,
            part,
            rejects,
            columns,
        )

    def _record(
        self, chunk: Chunk, began: float, inputs: Tensors, outputs: Tensors
    ) -> PredictionRecord:
        return PredictionRecord(
            request_id=f"batch-{self._run}-{chunk.index:06d}",
            ts=time.time(),
            model_name=self._served.name,
            model_version=self._served.version,
            latency_ms=(time.perf_counter() - began) * 1000.0,
            inputs=inputs,
            outputs=outputs,
        )


def _kept(chunk: Chunk, name: str, good: np.ndarray) -> pa.Array:
    if chunk.table is not None:
        column = chunk.table.column(name)
        return column if bool(good.all()) else column.filter(pa.array(good))
    values = [r.get(name) if isinstance(r, dict) else None for r in chunk.records or ()]
    values = [v for v, ok in zip(values, good, strict=True) if ok]
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values])

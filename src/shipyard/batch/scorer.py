"""Score one chunk the way the server scores a request, and write its part.

``Converter`` finds the bad rows; the good ones go through the serve stage's ``InputValidator``,
``LoadedModel.predict_named`` and ``validate_outputs``, then to the prediction log.
With ``on_error="skip"``, a model that raises on a chunk is called again on halves of it until
the rows it raises on are found (at most ``MAX_CALLS`` extra calls a chunk): those rows are
rejected with the model's message, the rest are scored. A model that raises on every row, or on
more rows than the budget can find, fails the job: that is a broken model, not bad rows.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from shipyard.batch.convert import Converter
from shipyard.batch.location import Location
from shipyard.batch.options import DataFormat, OnError
from shipyard.batch.progress import ChunkRecord
from shipyard.batch.reader import Chunk
from shipyard.batch.rejects import rejected_rows
from shipyard.batch.writer import encode_part, output_table, part_name
from shipyard.errors import InvalidInputError, PredictionError
from shipyard.models.signature import Signature
from shipyard.serve.predlog import PredictionLogger, PredictionRecord
from shipyard.serve.runtime import ServedModel
from shipyard.serve.validation import InputValidator, validate_outputs

__all__ = ["MAX_CALLS", "ChunkScorer"]

MAX_CALLS = 512
Tensors = dict[str, np.ndarray]


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
        signature = served.model.signature
        self._converter = Converter(signature, features)
        self._validator = InputValidator(signature)
        self._run = uuid.uuid4().hex[:12]

    def score(self, chunk: Chunk, log: PredictionLogger | None) -> ChunkRecord:
        converted = self._converter.convert(chunk)
        reasons = dict(converted.reasons)
        good = converted.good.copy()
        first, last = chunk.start, chunk.start + chunk.rows - 1
        if reasons and self._on_error == "fail":
            row, reason = min(reasons.items())
            raise InvalidInputError(
                f"row {chunk.start + row} (0-based): {reason}. Fix the input, or pass "
                "--on-error skip to set bad rows aside in a rejects file"
            )
        part = None
        columns: list[str] = []
        if good.any():
            began = time.perf_counter()
            try:
                inputs, rows = self._validator.validate(converted.tensors)
            except InvalidInputError as exc:
                raise InvalidInputError(f"rows {first}-{last}: {exc}") from None
            try:
                outputs, failed = self._predict(inputs, rows)
            except PredictionError as exc:
                raise PredictionError(f"rows {first}-{last}: {exc}") from exc
            if failed:
                positions = np.flatnonzero(good)
                survivors = np.ones(rows, dtype=bool)
                for index, reason in failed.items():
                    reasons[int(positions[index])] = reason
                    good[positions[index]] = False
                    survivors[index] = False
                inputs = {name: array[survivors] for name, array in inputs.items()}
            if log is not None:
                log.log(self._record(chunk, began, inputs, outputs))
            kept = {k: _kept(chunk, k, good) for k in self._keep}
            table = output_table(kept, outputs, self._format)
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

    def _predict(self, inputs: Tensors, rows: int) -> tuple[Tensors, dict[int, str]]:
        """The outputs for the rows the model can score, and the rows it raised on."""
        model = self._served.model
        try:
            outputs = model.predict_named(_frame(model.signature, inputs))
        except PredictionError:
            if self._on_error == "fail":
                raise
            outputs, failed = _bisect(model.predict_named, inputs, rows)
            validate_outputs(model.signature, outputs, rows - len(failed))
            return outputs, failed
        validate_outputs(model.signature, outputs, rows)
        return outputs, {}

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


def _frame(signature: Signature | None, inputs: Tensors) -> Tensors | pd.DataFrame:
    """Columns of one numeric dtype as a single-block DataFrame, laid out as Arrow's
    ``to_pandas`` lays it out: one ``(columns, rows)`` block, each column one contiguous copy.
    That is one copy here instead of pandas interleaving 30 blocks and scikit-learn copying
    again, and far cheaper than ``np.column_stack`` (a strided scatter into row-major order)."""
    if signature is None or signature.input_kind != "columns":
        return inputs
    arrays = [inputs[name] for name in signature.input_names]
    if len({a.dtype for a in arrays}) != 1 or arrays[0].dtype.kind not in "biuf":
        return inputs
    if any(a.ndim != 1 for a in arrays):
        return inputs
    block = np.empty((len(arrays), len(arrays[0])), dtype=arrays[0].dtype)
    for row, array in zip(block, arrays, strict=True):
        row[...] = array
    return pd.DataFrame(block.T, columns=list(signature.input_names), copy=False)


def _bisect(predict: Any, inputs: Tensors, rows: int) -> tuple[Tensors, dict[int, str]]:
    """Call ``predict`` on halves until the single rows it raises on are found."""
    pieces: list[Tensors] = []
    failed: dict[int, str] = {}
    calls = 0

    def walk(lo: int, hi: int) -> None:
        nonlocal calls
        calls += 1
        if calls > MAX_CALLS:
            raise PredictionError(
                f"the model raised on so many rows that {MAX_CALLS} calls did not find them "
                f"all ({len(failed)} found): this is not a bad-row problem"
            )
        try:
            pieces.append(predict({k: v[lo:hi] for k, v in inputs.items()}))
            return
        except PredictionError as exc:
            if hi - lo == 1:
                failed[lo] = f"the model raised on this row: {exc}"
                return
        middle = (lo + hi) // 2
        walk(lo, middle)
        walk(middle, hi)

    walk(0, rows)
    if not pieces:
        raise PredictionError(f"the model raised on every row: {next(iter(failed.values()))}")
    return {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}, failed


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

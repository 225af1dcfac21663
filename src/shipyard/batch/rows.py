"""Score one chunk's rows the way the server scores a request, writing nothing.

``Converter`` finds the bad rows; the good ones go through the serve stage's ``InputValidator``,
``LoadedModel.predict_named`` and ``validate_outputs``. With ``on_error="skip"``, a model that
raises on a chunk is called again on halves of it until the rows it raises on are found (at most
``MAX_CALLS`` extra calls a chunk): those rows are rejected with the model's message, the rest are
scored. A model that raises on every row, or on more rows than the budget can find, raises: that
is a broken model, not bad rows. ``shipyard predict`` (``ChunkScorer``) and the Spark UDF both
score through ``RowScorer``.

    >>> rows = RowScorer(model, "skip", features=("f0", "f1"))
    >>> scored = rows.predict(rows.convert(chunk))
    >>> scored.good.sum(), scored.reasons
    (4095, {17: "field 'f1': expected FP64 values, got 'abc'"})
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shipyard.batch.convert import Converted, Converter
from shipyard.batch.options import OnError
from shipyard.batch.reader import Chunk
from shipyard.errors import PredictionError
from shipyard.models.predictor import LoadedModel
from shipyard.models.signature import Signature
from shipyard.serve.validation import InputValidator, validate_outputs

__all__ = ["MAX_CALLS", "RowScorer", "Scored", "Tensors"]

MAX_CALLS = 512
Tensors = dict[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class Scored:
    """A chunk's predictions: ``outputs`` has one row per ``good`` row, in chunk order;
    ``inputs`` are the scored rows' model inputs; ``reasons`` say why each other row was not."""

    inputs: Tensors
    outputs: Tensors
    good: np.ndarray
    reasons: dict[int, str]


class RowScorer:
    """Converts, validates and predicts chunks with one model (``features``: the columns read)."""

    def __init__(self, model: LoadedModel, on_error: OnError, features: Sequence[str] = ()) -> None:
        self._model = model
        self._on_error = on_error
        self._converter = Converter(model.signature, features)
        self._validator = InputValidator(model.signature)

    def convert(self, chunk: Chunk) -> Converted:
        """The chunk's model inputs and its bad rows (which ``on_error="fail"`` should stop on)."""
        return self._converter.convert(chunk)

    def predict(self, converted: Converted) -> Scored:
        """Validate and predict the good rows. Raises ``InvalidInputError`` for inputs the
        validator refuses (a wrong column type), ``PredictionError`` for a model that fails."""
        reasons = dict(converted.reasons)
        good = converted.good.copy()
        if not good.any():
            return Scored({}, {}, good, reasons)
        inputs, rows = self._validator.validate(converted.tensors)
        outputs, failed = self._predict(inputs, rows)
        if failed:
            positions = np.flatnonzero(good)
            survivors = np.ones(rows, dtype=bool)
            for index, reason in failed.items():
                reasons[int(positions[index])] = reason
                good[positions[index]] = False
                survivors[index] = False
            inputs = {name: array[survivors] for name, array in inputs.items()}
        return Scored(inputs, outputs, good, reasons)

    def _predict(self, inputs: Tensors, rows: int) -> tuple[Tensors, dict[int, str]]:
        """The outputs for the rows the model can score, and the rows it raised on."""
        model = self._model
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

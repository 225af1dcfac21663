"""A chunk's columns -> the model's input tensors, with every bad row found and named.

Each feature column becomes an array of its signature dtype. A value that does not fit (text in
a number column, a fraction in an integer column, a missing value where no NaN can stand in) makes
its row a *bad row* with a reason, which ``--on-error`` fails on or sets aside; the good rows go
on to the serve stage's ``InputValidator``, so batch and HTTP requests pass exactly the same
checks. JSON-lines records go through the serve stage's own ``coerce_column``, as ``/predict``
bodies do. A wrong column *type* in a typed file (Parquet doubles for an integer input) is not a
row problem: the validator's error fails the job whatever ``--on-error`` says.

    >>> converted = Converter(signature, features=("f0", "f1")).convert(chunk)
    >>> converted.reasons   # chunk-relative row -> why it was rejected
    {17: "field 'f1': expected FP64 values, got ['abc']"}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.batch.reader import BadLine, Chunk
from shipyard.errors import InvalidInputError
from shipyard.models.signature import Signature, TensorSpec
from shipyard.serve.validation import coerce_column
from shipyard.types import DType

__all__ = ["Converted", "Converter"]

_ARROW: dict[DType, pa.DataType] = {
    DType.BOOL: pa.bool_(),
    DType.UINT8: pa.uint8(),
    DType.UINT16: pa.uint16(),
    DType.UINT32: pa.uint32(),
    DType.UINT64: pa.uint64(),
    DType.INT8: pa.int8(),
    DType.INT16: pa.int16(),
    DType.INT32: pa.int32(),
    DType.INT64: pa.int64(),
    DType.FP16: pa.float16(),
    DType.FP32: pa.float32(),
    DType.FP64: pa.float64(),
}


@dataclass(frozen=True, slots=True)
class Converted:
    """The good rows' tensors, which rows are good, and why the others are not."""

    tensors: dict[str, np.ndarray]
    good: np.ndarray
    reasons: Mapping[int, str] = field(default_factory=dict)


class Converter:
    """Builds model inputs for one signature from chunks (``features``: the columns to read)."""

    def __init__(self, signature: Signature | None, features: Sequence[str]) -> None:
        self._signature = signature
        self._features = tuple(features)
        if signature is None:
            self._specs: tuple[TensorSpec, ...] = ()
        elif signature.input_kind == "tensor":
            dtype = signature.inputs[0].dtype
            self._specs = tuple(TensorSpec(name, dtype) for name in features)
        else:
            self._specs = signature.inputs

    def convert(self, chunk: Chunk) -> Converted:
        rows = chunk.rows
        reasons: dict[int, str] = {}
        arrays: dict[str, np.ndarray] = {}
        records = chunk.records
        if records is not None:
            records = self._check_records(records, reasons)
        for spec in self._specs:
            if records is not None:
                arrays[spec.name] = _from_json(spec, [r.get(spec.name) for r in records], reasons)
            else:
                arrays[spec.name] = _from_arrow(spec, _table(chunk).column(spec.name), reasons)
        if self._signature is None:
            arrays = self._unsigned(chunk, records)
        good = np.ones(rows, dtype=bool)
        if reasons:
            good[list(reasons)] = False
        tensors = {name: array[good] if reasons else array for name, array in arrays.items()}
        if self._signature is not None and self._signature.input_kind == "tensor":
            stacked = np.column_stack([tensors[s.name] for s in self._specs])
            tensors = {self._signature.inputs[0].name: stacked}
        return Converted(tensors, good, reasons)

    def _check_records(self, records: list[Any], reasons: dict[int, str]) -> list[Any]:
        names = [s.name for s in self._specs] or list(self._features)
        checked: list[Any] = []
        for row, record in enumerate(records):
            if isinstance(record, BadLine):
                reasons[row] = record.reason
            elif not isinstance(record, dict):
                reasons[row] = f"is a {type(record).__name__}: each line is an object of fields"
            else:
                missing = [n for n in names if n not in record]
                if missing:
                    reasons[row] = f"record is missing {missing}: expected fields {names}"
                checked.append(record)
                continue
            checked.append({})
        return checked

    def _unsigned(self, chunk: Chunk, records: list[Any] | None) -> dict[str, np.ndarray]:
        if records is not None:
            return {n: np.asarray([r.get(n) for r in records]) for n in self._features}
        return {n: _table(chunk).column(n).to_numpy() for n in self._features}


def _table(chunk: Chunk) -> pa.Table:
    if chunk.table is None:
        raise TypeError("a chunk holds either a table or records")
    return chunk.table


def _from_arrow(spec: TensorSpec, column: pa.ChunkedArray, reasons: dict[int, str]) -> np.ndarray:
    """One Arrow column as the spec's dtype; rows that cannot be converted go to ``reasons``."""
    nulls = column.null_count > 0 and spec.dtype.numpy_dtype.kind != "f"
    if nulls:
        for row in np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False)):
            reasons.setdefault(int(row), f"field {spec.name!r}: missing value")
    is_text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
    target = _ARROW.get(spec.dtype)
    if is_text and target is not None:
        try:
            column = pc.cast(column, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            column = _cast_each(spec, column, target, reasons)
    if nulls:
        column = pc.fill_null(column, _filler(spec.dtype, column.type))
    return np.asarray(column.to_numpy(zero_copy_only=False))


def _cast_each(
    spec: TensorSpec, column: pa.ChunkedArray, target: pa.DataType, reasons: dict[int, str]
) -> pa.Array:
    """The slow path, for a column that failed its cast: find the values that do not convert."""
    values: list[Any] = []
    for row, value in enumerate(column.to_pylist()):
        if value is None:
            values.append(None)
            continue
        try:
            values.append(pa.array([value]).cast(target)[0].as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            reasons.setdefault(
                row, f"field {spec.name!r}: expected {spec.dtype.value} values, got {value!r}"
            )
            values.append(None)
    array = pa.array(values, type=target)
    if spec.dtype.numpy_dtype.kind == "f":
        return array  # a missing or bad value is NaN until its row is dropped
    return pc.fill_null(array, _filler(spec.dtype, target))


def _filler(dtype: DType, arrow_type: pa.DataType) -> Any:
    if dtype is DType.BYTES or pa.types.is_string(arrow_type):
        return ""
    return False if dtype is DType.BOOL else 0


def _from_json(spec: TensorSpec, values: list[Any], reasons: dict[int, str]) -> np.ndarray:
    """One column of JSON values through the serve stage's ``coerce_column``."""
    try:
        return coerce_column(spec, values)
    except InvalidInputError:
        pass
    filler = "" if spec.dtype is DType.BYTES else (False if spec.dtype is DType.BOOL else 0)
    fixed: list[Any] = []
    for row, value in enumerate(values):
        if row in reasons:
            fixed.append(filler)
            continue
        try:
            coerce_column(spec, [value])
            fixed.append(value)
        except InvalidInputError as exc:
            reasons[row] = str(exc)
            fixed.append(filler)
    return coerce_column(spec, fixed)

"""Check a request's tensors against the model's signature: the pure centre of the data plane.

Each problem becomes an ``InvalidInputError`` naming the field and what was expected. Safe
numeric casts are made (integers into a float column, FP32 into FP64); anything that could lose
meaning (floats into an integer column, text into numbers) is refused.

    >>> validator = InputValidator(signature)
    >>> inputs, rows = validator.validate({"input": np.zeros((2, 30))})
    >>> validate_outputs(signature, model.predict(inputs), rows)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from shipyard.errors import InvalidInputError, PredictionError
from shipyard.models.signature import Signature, TensorSpec
from shipyard.types import DType

__all__ = ["InputValidator", "coerce_column", "validate_outputs"]


def _shape_text(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _cast(spec: TensorSpec, array: np.ndarray) -> np.ndarray:
    target = spec.dtype.numpy_dtype
    if array.dtype == target:
        return array
    given = array.dtype
    if spec.dtype is DType.BYTES:
        if given.kind in ("U", "S", "O"):
            return array.astype(object)
    elif spec.dtype is DType.BOOL:
        if given.kind == "b":
            return array.astype(target)
    elif given.kind in "biuf" and np.can_cast(given, target, casting="same_kind"):
        return array.astype(target)
    raise InvalidInputError(
        f"input {spec.name!r}: expected {spec.dtype.value} values, got {_given(array)}"
    )


def _given(array: np.ndarray) -> str:
    try:
        return DType.from_numpy(array.dtype).value
    except ValueError:
        return str(array.dtype)


def coerce_column(spec: TensorSpec, values: list[Any]) -> np.ndarray:
    """Turn one JSON column (a list of scalars) into an array of the spec's dtype."""
    try:
        if spec.dtype is DType.BYTES:
            if not all(isinstance(v, str) for v in values):
                raise TypeError("not text")
            return np.array(values, dtype=object)
        array = np.asarray(values, dtype=spec.dtype.numpy_dtype)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInputError(
            f"field {spec.name!r}: expected {spec.dtype.value} values, got {_sample(values)}"
        ) from None
    if spec.dtype.is_numeric and spec.dtype.numpy_dtype.kind in "iu":
        if any(isinstance(v, float) for v in values):
            raise InvalidInputError(
                f"field {spec.name!r}: expected {spec.dtype.value} (integers), "
                f"got {_sample(values)}"
            )
    return array


def _sample(values: list[Any]) -> str:
    shown = values[:3]
    return repr(shown) + ("..." if len(values) > 3 else "")


class InputValidator:
    """Validates and normalizes request tensors for one signature (built once per model)."""

    __slots__ = ("_names", "_signature", "_specs")

    def __init__(self, signature: Signature | None) -> None:
        self._signature = signature
        self._specs = {} if signature is None else {s.name: s for s in signature.inputs}
        self._names = [] if signature is None else list(signature.input_names)

    @property
    def specs(self) -> Mapping[str, TensorSpec]:
        return self._specs

    def validate(self, tensors: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int]:
        """Return the model-ready inputs and the number of rows, or raise ``InvalidInputError``."""
        if not tensors:
            raise InvalidInputError(f"no inputs given: the model expects {self._names}")
        if self._signature is None:
            return self._unsigned(tensors)
        for name in tensors:
            if name not in self._specs:
                raise InvalidInputError(f"unknown input {name!r}: the model expects {self._names}")
        missing = [n for n in self._names if n not in tensors]
        if missing:
            raise InvalidInputError(f"missing input(s) {missing}: the model expects {self._names}")
        columns = self._signature.input_kind == "columns"
        out: dict[str, np.ndarray] = {}
        rows = -1
        for name in self._names:
            spec = self._specs[name]
            array = self._shape(spec, tensors[name], columns)
            out[name] = _cast(spec, array)
            if rows < 0:
                rows = array.shape[0]
            elif array.shape[0] != rows:
                raise InvalidInputError(
                    f"input {name!r} has {array.shape[0]} rows but {self._names[0]!r} has {rows}: "
                    "every input needs the same number of rows"
                )
        if rows == 0:
            raise InvalidInputError("the request holds no rows: send at least one")
        return out, rows

    def _shape(self, spec: TensorSpec, array: np.ndarray, columns: bool) -> np.ndarray:
        if columns and array.ndim == 2 and array.shape[1] == 1:
            array = array.reshape(-1)
        expected = spec.shape
        ok = array.ndim == len(expected) and all(
            e == -1 or e == g for e, g in zip(expected[1:], array.shape[1:], strict=True)
        )
        if not ok:
            raise InvalidInputError(
                f"input {spec.name!r}: expected shape {_shape_text(expected)} (-1 = any, batch "
                f"first), got {_shape_text(array.shape)}"
            )
        return array

    def _unsigned(self, tensors: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int]:
        rows = {a.shape[0] if a.ndim else 0 for a in tensors.values()}
        if len(rows) != 1 or 0 in rows:
            raise InvalidInputError(
                "every input needs the same, non-zero number of rows (first dimension)"
            )
        return dict(tensors), rows.pop()


def validate_outputs(
    signature: Signature | None, outputs: Mapping[str, np.ndarray], rows: int
) -> None:
    """Check what the model returned: one row per input row and, when the signature names its
    outputs, those outputs with a compatible dtype and shape. Raises ``PredictionError``."""
    for name, array in outputs.items():
        if array.ndim == 0 or array.shape[0] != rows:
            raise PredictionError(
                f"output {name!r} has shape {list(array.shape)} for a batch of {rows} rows: "
                "the first dimension of every output must be the batch"
            )
    if signature is None or not signature.outputs:
        return
    missing = [s.name for s in signature.outputs if s.name not in outputs]
    if missing:
        raise PredictionError(
            f"the model returned {sorted(outputs)} but its signature promises {missing}: "
            "save the model again with a signature that matches what it returns"
        )
    for spec in signature.outputs:
        array = outputs[spec.name]
        if not _fits(spec, array):
            raise PredictionError(
                f"output {spec.name!r} is {_given(array)} with shape {_shape_text(array.shape)} "
                f"but the signature promises {spec.dtype.value} with shape "
                f"{_shape_text(spec.shape)}"
            )


def _fits(spec: TensorSpec, array: np.ndarray) -> bool:
    expected = spec.shape
    if array.ndim != len(expected) or any(
        e != -1 and e != g for e, g in zip(expected[1:], array.shape[1:], strict=True)
    ):
        return False
    given, target = array.dtype, spec.dtype.numpy_dtype
    if spec.dtype is DType.BYTES:
        return given.kind in ("U", "S", "O")
    if spec.dtype is DType.BOOL:
        return given.kind == "b"
    return given.kind in "biuf" and np.can_cast(given, target, casting="same_kind")

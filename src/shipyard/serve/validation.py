"""Check a request's tensors against the model's signature: the pure centre of the data plane.

Each problem becomes an ``InvalidInputError`` naming the field and what was expected. Safe
numeric casts are made (integers into a float column, FP32 into FP64); a narrowing one (FP64 into
FP32, INT64 into INT32) only when every value fits; anything that could lose meaning (floats into
an integer column, text into numbers) is refused. A misspelled name is reported with the name
it probably meant and the one that is then missing. A columns (DataFrame) signature also takes one
2-D tensor as wide as the table, columns in signature order (what KServe's V2 examples send).

    >>> validator = InputValidator(signature)
    >>> inputs, rows = validator.validate({"input": np.zeros((2, 30))})
    >>> validate_outputs(signature, model.predict_named(inputs), rows)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from shipyard.errors import InvalidInputError, PredictionError
from shipyard.models.signature import Signature, TensorSpec
from shipyard.serve.jsonarrays import json_array
from shipyard.types import DType

__all__ = ["InputValidator", "coerce_column", "name_problems", "validate_outputs"]


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
    elif given.kind in "iuf" and np.can_cast(given, target, casting="same_kind"):
        if np.can_cast(given, target, casting="safe"):
            return array.astype(target)
        return _narrow(spec, array)
    raise InvalidInputError(
        f"input {spec.name!r}: expected {spec.dtype.value} values, got {_given(array)}"
    )


def _narrow(spec: TensorSpec, array: np.ndarray) -> np.ndarray:
    """A same-kind cast that may not hold every value (FP64 into FP32, INT64 into INT32)."""
    target = spec.dtype.numpy_dtype
    if target.kind == "f":
        with np.errstate(over="ignore"):
            out = array.astype(target)
        overflow = np.isinf(out) & ~np.isinf(array)
        if overflow.any():
            value = array[overflow].flat[0].item()
            raise InvalidInputError(
                f"input {spec.name!r}: {value!r} is out of range for {spec.dtype.value}"
            )
        return out
    if array.size:
        info = np.iinfo(target)
        low, high = array.min(), array.max()
        if low < info.min or high > info.max:
            value = (low if low < info.min else high).item()
            raise InvalidInputError(
                f"input {spec.name!r}: {value!r} is out of range for {spec.dtype.value}"
            )
    return array.astype(target)


def _given(array: np.ndarray) -> str:
    try:
        return DType.from_numpy(array.dtype).value
    except ValueError:
        return str(array.dtype)


def name_problems(given: Iterable[str], expected: Sequence[str], what: str = "input") -> str | None:
    """What is wrong with the names sent, or None: unknown ones (with a did-you-mean) and missing.

    >>> name_problems(["sepal_lenght"], ["sepal_length"])
    "unknown input 'sepal_lenght' (did you mean 'sepal_length'?) and missing input 'sepal_length'"
    """
    given_list = list(given)
    known = set(expected)
    sent = set(given_list)
    unknown = [n for n in given_list if n not in known]
    missing = [n for n in expected if n not in sent]
    if not unknown and not missing:
        return None
    parts = []
    if unknown:
        named = []
        for name in unknown:
            close = difflib.get_close_matches(name, missing or expected, n=1, cutoff=0.6)
            named.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
        parts.append(f"unknown {what} " + ", ".join(named))
    if missing:
        parts.append(f"missing {what} " + ", ".join(repr(n) for n in missing))
    return " and ".join(parts)


def coerce_column(
    spec: TensorSpec, values: list[Any], *, may_hold_bools: bool = True
) -> np.ndarray:
    """Turn one JSON column (a list of scalars) into an array of the spec's dtype, strictly."""
    return json_array(
        f"field {spec.name!r}",
        spec.dtype,
        values,
        nullable=spec.nullable,
        may_hold_bools=may_hold_bools,
    )


class InputValidator:
    """Validates and normalizes request tensors for one signature (built once per model)."""

    __slots__ = ("_is_table", "_names", "_signature", "_specs")

    def __init__(self, signature: Signature | None) -> None:
        self._signature = signature
        self._specs = {} if signature is None else {s.name: s for s in signature.inputs}
        self._names = [] if signature is None else list(signature.input_names)
        self._is_table = signature is not None and signature.input_kind == "columns"

    @property
    def specs(self) -> Mapping[str, TensorSpec]:
        return self._specs

    def accepts_missing(self, name: str) -> bool:
        """Whether a JSON ``null`` may be sent for input ``name``.

        An unknown name on a columns signature may be the one 2-D table tensor: it may hold
        missing values only if every column may.
        """
        spec = self._specs.get(name)
        if spec is not None:
            return spec.nullable
        return self._is_table and all(s.nullable for s in self._specs.values())

    def validate(self, tensors: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int]:
        """Return the model-ready inputs and the number of rows, or raise ``InvalidInputError``."""
        if not tensors:
            raise InvalidInputError(f"no inputs given: the model expects {self._names}")
        if self._signature is None:
            return self._unsigned(tensors)
        if self._is_table and len(tensors) == 1:
            tensors = self._split_table(tensors)
        if tensors.keys() != self._specs.keys():
            problem = name_problems(tensors, self._names)
            if problem is not None:
                raise InvalidInputError(f"{problem}: the model expects {self._names}")
        out: dict[str, np.ndarray] = {}
        rows = -1
        for name in self._names:
            spec = self._specs[name]
            array = self._shape(spec, tensors[name], self._is_table)
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

    def _split_table(self, tensors: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
        """One 2-D tensor not named after a column, as wide as the table: one column each."""
        ((name, array),) = tensors.items()
        if name in self._specs:
            return tensors
        width = len(self._names)
        if array.ndim != 2 or array.shape[1] != width:
            raise InvalidInputError(
                f"{name_problems(tensors, self._names)}: the model expects {self._names}, or one "
                f"2-D tensor of shape [-1, {width}] with the columns in that order; got shape "
                f"{_shape_text(array.shape)}"
            )
        return {column: array[:, i] for i, column in enumerate(self._names)}

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

"""JSON values -> numpy arrays, strictly: the one place request data changes type.

A JSON number is a number and nothing else is: ``"3"`` (a numeric string), ``true`` (a boolean
sent as a number), ``1`` for a ``BOOL`` field and ``null`` are refused with the field named,
except that ``null`` is accepted in a ``nullable`` float or text field (NaN, ``None``). Integers
go into float fields; floats never go into integer fields; a value the datatype cannot hold
(``300`` for ``INT8``, ``1e300`` for ``FP32``) is refused rather than wrapped or made infinite.

The hot path lets numpy infer the array (one C pass), which already tells strings, ``null`` and
floats apart; only booleans hide among numbers (numpy reads ``true`` as 1). The caller says
whether the body can hold any (``body_may_hold_bools``), so the common body pays almost nothing
for that check. Figures on the benchmark's payload (64 rows x 30 floats, a quiet moment of the
shared VM): the old lenient ``np.asarray(rows, dtype)`` 37 µs, numpy inference 43 µs, inference
plus a per-value type scan 81 µs (``bench/serve/hotpath.py``).

    >>> json_array("input 'x'", DType.FP64, [[1, 2.5]])
    array([[1. , 2.5]])
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np

from shipyard.errors import InvalidInputError
from shipyard.types import DType

__all__ = ["body_may_hold_bools", "json_array"]

_NUMBER_TYPES = (int, float)


def body_may_hold_bools(body: bytes | memoryview) -> bool:
    """False when the JSON text cannot contain a boolean (no ``true``/``false`` bytes in it).

    A body of numbers holds no ``t`` or ``f`` at all, and a one-byte search is a memchr (0.5 µs
    for the benchmark's 13 KB body, against 15 µs or more for the four-byte one).
    """
    data = bytes(body) if isinstance(body, memoryview) else body
    if b"t" not in data and b"f" not in data:
        return False
    return b"true" in data or b"false" in data


def json_array(
    what: str, dtype: DType, data: Any, *, nullable: bool = False, may_hold_bools: bool = True
) -> np.ndarray:
    """The array of ``dtype`` for JSON ``data`` (a scalar or nested lists), or a 400-worthy error.

    ``what`` names the field in messages (``"input 'x'"``, ``"field 'age'"``).
    """
    if dtype is DType.BYTES:
        return _text(what, data, nullable)
    try:
        inferred = np.asarray(data)
    except (ValueError, TypeError, OverflowError):
        _raise_first_bad(what, dtype, data, nullable)
        raise InvalidInputError(  # ragged rows or a value numpy cannot read
            f"{what}: the rows are not all the same length: every row needs the same shape"
        ) from None
    kind = inferred.dtype.kind
    if dtype is DType.BOOL:
        if kind != "b":
            _raise_first_bad(what, dtype, data, nullable)
        return inferred
    target = dtype.numpy_dtype
    if kind in "iu" or (kind == "f" and target.kind == "f"):
        if may_hold_bools and _holds_bool(data):
            _raise_first_bad(what, dtype, data, nullable)
        return _fit(what, dtype, inferred)
    if kind == "O" and nullable and target.kind == "f":
        _raise_first_bad(what, dtype, data, nullable)  # only numbers and nulls may remain
        return _fit(what, dtype, np.asarray(data, dtype=np.float64))
    _raise_first_bad(what, dtype, data, nullable)
    raise InvalidInputError(f"{what}: expected {_expected(dtype)}, could not read the values")


def _text(what: str, data: Any, nullable: bool) -> np.ndarray:
    for value in _leaves(data):
        if type(value) is not str and not (value is None and nullable):
            _raise_value(what, DType.BYTES, value, nullable)
    try:
        return np.array(data, dtype=object)
    except ValueError:
        raise InvalidInputError(
            f"{what}: the rows are not all the same length: every row needs the same shape"
        ) from None


def _fit(what: str, dtype: DType, array: np.ndarray) -> np.ndarray:
    """Cast the inferred array to ``dtype``, refusing values the datatype cannot hold."""
    target = dtype.numpy_dtype
    if array.dtype == target:  # JSON cannot hold infinity (orjson refuses 1e400): nothing to check
        return array
    if target.kind == "f":
        with np.errstate(over="ignore"):
            out = array.astype(target)
        if np.isinf(out).any():
            _raise_range(what, dtype, array.flat[int(np.argmax(np.isinf(out)))])
        return out
    if array.dtype.kind == "f":
        _raise_first_bad(what, dtype, array.tolist(), False)
    if array.size:
        info = np.iinfo(target)
        low, high = array.min(), array.max()
        if low < info.min or high > info.max:
            _raise_range(what, dtype, low if low < info.min else high)
    return array.astype(target)


def _leaves(data: Any) -> list[Any]:
    """The scalars of nested lists, row-major."""
    if not isinstance(data, list):
        return [data]
    level: list[Any] = data
    types = set(map(type, level))
    while types == {list}:
        level = list(chain.from_iterable(level))
        types = set(map(type, level))
    if list not in types:
        return level
    out: list[Any] = []  # ragged nesting: walk it
    stack = [iter(level)]
    while stack:
        for item in stack[-1]:
            if type(item) is list:
                stack.append(iter(item))
                break
            out.append(item)
        else:
            stack.pop()
    return out


def _holds_bool(data: Any) -> bool:
    return bool in set(map(type, _leaves(data)))


def _raise_first_bad(what: str, dtype: DType, data: Any, nullable: bool) -> None:
    """Raise for the first value ``dtype`` does not accept; return if every value fits."""
    for value in _leaves(data):
        kind = type(value)
        if dtype is DType.BOOL:
            ok = kind is bool
        elif value is None:
            ok = nullable and dtype.numpy_dtype.kind == "f"
        elif dtype.numpy_dtype.kind in "iu":
            ok = kind is int
        else:
            ok = kind in _NUMBER_TYPES
        if not ok:
            _raise_value(what, dtype, value, nullable)


def _raise_value(what: str, dtype: DType, value: Any, nullable: bool) -> None:
    expected = _expected(dtype)
    if value is None:
        if dtype is DType.BYTES or dtype.numpy_dtype.kind == "f":
            hint = "save the model with this field nullable to allow missing values"
        else:
            hint = f"{dtype.value} has no missing value; send a value for every row"
        raise InvalidInputError(f"{what}: got null, but the field does not allow it ({hint})")
    if isinstance(value, bool):
        shown = "true" if value else "false"
        raise InvalidInputError(f"{what}: expected {expected}, got {shown}: a boolean")
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "..."
        hint = ": send numbers without quotes" if dtype is not DType.BOOL else ""
        raise InvalidInputError(f"{what}: expected {expected}, got the string {shown!r}{hint}")
    if isinstance(value, float) and dtype.numpy_dtype.kind in "iu":
        raise InvalidInputError(f"{what}: expected {expected}, got {value!r}")
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:60] + "..."
    raise InvalidInputError(f"{what}: expected {expected}, got {type(value).__name__} {shown}")


def _raise_range(what: str, dtype: DType, value: Any) -> None:
    shown = value.item() if isinstance(value, np.generic) else value
    raise InvalidInputError(f"{what}: {shown!r} is out of range for {dtype.value}")


def _expected(dtype: DType) -> str:
    if dtype is DType.BOOL:
        return "BOOL values (true or false)"
    if dtype is DType.BYTES:
        return "BYTES values (strings)"
    if dtype.numpy_dtype.kind in "iu":
        return f"{dtype.value} values (integers)"
    return f"{dtype.value} values (numbers)"

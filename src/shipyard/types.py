"""Small shared value types: tensor datatypes and the JSON alias.

``DType`` uses the Open Inference Protocol (V2) datatype names, so a signature reads the same in the
registry, in ``/v2/models/{name}`` metadata and in client code.

    >>> DType.from_numpy(np.dtype("float32"))
    <DType.FP32: 'FP32'>
    >>> DType.FP64.numpy_dtype
    dtype('float64')
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeAlias

import numpy as np

__all__ = ["JSON", "DType"]

JSON: TypeAlias = dict[str, Any]


class DType(StrEnum):
    """A tensor element type, named as in the Open Inference Protocol."""

    BOOL = "BOOL"
    UINT8 = "UINT8"
    UINT16 = "UINT16"
    UINT32 = "UINT32"
    UINT64 = "UINT64"
    INT8 = "INT8"
    INT16 = "INT16"
    INT32 = "INT32"
    INT64 = "INT64"
    FP16 = "FP16"
    FP32 = "FP32"
    FP64 = "FP64"
    BYTES = "BYTES"

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        """The numpy dtype used to hold this type (``object`` for BYTES)."""
        return _TO_NUMPY[self]

    @property
    def size(self) -> int:
        """Bytes per element in the V2 binary encoding (0 for variable-length BYTES)."""
        return 0 if self is DType.BYTES else _TO_NUMPY[self].itemsize

    @property
    def is_numeric(self) -> bool:
        """True for integer and floating point types."""
        return self not in (DType.BOOL, DType.BYTES)

    @classmethod
    def from_numpy(cls, dtype: np.dtype[Any] | type) -> DType:
        """Map a numpy dtype to a V2 datatype; strings and objects become BYTES."""
        dt = np.dtype(dtype)
        if dt.kind in ("U", "S", "O"):
            return cls.BYTES
        if dt.kind == "M":
            return cls.BYTES
        try:
            return _FROM_NUMPY[dt.newbyteorder("=")]
        except KeyError:
            raise ValueError(f"numpy dtype {dt} has no Open Inference Protocol datatype") from None


_TO_NUMPY: dict[DType, np.dtype[Any]] = {
    DType.BOOL: np.dtype(np.bool_),
    DType.UINT8: np.dtype(np.uint8),
    DType.UINT16: np.dtype(np.uint16),
    DType.UINT32: np.dtype(np.uint32),
    DType.UINT64: np.dtype(np.uint64),
    DType.INT8: np.dtype(np.int8),
    DType.INT16: np.dtype(np.int16),
    DType.INT32: np.dtype(np.int32),
    DType.INT64: np.dtype(np.int64),
    DType.FP16: np.dtype(np.float16),
    DType.FP32: np.dtype(np.float32),
    DType.FP64: np.dtype(np.float64),
    DType.BYTES: np.dtype(object),
}
_FROM_NUMPY: dict[np.dtype[Any], DType] = {
    v: k for k, v in _TO_NUMPY.items() if k is not DType.BYTES
}

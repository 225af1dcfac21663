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
from functools import cache
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
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
        return _to_numpy()[self]

    @property
    def size(self) -> int:
        """Bytes per element in the V2 binary encoding (0 for variable-length BYTES)."""
        return _SIZES[self]

    @property
    def is_numeric(self) -> bool:
        """True for integer and floating point types."""
        return self not in (DType.BOOL, DType.BYTES)

    @classmethod
    def from_numpy(cls, dtype: np.dtype[Any] | type) -> DType:
        """Map a numpy dtype to a V2 datatype; strings and objects become BYTES."""
        import numpy as np

        dt = np.dtype(dtype)
        if dt.kind in ("U", "S", "O"):
            return cls.BYTES
        if dt.kind == "M":
            return cls.BYTES
        try:
            return _from_numpy()[dt.newbyteorder("=")]
        except KeyError:
            raise ValueError(f"numpy dtype {dt} has no Open Inference Protocol datatype") from None


# numpy's own names, so that this module (which the registry imports) does not load numpy.
_NUMPY_NAMES: dict[DType, str] = {
    DType.BOOL: "bool",
    DType.UINT8: "uint8",
    DType.UINT16: "uint16",
    DType.UINT32: "uint32",
    DType.UINT64: "uint64",
    DType.INT8: "int8",
    DType.INT16: "int16",
    DType.INT32: "int32",
    DType.INT64: "int64",
    DType.FP16: "float16",
    DType.FP32: "float32",
    DType.FP64: "float64",
    DType.BYTES: "object",
}
_SIZES: dict[DType, int] = {
    DType.BOOL: 1,
    DType.UINT8: 1,
    DType.UINT16: 2,
    DType.UINT32: 4,
    DType.UINT64: 8,
    DType.INT8: 1,
    DType.INT16: 2,
    DType.INT32: 4,
    DType.INT64: 8,
    DType.FP16: 2,
    DType.FP32: 4,
    DType.FP64: 8,
    DType.BYTES: 0,
}


@cache
def _to_numpy() -> dict[DType, np.dtype[Any]]:
    import numpy as np

    return {dtype: np.dtype(name) for dtype, name in _NUMPY_NAMES.items()}


@cache
def _from_numpy() -> dict[np.dtype[Any], DType]:
    return {v: k for k, v in _to_numpy().items() if k is not DType.BYTES}

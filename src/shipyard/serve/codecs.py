"""V2 tensors <-> numpy: JSON ``data`` and the binary tensor data extension.

The Open Inference Protocol carries a tensor as ``{"name", "datatype", "shape", "data"}`` with
``data`` flat or nested in row-major order. The binary extension (what Triton's and KServe's
clients send by default) puts the JSON header first, its length in the
``Inference-Header-Content-Length`` HTTP header, and each tensor's raw little-endian bytes after
it, sized by the tensor's ``binary_data_size`` parameter. ``BYTES`` elements are each a 4-byte
little-endian length followed by the bytes; ``BOOL`` is one byte an element.

    >>> decode_json_tensor("x", "FP32", [2], [1.0, 2.5])
    array([1. , 2.5], dtype=float32)
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from math import prod
from typing import Any

import numpy as np

from shipyard.errors import InvalidInputError
from shipyard.serve.jsonarrays import json_array
from shipyard.types import JSON, DType

__all__ = [
    "decode_binary_tensor",
    "decode_json_tensor",
    "encode_binary_tensor",
    "json_data",
    "parse_datatype",
    "parse_shape",
]

_DATATYPES = ", ".join(d.value for d in DType)
_LENGTH = struct.Struct("<I")


def parse_datatype(name: str, datatype: Any) -> DType:
    """The ``DType`` for a V2 datatype string, or a 400-worthy error naming the valid ones."""
    try:
        return DType(datatype)
    except ValueError:
        raise InvalidInputError(
            f"input {name!r}: datatype {datatype!r} is not a V2 datatype (use one of {_DATATYPES})"
        ) from None


def parse_shape(name: str, shape: Any) -> tuple[int, ...]:
    """A validated V2 shape: a list of non-negative integers."""
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise InvalidInputError(
            f"input {name!r}: shape must be a list of non-negative integers, got {shape!r}"
        )
    return tuple(shape)


def decode_json_tensor(
    name: str,
    datatype: Any,
    shape: Any,
    data: Any,
    *,
    nullable: bool = False,
    may_hold_bools: bool = True,
) -> np.ndarray:
    """Build the array for a JSON-encoded V2 input tensor (strictly: see ``jsonarrays``)."""
    dtype = parse_datatype(name, datatype)
    dims = parse_shape(name, shape)
    if not isinstance(data, list):
        data = [data]
    elif dtype is DType.BYTES:
        data = _flatten(data)
    array = json_array(
        f"input {name!r}", dtype, data, nullable=nullable, may_hold_bools=may_hold_bools
    )
    if array.size != prod(dims):
        raise InvalidInputError(
            f"input {name!r}: shape {list(dims)} needs {prod(dims)} values, data has {array.size}"
        )
    return array.reshape(dims)


def decode_binary_tensor(name: str, datatype: Any, shape: Any, raw: bytes) -> np.ndarray:
    """Build the array for a tensor sent with the binary data extension."""
    dtype = parse_datatype(name, datatype)
    dims = parse_shape(name, shape)
    count = prod(dims)
    if dtype is DType.BYTES:
        return np.array(_split_bytes(name, raw, count), dtype=object).reshape(dims)
    expected = count * dtype.size
    if len(raw) != expected:
        raise InvalidInputError(
            f"input {name!r}: binary_data_size is {len(raw)} bytes but shape {list(dims)} of "
            f"{dtype.value} needs {expected}"
        )
    return np.frombuffer(raw, dtype=dtype.numpy_dtype.newbyteorder("<")).reshape(dims)


def encode_binary_tensor(array: np.ndarray, dtype: DType) -> bytes:
    """The raw bytes of an output tensor for the binary data extension."""
    if dtype is DType.BYTES:
        parts: list[bytes] = []
        for item in array.reshape(-1):
            value = item if isinstance(item, bytes) else str(item).encode()
            parts.append(_LENGTH.pack(len(value)))
            parts.append(value)
        return b"".join(parts)
    target = dtype.numpy_dtype.newbyteorder("<")
    return np.ascontiguousarray(array, dtype=target).tobytes()


def json_data(array: np.ndarray, dtype: DType) -> Any:
    """The flat, row-major ``data`` of an output tensor: a numpy array orjson writes, or a list."""
    if dtype is DType.BYTES:
        return [_text(v) for v in array.reshape(-1).tolist()]
    if dtype is DType.FP16:
        return np.ascontiguousarray(array.reshape(-1), dtype=np.float32)
    return np.ascontiguousarray(array.reshape(-1))


def tensor_header(name: str, array: np.ndarray, dtype: DType) -> JSON:
    """The ``name``/``datatype``/``shape`` part of a response tensor."""
    return {"name": name, "datatype": dtype.value, "shape": list(array.shape)}


def _text(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else str(value)


def _flatten(data: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            out.append(item)
        else:
            stack.pop()
    return out


def _split_bytes(name: str, raw: bytes, count: int) -> list[bytes]:
    items: list[bytes] = []
    offset = 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            break
        (size,) = _LENGTH.unpack_from(raw, offset)
        offset += 4
        if offset + size > len(raw):
            break
        items.append(raw[offset : offset + size])
        offset += size
    if offset != len(raw) or len(items) != count:
        raise InvalidInputError(
            f"input {name!r}: binary BYTES data is malformed or holds {len(items)} elements "
            f"where the shape needs {count} (each element is a 4-byte little-endian length "
            "and its bytes)"
        )
    return items

"""V2 tensor codecs: every datatype through JSON and the binary extension, and their errors."""

from __future__ import annotations

import numpy as np
import pytest

from shipyard.errors import InvalidInputError
from shipyard.serve.codecs import (
    decode_binary_tensor,
    decode_json_tensor,
    encode_binary_tensor,
    json_data,
)
from shipyard.types import DType

NUMERIC = [d for d in DType if d not in (DType.BYTES, DType.BOOL)]


@pytest.mark.parametrize("dtype", NUMERIC, ids=lambda d: d.value)
def test_numeric_tensor_round_trips_through_binary(dtype: DType) -> None:
    array = np.arange(6).reshape(2, 3).astype(dtype.numpy_dtype)
    raw = encode_binary_tensor(array, dtype)
    assert len(raw) == 6 * dtype.size
    decoded = decode_binary_tensor("x", dtype.value, [2, 3], raw)
    assert decoded.dtype == dtype.numpy_dtype
    np.testing.assert_array_equal(decoded, array)


@pytest.mark.parametrize("dtype", NUMERIC, ids=lambda d: d.value)
def test_numeric_tensor_decodes_from_flat_or_nested_json(dtype: DType) -> None:
    flat = decode_json_tensor("x", dtype.value, [2, 2], [1, 2, 3, 4])
    nested = decode_json_tensor("x", dtype.value, [2, 2], [[1, 2], [3, 4]])
    assert flat.shape == nested.shape == (2, 2)
    assert flat.dtype == dtype.numpy_dtype
    np.testing.assert_array_equal(flat, nested)


def test_bool_tensor_uses_one_byte_an_element() -> None:
    array = np.array([True, False, True])
    raw = encode_binary_tensor(array, DType.BOOL)
    assert raw == b"\x01\x00\x01"
    np.testing.assert_array_equal(decode_binary_tensor("b", "BOOL", [3], raw), array)
    np.testing.assert_array_equal(decode_json_tensor("b", "BOOL", [3], [True, False, True]), array)


def test_bytes_tensor_is_length_prefixed_in_binary() -> None:
    array = np.array(["hi", "héllo"], dtype=object)
    raw = encode_binary_tensor(array, DType.BYTES)
    assert raw[:4] == (2).to_bytes(4, "little")
    decoded = decode_binary_tensor("s", "BYTES", [2], raw)
    assert decoded.tolist() == [b"hi", "héllo".encode()]
    assert json_data(decoded, DType.BYTES) == ["hi", "héllo"]


def test_bytes_tensor_from_json_keeps_strings() -> None:
    decoded = decode_json_tensor("s", "BYTES", [1, 2], [["a", "b"]])
    assert decoded.shape == (1, 2)
    assert decoded.tolist() == [["a", "b"]]


def test_fp16_json_data_is_written_as_plain_floats() -> None:
    data = json_data(np.array([1.5, 2.0], dtype=np.float16), DType.FP16)
    assert data.tolist() == [1.5, 2.0]


def test_json_tensor_with_wrong_element_count_names_the_input() -> None:
    with pytest.raises(InvalidInputError, match=r"input 'x': shape \[2, 2\] needs 4 values"):
        decode_json_tensor("x", "FP32", [2, 2], [1, 2, 3])


def test_unknown_datatype_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidInputError, match=r"FLOAT.*is not a V2 datatype.*FP32"):
        decode_json_tensor("x", "FLOAT", [1], [1.0])


def test_text_in_a_numeric_tensor_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"input 'x': expected FP64 .* the string 'one'"):
        decode_json_tensor("x", "FP64", [1], ["one"])


def test_negative_shape_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="non-negative integers"):
        decode_json_tensor("x", "FP64", [-1], [1.0])


def test_binary_size_must_match_the_shape() -> None:
    with pytest.raises(InvalidInputError, match=r"binary_data_size is 12 bytes.*needs 16"):
        decode_binary_tensor("x", "FP32", [4], b"\x00" * 12)


def test_malformed_binary_bytes_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="binary BYTES data is malformed"):
        decode_binary_tensor("s", "BYTES", [1], b"\x09\x00\x00\x00abc")

"""JSON values into arrays, strictly: what each datatype accepts and what it refuses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from shipyard.errors import InvalidInputError
from shipyard.serve.jsonarrays import body_may_hold_bools, json_array
from shipyard.types import DType


@pytest.mark.parametrize(
    ("dtype", "data", "expected"),
    [
        (DType.FP64, [[1, 2.5]], [[1.0, 2.5]]),
        (DType.FP32, [1, 2], [1.0, 2.0]),
        (DType.INT8, [-128, 127], [-128, 127]),
        (DType.BOOL, [True, False], [True, False]),
        (DType.BYTES, ["a", "b"], ["a", "b"]),
    ],
)
def test_values_of_the_right_kind_are_read(dtype: DType, data: Any, expected: Any) -> None:
    array = json_array("x", dtype, data)
    assert array.tolist() == expected
    if dtype is not DType.BYTES:
        assert array.dtype == dtype.numpy_dtype


@pytest.mark.parametrize(
    ("dtype", "data", "message"),
    [
        (DType.FP64, ["3"], "got the string '3': send numbers without quotes"),
        (DType.FP64, [1.0, True], "got true: a boolean"),
        (DType.INT64, [1, False], "got false: a boolean"),
        (DType.BOOL, [1, 0], "expected BOOL values (true or false), got int 1"),
        (DType.INT64, [1.5], "expected INT64 values (integers), got 1.5"),
        (DType.INT8, [300], "300 is out of range for INT8"),
        (DType.UINT8, [-1], "-1 is out of range for UINT8"),
        (DType.FP32, [1e300], "1e+300 is out of range for FP32"),
        (DType.FP64, [1.0, None], "got null, but the field does not allow it"),
        (DType.INT32, [None], "INT32 has no missing value"),
        (DType.BYTES, ["a", 1], "expected BYTES values (strings), got int 1"),
        (DType.FP64, [[1.0], [1.0, 2.0]], "the rows are not all the same length"),
        (DType.FP64, [{"a": 1}], "got dict {'a': 1}"),
    ],
)
def test_values_of_the_wrong_kind_are_refused_naming_the_field(
    dtype: DType, data: Any, message: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        json_array("field 'x'", dtype, data)
    assert str(caught.value).startswith("field 'x': ")
    assert message in str(caught.value)


def test_null_is_missing_in_nullable_float_and_text_fields() -> None:
    floats = json_array("x", DType.FP64, [[1.0, None]], nullable=True)
    assert np.isnan(floats[0, 1]) and floats[0, 0] == 1.0
    assert json_array("x", DType.BYTES, ["a", None], nullable=True).tolist() == ["a", None]
    with pytest.raises(InvalidInputError, match="got the string"):
        json_array("x", DType.FP64, [None, "3"], nullable=True)


def test_booleans_are_only_looked_for_when_the_body_may_hold_them() -> None:
    assert body_may_hold_bools(b"[[1.0, true]]")
    assert not body_may_hold_bools(memoryview(b"[[1.0, 2.0]]"))
    # The caller vouches there are none: the one-pass numpy path reads the rest.
    assert json_array("x", DType.FP64, [[1.0, 2.0]], may_hold_bools=False).shape == (1, 2)

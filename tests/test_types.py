"""V2 datatypes and their numpy mapping."""

from __future__ import annotations

import numpy as np
import pytest

from shipyard.types import DType


@pytest.mark.parametrize("dtype", [d for d in DType if d is not DType.BYTES])
def test_every_numeric_datatype_round_trips_through_numpy(dtype: DType) -> None:
    assert DType.from_numpy(dtype.numpy_dtype) is dtype


def test_strings_and_objects_map_to_bytes() -> None:
    assert DType.from_numpy(np.dtype("U5")) is DType.BYTES
    assert DType.from_numpy(np.dtype(object)) is DType.BYTES
    assert DType.BYTES.size == 0
    assert DType.FP32.size == 4


def test_complex_numbers_have_no_v2_datatype() -> None:
    with pytest.raises(ValueError, match="no Open Inference Protocol datatype"):
        DType.from_numpy(np.dtype(np.complex64))

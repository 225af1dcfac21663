"""The conversion centre: which values make a row bad, and what passes on to the model."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from shipyard.batch.convert import Converter
from shipyard.batch.reader import BadLine, Chunk
from shipyard.models.signature import Signature, TensorSpec
from shipyard.types import DType

COLUMNS = Signature(
    inputs=(
        TensorSpec("n", DType.INT64),
        TensorSpec("x", DType.FP64),
        TensorSpec("s", DType.BYTES),
    ),
    outputs=(TensorSpec("predictions", DType.INT64),),
)


def test_text_columns_are_cast_and_bad_values_named_by_row() -> None:
    table = pa.table(
        {"n": ["1", "2.5", None, "4"], "x": ["0.5", "abc", "", "1e3"], "s": ["a", "b", "c", None]}
    )
    converted = Converter(COLUMNS, COLUMNS.input_names).convert(Chunk(0, 0, table=table))
    assert sorted(converted.reasons) == [1, 2, 3]
    assert "'2.5'" in converted.reasons[1] and "missing value" in converted.reasons[2]
    assert converted.good.tolist() == [True, False, False, False]
    np.testing.assert_array_equal(converted.tensors["n"], [1])
    assert converted.tensors["n"].dtype == np.int64
    np.testing.assert_array_equal(converted.tensors["x"], [0.5])


def test_missing_float_is_nan_as_in_a_json_request() -> None:
    table = pa.table({"n": [1, 2], "x": [None, 2.0], "s": ["a", "b"]})
    converted = Converter(COLUMNS, COLUMNS.input_names).convert(Chunk(0, 0, table=table))
    assert not converted.reasons
    assert np.isnan(converted.tensors["x"][0])


def test_json_records_use_the_serving_coercion() -> None:
    records = [
        {"n": 1, "x": 1.0, "s": "a"},
        {"n": 1.5, "x": 1.0, "s": "a"},
        {"n": 3, "s": "c"},
        BadLine("not valid JSON"),
        [1, 2],
    ]
    converted = Converter(COLUMNS, COLUMNS.input_names).convert(Chunk(0, 0, records=records))
    assert sorted(converted.reasons) == [1, 2, 3, 4]
    assert "integers" in converted.reasons[1]
    assert "missing ['x']" in converted.reasons[2]
    np.testing.assert_array_equal(converted.tensors["n"], [1])


def test_tensor_models_get_the_feature_columns_stacked_in_order() -> None:
    signature = Signature(
        inputs=(TensorSpec("input", DType.FP32, (-1, 2)),),
        outputs=(TensorSpec("predictions", DType.INT64),),
        input_kind="tensor",
    )
    table = pa.table({"b": [1.0, 2.0], "a": [3.0, 4.0]})
    converted = Converter(signature, ("a", "b")).convert(Chunk(0, 0, table=table))
    np.testing.assert_array_equal(converted.tensors["input"], [[3.0, 1.0], [4.0, 2.0]])


@pytest.mark.parametrize("kind", ["int", "float"])
def test_typed_null_in_an_integer_column_is_a_bad_row(kind: str) -> None:
    values = pa.array([1, None, 3]) if kind == "int" else pa.array([1.0, None, 3.0])
    table = pa.table({"n": values, "x": [1.0, 2.0, 3.0], "s": ["a", "b", "c"]})
    converted = Converter(COLUMNS, COLUMNS.input_names).convert(Chunk(0, 0, table=table))
    assert list(converted.reasons) == [1]

"""Checking tensors against a signature: names, shapes, rows and safe casts."""

from __future__ import annotations

import numpy as np
import pytest

from shipyard.errors import InvalidInputError
from shipyard.models.signature import Signature, TensorSpec
from shipyard.serve.validation import InputValidator, coerce_column, name_problems
from shipyard.types import DType

TENSOR = Signature(
    inputs=(TensorSpec("input", DType.FP64, (-1, 3)),),
    outputs=(TensorSpec("predictions", DType.INT64),),
    input_kind="tensor",
)
COLUMNS = Signature(
    inputs=(TensorSpec("age", DType.INT64), TensorSpec("city", DType.BYTES)),
    outputs=(TensorSpec("predictions", DType.FP64),),
)


def test_tensor_input_is_cast_safely_and_rows_counted() -> None:
    inputs, rows = InputValidator(TENSOR).validate({"input": np.ones((4, 3), dtype=np.int32)})
    assert rows == 4
    assert inputs["input"].dtype == np.float64


def test_float_into_integer_column_is_refused_naming_the_field() -> None:
    validator = InputValidator(COLUMNS)
    with pytest.raises(InvalidInputError, match="input 'age': expected INT64 values, got FP64"):
        validator.validate({"age": np.array([1.5]), "city": np.array(["x"], dtype=object)})


def test_wrong_row_shape_names_expected_shape() -> None:
    with pytest.raises(InvalidInputError, match=r"expected shape \[-1, 3\].*got \[2, 4\]"):
        InputValidator(TENSOR).validate({"input": np.ones((2, 4))})


def test_unknown_and_missing_inputs_name_what_the_model_expects() -> None:
    validator = InputValidator(COLUMNS)
    with pytest.raises(InvalidInputError, match=r"unknown input 'zip'.*\['age', 'city'\]"):
        validator.validate({"zip": np.array([1])})
    with pytest.raises(InvalidInputError, match=r"unknown input 'agee' \(did you mean 'age'\?\)"):
        validator.validate({"agee": np.array([1])})
    with pytest.raises(InvalidInputError, match=r"^missing input 'city': the model expects"):
        validator.validate({"age": np.array([1])})


def test_columns_must_have_equal_rows() -> None:
    with pytest.raises(InvalidInputError, match="input 'city' has 1 rows but 'age' has 2"):
        InputValidator(COLUMNS).validate(
            {"age": np.array([1, 2]), "city": np.array(["x"], dtype=object)}
        )


def test_column_of_shape_n_by_1_is_flattened() -> None:
    inputs, rows = InputValidator(COLUMNS).validate(
        {"age": np.array([[1], [2]]), "city": np.array([["a"], ["b"]], dtype=object)}
    )
    assert rows == 2
    assert inputs["age"].shape == (2,)


def test_empty_batch_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="no rows"):
        InputValidator(TENSOR).validate({"input": np.ones((0, 3))})


def test_coerce_column_refuses_text_for_numbers() -> None:
    with pytest.raises(InvalidInputError, match="field 'age': expected INT64 values"):
        coerce_column(COLUMNS.inputs[0], ["old"])
    assert coerce_column(COLUMNS.inputs[1], ["a", "b"]).tolist() == ["a", "b"]


def test_narrowing_casts_refuse_values_that_do_not_fit() -> None:
    fp32 = Signature(
        inputs=(TensorSpec("input", DType.FP32, (-1, 1)),),
        outputs=(),
        input_kind="tensor",
    )
    inputs, _ = InputValidator(fp32).validate({"input": np.array([[1.5]])})
    assert inputs["input"].dtype == np.float32
    with pytest.raises(InvalidInputError, match="1e\\+300 is out of range for FP32"):
        InputValidator(fp32).validate({"input": np.array([[1e300]])})
    int32 = Signature(inputs=(TensorSpec("n", DType.INT32),), outputs=())
    with pytest.raises(InvalidInputError, match="4294967296 is out of range for INT32"):
        InputValidator(int32).validate({"n": np.array([2**32], dtype=np.int64)})


def test_name_problems_names_unknown_missing_and_what_was_probably_meant() -> None:
    assert name_problems(["age", "city"], ["age", "city"]) is None
    assert name_problems(["agee", "city"], ["age", "city"], "field") == (
        "unknown field 'agee' (did you mean 'age'?) and missing field 'age'"
    )
    assert name_problems(["zzz"], ["age"]) == "unknown input 'zzz' and missing input 'age'"


def test_one_2d_tensor_as_wide_as_the_table_is_split_into_its_columns() -> None:
    table = Signature(inputs=(TensorSpec("a", DType.FP64), TensorSpec("b", DType.FP64)), outputs=())
    inputs, rows = InputValidator(table).validate({"input-0": np.array([[1, 2], [3, 4]])})
    assert rows == 2
    assert inputs["a"].tolist() == [1.0, 3.0] and inputs["b"].tolist() == [2.0, 4.0]
    with pytest.raises(InvalidInputError, match=r"one 2-D tensor of shape \[-1, 2\]"):
        InputValidator(table).validate({"input-0": np.ones((2, 3))})
